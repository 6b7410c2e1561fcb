package node

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/store"
	"github.com/citychain/citychain/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// This file is the world of the seeded simulation: virtual time, an
// in-process gossip network with loss, delay, duplication and
// partitions, and block sync between simulated peers. Each simulated node
// is a real Node (in-memory Badger store, real executor, mempool and
// signer) with its real engine; the simulation only plugs in the
// scheduler, the gossip and the sync transport, and feeds the engine's
// dispatch one input at a time, so a seed always does the same thing.

// simNet is the simulated network and its clock.
type simNet struct {
	seed    uint64
	rng     *rand.Rand
	now     time.Duration // virtual time since the start
	t0      time.Time     // what now 0 is on the nodes' clocks
	queue   eventQueue
	seq     uint64
	chainID string
	genesis *chain.Genesis
	nodes   []*simNode
	ctx     context.Context

	consensusCfg ConsensusConfig
	calm, chaos  linkModel
	gst          time.Duration
	partitions   []partition

	failures []string
	tracing  bool
	trace    []string
	stats    simStats

	// The scaling runs (simscale_test.go) set these; nil in the others.
	// wan gives each link its own delay; mesh limits forwarding to each
	// node's mesh peers, as gossipsub does; meter counts what is sent and
	// when each height is stored.
	wan   *wanLinks
	mesh  [][]int
	meter *scaleMeter
}

// simStats counts what a run did, for its summary: gossip messages
// delivered, ignored and rejected; blocks synced, those of them whose
// certificate the verify stage checked ahead, sync stalls and bans;
// requests for transactions, transactions served in answers and answers
// altered by a liar; blocks stored with their tree nodes written ahead.
type simStats struct {
	delivered, ignored, rejected, syncBlocks, syncAhead, stalls, bans int
	txRequests, txServed, txLies                                      int
	treeAhead                                                         int
	// evidence gossiped: pieces a node kept from a peer, and those it
	// ignored (known already, or otherwise not for its pool)
	evKept, evIgnored int
}

// linkModel is how the network treats one message.
type linkModel struct {
	loss, dup          float64
	minDelay, maxDelay time.Duration
	slow               float64 // share of messages delayed by up to slowDelay more
	slowDelay          time.Duration
}

// partition splits the nodes into groups between from and to; messages
// between groups are lost.
type partition struct {
	from, to time.Duration
	group    []int
}

