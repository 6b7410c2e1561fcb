package consensus_test

import (
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// A validator whose clock was behind judged the round's proposal invalid
// and prevoted nil; the others precommitted the block. When the same
// proposal comes again and is now judged valid, the validator decides it
// instead of waiting for another round.
func TestProposalJudgedAgainOnALaterDelivery(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	v := sc.bystander(0)
	m, _ := sc.machine(v)
	bad := sc.proposal(0, "X", -1)
	bad.Valid = false
	acts := sc.feed(m, bad)
	sc.wantVote(acts, chain.Prevote, "")
	acts = sc.feed(m, sc.votes(chain.Precommit, 0, "X", sc.others(v)...)...)
	if len(only[consensus.Commit](acts)) != 0 {
		t.Fatal("decided a block it judged invalid")
	}
	acts = sc.feed(m, sc.proposal(0, "X", -1))
	c := only[consensus.Commit](acts)
	if len(c) != 1 || c[0].BlockHash != block("X") || c[0].Round != 0 {
		t.Fatalf("after the proposal was judged valid: commits %+v, want X in round 0", c)
	}
	// Valid never turns back into invalid.
	sc2 := newScene(t, "A", "B", "C", "D")
	m2, _ := sc2.machine(v)
	acts = sc2.feed(m2, sc2.proposal(0, "X", -1))
	sc2.wantVote(acts, chain.Prevote, "X")
	bad2 := sc2.proposal(0, "X", -1)
	bad2.Valid = false
	sc2.feed(m2, bad2)
	acts = sc2.feed(m2, sc2.votes(chain.Precommit, 0, "X", sc2.others(v)...)...)
	if len(only[consensus.Commit](acts)) != 1 {
		t.Fatal("a later invalid verdict undid a valid one")
	}
}

// VotesFor holds every vote for a block, a validator's later ones too;
// Votes holds each validator's first vote only.
func TestVotesForIncludesLaterVotes(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	m, _ := sc.machine("A")
	sc.feed(m, sc.vote("B", chain.Prevote, 0, ""), sc.vote("B", chain.Prevote, 0, "X"), sc.vote("C", chain.Prevote, 0, "X"))
	if got := len(m.VotesFor(0, chain.Prevote, block("X"))); got != 2 {
		t.Fatalf("VotesFor X: %d votes, want B's and C's", got)
	}
	for _, v := range m.Votes(0, chain.Prevote) {
		if v.Validator == sc.addr["B"] && !v.BlockHash.IsZero() {
			t.Fatal("Votes shows B's later vote instead of its first")
		}
	}
	if m.VotesFor(7, chain.Prevote, block("X")) != nil {
		t.Fatal("votes for a round never seen")
	}
}
