package node

import (
	"context"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/store"
	"github.com/citychain/citychain/p2p"
)

// A small harness for engine tests in scenario words: validators A, B, C
// and D of one chain (dev keys 0 to 3), one engine under test with an
// in-memory store and vault, a manual clock, and a network that records
// what the engine publishes.

// testChainID is the chain of the harness.
const testChainID = "engine-test"

// manualClock is a scheduler whose time moves only when a test says so;
// wake-ups are kept, not fired, unless the test fires them.
type manualClock struct {
	now    time.Time
	timers []timer
}

type timer struct {
	at time.Time
	x  any
}

func (c *manualClock) Now() time.Time { return c.now }

func (c *manualClock) After(d time.Duration, x any) {
	c.timers = append(c.timers, timer{c.now.Add(d), x})
}

// recorder is a network that keeps every published message.
type recorder struct {
	sent     []*chain.ConsensusMessage
	evidence []chain.Evidence
}

func (r *recorder) PublishEvidence(_ context.Context, data []byte) error {
	ev, err := chain.DecodeEvidence(data)
	if err != nil {
		return err
	}
	r.evidence = append(r.evidence, *ev)
	return nil
}

func (r *recorder) PublishConsensus(_ context.Context, data []byte) error {
	m, err := chain.DecodeConsensusMessage(testChainID, data)
	if err != nil {
		return err
	}
	r.sent = append(r.sent, m)
	return nil
}

func (r *recorder) Peers() []p2p.PeerInfo { return nil }

// proposals returns the proposals published so far.
func (r *recorder) proposals() []*chain.SignedProposal {
	var out []*chain.SignedProposal
	for _, m := range r.sent {
		if m.Proposal != nil {
			out = append(out, m.Proposal)
		}
	}
	return out
}

// rig is one engine under test and what it stands on.
type rig struct {
	t     testing.TB
	ctx   context.Context
	g     *chain.Genesis
	keys  []*crypto.PrivateKey // A, B, C, D
	self  int
	store *store.Store
	vault *memVault
	clock *manualClock
	net   *recorder
	n     *Node
	e     *engine
}

// newRig makes validator self (0 = A) of a 4-validator chain.
func newRig(t testing.TB, self int) *rig {
	t.Helper()
	keys := []*crypto.PrivateKey{DevValidatorKey(0), DevValidatorKey(1), DevValidatorKey(2), DevValidatorKey(3)}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &rig{t: t, ctx: context.Background(), keys: keys, self: self, vault: newMemVault(),
		clock: &manualClock{now: t0}, g: DevGenesis(testChainID, keys, t0.Add(-time.Minute))}
	st, err := store.Open(store.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	r.store = st
	t.Cleanup(func() { st.Close() })
	r.boot()
	return r
}

// boot (re)starts the node and engine from the store and vault, as after
// a crash; it does not start a height.
func (r *rig) boot() {
	r.t.Helper()
	cfg := DefaultConfig("rig", 0)
	node := &Node{cfg: cfg, log: discardLogger(), clock: r.clock.Now, bus: NewBus(),
		waiters: newWaiters(), quit: make(chan struct{}), network: true}
	n, err := assemble(node, r.g, r.keys[r.self], r.store, r.vault, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	r.net = &recorder{}
	e, err := newEngine(n, r.net, r.clock)
	if err != nil {
		r.t.Fatal(err)
	}
	n.engine.Store(e)
	r.n, r.e = n, e
}

// key returns the key of the validator with address a.
func (r *rig) key(a chain.Address) *crypto.PrivateKey {
	for _, k := range r.keys {
		if chain.AddressOf(k.PublicKey()) == a {
			return k
		}
	}
	r.t.Fatalf("no key for %s", a)
	return nil
}

func (r *rig) addr(i int) chain.Address { return chain.AddressOf(r.keys[i].PublicKey()) }

// vote is validator i's signed vote.
func (r *rig) vote(i int, t chain.VoteType, h uint64, round uint32, block chain.Hash) *chain.Vote {
	v := chain.Vote{ChainID: testChainID, Type: t, Height: h, Round: round, BlockHash: block, Validator: r.addr(i)}
	v.Sign(r.keys[i])
	return &v
}

// proposal is a signed proposal of block by the validator with address by.
func (r *rig) proposal(by chain.Address, h uint64, round uint32, b *chain.Block) *chain.SignedProposal {
	p := consensus.Proposal{Height: h, Round: round, BlockHash: b.Hash(), POLRound: -1, Proposer: by}
	return &chain.SignedProposal{Proposal: p, Block: b.Compact(), Signature: r.key(by).Sign(chain.ProposalSignBytes(testChainID, p))}
}

// blockBy builds the next block as the validator with address by would,
// at the rig's clock.
func (r *rig) blockBy(by chain.Address) *chain.Block { return r.blockOf(by, 100) }

// blockOf is blockBy with up to maxTxs transactions from the pool.
func (r *rig) blockOf(by chain.Address, maxTxs int) *chain.Block {
	r.t.Helper()
	parent := r.store.Latest()
	var last *chain.Commit
	if parent.Height > 0 {
		c, err := r.store.Commit(parent.Height)
		if err != nil {
			r.t.Fatal(err)
		}
		last = c
	}
	b, _, err := r.n.buildBlock(parent, last, by, maxTxs)
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}

// send hands a message to the engine as if from a peer.
func (r *rig) send(m *chain.ConsensusMessage) { r.e.dispatch(r.ctx, &inbound{msg: m}) }

// precommitted reports whether the engine's machine holds validator i's
// vote of type t for block in round 0.
func (r *rig) voted(i int, t chain.VoteType, round uint32, block chain.Hash) bool {
	for _, v := range r.e.m.Votes(round, t) {
		if v.Validator == r.addr(i) && v.BlockHash == block {
			return true
		}
	}
	return false
}

// proposerOf returns the index of the proposer of (h, round).
func (r *rig) proposerOf(h uint64, round uint32) int {
	vals, err := r.g.ValidatorSet()
	if err != nil {
		r.t.Fatal(err)
	}
	a := consensus.Proposer(vals, h, round)
	for i := range r.keys {
		if r.addr(i) == a {
			return i
		}
	}
	r.t.Fatal("no proposer")
	return -1
}
