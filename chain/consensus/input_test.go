package consensus_test

import (
	"errors"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

func TestVoteFromNonValidatorIsRejected(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	m, _ := sc.machine("A")

	v := chain.Vote{ChainID: sceneChain, Type: chain.Prevote, Height: 1, BlockHash: block("X"),
		Validator: chain.AddressOf(sceneKey(t, "Mallory").PublicKey())}
	v.Sign(sceneKey(t, "Mallory"))
	acts, err := m.Handle(consensus.VoteReceived{Vote: v})
	if !errors.Is(err, consensus.ErrNotValidator) || len(acts) != 0 {
		t.Fatalf("got %v, %v; want ErrNotValidator and no actions", acts, err)
	}
	if got := m.Votes(0, chain.Prevote); len(got) != 0 {
		t.Fatalf("Mallory's vote was counted: %+v", got)
	}
}

func TestDuplicateVoteIsIgnored(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	m, _ := sc.machine("A")
	vote := sc.vote("B", chain.Prevote, 0, "X")

	sc.feed(m, vote)
	acts, err := m.Handle(vote)
	if err != nil || len(acts) != 0 {
		t.Fatalf("second copy: %v, %v; want nothing", acts, err)
	}
	// One prevote for X, not two: with C's that is still short of +2/3.
	if got := cast(sc.feed(m, sc.proposal(0, "X", -1), sc.vote("C", chain.Prevote, 0, "X"))); len(got) != 1 {
		t.Fatalf("cast %+v, want only A's prevote", got)
	}
	if s := m.Snapshot(); s.Step != consensus.StepPrevote {
		t.Fatalf("a duplicate completed a polka: %+v", s)
	}
}

func TestEquivocationProducesEvidence(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	m, _ := sc.machine("A")
	first, second, third := sc.vote("C", chain.Prevote, 0, "X"), sc.vote("C", chain.Prevote, 0, "Y"), sc.vote("C", chain.Prevote, 0, "")

	sc.feed(m, first)
	ev := only[consensus.Evidence](sc.feed(m, second))
	if len(ev) != 1 || ev[0].A.BlockHash != block("X") || ev[0].B.BlockHash != block("Y") ||
		ev[0].A.Validator != sc.addr["C"] || len(ev[0].B.Signature) == 0 {
		t.Fatalf("want Evidence of C's prevotes for X then Y, got %+v", ev)
	}
	if got := only[consensus.Evidence](sc.feed(m, third)); len(got) != 0 {
		t.Fatalf("C reported twice for one round: %+v", got)
	}
	// C's first vote is the one shown, and it counts once toward "+2/3 of
	// anything": with B that makes 2 of 4, no prevote timeout yet.
	if got := m.Votes(0, chain.Prevote); len(got) != 1 || got[0].BlockHash != block("X") {
		t.Fatalf("counted votes %+v, want C's first", got)
	}
	acts := sc.feed(m, sc.vote("B", chain.Prevote, 0, ""))
	if st := only[consensus.ScheduleTimeout](acts); len(st) != 0 {
		t.Fatalf("an equivocator counted twice toward +2/3: %+v", st)
	}
}

func TestEquivocatorCountsForEachBlockItVotedFor(t *testing.T) {
	// A node that first heard an equivocator's prevote for nil must still
	// see the proof-of-lock that its prevote for X completes, or it could
	// refuse a re-proposal of X forever.
	sc := newScene(t, "A", "B", "C", "D")
	v := sc.bystander(0, 1)
	e := sc.others(v)[0] // the equivocator
	m, _ := sc.machine(v)
	sc.feed(m, sc.vote(e, chain.Prevote, 0, ""))
	sc.feed(m, sc.votes(chain.Prevote, 0, "X", sc.others(v, e)...)...)
	sc.feed(m, sc.vote(e, chain.Prevote, 0, "X"))
	acts := sc.feed(m, sc.votes(chain.Precommit, 0, "", sc.others(v)...)...)
	sc.fire(m, acts, consensus.StepPrecommit)
	sc.wantVote(sc.feed(m, sc.proposal(1, "X", 0)), chain.Prevote, "X")
}

func TestMessagesForOtherHeights(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	b := newBus(sc)
	b.run()
	m := b.machines["A"]

	late := sc.vote("B", chain.Precommit, 0, sc.proposer(1, 0)+"'s block")
	if _, err := m.Handle(late); !errors.Is(err, consensus.ErrStaleHeight) {
		t.Fatalf("a vote for the decided height: %v, want ErrStaleHeight", err)
	}
	if _, err := m.Handle(consensus.NewHeight{Height: 2, Validators: sc.vals}); err != nil {
		t.Fatal(err)
	}
	future := late
	future.Vote.Height = 3
	if _, err := m.Handle(future); !errors.Is(err, consensus.ErrFutureHeight) {
		t.Fatalf("a vote for height 3 at height 2: %v, want ErrFutureHeight", err)
	}
	if _, err := m.Handle(late); !errors.Is(err, consensus.ErrStaleHeight) {
		t.Fatalf("a vote for height 1 at height 2: %v, want ErrStaleHeight", err)
	}
}

func TestMalformedInputIsRefusedWithoutPanic(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	notProposer := sc.others(sc.proposer(1, 0))[0]
	cases := []struct {
		name string
		ev   func() consensus.Event
		want error
	}{
		{"vote for another chain", func() consensus.Event {
			v := sc.vote("B", chain.Prevote, 0, "X")
			v.Vote.ChainID = "other"
			return v
		}, chain.ErrWrongChain},
		{"vote of unknown type", func() consensus.Event {
			v := sc.vote("B", chain.Prevote, 0, "X")
			v.Vote.Type = 7
			return v
		}, consensus.ErrBadVote},
		{"vote for a round past MaxRound", func() consensus.Event {
			return sc.vote("B", chain.Prevote, consensus.MaxRound+1, "X")
		}, consensus.ErrBadRound},
		{"vote far ahead", func() consensus.Event {
			return sc.vote("B", chain.Prevote, 1000, "X")
		}, consensus.ErrRoundTooFar},
		{"proposal of the zero hash", func() consensus.Event {
			p := sc.proposal(0, "X", -1)
			p.Proposal.BlockHash = chain.Hash{}
			return p
		}, consensus.ErrBadProposal},
		{"proposal with a POL round not before its round", func() consensus.Event {
			return sc.proposal(2, "X", 2)
		}, consensus.ErrBadProposal},
		{"proposal with a POL round below -1", func() consensus.Event {
			return sc.proposal(2, "X", -2)
		}, consensus.ErrBadProposal},
		{"proposal by a validator out of turn", func() consensus.Event {
			p := sc.proposal(0, "X", -1)
			p.Proposal.Proposer = sc.addr[notProposer]
			return p
		}, consensus.ErrNotProposer},
		{"proposal by a stranger", func() consensus.Event {
			p := sc.proposal(0, "X", -1)
			p.Proposal.Proposer = chain.Address{1}
			return p
		}, consensus.ErrNotValidator},
		{"new height that does not advance", func() consensus.Event {
			return consensus.NewHeight{Height: 1, Validators: sc.vals}
		}, consensus.ErrBadEvent},
		{"new height without validators", func() consensus.Event {
			return consensus.NewHeight{Height: 2}
		}, consensus.ErrBadEvent},
		{"new height with an unsorted set", func() consensus.Event {
			vs := &chain.ValidatorSet{Validators: []chain.Validator{sc.vals.Validators[1], sc.vals.Validators[0]}}
			return consensus.NewHeight{Height: 2, Validators: vs}
		}, consensus.ErrBadEvent},
		{"timeout for no step", func() consensus.Event {
			return consensus.TimeoutFired{Height: 1, Round: 0, Step: 9}
		}, consensus.ErrBadEvent},
		{"no event at all", func() consensus.Event { return nil }, consensus.ErrBadEvent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, _ := sc.machine("A")
			before := m.Snapshot()
			acts, err := m.Handle(c.ev())
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if len(acts) != 0 || m.Snapshot() != before {
				t.Fatalf("a refused event changed the machine: %v, %+v", acts, m.Snapshot())
			}
		})
	}

	m, err := consensus.New(consensus.Config{ChainID: sceneChain})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Handle(sc.vote("B", chain.Prevote, 0, "X")); !errors.Is(err, consensus.ErrNotStarted) {
		t.Fatalf("vote before the first height: %v, want ErrNotStarted", err)
	}
	if _, err := consensus.New(consensus.Config{Timeouts: consensus.Timeouts{Prevote: -1}}); !errors.Is(err, consensus.ErrBadConfig) {
		t.Fatalf("negative timeout: %v, want ErrBadConfig", err)
	}
}

