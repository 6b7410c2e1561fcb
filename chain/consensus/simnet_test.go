package consensus_test

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// This file is a deterministic simulated network for the consensus Machine:
// a virtual clock, an event queue, and the wire between simulated nodes
// (simnode_test.go; faulty ones in simfaults_test.go). All randomness comes
// from one PCG seeded by the run's seed, and nothing iterates a Go map
// where order matters, so a seed replays exactly.
//
// Until GST (global stabilisation time) the wire follows the chaos model:
// random delays with a heavy tail, loss, duplication, and partitions into
// groups that come and go. From GST on it follows the calm model: short
// delays, little loss, no partitions, which is the partial synchrony under
// which Tendermint must make progress. Lost messages are made up for by
// gossip: every node sends its own proposals and votes of its height again
// at every gossip interval, relays all it has taken at this height to one
// random peer, and announces its height, so that peers ahead answer with
// commit certificates.

// simMsg is a message on the simulated wire.
type simMsg struct {
	kind     msgKind
	from     int
	proposal consensus.Proposal
	vote     chain.Vote
	cert     *consensus.Commit
	height   uint64 // of a status message
}

type msgKind uint8

const (
	msgProposal msgKind = iota + 1
	msgVote
	msgCert
	msgStatus
)

func (m *simMsg) msgHeight() uint64 {
	switch m.kind {
	case msgProposal:
		return m.proposal.Height
	case msgVote:
		return m.vote.Height
	case msgCert:
		return m.cert.Height
	}
	return m.height
}

// simEvent is an entry of the event queue, ordered by time and then by
// insertion order.
type simEvent struct {
	at      time.Duration
	seq     uint64
	kind    eventKind
	node    int
	life    int // the node incarnation a timer or gossip tick belongs to
	msg     *simMsg
	timeout consensus.TimeoutFired
	fn      func()
}

type eventKind uint8

const (
	evDeliver eventKind = iota + 1
	evTimeout
	evGossip
	evCall // run fn: crashes, restarts, healing
)

type eventQueue []simEvent

func (q eventQueue) Len() int { return len(q) }

func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}

func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }

func (q *eventQueue) Push(x any) { *q = append(*q, x.(simEvent)) }

func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// partition cuts the network into groups between from and to.
type partition struct {
	from, to time.Duration
	group    []int // group[node]
}

// linkModel is how the network treats each message.
type linkModel struct {
	loss, dup          float64       // probability to lose, to duplicate
	minDelay, maxDelay time.Duration // uniform delay
	slow               float64       // probability of a delay up to slowDelay instead
	slowDelay          time.Duration
}

// simNet is the whole simulation.
type simNet struct {
	seed     uint64
	rng      *rand.Rand
	now      time.Duration
	queue    eventQueue
	seq      uint64
	chainID  string
	vals     *chain.ValidatorSet
	timeouts consensus.Timeouts
	nodes    []*simNode

	// Before gst (global stabilisation time) messages follow chaos and
	// partitions apply; from gst on they follow calm.
	gst         time.Duration
	chaos, calm linkModel
	attack      bool // a fork attack run (see randomSim)
	gossipEvery time.Duration
	partitions  []partition

	proposed map[chain.Hash]bool
	invalid  map[chain.Hash]bool
	decided  map[uint64]decision
	commits  int // commits by honest nodes
	evidence int // Evidence actions at honest nodes
	// splitDecisions counts honest decisions of a block in another round
	// than the first honest decision of its height: the block was decided,
	// some nodes went on to later rounds, and the lock rules steered them
	// back to it. They show that runs reach the states where safety is at
	// stake.
	splitDecisions int
	failures       []string
	tracing        bool
	trace          []string
}

type decision struct {
	hash  chain.Hash
	round uint32
	node  string
}

func newSimNet(seed uint64, powers []uint64) *simNet {
	vals := make([]chain.Validator, len(powers))
	for i, p := range powers {
		var a chain.Address
		a[0], a[1] = byte(i+1), 0xC1 // sorted by index
		vals[i] = chain.Validator{Address: a, Power: p}
	}
	return &simNet{
		seed:    seed,
		rng:     rand.New(rand.NewPCG(seed, seed^0x5DEECE66D)),
		chainID: "sim",
		vals:    &chain.ValidatorSet{Validators: vals},
		timeouts: consensus.Timeouts{
			Propose: 300 * time.Millisecond, ProposeDelta: 100 * time.Millisecond,
			Prevote: 150 * time.Millisecond, PrevoteDelta: 100 * time.Millisecond,
			Precommit: 150 * time.Millisecond, PrecommitDelta: 100 * time.Millisecond,
		},
		calm:        linkModel{minDelay: time.Millisecond, maxDelay: 50 * time.Millisecond},
		chaos:       linkModel{minDelay: time.Millisecond, maxDelay: 50 * time.Millisecond},
		gossipEvery: 400 * time.Millisecond,
		proposed:    map[chain.Hash]bool{},
		invalid:     map[chain.Hash]bool{},
		decided:     map[uint64]decision{},
	}
}

