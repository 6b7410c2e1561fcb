package consensus_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

func TestHappyPathCommitsInRound0(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	b := newBus(sc)
	b.run()

	want := block(sc.proposer(1, 0) + "'s block")
	for _, n := range []string{"A", "B", "C", "D"} {
		c, ok := b.commits[n]
		if !ok {
			t.Fatalf("%s did not commit", n)
		}
		if c.Height != 1 || c.Round != 0 || c.BlockHash != want {
			t.Fatalf("%s committed height %d round %d block %x, want the proposer's block in round 0", n, c.Height, c.Round, c.BlockHash[:4])
		}
		// The precommits make a certificate anyone can check.
		if err := sc.vals.VerifyCommit(sceneChain, 1, want, c.Certificate()); err != nil {
			t.Fatalf("%s's certificate: %v", n, err)
		}
	}
}

func TestCrashedProposerMeansRound1Commits(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	down := sc.proposer(1, 0)
	b := newBus(sc, down)
	b.run()
	if len(b.commits) != 0 {
		t.Fatal("committed without a proposal")
	}

	b.fire(consensus.StepPropose)   // nobody got a proposal: prevote nil
	b.fire(consensus.StepPrecommit) // +2/3 precommitted nil: next round

	want := block(sc.proposer(1, 1) + "'s block")
	for _, n := range sc.others(down) {
		c, ok := b.commits[n]
		if !ok || c.Round != 1 || c.BlockHash != want {
			t.Fatalf("%s: commit %+v, want round 1's proposal", n, c)
		}
	}
	wantReasons := []consensus.Reason{consensus.ReasonNewHeight, consensus.ReasonTimeoutPropose,
		consensus.ReasonPolkaNil, consensus.ReasonTimeoutPrecommit, consensus.ReasonProposal,
		consensus.ReasonPolka, consensus.ReasonDecided}
	if got := b.reasons(); !slices.Equal(got, wantReasons) {
		t.Fatalf("the explorer would show %v, want %v", got, wantReasons)
	}
}

// lockOnX brings validator v to round 1 locked on block "X" from round 0:
// v and two others prevoted X, v precommitted X, the others precommitted
// nil, and the precommit timeout moved v on.
func lockOnX(sc *scene, v string) (*consensus.Machine, []consensus.Action) {
	sc.t.Helper()
	m, _ := sc.machine(v)
	acts := sc.feed(m, sc.proposal(0, "X", -1))
	sc.wantVote(acts, chain.Prevote, "X")
	others := sc.others(v)
	acts = sc.feed(m, sc.votes(chain.Prevote, 0, "X", v, others[0], others[1])...)
	sc.wantVote(acts, chain.Precommit, "X")
	if pol := only[consensus.BroadcastVote](acts)[0].POL; len(pol) != 3 {
		sc.t.Fatalf("the locking precommit carries %d POL prevotes, want 3", len(pol))
	}
	acts = sc.feed(m, sc.vote(v, chain.Precommit, 0, "X"))
	acts = append(acts, sc.feed(m, sc.votes(chain.Precommit, 0, "", others[0], others[1])...)...)
	acts = sc.fire(m, acts, consensus.StepPrecommit)
	if s := m.Snapshot(); s.Round != 1 || s.LockedRound != 0 || s.LockedValue != block("X") {
		sc.t.Fatalf("want round 1 locked on X from round 0, got %+v", s)
	}
	return m, acts
}

func TestLockedValidatorDoesNotPrevoteAnotherBlock(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	v := sc.bystander(0, 1, 2)

	t.Run("fresh proposal", func(t *testing.T) {
		m, _ := lockOnX(sc, v)
		acts := sc.feed(m, sc.proposal(1, "Y", -1))
		sc.wantVote(acts, chain.Prevote, "") // Algorithm 1, line 26
	})
	t.Run("same block proposed again", func(t *testing.T) {
		m, _ := lockOnX(sc, v)
		acts := sc.feed(m, sc.proposal(1, "X", -1))
		sc.wantVote(acts, chain.Prevote, "X") // line 24: locked on this very block
	})
	t.Run("claimed proof-of-lock without the prevotes", func(t *testing.T) {
		m, acts := lockOnX(sc, v)
		if got := cast(sc.feed(m, sc.proposal(1, "Y", 0))); len(got) != 0 {
			t.Fatalf("prevoted %+v on a POL it has not seen", got) // line 28 needs 2f+1 prevotes
		}
		acts = sc.fire(m, acts, consensus.StepPropose)
		sc.wantVote(acts, chain.Prevote, "") // line 59
	})
}