func TestRoundSkipNeedsFPlusOneValidatorsAhead(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D") // f = 1, so f+1 = 2
	v := sc.bystander(0)
	others := sc.others(v)
	m, _ := sc.machine(v)

	if acts := sc.feed(m, sc.vote(others[0], chain.Prevote, 5, "")); len(only[consensus.StepChanged](acts)) != 0 {
		t.Fatalf("one validator ahead moved us: %v", acts)
	}
	acts := sc.feed(m, sc.vote(others[1], chain.Precommit, 7, ""))
	steps := only[consensus.StepChanged](acts)
	// Both have sent something for round 5 or later; only one for 7.
	if len(steps) == 0 || steps[0].Round != 5 || steps[0].Reason != consensus.ReasonRoundSkip {
		t.Fatalf("want a skip to round 5, got %+v", steps)
	}
}

func TestRestartedValidatorKeepsItsLock(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	v := sc.bystander(0, 1)
	others := sc.others(v)

	// Before the crash: v prevotes and precommits X in round 0, through
	// its guard, as a driver would.
	var guard consensus.DoubleSignGuard
	m, _ := sc.machine(v)
	acts := sc.feed(m, sc.proposal(0, "X", -1))
	acts = append(acts, sc.feed(m, sc.votes(chain.Prevote, 0, "X", v, others[0], others[1])...)...)
	for _, a := range only[consensus.BroadcastVote](acts) {
		if err := guard.Record(a); err != nil {
			t.Fatal(err)
		}
	}
	disk := guard.Encode()

	// After the restart: a new Machine, the guard from disk.
	guard, err := consensus.DecodeDoubleSignGuard(disk)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := consensus.New(consensus.Config{ChainID: sceneChain, Self: sc.addr[v], Timeouts: consensus.DefaultTimeouts()})
	if err != nil {
		t.Fatal(err)
	}
	sc.feed(m2, consensus.NewHeight{Height: 1, Validators: sc.vals, Lock: guard.LockAt(1)})
	if s := m2.Snapshot(); s.LockedRound != 0 || s.LockedValue != block("X") || s.ValidRound != 0 {
		t.Fatalf("lock not restored: %+v", s)
	}
	acts = sc.feed(m2, sc.votes(chain.Precommit, 0, "", others...)...)
	sc.fire(m2, acts, consensus.StepPrecommit)
	sc.wantVote(sc.feed(m2, sc.proposal(1, "Y", -1)), chain.Prevote, "")
	// Its old votes are refused anew: it cannot be made to equivocate.
	if err := guard.Check(sc.vote(v, chain.Prevote, 0, "Y").Vote); !errors.Is(err, consensus.ErrRegression) {
		t.Fatalf("guard let through an earlier step: %v", err)
	}
}