// addNode adds a node holding validator val's key, started at time 0.
func (s *simNet) addNode(name string, val int, f fault) *simNode {
	n := &simNode{id: len(s.nodes), name: name, val: val, addr: s.vals.Validators[val].Address, fault: f}
	s.nodes = append(s.nodes, n)
	return n
}

// start boots every node at time 0.
func (s *simNet) start() {
	for _, n := range s.nodes {
		s.boot(n)
	}
}

func (s *simNet) failf(format string, args ...any) {
	if len(s.failures) < 20 {
		s.failures = append(s.failures, fmt.Sprintf("t=%v: ", s.now)+fmt.Sprintf(format, args...))
	}
}

func (s *simNet) tracef(format string, args ...any) {
	if s.tracing {
		s.trace = append(s.trace, fmt.Sprintf("%9v ", s.now)+fmt.Sprintf(format, args...))
	}
}

func (s *simNet) push(e simEvent) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.queue, e)
}

func (s *simNet) at(d time.Duration, fn func()) {
	s.push(simEvent{at: d, kind: evCall, fn: fn})
}

// runUntil processes events until the clock passes end or done returns true.
func (s *simNet) runUntil(end time.Duration, done func() bool) {
	for s.queue.Len() > 0 && len(s.failures) == 0 {
		if done != nil && done() {
			return
		}
		e := heap.Pop(&s.queue).(simEvent)
		if e.at > end {
			heap.Push(&s.queue, e)
			s.now = end
			return
		}
		s.now = e.at
		switch e.kind {
		case evCall:
			e.fn()
		case evDeliver:
			s.deliver(s.nodes[e.node], e.msg)
		case evTimeout:
			if n := s.nodes[e.node]; n.up && n.life == e.life {
				s.handle(n, consensus.TimeoutFired(e.timeout), nil)
			}
		case evGossip:
			if n := s.nodes[e.node]; n.up && n.life == e.life {
				s.gossip(n)
			}
		}
	}
}

// send puts msg on the wire from node from to node to, subject to
// partitions, loss, delay and duplication.
func (s *simNet) send(from, to int, msg *simMsg) {
	if from == to {
		s.push(simEvent{at: s.now, kind: evDeliver, node: to, msg: msg})
		return
	}
	link := s.calm
	if s.now < s.gst {
		link = s.chaos
		if s.now < s.nodes[from].mutedUntil {
			return
		}
	}
	for _, p := range s.partitions {
		if s.now >= p.from && s.now < p.to && p.group[from] != p.group[to] {
			return
		}
	}
	if s.rng.Float64() < link.loss {
		return
	}
	s.push(simEvent{at: s.now + s.delay(link), kind: evDeliver, node: to, msg: msg})
	if s.rng.Float64() < link.dup {
		s.push(simEvent{at: s.now + s.delay(link), kind: evDeliver, node: to, msg: msg})
	}
}

func (s *simNet) delay(l linkModel) time.Duration {
	if l.slow > 0 && s.rng.Float64() < l.slow {
		return l.minDelay + time.Duration(s.rng.Int64N(int64(l.slowDelay)+1))
	}
	return l.minDelay + time.Duration(s.rng.Int64N(int64(l.maxDelay-l.minDelay)+1))
}

func (s *simNet) jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(s.rng.Int64N(int64(d)))
}

// broadcast sends msg to every other node and to the sender itself.
func (s *simNet) broadcast(n *simNode, msg *simMsg) {
	for _, peer := range s.nodes {
		s.send(n.id, peer.id, msg)
	}
}

// gossip re-sends a node's own messages of its height and its status to
// every peer, and relays everything it took at this height to one random
// peer, so that messages of a node that crashed since still spread.
func (s *simNet) gossip(n *simNode) {
	status := &simMsg{kind: msgStatus, from: n.id, height: n.height()}
	for _, peer := range s.nodes {
		if peer.id == n.id {
			continue
		}
		for _, msg := range n.own {
			s.send(n.id, peer.id, msg)
		}
		s.send(n.id, peer.id, status)
	}
	if peer := s.rng.IntN(len(s.nodes)); peer != n.id && n.fault != silent {
		for _, msg := range n.log {
			s.send(n.id, peer, msg)
		}
	}
	s.push(simEvent{at: s.now + s.jitter(s.gossipEvery), kind: evGossip, node: n.id, life: n.life})
}

// honestNodes returns the nodes that run honest code with a key of their own.
func (s *simNet) honestNodes() []*simNode {
	var out []*simNode
	for _, n := range s.nodes {
		if n.fault == honest {
			out = append(out, n)
		}
	}
	return out
}

// minHonestHeight returns the lowest committed height among honest nodes.
func (s *simNet) minHonestHeight() uint64 {
	low := ^uint64(0)
	for _, n := range s.honestNodes() {
		low = min(low, uint64(len(n.certs)))
	}
	return low
}

// describe returns a one-line summary of the nodes, for failure messages.
func (s *simNet) describe() string {
	var b strings.Builder
	for _, n := range s.nodes {
		fmt.Fprintf(&b, "%s(val %d, power %d, %s, height %d) ", n.name, n.val,
			s.vals.Validators[n.val].Power, n.fault, len(n.certs))
	}
	return b.String()
}