func TestProofOfLockUnlocks(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	v := sc.bystander(0, 1, 2)
	others := sc.others(v)

	m, _ := lockOnX(sc, v)
	// Round 1: Y is proposed; v, locked on X, prevotes nil. The others
	// prevote Y, but v only hears it later; it times out of round 1.
	sc.wantVote(sc.feed(m, sc.proposal(1, "Y", -1)), chain.Prevote, "")
	acts := sc.feed(m, sc.votes(chain.Precommit, 1, "", others...)...)
	sc.fire(m, acts, consensus.StepPrecommit)
	sc.feed(m, sc.votes(chain.Prevote, 1, "Y", others...)...)

	// Round 2: Y again, with its proof-of-lock from round 1, which is newer
	// than v's lock from round 0 (line 29): v prevotes Y.
	acts = sc.feed(m, sc.proposal(2, "Y", 1))
	sc.wantVote(acts, chain.Prevote, "Y")

	// +2/3 prevote Y in round 2: v now locks on Y.
	acts = sc.feed(m, sc.votes(chain.Prevote, 2, "Y", others...)...)
	sc.wantVote(acts, chain.Precommit, "Y")
	if s := m.Snapshot(); s.LockedRound != 2 || s.LockedValue != block("Y") {
		t.Fatalf("want locked on Y in round 2, got %+v", s)
	}

}

func TestOlderProofOfLockDoesNotUnlock(t *testing.T) {
	sc := newScene(t, "A", "B", "C", "D")
	v := sc.bystander(0, 1, 2)
	others := sc.others(v)

	m, _ := lockOnX(sc, v) // X has a proof-of-lock from round 0
	// Round 1: Y is proposed and v, still at prevote, sees +2/3 prevotes
	// for it: the lock moves to Y in round 1 (line 36).
	sc.wantVote(sc.feed(m, sc.proposal(1, "Y", -1)), chain.Prevote, "")
	acts := sc.feed(m, sc.votes(chain.Prevote, 1, "Y", others...)...)
	sc.wantVote(acts, chain.Precommit, "Y")
	acts = sc.feed(m, sc.votes(chain.Precommit, 1, "", others...)...)
	sc.fire(m, acts, consensus.StepPrecommit)

	// Round 2: X again with its proof-of-lock from round 0. The lock on Y
	// is from round 1, newer than that proof, so v refuses X (line 32).
	acts = sc.feed(m, sc.proposal(2, "X", 0))
	sc.wantVote(acts, chain.Prevote, "")
	if s := m.Snapshot(); s.LockedRound != 1 || s.LockedValue != block("Y") {
		t.Fatalf("want still locked on Y from round 1, got %+v", s)
	}
}

func TestTimeoutsGrowLinearlyWithTheRound(t *testing.T) {
	tt := consensus.Timeouts{
		Propose: 1000, ProposeDelta: 500,
		Prevote: 300, PrevoteDelta: 100,
		Precommit: 200, PrecommitDelta: 50,
	}
	for _, c := range []struct {
		name  string
		step  consensus.Step
		round uint32
		want  int64
	}{
		{"propose round 0", consensus.StepPropose, 0, 1000},
		{"propose round 1", consensus.StepPropose, 1, 1500},
		{"propose round 4", consensus.StepPropose, 4, 3000},
		{"prevote round 3", consensus.StepPrevote, 3, 600},
		{"precommit round 10", consensus.StepPrecommit, 10, 700},
		{"no timeout once decided", consensus.StepCommit, 3, 0},
		{"the last round", consensus.StepPropose, consensus.MaxRound, 1000 + 500*consensus.MaxRound},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := tt.Duration(c.step, c.round); int64(got) != c.want {
				t.Fatalf("got %d, want %d", got, c.want)
			}
		})
	}
	huge := consensus.Timeouts{Propose: 1, ProposeDelta: 1 << 40}
	if got := huge.Duration(consensus.StepPropose, consensus.MaxRound); got != math.MaxInt64 {
		t.Fatalf("got %d, want saturation at the largest duration", got)
	}

	// The Machine asks for exactly these durations, round after round.
	sc := newScene(t, "A", "B", "C", "D", "E")
	m, _ := sc.machine(sc.bystander(0, 1, 2, 3))
	d := consensus.DefaultTimeouts()
	for r := uint32(1); r <= 3; r++ {
		acts := sc.feed(m, sc.votes(chain.Precommit, r-1, "", sc.others()[:4]...)...)
		acts = sc.fire(m, acts, consensus.StepPrecommit)
		want := d.Propose + time.Duration(r)*d.ProposeDelta
		if st := only[consensus.ScheduleTimeout](acts); len(st) != 1 || st[0].Round != r || st[0].Duration != want {
			t.Fatalf("round %d: scheduled %+v, want a propose timeout of %v", r, st, want)
		}
	}
}
