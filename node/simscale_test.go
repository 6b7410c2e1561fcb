package node

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// The scaling runs: the seeded simulation of the production engine with
// n honest validators spread over a wide-area network, each link with its
// own one-way delay, measured height by height. What they measure and
// why is in docs/scaling.md; simscale_report_test.go runs the sizes and
// prints the table.

// The wide-area network of a scaling run.
const (
	wanMinDelay = 50 * time.Millisecond  // the shortest one-way delay of a link
	wanMaxDelay = 200 * time.Millisecond // the longest
	wanJitter   = 20 * time.Millisecond  // each message adds up to this much
	wanLoss     = 0.02                   // each transmission is lost with this chance
	// wanTxEvery is how often a transfer reaches every node's pool, so
	// that the chain is never idle: an idle chain waits for its next
	// height (Block.EmptyEvery) and its block time measures that wait,
	// not consensus.
	wanTxEvery = 100 * time.Millisecond
	// gossipsubD is gossipsub's mesh degree (DefaultGossipSubParams: D=6,
	// Dhi=12), the number of peers each node forwards a message to.
	gossipsubD, gossipsubDhi = 6, 12
)

// gossipMode is how a message travels from its signer to the others.
type gossipMode uint8

const (
	// flood: the signer sends to every node and every node forwards
	// what it accepts to every other, once. The simulation's default.
	flood gossipMode = iota
	// mesh: the signer sends to every node (p2p's WithFloodPublish) and
	// each node forwards to its gossipsub mesh peers only.
	mesh
	// direct: the signer sends to every node; nobody forwards. Only the
	// engine's re-sends repair a loss.
	direct
)

func (g gossipMode) String() string { return [...]string{"flood", "mesh D=6", "direct"}[g] }

// wanLinks is the one-way delay of every link, drawn once per run from
// the seed, the same both ways.
type wanLinks struct {
	base   [][]time.Duration
	jitter time.Duration
}

func newWANLinks(rng *rand.Rand, n int) *wanLinks {
	w := &wanLinks{base: make([][]time.Duration, n), jitter: wanJitter}
	for i := range w.base {
		w.base[i] = make([]time.Duration, n)
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			d := wanMinDelay + time.Duration(rng.Int64N(int64(wanMaxDelay-wanMinDelay)))
			w.base[i][j], w.base[j][i] = d, d
		}
	}
	return w
}

// draw is the delay of one message from a to b: the link's own plus
// jitter. Jitter may reorder messages on a link, as separate streams do.
func (w *wanLinks) draw(rng *rand.Rand, a, b int) time.Duration {
	return w.base[a][b] + time.Duration(rng.Int64N(int64(w.jitter)))
}

// meshOf draws a connected gossip mesh of n nodes in which every node has
// at least d peers (all others if n-1 <= d) and, where the draw allows,
// at most dHi: a ring first, so that the mesh is connected, then random
// links. Peers are listed in index order, so a seed always forwards the
// same way.
func meshOf(rng *rand.Rand, n, d, dHi int) [][]int {
	adj := make([][]bool, n)
	deg := make([]int, n)
	for i := range adj {
		adj[i] = make([]bool, n)
	}
	link := func(i, j int) {
		if i != j && !adj[i][j] {
			adj[i][j], adj[j][i] = true, true
			deg[i]++
			deg[j]++
		}
	}
	for i := range n {
		link(i, (i+1)%n)
	}
	for i := range n {
		for tries := 0; deg[i] < min(d, n-1) && tries < 50*n; tries++ {
			if j := rng.IntN(n); deg[j] < dHi || tries > 25*n {
				link(i, j)
			}
		}
	}
	out := make([][]int, n)
	for i := range adj {
		for j, ok := range adj[i] {
			if ok {
				out[i] = append(out[i], j)
			}
		}
	}
	return out
}

// wanSim is n validators of equal power, all honest, with the production
// consensus settings, on a wide-area network whose messages travel as
// mode says; a mesh has degree d (0: gossipsub's).
func wanSim(seed uint64, n int, mode gossipMode, d int) *simNet {
	s := newSimNet(seed)
	keys := make([]*crypto.PrivateKey, n)
	powers := make([]uint64, n)
	for i := range keys {
		keys[i], powers[i] = DevValidatorKey(i), 1
	}
	s.newGenesis(keys, powers)
	for i, k := range keys {
		s.addNode(fmt.Sprintf("V%02d", i), k, honest)
	}
	s.consensusCfg = DefaultConfig("", 0).Consensus
	s.calm = linkModel{loss: wanLoss}
	s.chaos = s.calm
	s.wan = newWANLinks(s.rng, n)
	switch mode {
	case mesh:
		dHi := gossipsubDhi
		if d == 0 {
			d = gossipsubD
		} else {
			dHi = 2 * d
		}
		if n-1 > d {
			s.mesh = meshOf(s.rng, n, d, dHi)
		}
	case direct:
		s.mesh = make([][]int, n) // nobody forwards
	}
	s.meter = newScaleMeter()
	return s
}

