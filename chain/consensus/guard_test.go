package consensus_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

func TestDoubleSignGuard(t *testing.T) {
	at := func(t chain.VoteType, h uint64, r uint32, label string) chain.Vote {
		return chain.Vote{ChainID: "c", Type: t, Height: h, Round: r, BlockHash: block(label), Validator: chain.Address{7}}
	}
	pre, com := chain.Prevote, chain.Precommit
	cases := []struct {
		name   string
		signed []chain.Vote // recorded first, in order
		next   chain.Vote
		want   error
	}{
		{"nothing signed yet", nil, at(pre, 1, 0, "X"), nil},
		{"the identical vote again", []chain.Vote{at(pre, 5, 2, "X")}, at(pre, 5, 2, "X"), nil},
		{"another block in the same step", []chain.Vote{at(pre, 5, 2, "X")}, at(pre, 5, 2, "Y"), consensus.ErrDoubleSign},
		{"nil after a block in the same step", []chain.Vote{at(com, 5, 2, "X")}, at(com, 5, 2, ""), consensus.ErrDoubleSign},
		{"another chain in the same step", []chain.Vote{at(pre, 5, 2, "X")}, func() chain.Vote {
			v := at(pre, 5, 2, "X")
			v.ChainID = "d"
			return v
		}(), consensus.ErrDoubleSign},
		{"precommit after prevote", []chain.Vote{at(pre, 5, 2, "X")}, at(com, 5, 2, "Y"), nil},
		{"prevote after precommit", []chain.Vote{at(com, 5, 2, "X")}, at(pre, 5, 2, "X"), consensus.ErrRegression},
		{"an earlier round", []chain.Vote{at(pre, 5, 2, "X")}, at(com, 5, 1, "X"), consensus.ErrRegression},
		{"an earlier height", []chain.Vote{at(pre, 5, 2, "X")}, at(com, 4, 9, "X"), consensus.ErrRegression},
		{"a later round", []chain.Vote{at(com, 5, 2, "X")}, at(pre, 5, 3, "Y"), nil},
		{"a later height", []chain.Vote{at(com, 5, 2, "X")}, at(pre, 6, 0, "Y"), nil},
		{"re-sending a prevote after its precommit", []chain.Vote{at(pre, 5, 2, "X"), at(com, 5, 2, "X")}, at(pre, 5, 2, "X"), consensus.ErrRegression},
		{"a vote of no type", nil, at(0, 5, 2, "X"), consensus.ErrBadVote},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var g consensus.DoubleSignGuard
			for _, v := range c.signed {
				if err := g.Record(consensus.BroadcastVote{Vote: v}); err != nil {
					t.Fatalf("record %+v: %v", v, err)
				}
			}
			before := g.Encode()
			err := g.Record(consensus.BroadcastVote{Vote: c.next})
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if err != nil && string(g.Encode()) != string(before) {
				t.Fatal("a refused vote changed the guard")
			}
			if checkErr := (consensus.DoubleSignGuard{}).Check(c.next); c.want != consensus.ErrBadVote && checkErr != nil {
				t.Fatalf("a fresh guard refused %+v: %v", c.next, checkErr)
			}
		})
	}
}

func TestDoubleSignGuardKeepsLockAndVotes(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	pol := []chain.Vote{
		sc.vote("A", chain.Prevote, 3, "X").Vote,
		sc.vote("B", chain.Prevote, 3, "X").Vote,
		sc.vote("C", chain.Prevote, 3, "X").Vote,
	}
	var g consensus.DoubleSignGuard
	steps := []consensus.BroadcastVote{
		{Vote: unsigned(sc.vote("A", chain.Precommit, 1, "W"))},
		{Vote: unsigned(sc.vote("A", chain.Prevote, 3, "X"))},
		{Vote: unsigned(sc.vote("A", chain.Precommit, 3, "X")), POL: pol},
		{Vote: unsigned(sc.vote("A", chain.Prevote, 4, ""))},
		{Vote: unsigned(sc.vote("A", chain.Precommit, 4, ""))},
	}
	for _, s := range steps {
		if err := g.Record(s); err != nil {
			t.Fatal(err)
		}
	}
	l := g.LockAt(1)
	if l == nil || l.Round != 3 || l.BlockHash != block("X") || !reflect.DeepEqual(l.POL, pol) {
		t.Fatalf("the lock is the last precommit of a block, with its proof: %+v", l)
	}
	if g.LockAt(2) != nil {
		t.Fatal("a lock from height 1 returned for height 2")
	}
	votes := g.Votes(1)
	if len(votes) != 2 || votes[0].Round != 4 || votes[1].Round != 4 || votes[1].Type != chain.Precommit {
		t.Fatalf("want the last prevote and precommit, got %+v", votes)
	}
	if len(g.Votes(2)) != 0 {
		t.Fatal("votes of height 1 returned for height 2")
	}

	got, err := consensus.DecodeDoubleSignGuard(g.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, g) {
		t.Fatalf("decode(encode(g)) = %+v, want %+v", got, g)
	}
	if _, err := consensus.DecodeDoubleSignGuard([]byte{0xa1, 0x01}); !errors.Is(err, chain.ErrDecode) {
		t.Fatalf("garbage: %v, want chain.ErrDecode", err)
	}
	swapped := g
	swapped.Prevote.Type = chain.Precommit
	if _, err := consensus.DecodeDoubleSignGuard(swapped.Encode()); !errors.Is(err, consensus.ErrBadVote) {
		t.Fatalf("a prevote slot holding a precommit: %v, want ErrBadVote", err)
	}
}

func TestDoubleSignGuardProposals(t *testing.T) {
	p := func(h uint64, r uint32, label string) consensus.Proposal {
		return consensus.Proposal{Height: h, Round: r, BlockHash: block(label), POLRound: -1}
	}
	var g consensus.DoubleSignGuard
	if err := g.RecordProposal(p(2, 1, "X")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		p    consensus.Proposal
		want error
	}{
		{"the same proposal again", p(2, 1, "X"), nil},
		{"another block for the same round", p(2, 1, "Y"), consensus.ErrDoubleSign},
		{"an earlier round", p(2, 0, "Y"), consensus.ErrRegression},
		{"a later round", p(2, 2, "Y"), nil},
		{"a later height", p(3, 0, "Y"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := g.CheckProposal(c.p); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	if err := g.RecordProposal(p(3, 0, "")); !errors.Is(err, consensus.ErrBadProposal) {
		t.Fatalf("proposal of no block: %v, want ErrBadProposal", err)
	}
}

func unsigned(ev consensus.Event) chain.Vote {
	v := ev.(consensus.VoteReceived).Vote
	v.Signature = nil
	return v
}
