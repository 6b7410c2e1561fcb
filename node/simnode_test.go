package node

import (
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// simNode is one simulated node: a real Node and engine, the store and
// vault that survive its crashes, and how it misbehaves, if it does.
type simNode struct {
	id    int
	name  string
	pid   peer.ID
	key   *crypto.PrivateKey
	fault fault
	skew  time.Duration // how far its clock is off

	store *store.Store
	vault *memVault
	n     *Node
	e     *engine
	sched simSched

	up       bool
	life     int
	seen     map[[32]byte]bool // gossip bytes seen (gossipsub's seen cache)
	syncBusy bool
	// syncAnswers counts the sync answers it received; the first and
	// every other one after it go through the verify stage (verifyAhead).
	syncAnswers int
	// mutedUntil drops everything the node sends until then.
	mutedUntil time.Duration
	// crashAfterPropose: crash right after the next proposal it signs,
	// and come back after this long.
	crashAfterPropose time.Duration
	// crashAfterDecide: crash right after the next block it decides by
	// consensus, and come back after this long.
	crashAfterDecide time.Duration
	// endorsed: the forker's votes already sent at this height.
	endorsed map[[2]uint64]bool
	ident    []byte       // what it says of itself in the status exchange
	hid      uint64       // the height at which the forker hid a precommit
	sent     [][]byte     // consensus messages it published, for a replayer
	banned   map[int]bool // peers it banned (a ban outlives its crashes)
}

// fault is how a simulated node misbehaves. Faulty nodes run the same
// engine as honest ones; the fault acts on what they send.
type fault uint8

const (
	honest        fault = iota
	silent              // sends nothing, answers nothing
	equivVoter          // beside each vote, signs a conflicting one; peers get either or both
	equivProposer       // beside each proposal, signs another block; peers get one or the other
	badProposer         // its proposals carry a block with a wrong state root
	twin                // honest code, but another node runs the same key
	spammer             // honest, but also floods far-future and next-height votes
	staller             // not a validator: claims a far greater height, never answers sync
	replayer            // not a validator: re-sends old proposals and votes it saw
	forker              // prevotes and precommits every block proposed; hides its first precommit from all but one peer
	txLiar              // not a validator: answers every request for transactions with altered ones
)

func (f fault) String() string {
	return [...]string{"honest", "silent", "equivocating voter", "equivocating proposer",
		"invalid-block proposer", "twin", "far-future spammer", "sync staller", "stale re-sender", "forker",
		"transaction liar"}[f]
}

// honestSender reports whether every message this node sends or forwards
// is one an honest node would: such a peer must never be rejected. (The
// transaction liar gossips honestly; it lies only when asked for
// transactions.)
func (n *simNode) honestSender() bool {
	return n.fault == honest || n.fault == twin || n.fault == staller || n.fault == replayer || n.fault == txLiar
}

// countsHonest reports whether the node's chain is checked for agreement
// and progress.
func (n *simNode) countsHonest() bool {
	return n.fault == honest || n.fault == staller || n.fault == replayer || n.fault == txLiar
}

// addNode adds a node holding key.
func (s *simNet) addNode(name string, key *crypto.PrivateKey, f fault) *simNode {
	n := &simNode{id: len(s.nodes), name: name, key: key, fault: f,
		pid: peer.ID("sim-" + name), store: s.openStore(), vault: newMemVault()}
	n.sched = simSched{s, n}
	n.ident = peerIdentity(s.chainID, key, n.pid)
	s.nodes = append(s.nodes, n)
	return n
}

// boot starts (or restarts) a node from its store and vault.
func (s *simNet) boot(n *simNode) {
	n.up = true
	n.life++
	n.seen = map[[32]byte]bool{}
	n.syncBusy = false
	cfg := DefaultConfig(n.name, 0)
	cfg.Consensus = s.consensusCfg
	cfg.Block.EmptyEvery = Duration{300 * time.Millisecond}
	log := discardLogger()
	if s.tracing {
		log = slog.New(slog.NewTextHandler(traceWriter{s, n}, &slog.HandlerOptions{Level: slog.LevelDebug,
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))
	}
	node := &Node{cfg: cfg, log: log, clock: n.sched.Now, bus: NewBus(),
		waiters: newWaiters(), quit: make(chan struct{}), network: true}
	var err error
	if node, err = assemble(node, s.genesis, n.key, n.store, n.vault, nil); err != nil {
		s.failf("%s: boot: %v", n.name, err)
		return
	}
	n.n = node
	if n.e, err = newEngine(node, simGossip{s, n}, n.sched); err != nil {
		s.failf("%s: engine: %v", n.name, err)
		return
	}
	if n.id%2 == 0 {
		// Half the nodes check proposed blocks as a running node does, the
		// verdict arriving later while other messages go on, and write the
		// tree nodes of the blocks they built or found valid ahead of the
		// decision; the others check inline and write the nodes with the
		// block, as an engine without a checker does.
		n.e.checker = simChecker{n.sched}
	}
	node.engine.Store(n.e)
	s.tracef("%s boots at height %d", n.name, n.store.Latest().Height)
	n.e.start(s.ctx)
	s.tick(n)
}

// simChecker checks a proposed block at once, in virtual time, and hands
// the verdict to the engine a little later: 2 ms plus 1 ms per
// transaction, time in which the engine takes other inputs.
type simChecker struct{ sched simSched }

func (c simChecker) Check(bc *blockCheck, run func() *pendingBlock) {
	took := time.Duration(2+len(bc.block.Txs)) * time.Millisecond
	c.sched.After(took, &checkDone{c: bc, pb: run(), took: took})
}

// writeTree writes the tree nodes ahead at once: the simulation runs on
// one goroutine.
func (c simChecker) writeTree(st *store.Store, pb *pendingBlock) {
	done := make(chan struct{})
	pb.treeDone = done
	_ = st.WriteTreeAhead(pb.res)
	close(done)
}

// traceWriter puts a node's log lines into the run's trace.
type traceWriter struct {
	s *simNet
	n *simNode
}

func (w traceWriter) Write(b []byte) (int, error) {
	w.s.tracef("%s %s", w.n.name, strings.TrimSpace(string(b)))
	return len(b), nil
}

// tick is the node's once-a-second housekeeping, and a look for peers
// ahead, as the sync loop's ticker does.
func (s *simNet) tick(n *simNode) {
	life := n.life
	s.atNode(s.now+time.Second, n.id, life, func() {
		s.input(n, tick{})
		s.syncStep(n)
		if n.fault == spammer {
			s.spam(n)
		}
		if n.fault == replayer {
			s.replay(n)
		}
		s.tick(n)
	})
}

// crash stops a node at once: it keeps its store and vault, and loses
// its mempool, engine and everything in flight.
func (s *simNet) crash(n *simNode) {
	if !n.up {
		return
	}
	s.tracef("%s crashes at height %d", n.name, n.store.Latest().Height)
	n.up = false
	n.life++
	n.e, n.n = nil, nil
}

// publish is what a node's engine sends, passed through its fault.
func (s *simNet) publish(n *simNode, data []byte) {
	if !n.up || n.fault == silent {
		return
	}
	m, err := chain.DecodeConsensusMessage(s.chainID, data)
	if err != nil {
		s.failf("%s published bytes it cannot decode: %v", n.name, err)
		return
	}
	switch {
	case n.fault == equivVoter && m.Vote != nil && m.Resend == 0:
		s.equivVote(n, m.Vote, data)
		return
	case n.fault == equivProposer && m.Proposal != nil && m.Resend == 0:
		s.equivPropose(n, m.Proposal, data)
		return
	case n.fault == badProposer && m.Proposal != nil && m.Proposal.Proposal.POLRound < 0:
		data = s.corrupt(n, m)
	}
	s.meter.published(s, data, m)
	s.gossip(n, data)
	if len(n.sent) < 64 {
		n.sent = append(n.sent, data)
	}
	if m.Proposal != nil && n.crashAfterPropose > 0 {
		back := n.crashAfterPropose
		n.crashAfterPropose = 0
		s.at(s.now, func() { s.crash(n) })
		s.at(s.now+back, func() {
			if !n.up {
				s.boot(n)
			}
		})
	}
}

// sign signs a vote or proposal with n's key, past its guard: what a
// faulty validator can do.
func (s *simNet) signVote(n *simNode, v chain.Vote) *chain.ConsensusMessage {
	v.Signature = nil
	v.Sign(n.key)
	return &chain.ConsensusMessage{Vote: &v}
}

func (s *simNet) signProposal(n *simNode, p consensus.Proposal, block chain.CompactBlock) *chain.ConsensusMessage {
	sp := &chain.SignedProposal{Proposal: p, Block: block, Signature: n.key.Sign(chain.ProposalSignBytes(s.chainID, p))}
	return &chain.ConsensusMessage{Proposal: sp}
}

// endorse is the forker's habit: for every proposal it receives at its
// height, a prevote and a precommit for the block, whatever else it
// signed. Its first precommit for a block at a height goes to one peer
// only, so that one node may decide what no one else can.
func (s *simNet) endorse(n *simNode, sp *chain.SignedProposal) {
	if n.endorsed == nil {
		n.endorsed = map[[2]uint64]bool{}
	}
	p := sp.Proposal
	h := n.store.Latest().Height + 1
	if p.Height != h {
		return
	}
	key := [2]uint64{p.Height, uint64(p.Round)<<32 | uint64(p.BlockHash[0])<<8 | uint64(p.BlockHash[1])}
	if n.endorsed[key] {
		return
	}
	n.endorsed[key] = true
	for _, t := range []chain.VoteType{chain.Prevote, chain.Precommit} {
		v := chain.Vote{ChainID: s.chainID, Type: t, Height: p.Height, Round: p.Round, BlockHash: p.BlockHash,
			Validator: chain.AddressOf(n.key.PublicKey())}
		data := chain.MustEncode(s.signVote(n, v))
		if t == chain.Precommit && n.hid != p.Height {
			n.hid = p.Height
			n.seen[sha256.Sum256(data)] = true
			s.send(n.id, s.rng.IntN(len(s.nodes)), data)
			continue
		}
		s.gossip(n, data)
	}
}

// equivVote sends the vote the engine made and a conflicting one; each
// peer gets one, the other, or both.
func (s *simNet) equivVote(n *simNode, v *chain.Vote, data []byte) {
	other := *v
	if v.BlockHash.IsZero() {
		other.BlockHash = sha256.Sum256(fmt.Appendf(nil, "%s/%d/%d", n.name, v.Height, v.Round))
	} else {
		other.BlockHash = chain.Hash{}
	}
	alt := chain.MustEncode(s.signVote(n, other))
	n.seen[sha256.Sum256(data)], n.seen[sha256.Sum256(alt)] = true, true
	for _, o := range s.nodes {
		switch s.rng.IntN(3) {
		case 0:
			s.send(n.id, o.id, data)
		case 1:
			s.send(n.id, o.id, alt)
		default:
			s.send(n.id, o.id, data)
			s.send(n.id, o.id, alt)
		}
	}
}

// equivPropose sends the engine's proposal to some peers and a second,
// different valid block (one millisecond later) to the others.
func (s *simNet) equivPropose(n *simNode, sp *chain.SignedProposal, data []byte) {
	alt := data
	if sp.Proposal.POLRound < 0 {
		b := sp.Block
		b.Header.Time++
		p := sp.Proposal
		p.BlockHash = b.Hash()
		alt = chain.MustEncode(s.signProposal(n, p, b))
	}
	n.seen[sha256.Sum256(data)], n.seen[sha256.Sum256(alt)] = true, true
	for _, o := range s.nodes {
		if s.rng.IntN(2) == 0 {
			s.send(n.id, o.id, data)
		} else {
			s.send(n.id, o.id, alt)
		}
	}
}

// corrupt replaces a fresh proposal's block by one with a wrong state
// root, signed: a proposal every honest node must judge invalid.
func (s *simNet) corrupt(n *simNode, m *chain.ConsensusMessage) []byte {
	b := m.Proposal.Block
	b.Header.StateRoot[0] ^= 0xff
	p := m.Proposal.Proposal
	p.BlockHash = b.Hash()
	return chain.MustEncode(s.signProposal(n, p, b))
}

// spam floods votes signed by n for far-future heights and for the next
// height in many rounds: they must not crowd out honest early messages.
func (s *simNet) spam(n *simNode) {
	h := n.store.Latest().Height + 1
	for i := range 40 {
		for _, height := range []uint64{h + 1, h + 50 + uint64(i)} {
			v := chain.Vote{ChainID: s.chainID, Type: chain.Prevote, Height: height, Round: uint32(i),
				BlockHash: chain.Hash{byte(i), 0xfe}, Validator: chain.AddressOf(n.key.PublicKey())}
			s.gossip(n, chain.MustEncode(s.signVote(n, v)))
		}
	}
}

// replay re-sends, as a lagging node does, proposals and votes of heights
// already decided: no one may punish it for that.
func (s *simNet) replay(n *simNode) {
	for _, o := range s.nodes {
		if o.up && o.n != nil && len(o.sent) > 0 {
			for i := 0; i < 3; i++ {
				s.gossip(n, o.sent[s.rng.IntN(len(o.sent))])
			}
		}
	}
}