func TestRestartedProposerProposesItsLockedBlockAgain(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	p := sc.proposer(1, 1)
	others := sc.others(p)
	pol := sc.votes(chain.Prevote, 0, "X", p, others[0], others[1])
	var lock consensus.Lock
	lock.BlockHash, lock.Round = block("X"), 0
	for _, ev := range pol {
		lock.POL = append(lock.POL, ev.(consensus.VoteReceived).Vote)
	}
	m, err := consensus.New(consensus.Config{ChainID: sceneChain, Self: sc.addr[p], Timeouts: consensus.DefaultTimeouts()})
	if err != nil {
		t.Fatal(err)
	}
	acts := sc.feed(m, consensus.NewHeight{Height: 1, Validators: sc.vals, Lock: &lock})
	if len(only[consensus.ProposeValid](acts)) != 0 {
		t.Fatal("proposed a valid value from round 0 in round 0")
	}
	acts = sc.feed(m, sc.votes(chain.Precommit, 0, "", others...)...)
	acts = sc.fire(m, acts, consensus.StepPrecommit)
	pv := only[consensus.ProposeValid](acts)
	if len(pv) != 1 || pv[0].Proposal.BlockHash != block("X") || pv[0].Proposal.POLRound != 0 || pv[0].Proposal.Round != 1 {
		t.Fatalf("want X proposed again in round 1 with its POL from round 0, got %+v", acts)
	}

	bad := lock
	bad.POL = append([]chain.Vote(nil), lock.POL...)
	bad.POL[0].BlockHash = block("Y")
	m2, _ := consensus.New(consensus.Config{ChainID: sceneChain, Self: sc.addr[p]})
	if _, err := m2.Handle(consensus.NewHeight{Height: 1, Validators: sc.vals, Lock: &bad}); !errors.Is(err, consensus.ErrBadEvent) {
		t.Fatalf("a lock whose POL does not prove it: %v, want ErrBadEvent", err)
	}
	if _, err := m2.Handle(sc.vote("A", chain.Prevote, 0, "X")); !errors.Is(err, consensus.ErrNotStarted) {
		t.Fatalf("a refused first NewHeight left the machine started: %v", err)
	}
}