// event is one thing that happens at a virtual time.
type event struct {
	at   time.Duration
	seq  uint64
	node int
	life int // the node's life when scheduled; a crash makes it stale
	fn   func()
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func newSimNet(seed uint64) *simNet {
	return &simNet{seed: seed, rng: rand.New(rand.NewPCG(seed, 0x5EED0C17)), chainID: "sim",
		t0: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ctx: context.Background()}
}

// at runs fn at virtual time t (not before now).
func (s *simNet) at(t time.Duration, fn func()) { s.atNode(t, -1, 0, fn) }

// atNode runs fn at t if node i is still in the same life by then.
func (s *simNet) atNode(t time.Duration, i, life int, fn func()) {
	s.seq++
	heap.Push(&s.queue, &event{at: max(t, s.now), seq: s.seq, node: i, life: life, fn: fn})
}

// runUntil runs events up to virtual time end, or until done says so.
func (s *simNet) runUntil(end time.Duration, done func() bool) {
	for s.queue.Len() > 0 && len(s.failures) == 0 {
		if done != nil && done() {
			return
		}
		ev := heap.Pop(&s.queue).(*event)
		if ev.at > end {
			heap.Push(&s.queue, ev)
			s.now = end
			return
		}
		s.now = ev.at
		if ev.node >= 0 {
			n := s.nodes[ev.node]
			if !n.up || n.life != ev.life {
				continue
			}
		}
		ev.fn()
	}
}

func (s *simNet) failf(format string, a ...any) {
	s.failures = append(s.failures, fmt.Sprintf("at %v: ", s.now)+fmt.Sprintf(format, a...))
}

func (s *simNet) tracef(format string, a ...any) {
	if s.tracing {
		s.trace = append(s.trace, fmt.Sprintf("%8v ", s.now)+fmt.Sprintf(format, a...))
	}
}

// link returns the model in force now.
func (s *simNet) link() linkModel {
	if s.now < s.gst {
		return s.chaos
	}
	return s.calm
}

// cut reports whether a and b are in different groups of a partition now.
func (s *simNet) cut(a, b int) bool {
	for _, p := range s.partitions {
		if s.now >= p.from && s.now < p.to && p.group[a] != p.group[b] {
			return true
		}
	}
	return false
}

// delay draws the delay of one message from node a to node b, or
// reports it lost.
func (s *simNet) delay(a, b int) (time.Duration, bool) {
	l := s.link()
	if l.loss > 0 && s.rng.Float64() < l.loss {
		return 0, false
	}
	if s.wan != nil {
		return s.wan.draw(s.rng, a, b), true
	}
	d := l.minDelay
	if l.maxDelay > l.minDelay {
		d += time.Duration(s.rng.Int64N(int64(l.maxDelay - l.minDelay)))
	}
	if l.slow > 0 && l.slowDelay > 0 && s.rng.Float64() < l.slow {
		d += time.Duration(s.rng.Int64N(int64(l.slowDelay)))
	}
	return d, true
}

// send carries gossip bytes from node `from` to node `to`.
func (s *simNet) send(from, to int, data []byte) {
	s.sendVia(from, to, data, s.receive)
}

// sendVia is send for bytes that recv takes at the other end: the
// consensus topic's messages (receive) or the evidence topic's
// (receiveEvidence).
func (s *simNet) sendVia(from, to int, data []byte, recv func(r *simNode, from int, data []byte)) {
	if from == to || s.cut(from, to) || s.nodes[from].banned[to] || s.nodes[to].banned[from] {
		return
	}
	if s.nodes[from].mutedUntil > s.now {
		return
	}
	copies := 1
	if l := s.link(); l.dup > 0 && s.rng.Float64() < l.dup {
		copies = 2
	}
	for range copies {
		s.meter.sent(data)
		d, ok := s.delay(from, to)
		if !ok {
			continue
		}
		r := s.nodes[to]
		s.atNode(s.now+d, to, r.life, func() { recv(r, from, data) })
	}
}

// gossip is a node publishing: to every other node, which forward what
// their validator accepts, once, as gossipsub does.
func (s *simNet) gossip(from *simNode, data []byte) {
	from.seen[sha256.Sum256(data)] = true
	for _, o := range s.nodes {
		s.send(from.id, o.id, data)
	}
}

// firstAccepted runs validate on bytes that r receives from peer from for
// the first time, as gossip does, and reports whether r accepted them.
// Bytes seen before, and anything a silent node receives, go nowhere; an
// ignored message counts in *ignored. A rejection costs `from` gossip
// score in a real network, so an honest sender or forwarder must never
// be rejected.
func (s *simNet) firstAccepted(r *simNode, from int, data []byte, what string, ignored *int, validate func() error) bool {
	h := sha256.Sum256(data)
	if r.seen[h] {
		return false
	}
	r.seen[h] = true
	if r.fault == silent {
		return false
	}
	err := validate()
	switch {
	case errors.Is(err, p2p.ErrIgnore):
		*ignored++
		return false
	case err != nil:
		s.stats.rejected++
		if f := s.nodes[from]; f.honestSender() {
			s.failf("no honest peer banned: %s rejected %s from honest %s: %v", r.name, what, f.name, err)
		}
		return false
	}
	return true
}

// receive runs a node's real gossip validator on bytes that came from
// peer `from`, then delivers and forwards them.
func (s *simNet) receive(r *simNode, from int, data []byte) {
	var checked any
	if !s.firstAccepted(r, from, data, "a message", &s.stats.ignored, func() (err error) {
		checked, err = r.n.validateGossipConsensus(data)
		return err
	}) {
		return
	}
	s.stats.delivered++
	m, ok := checked.(*chain.ConsensusMessage)
	if !ok {
		s.failf("%s: accepted a message without its decoded form (%T)", r.name, checked)
		return
	}
	if s.tracing {
		if v := m.Vote; v != nil {
			s.tracef("%s <- %s: vote %d h=%d r=%d %x by %s", r.name, s.nodes[from].name, v.Type, v.Height, v.Round, v.BlockHash[:3], v.Validator.String()[:10])
		} else {
			p := m.Proposal.Proposal
			s.tracef("%s <- %s: proposal h=%d r=%d pol=%d %x by %s", r.name, s.nodes[from].name, p.Height, p.Round, p.POLRound, p.BlockHash[:3], p.Proposer.String()[:10])
		}
	}
	s.input(r, &inbound{msg: m, from: s.nodes[from].pid})
	if r.fault == forker && m.Proposal != nil && r.up {
		s.endorse(r, m.Proposal)
	}
	s.forward(r, from, data, s.receive)
}

// input hands x to a node's engine through dispatch, then lets block
// sync act if the engine poked it.
func (s *simNet) input(n *simNode, x any) {
	if !n.up || n.e == nil {
		return
	}
	before := n.store.Latest().Height
	n.e.dispatch(s.ctx, x)
	if s.meter != nil && n.store.Latest().Height > before {
		_, synced := x.(*syncBatch)
		s.meter.stored(s, n, before, synced)
	}
	if back := n.crashAfterDecide; back > 0 && n.store.Latest().Height > before {
		if _, synced := x.(*syncBatch); !synced {
			n.crashAfterDecide = 0
			s.crash(n)
			s.at(s.now+back, func() {
				if !n.up {
					s.boot(n)
				}
			})
			return
		}
	}
	select {
	case <-n.e.sync.wake:
		s.syncStep(n)
	default:
	}
}

// simSched is a node's scheduler in virtual time. Its clock may run
// ahead or behind by the node's skew.
type simSched struct {
	s *simNet
	n *simNode
}

func (c simSched) Now() time.Time { return c.s.t0.Add(c.s.now + c.n.skew) }

func (c simSched) After(d time.Duration, x any) {
	n := c.n
	c.s.atNode(c.s.now+d, n.id, n.life, func() { c.s.input(n, x) })
}

// simGossip is a node's network: PublishConsensus goes through the
// node's fault, then to simNet.gossip.
type simGossip struct {
	s *simNet
	n *simNode
}

func (g simGossip) PublishConsensus(_ context.Context, data []byte) error {
	g.s.publish(g.n, data)
	return nil
}

func (g simGossip) Peers() []p2p.PeerInfo { return g.s.peersOf(g.n) }

// errNoAnswer is a request for transactions that got no answer in time.
var errNoAnswer = errors.New("no answer within the request timeout")

// FetchTxs carries a request for transactions to the peer a names and its
// answer back, each way with the network's delay and loss. A request to a
// peer that is down, cut off or silent, or whose request or answer is
// lost, fails after txFetchTimeout, as a stream that gets no answer does.
// The answer is dispatched once, like p2p's.
func (g simGossip) FetchTxs(_ context.Context, a *txAnswer) {
	s, n := g.s, g.n
	life := n.life
	done := false
	deliver := func(txs [][]byte, err error) {
		if done {
			return
		}
		done = true
		b := *a
		b.txs, b.err = txs, err
		s.input(n, &b)
	}
	s.stats.txRequests++
	s.atNode(s.now+txFetchTimeout, n.id, life, func() { deliver(nil, errNoAnswer) })
	o := s.byPID(a.peer)
	if o == nil || o.id == n.id || !s.reachable(n, o) {
		return
	}
	d, ok := s.delay(n.id, o.id)
	if !ok {
		return
	}
	s.atNode(s.now+d, o.id, o.life, func() {
		if o.fault == silent || o.n == nil || !s.reachable(n, o) {
			return
		}
		txs := s.serveTxs(o, a.hashes)
		back, ok := s.delay(o.id, n.id)
		if !ok {
			return
		}
		s.atNode(s.now+back, n.id, life, func() { deliver(txs, nil) })
	})
}

// reachable reports whether a and b can talk now.
func (s *simNet) reachable(a, b *simNode) bool {
	return b.up && !s.cut(a.id, b.id) && !a.banned[b.id] && !b.banned[a.id]
}

// serveTxs is node o answering a request for transactions from its pool,
// as p2p's server does; a transaction liar alters each one it holds.
func (s *simNet) serveTxs(o *simNode, hashes []chain.Hash) [][]byte {
	txs := make([][]byte, len(hashes))
	for i, h := range hashes {
		raw := txSource{o.n}.TxByHash(h)
		if raw == nil {
			continue
		}
		if o.fault == txLiar {
			raw = append([]byte(nil), raw...)
			raw[len(raw)-1] ^= 1
			s.stats.txLies++
		}
		txs[i] = raw
		s.stats.txServed++
	}
	return txs
}

// peersOf is what n's status exchange would say of the others: each
// reachable node's height, and what a lying peer claims.
func (s *simNet) peersOf(n *simNode) []p2p.PeerInfo {
	var out []p2p.PeerInfo
	for _, o := range s.nodes {
		if o.id == n.id || !o.up || s.cut(n.id, o.id) || n.banned[o.id] || o.banned[n.id] {
			continue
		}
		h := o.store.Latest().Height
		if o.fault == staller {
			h += 1000
		}
		out = append(out, p2p.PeerInfo{ID: o.pid, Height: h, Identity: o.ident})
	}
	return out
}

// ban is node n banning peer p, as p2p.Host.BanPeer does: no more
// traffic between them. An honest peer must never be banned.
func (s *simNet) ban(n, p *simNode, reason string) {
	if p.honestSender() && p.fault != staller {
		s.failf("no honest peer banned: %s banned honest %s for %s", n.name, p.name, reason)
	}
	if n.banned == nil {
		n.banned = map[int]bool{}
	}
	n.banned[p.id] = true
	s.stats.bans++
	s.tracef("%s bans %s: %s", n.name, p.name, reason)
}

func (s *simNet) byPID(p peer.ID) *simNode {
	for _, o := range s.nodes {
		if o.pid == p {
			return o
		}
	}
	return nil
}

// newGenesis makes the genesis of validators with the given powers.
func (s *simNet) newGenesis(keys []*crypto.PrivateKey, powers []uint64) {
	g := DevGenesis(s.chainID, keys, s.t0.Add(-time.Minute))
	for i := range g.Validators {
		g.Validators[i].Power = powers[i]
	}
	s.genesis = g
}

// openStore opens a node's in-memory store; it lives across the node's
// crashes, as a disk does.
func (s *simNet) openStore() *store.Store {
	st, err := store.Open(store.Config{InMemory: true})
	if err != nil {
		panic(fmt.Sprintf("open in-memory store: %v", err))
	}
	return st
}
