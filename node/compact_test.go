package node

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Compact proposals in scenario words. Validator A (or B, when A proposes
// first) is the engine under test; P is the round's proposer. Peers are
// named by the network: "P" is the peer that delivered P's proposal,
// "liar", "X" and "Y" are other connected peers.

// fetchNet is a network for engine tests that keeps the requests for
// transactions instead of sending them: the test answers them itself,
// through dispatch, as the real fetcher does.
type fetchNet struct {
	recorder
	peers []p2p.PeerInfo
	asked []*txAnswer
}

func (f *fetchNet) Peers() []p2p.PeerInfo { return f.peers }

func (f *fetchNet) FetchTxs(_ context.Context, a *txAnswer) { f.asked = append(f.asked, a) }

// compactScene is a rig whose node lacks some transactions of the block
// that P proposes in round 0 of height 1.
type compactScene struct {
	*rig
	net   *fetchNet
	p     chain.Address // the proposer
	block *chain.Block
	sp    *chain.SignedProposal
}

// newCompactScene makes P's block of transfers, then leaves the node
// under test holding only the transfers whose index keep allows, as if
// gossip had lost the others. Peers X, Y and liar are connected.
func newCompactScene(t *testing.T, transfers int, keep func(i int) bool) *compactScene {
	t.Helper()
	r := newRig(t, 0)
	if r.proposerOf(1, 0) == 0 {
		r = newRig(t, 1)
	}
	fn := &fetchNet{peers: []p2p.PeerInfo{{ID: "X"}, {ID: "Y"}, {ID: "liar"}}}
	r.e.net, r.e.fetch, r.net = fn, fn, &fn.recorder
	r.e.startHeight(r.ctx, 1)
	var raws [][]byte
	for i := range transfers {
		tx := sendTx(t, DevKey(2), testChainID, uint64(i), DevAccounts()[1].Address, 1)
		if _, err := r.n.Submit(tx); err != nil {
			t.Fatal(err)
		}
		raws = append(raws, tx.Encode())
	}
	p := r.addr(r.proposerOf(1, 0))
	b := r.blockBy(p)
	if len(b.Txs) != transfers {
		t.Fatalf("P's block holds %d transfers, want %d", len(b.Txs), transfers)
	}
	// The node's pool as gossip left it.
	r.n.pool = NewMempool(r.n.cfg.Mempool.MaxTxs, r.n.cfg.Mempool.MaxBytes)
	for i, raw := range raws {
		if keep(i) {
			tx, err := chain.DecodeTx(raw)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.n.admit(tx, raw, chain.Sum(raw), true); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &compactScene{rig: r, net: fn, p: p, block: b, sp: r.proposal(p, 1, 0, b)}
}

// deliver hands P's proposal to the engine as delivered by peer from.
func (c *compactScene) deliver(from peer.ID) {
	c.e.dispatch(c.ctx, &inbound{msg: &chain.ConsensusMessage{Proposal: c.sp}, from: from})
}

// lastRequest returns the request made last, failing if there is none.
func (c *compactScene) lastRequest() *txAnswer {
	c.t.Helper()
	if len(c.net.asked) == 0 {
		c.t.Fatal("no peer was asked for the missing transactions")
	}
	return c.net.asked[len(c.net.asked)-1]
}

// answer dispatches an answer to request a: for each hash, serve's bytes.
func (c *compactScene) answer(a *txAnswer, serve func(h chain.Hash) []byte) {
	b := *a
	b.txs = make([][]byte, len(a.hashes))
	for i, h := range a.hashes {
		b.txs[i] = serve(h)
	}
	c.e.dispatch(c.ctx, &b)
}

// honestly serves the block's transactions.
func (c *compactScene) honestly(h chain.Hash) []byte {
	for _, raw := range c.block.Txs {
		if chain.Sum(raw) == h {
			return raw
		}
	}
	return nil
}

// prevoted reports what the node prevoted in round 0: the block hash, or
// ok false if it has not prevoted.
func (c *compactScene) prevoted() (chain.Hash, bool) {
	for _, v := range c.e.m.Votes(0, chain.Prevote) {
		if v.Validator == c.n.valAddr {
			return v.BlockHash, true
		}
	}
	return chain.Hash{}, false
}

// fireProposeTimeout fires the round-0 propose timeout the engine set.
func (c *compactScene) fireProposeTimeout() {
	c.t.Helper()
	for _, tm := range c.clock.timers {
		if tf, ok := tm.x.(consensus.TimeoutFired); ok && tf.Round == 0 && tf.Step == consensus.StepPropose {
			c.e.dispatch(c.ctx, tf)
			return
		}
	}
	c.t.Fatal("no propose timeout was set")
}

// A node that holds every transaction of the block rebuilds it from its
// mempool, asks no one, and prevotes for it.
func TestCompactProposalRebuiltFromTheMempool(t *testing.T) {
	c := newCompactScene(t, 5, func(int) bool { return true })
	c.deliver("P")
	if len(c.net.asked) != 0 {
		t.Fatalf("asked %s for %d transactions it holds", c.net.asked[0].peer, len(c.net.asked[0].hashes))
	}
	if got, ok := c.prevoted(); !ok || got != c.block.Hash() {
		t.Fatalf("prevoted %s (%v), want the block", got, ok)
	}
}

// A node that lost some transactions to gossip asks the proposer's node
// for exactly those, in block order, although another peer delivered the
// proposal: the proposer's node is known by the identity it gave in the
// status exchange, and a peer that copies that identity is not taken for
// it. The node votes for nothing until the transactions come, then
// rebuilds the block, prevotes for it, pools the fetched transactions
// (their signatures now verified) and can serve them to others.
func TestMissingTransactionsAreFetchedFromTheProposer(t *testing.T) {
	c := newCompactScene(t, 6, func(i int) bool { return i%3 == 0 })
	ident := peerIdentity(testChainID, c.key(c.p), "node-of-P")
	c.net.peers = append([]p2p.PeerInfo{{ID: "a-poser", Identity: ident}, {ID: "node-of-P", Identity: ident}}, c.net.peers...)
	c.deliver("X")
	a := c.lastRequest()
	if a.peer != "node-of-P" {
		t.Fatalf("asked %s first, want the proposer's node", a.peer)
	}
	var want []chain.Hash
	for i, h := range c.block.TxHashes() {
		if i%3 != 0 {
			want = append(want, h)
		}
	}
	if len(a.hashes) != len(want) {
		t.Fatalf("asked for %d transactions, want the %d missing", len(a.hashes), len(want))
	}
	for i := range want {
		if a.hashes[i] != want[i] {
			t.Fatalf("request entry %d is %s, want %s", i, a.hashes[i], want[i])
		}
	}
	if _, ok := c.prevoted(); ok {
		t.Fatal("prevoted before the block could be rebuilt")
	}
	c.answer(a, c.honestly)
	if got, ok := c.prevoted(); !ok || got != c.block.Hash() {
		t.Fatalf("after the fetch: prevoted %s (%v), want the block", got, ok)
	}
	if len(c.e.waits) != 0 {
		t.Error("the wait outlived the verdict")
	}
	for _, h := range want {
		if !bytes.Equal(txSource{c.n}.TxByHash(h), c.honestly(h)) {
			t.Fatalf("fetched transaction %s is not served on", h)
		}
		if !c.n.pool.Has(h) {
			t.Fatalf("fetched and verified transaction %s is not pooled for the next proposer", h)
		}
	}
}

// A peer that answers with a transaction that is not the one asked for
// gets nothing kept, not even the right ones of its answer, and is not
// asked again; the node asks another peer, and the honest answer lets it
// rebuild the block.
func TestWrongTransactionsAreRefusedAndAnotherPeerAsked(t *testing.T) {
	c := newCompactScene(t, 4, func(i int) bool { return i == 0 })
	c.deliver("liar")
	a := c.lastRequest()
	if a.peer != "liar" {
		t.Fatalf("asked %s first, want liar, which delivered the proposal", a.peer)
	}
	c.answer(a, func(h chain.Hash) []byte {
		raw := c.honestly(h)
		if h != a.hashes[1] {
			return raw
		}
		bad := append([]byte(nil), raw...)
		bad[len(bad)-1] ^= 1
		return bad
	})
	if _, ok := c.prevoted(); ok {
		t.Fatal("prevoted on an answer with a wrong transaction")
	}
	if w := c.e.waits[c.block.Hash()]; w == nil || len(w.got) != 0 {
		t.Fatal("kept transactions from a peer that lied")
	}
	if got := c.n.pool.Lookup(a.hashes[0]); got != nil {
		t.Fatal("remembered a transaction from a peer that lied")
	}
	next := c.lastRequest()
	if next == a || next.peer == "liar" {
		t.Fatalf("after the lie asked %s, want another peer", next.peer)
	}
	// X does not hold them; a new pass (the tick) must skip the liar.
	c.answer(next, func(chain.Hash) []byte { return nil })
	c.answer(c.lastRequest(), func(chain.Hash) []byte { return nil })
	c.e.dispatch(c.ctx, tick{})
	for _, r := range c.net.asked[1:] {
		if r.peer == "liar" {
			t.Fatal("the liar was asked again")
		}
	}
	c.answer(c.lastRequest(), c.honestly)
	if got, ok := c.prevoted(); !ok || got != c.block.Hash() {
		t.Fatalf("after an honest answer: prevoted %s (%v), want the block", got, ok)
	}
}

// Transactions no peer holds cannot be made up: the block is never
// rebuilt, the node never prevotes for it, and when the round's propose
// timeout fires it prevotes nil, as when a proposal is lost.
func TestAProposalNoOneCanCompleteGetsANilPrevote(t *testing.T) {
	c := newCompactScene(t, 3, func(i int) bool { return i != 1 })
	c.deliver("P")
	for range 4 { // P, X, Y and the liar: none holds it
		c.answer(c.lastRequest(), func(chain.Hash) []byte { return nil })
	}
	if n := len(c.net.asked); n != 4 {
		t.Fatalf("%d requests in one pass, want one to each of the 4 peers", n)
	}
	if _, ok := c.prevoted(); ok {
		t.Fatal("prevoted on a block it could not rebuild")
	}
	c.fireProposeTimeout()
	got, ok := c.prevoted()
	if !ok || !got.IsZero() {
		t.Fatalf("after the propose timeout: prevoted %s (%v), want nil", got, ok)
	}
}

// A fetched transaction is checked like any other of a proposed block:
// if the proposer put one with a forged signature in its block, the
// transaction is the one the block lists, so it is fetched, and the
// block is then judged invalid and prevoted nil.
func TestAFetchedTransactionWithAForgedSignatureSpoilsOnlyItsBlock(t *testing.T) {
	c := newCompactScene(t, 3, func(i int) bool { return i != 2 })
	forged := forgeTx(t, c.block.Txs[2])
	b := *c.block
	b.Txs = append(append([][]byte(nil), c.block.Txs[:2]...), forged)
	b.Header.TxRoot = chain.ComputeTxRoot(b.Txs)
	c.block = &b
	c.sp = c.rig.proposal(c.p, 1, 0, &b)
	c.deliver("P")
	c.answer(c.lastRequest(), c.honestly)
	pb := c.e.blocks[b.Hash()]
	if pb == nil || !errors.Is(pb.err, crypto.ErrBadSignature) {
		t.Fatalf("a block with a forged transaction: verdict %v, want a bad signature", pb)
	}
	if got, ok := c.prevoted(); !ok || !got.IsZero() {
		t.Fatalf("prevoted %s (%v), want nil", got, ok)
	}
}

// Answers that come too late change nothing: one for a request that was
// superseded, and one for a block already judged.
func TestStaleTransactionAnswersAreIgnored(t *testing.T) {
	c := newCompactScene(t, 2, func(i int) bool { return i == 0 })
	c.deliver("P")
	first := c.lastRequest()
	fail := *first
	fail.err = errNoAnswerForTest
	c.e.dispatch(c.ctx, &fail) // P failed: X is asked
	second := c.lastRequest()
	c.answer(first, c.honestly) // P's late answer to a finished request
	if _, ok := c.prevoted(); ok {
		t.Fatal("a superseded request's answer was taken")
	}
	c.answer(second, c.honestly)
	if got, ok := c.prevoted(); !ok || got != c.block.Hash() {
		t.Fatalf("prevoted %s (%v), want the block", got, ok)
	}
	c.answer(second, func(chain.Hash) []byte { return []byte("junk") }) // after the verdict
	if pb := c.e.blocks[c.block.Hash()]; pb == nil || pb.err != nil {
		t.Fatal("an answer after the verdict changed it")
	}
}

var errNoAnswerForTest = chain.ErrNotFound

// A proposer that restarts serves the transactions of the block it
// proposed although its mempool is empty, even before its round comes
// again: here it proposed in round 1, and after the restart the height
// starts at round 0, which another validator proposes.
func TestAProposerServesItsSavedBlockAfterARestart(t *testing.T) {
	r := newRig(t, 0)
	for r.proposerOf(1, 1) != r.self {
		r = newRig(t, r.self+1)
	}
	r.e.startHeight(r.ctx, 1)
	for i := range 3 {
		if _, err := r.n.Submit(sendTx(t, DevKey(2), testChainID, uint64(i), DevAccounts()[1].Address, 1)); err != nil {
			t.Fatal(err)
		}
	}
	r.e.proposeNew(r.ctx, consensus.ProposeNew{Height: 1, Round: 1})
	sent := r.net.proposals()
	if len(sent) != 1 || len(sent[0].Block.TxHashes) != 3 {
		t.Fatalf("published %d proposals, want one of 3 transfers", len(sent))
	}
	r.boot() // the pool is lost; the vault keeps the full block
	r.e.startHeight(r.ctx, 1)
	if r.n.pool.Size() != 0 || len(r.net.proposals()) != 0 {
		t.Fatal("after the restart the pool is not empty, or the node proposed in round 0")
	}
	for _, h := range sent[0].Block.TxHashes {
		if (txSource{r.n}).TxByHash(h) == nil {
			t.Fatalf("the restarted proposer cannot serve transaction %s of its block", h)
		}
	}
}

// The memory of seen transactions forgets the oldest first, by count and
// by bytes, and never holds one twice.
func TestSeenTxsForgetsTheOldestFirst(t *testing.T) {
	s := newSeenTxs(3, 100)
	tx := func(i, n int) []byte { return bytes.Repeat([]byte{byte(i)}, n) }
	for i := range 4 {
		s.add(chain.Sum(tx(i, 10)), tx(i, 10))
	}
	if s.get(chain.Sum(tx(0, 10))) != nil || s.get(chain.Sum(tx(3, 10))) == nil {
		t.Fatal("by count: the oldest is kept or the newest is not")
	}
	s.add(chain.Sum(tx(3, 10)), tx(3, 10)) // known: nothing moves
	s.add(chain.Sum(tx(9, 85)), tx(9, 85)) // 30 + 85 > 100: two must go
	if s.get(chain.Sum(tx(1, 10))) != nil || s.get(chain.Sum(tx(2, 10))) != nil || s.get(chain.Sum(tx(3, 10))) == nil {
		t.Fatal("by bytes: the wrong ones were forgotten")
	}
	s.add(chain.Sum(tx(8, 101)), tx(8, 101)) // larger than the whole memory
	if s.get(chain.Sum(tx(8, 101))) != nil || s.get(chain.Sum(tx(9, 85))) == nil {
		t.Fatal("a transaction larger than the memory pushed everything out")
	}
}

// v1Proposal is a proposal message as the consensus topic's version 1
// carried it, with the whole block's bytes: kept here only to measure
// what the compact form saves.
type v1Proposal struct {
	Proposal struct {
		Proposal  chain.Proposal `cbor:"proposal"`
		Signature []byte         `cbor:"signature"`
		Block     []byte         `cbor:"block"`
		POL       []chain.Vote   `cbor:"pol"`
	} `cbor:"proposal"`
}

// The bytes a proposal of a block of 2,000 transfers puts on the wire,
// whole (version 1) and compact. Run with -v to see the figures. Under
// the race detector, 500 transfers: the ratio is the same.
func TestCompactProposalBytes(t *testing.T) {
	transfers := 2000
	if raceEnabled {
		transfers = 500
	}
	r := newRig(t, 0)
	r.n.pool = NewMempool(1_000_000, 1<<30)
	r.e.startHeight(r.ctx, 1)
	for i := range transfers {
		tx := sendTx(t, DevKey(i%8), testChainID, uint64(i/8), DevAccounts()[9].Address, 1)
		if _, err := r.n.Submit(tx); err != nil {
			t.Fatal(err)
		}
	}
	p := r.addr(r.proposerOf(1, 0))
	b := r.blockOf(p, transfers)
	if len(b.Txs) != transfers {
		t.Fatalf("block of %d transfers", len(b.Txs))
	}
	sp := r.proposal(p, 1, 0, b)
	compact := chain.MustEncode(&chain.ConsensusMessage{Proposal: sp})
	var v1 v1Proposal
	v1.Proposal.Proposal, v1.Proposal.Signature, v1.Proposal.Block = sp.Proposal, sp.Signature, b.Encode()
	whole := chain.MustEncode(&v1)
	t.Logf("a block of %d transfers: %d bytes encoded; its proposal message: %d bytes whole (consensus/1), %d bytes compact (consensus/2), %.1f%%, %.1f bytes per transfer",
		transfers, len(b.Encode()), len(whole), len(compact), 100*float64(len(compact))/float64(len(whole)),
		float64(len(compact))/float64(transfers))
	if m, err := chain.DecodeConsensusMessage(testChainID, compact); err != nil || len(m.Proposal.Block.TxHashes) != transfers {
		t.Fatalf("the compact proposal does not decode to %d hashes: %v", transfers, err)
	}
	if 4*len(compact) > len(whole) {
		t.Errorf("the compact proposal is %d bytes, more than a quarter of the whole one's %d", len(compact), len(whole))
	}
}

// A proposer cannot make a node fetch more than a block may hold: once
// the transactions fetched for a block pass chain.MaxBlockSize, the block
// is judged invalid and nothing more is asked.
func TestAProposalOfTooManyBytesIsRefusedWithoutFetchingItAll(t *testing.T) {
	c := newCompactScene(t, 1, func(int) bool { return true })
	const fillers = 300 // 300 × 64 KiB: well above a block's 16 MiB
	b := *c.block
	b.Txs = nil
	for i := range fillers {
		f := bytes.Repeat([]byte{byte(i), byte(i >> 8)}, chain.MaxTxSize/2)
		b.Txs = append(b.Txs, f)
	}
	b.Header.TxRoot = chain.ComputeTxRoot(b.Txs)
	c.block = &b
	c.sp = c.rig.proposal(c.p, 1, 0, &b)
	c.deliver("P")
	a := c.lastRequest()
	if len(a.hashes) != fillers {
		t.Fatalf("asked for %d transactions, want %d", len(a.hashes), fillers)
	}
	served := 0
	c.answer(a, func(h chain.Hash) []byte {
		if served == 260 { // 260 × 64 KiB > 16 MiB
			return nil
		}
		served++
		return c.honestly(h)
	})
	if pb := c.e.blocks[b.Hash()]; pb == nil || !errors.Is(pb.err, chain.ErrInvalidBlock) {
		t.Fatalf("verdict %v, want an invalid block", pb)
	}
	if len(c.net.asked) != 1 || len(c.e.waits) != 0 {
		t.Fatalf("%d requests and %d waits after the verdict, want 1 and none", len(c.net.asked), len(c.e.waits))
	}
	if got, ok := c.prevoted(); !ok || !got.IsZero() {
		t.Fatalf("prevoted %s (%v), want nil", got, ok)
	}
}

// A transaction that gossip brings late, while the request for it is
// still out, completes the block at once: the node does not wait for the
// answer, and the answer, when it comes, changes nothing.
func TestALateGossipedTransactionCompletesTheBlock(t *testing.T) {
	c := newCompactScene(t, 3, func(i int) bool { return i != 1 })
	c.deliver("P")
	a := c.lastRequest()
	if _, ok := c.prevoted(); ok {
		t.Fatal("prevoted before the block could be rebuilt")
	}
	checked, err := c.n.validateGossipTx(c.block.Txs[1])
	if err != nil {
		t.Fatal(err)
	}
	c.n.onGossipTx("P", c.block.Txs[1], checked)
	c.e.dispatch(c.ctx, txReady{})
	if got, ok := c.prevoted(); !ok || got != c.block.Hash() {
		t.Fatalf("after gossip brought the transaction: prevoted %s (%v), want the block", got, ok)
	}
	c.answer(a, c.honestly)
	if len(c.net.asked) != 1 || len(c.e.waits) != 0 {
		t.Fatalf("%d requests, %d waits; want the one request and no wait", len(c.net.asked), len(c.e.waits))
	}
}