// steadyLoad hands a transfer to every node's pool every `every` until
// end, from the development accounts in turn.
func (s *simNet) steadyLoad(every, end time.Duration) {
	accts := DevAccounts()
	keys := make([]*crypto.PrivateKey, len(accts))
	for i := range keys {
		keys[i] = DevKey(i)
	}
	nonces := make([]uint64, len(accts))
	k := 0
	var step func()
	step = func() {
		if s.now > end {
			return
		}
		i := k % len(accts)
		k++
		p, err := chain.EncodePayload(bank.Send{To: accts[(i+1)%len(accts)].Address, Amount: 1})
		if err != nil {
			panic(err)
		}
		tx := &chain.Tx{ChainID: s.chainID, App: bank.Name, Action: "send", Payload: p, Nonce: nonces[i]}
		tx.Sign(keys[i])
		taken := false
		for _, n := range s.nodes {
			if n.up && n.n != nil {
				if _, err := n.n.Submit(tx); err == nil {
					taken = true
				}
			}
		}
		if taken {
			nonces[i]++
		}
		s.at(s.now+every, step)
	}
	s.at(every, step)
}

// scaleMeter counts, per height, the consensus messages the engines
// signed and every transmission of them between nodes, and when each node
// stored the height. A message is known by its bytes' backing array,
// which gossip hands on unchanged from signer to forwarder.
type scaleMeter struct {
	heightOf     map[*byte]uint64
	heights      map[uint64]*heightMeter
	unattributed int // transmissions of messages no engine published
}

// heightMeter is what happened for one height.
type heightMeter struct {
	published  int // messages the engines published, re-sends included
	resends    int
	proposals  int
	prevotes   int // first sendings only, every round
	precommits int
	// precommitters: who precommitted each block (first sendings).
	precommitters map[chain.Hash]map[chain.Address]bool
	// votes: each vote's first sendings; twice is a wasted broadcast.
	votes         map[voteKey]int
	doubled       int // votes sent a second time without being a re-send
	sends         int // transmissions on links, lost ones included
	bytes         int
	firstProposal time.Duration // when the first proposal was published
	firstStored   time.Duration // when the first node stored the height
	lastStored    time.Duration // when the last one did, so far
	storedBy      int           // how many nodes stored it
	synced        int           // how many of them by block sync
	hash          chain.Hash    // the block the first node stored
}

func newScaleMeter() *scaleMeter {
	return &scaleMeter{heightOf: map[*byte]uint64{}, heights: map[uint64]*heightMeter{}}
}

func (m *scaleMeter) at(h uint64) *heightMeter {
	hm := m.heights[h]
	if hm == nil {
		hm = &heightMeter{firstProposal: -1, precommitters: map[chain.Hash]map[chain.Address]bool{}, votes: map[voteKey]int{}}
		m.heights[h] = hm
	}
	return hm
}

// published notes a message an engine published, before gossip carries it.
func (m *scaleMeter) published(s *simNet, data []byte, msg *chain.ConsensusMessage) {
	if m == nil || len(data) == 0 {
		return
	}
	h := msg.Height()
	m.heightOf[&data[0]] = h
	hm := m.at(h)
	hm.published++
	if msg.Resend > 0 {
		hm.resends++
		return
	}
	if v := msg.Vote; v != nil {
		k := voteKey{v.Validator, v.Type, v.Round, v.BlockHash}
		if hm.votes[k]++; hm.votes[k] > 1 {
			hm.doubled++
		}
	}
	switch v := msg.Vote; {
	case msg.Proposal != nil:
		hm.proposals++
		if hm.firstProposal < 0 {
			hm.firstProposal = s.now
		}
	case v.Type == chain.Prevote:
		hm.prevotes++
	case v.Type == chain.Precommit:
		hm.precommits++
		if hm.precommitters[v.BlockHash] == nil {
			hm.precommitters[v.BlockHash] = map[chain.Address]bool{}
		}
		hm.precommitters[v.BlockHash][v.Validator] = true
	}
}

// voteKey is what a vote says, whoever carries it.
type voteKey struct {
	validator chain.Address
	kind      chain.VoteType
	round     uint32
	block     chain.Hash
}

// sent notes one transmission of data on a link.
func (m *scaleMeter) sent(data []byte) {
	if m == nil || len(data) == 0 {
		return
	}
	h, ok := m.heightOf[&data[0]]
	if !ok {
		m.unattributed++
		return
	}
	hm := m.heights[h]
	hm.sends++
	hm.bytes += len(data)
}

// stored notes the heights node n stored after before, and fails the run
// if one of them is another block than the first node stored there.
func (m *scaleMeter) stored(s *simNet, n *simNode, before uint64, synced bool) {
	for h := before + 1; h <= n.store.Latest().Height; h++ {
		b, err := n.store.Block(h)
		if err != nil {
			s.failf("%s stored height %d but cannot read it: %v", n.name, h, err)
			return
		}
		hm := m.at(h)
		switch {
		case hm.storedBy == 0:
			hm.hash, hm.firstStored = b.Hash(), s.now
		case b.Hash() != hm.hash:
			s.failf("safety: at height %d %s stored %s, another node %s", h, n.name, b.Hash(), hm.hash)
		}
		hm.storedBy++
		hm.lastStored = s.now
		if synced {
			hm.synced++
		}
	}
}
