package node

import (
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

// The quorum of precommits is noted when the vote that completes it
// arrives: repeats, votes for no block, other rounds and other blocks do
// not count towards it.
func TestQuorumTallyNotesTheVoteThatCompletesIt(t *testing.T) {
	r := newRig(t, 0)
	vals := r.e.vals
	if vals == nil {
		r.e.startHeight(r.ctx, 1)
		vals = r.e.vals
	}
	q := newQuorumTally()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	block, other := chain.Hash{0xb1}, chain.Hash{0xb2}
	q.add(vals, r.vote(0, chain.Precommit, 1, 0, block), t0)
	q.add(vals, r.vote(0, chain.Precommit, 1, 0, block), t0.Add(1*time.Millisecond)) // repeat
	q.add(vals, r.vote(1, chain.Precommit, 1, 0, chain.Hash{}), t0.Add(2*time.Millisecond))
	q.add(vals, r.vote(2, chain.Precommit, 1, 1, block), t0.Add(3*time.Millisecond)) // round 1
	q.add(vals, r.vote(3, chain.Prevote, 1, 0, block), t0.Add(4*time.Millisecond))
	q.add(vals, r.vote(3, chain.Precommit, 1, 0, other), t0.Add(5*time.Millisecond))
	now := t0.Add(time.Second)
	if got := q.since(block, now); !got.Equal(now) {
		t.Fatalf("one precommit for the block in round 0 made a quorum at %s", got)
	}
	q.add(vals, r.vote(2, chain.Precommit, 1, 0, block), t0.Add(6*time.Millisecond))
	if got := q.since(block, now); !got.Equal(now) {
		t.Fatalf("two precommits of four made a quorum at %s", got)
	}
	q.add(vals, r.vote(1, chain.Precommit, 1, 0, block), t0.Add(7*time.Millisecond))
	if got, want := q.since(block, now), t0.Add(7*time.Millisecond); !got.Equal(want) {
		t.Fatalf("quorum noted at %s, want %s (the third precommit)", got, want)
	}
	q.add(vals, r.vote(3, chain.Precommit, 1, 0, block), t0.Add(8*time.Millisecond))
	if got, want := q.since(block, now), t0.Add(7*time.Millisecond); !got.Equal(want) {
		t.Fatalf("a fourth precommit moved the quorum to %s, want %s", got, want)
	}
	if got := q.since(block, t0); !got.Equal(t0) {
		t.Fatalf("since is later than now: %s", got)
	}
}

// A node that decides a block later than its quorum of precommits came
// (here: it could judge the proposal only once its clock caught up)
// counts the commit wait from the quorum, so it does not add a whole
// wait to its delay. A node that decides as the quorum comes waits the
// whole commit wait.
func TestCommitWaitCountsFromTheQuorum(t *testing.T) {
	for _, late := range []time.Duration{0, time.Minute} {
		r := newRig(t, 0)
		if r.proposerOf(1, 0) == 0 {
			r = newRig(t, 1)
		}
		p := r.proposerOf(1, 0)
		r.clock.now = r.clock.now.Add(late)
		b := r.blockBy(r.addr(p))
		r.clock.now = r.clock.now.Add(-late)
		r.e.startHeight(r.ctx, 1)
		r.send(&chain.ConsensusMessage{Proposal: r.proposal(r.addr(p), 1, 0, b)})
		quorumAt := r.clock.now
		for i := 0; i < 4; i++ {
			if i != r.self {
				r.send(&chain.ConsensusMessage{Vote: r.vote(i, chain.Precommit, 1, 0, b.Hash())})
			}
		}
		if late > 0 {
			r.clock.now = r.clock.now.Add(late)
			r.e.dispatch(r.ctx, tick{})
		}
		if h := r.store.Latest().Height; h != 1 {
			t.Fatalf("decided %v late: at height %d, want 1", late, h)
		}
		wait := r.n.cfg.Consensus.CommitWait.Duration
		var wake *timer
		for i := range r.clock.timers {
			if w, ok := r.clock.timers[i].x.(waitOver); ok && w.height == 1 {
				wake = &r.clock.timers[i]
			}
		}
		if wake == nil {
			t.Fatalf("decided %v late: no end of the commit wait scheduled", late)
		}
		want := quorumAt.Add(wait)
		if late > 0 {
			want = r.clock.now // the wait is long over
		}
		if !wake.at.Equal(want) {
			t.Errorf("decided %v late: commit wait ends at %s, want %s", late, wake.at, want)
		}
		switch {
		case late == 0 && !r.e.waitingSince.Equal(quorumAt):
			t.Errorf("waiting since %s, want the quorum's %s", r.e.waitingSince, quorumAt)
		case late > 0 && r.e.height != 2:
			// The wait, counted from the quorum, is over; with the quiet
			// chain's wait (block.empty_every) over too, the tick that
			// decided the block starts the next height.
			t.Errorf("decided %v late: still at height %d, waiting since %s; want height 2 started at once", late, r.e.height, r.e.waitingSince)
		}
	}
}
