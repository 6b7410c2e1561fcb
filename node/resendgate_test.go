package node

import (
	"errors"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/p2p"
)

// A vote or proposal renumbered and sent again at once is ignored by the
// consensus topic's validator, before its signature is checked; an
// honest resend a second later passes, as does every other statement; a
// forgery of a statement let through is still rejected, and does not
// hold back the real one.
func TestRenumberedCopiesAreIgnored(t *testing.T) {
	r := newRig(t, 0)
	r.e.start(r.ctx)
	verdict := func(m *chain.ConsensusMessage) string {
		t.Helper()
		_, err := r.n.validateGossipConsensus(chain.MustEncode(m))
		switch {
		case errors.Is(err, p2p.ErrIgnore):
			return "ignore"
		case err != nil:
			return "reject"
		}
		return "accept"
	}
	b := r.blockBy(r.addr(r.proposerOf(1, 0)))
	vote := r.vote(1, chain.Prevote, 1, 0, b.Hash())
	next := r.vote(2, chain.Prevote, 2, 0, chain.Hash{1})
	prop := r.proposal(r.addr(r.proposerOf(1, 0)), 1, 0, b)
	for _, m := range []*chain.ConsensusMessage{{Vote: vote}, {Vote: next}, {Proposal: prop}} {
		if got := verdict(m); got != "accept" {
			t.Fatalf("first sending of %v: %s", m.Signer(), got)
		}
		for resend := uint64(1); resend <= 3; resend++ {
			if got := verdict(&chain.ConsensusMessage{Vote: m.Vote, Proposal: m.Proposal, Resend: resend}); got != "ignore" {
				t.Fatalf("copy %d of a statement just let through: %s, want ignore", resend, got)
			}
		}
	}
	forged := *vote
	forged.Signature = append([]byte(nil), vote.Signature...)
	forged.Signature[10] ^= 1
	if got := verdict(&chain.ConsensusMessage{Vote: &forged, Resend: 7}); got != "reject" {
		t.Fatalf("a forged copy of a statement let through: %s, want reject", got)
	}
	other := r.vote(2, chain.Prevote, 1, 0, b.Hash())
	if got := verdict(&chain.ConsensusMessage{Vote: other}); got != "accept" {
		t.Fatalf("another validator's prevote: %s", got)
	}
	r.clock.now = r.clock.now.Add(time.Second)
	for _, m := range []*chain.ConsensusMessage{{Vote: vote, Resend: 4}, {Vote: next, Resend: 4}, {Proposal: prop, Resend: 4}} {
		if got := verdict(m); got != "accept" {
			t.Fatalf("a resend a second later: %s, want accept", got)
		}
	}
}

// The gate forgets a height's statements when the next height begins, and
// holds at most maxGated of them.
func TestResendGateIsBounded(t *testing.T) {
	var g resendGate
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxGated + 10 {
		g.pass(5, chain.Sum([]byte{byte(i), byte(i >> 8)}), t0)
		if len(g.seen) > maxGated {
			t.Fatalf("%d statements remembered, limit %d", len(g.seen), maxGated)
		}
	}
	s := chain.Sum([]byte("s"))
	g.pass(5, s, t0)
	if !g.recent(5, s, t0.Add(resendGap/2)) || g.recent(5, s, t0.Add(resendGap)) {
		t.Fatal("a statement is recent for resendGap, and not after")
	}
	if g.recent(6, s, t0) {
		t.Fatal("a statement of height 5 held back height 6")
	}
	g.pass(6, chain.Sum([]byte("t")), t0)
	if len(g.seen) != 1 {
		t.Fatalf("%d statements kept after the height moved on, want 1", len(g.seen))
	}
}

// A proposer that signs endless re-proposals, each with a true POL for
// another block, cannot make the engine's record of POLs taken grow past
// maxPOLTaken.
func TestPOLTakenIsBounded(t *testing.T) {
	r := newRig(t, 0)
	r.e.startHeight(r.ctx, 1)
	p := r.addr(r.proposerOf(1, 1))
	for i := 0; i < maxPOLTaken+20; i++ {
		r.clock.now = r.clock.now.Add(time.Millisecond) // another block each time
		b := r.blockBy(p)
		var pol []chain.Vote
		for v := 0; v < 3; v++ {
			pol = append(pol, *r.vote(v, chain.Prevote, 1, 0, b.Hash()))
		}
		prop := consensus.Proposal{Height: 1, Round: 1, BlockHash: b.Hash(), POLRound: 0, Proposer: p}
		sp := &chain.SignedProposal{Proposal: prop, Block: b.Compact(), POL: pol,
			Signature: r.key(p).Sign(chain.ProposalSignBytes(testChainID, prop))}
		r.e.judgeProposal(r.ctx, sp, "")
	}
	if n := len(r.e.polTaken); n == 0 || n > maxPOLTaken {
		t.Fatalf("%d POLs recorded as taken; want some, at most %d", n, maxPOLTaken)
	}
}
