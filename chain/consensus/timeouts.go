package consensus

import (
	"fmt"
	"math"
	"time"
)

// Timeouts are the durations the Machine waits in each step before it
// gives up on the step (lines 57-67 of Algorithm 1). Each grows linearly
// with the round: Base + round*Delta. Growth is what makes the protocol
// live once the network is timely again: whatever the real message delay
// is, some round's timeouts exceed it.
type Timeouts struct {
	// Propose is how long to wait for the round's proposal.
	Propose, ProposeDelta time.Duration
	// Prevote is how long to wait, after +2/3 prevotes of any kind, for
	// +2/3 prevotes for one value.
	Prevote, PrevoteDelta time.Duration
	// Precommit is how long to wait, after +2/3 precommits of any kind, for
	// +2/3 precommits for one block before moving to the next round.
	Precommit, PrecommitDelta time.Duration
}

// DefaultTimeouts returns timeouts suited to a local network of a few
// nodes: 1.5 s to propose (the proposer builds and executes a block
// first) and 500 ms for each vote step in round 0, growing by 500 ms and
// 250 ms in every further round. They are the defaults of a node's
// config.toml; there is no other source.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Propose: 1500 * time.Millisecond, ProposeDelta: 500 * time.Millisecond,
		Prevote: 500 * time.Millisecond, PrevoteDelta: 250 * time.Millisecond,
		Precommit: 500 * time.Millisecond, PrecommitDelta: 250 * time.Millisecond,
	}
}

// Duration returns how long step lasts in round: Base + round*Delta for the
// step, saturating at the largest time.Duration instead of overflowing. It
// returns 0 for StepCommit, which has no timeout.
func (t Timeouts) Duration(step Step, round uint32) time.Duration {
	switch step {
	case StepPropose:
		return linear(t.Propose, t.ProposeDelta, round)
	case StepPrevote:
		return linear(t.Prevote, t.PrevoteDelta, round)
	case StepPrecommit:
		return linear(t.Precommit, t.PrecommitDelta, round)
	}
	return 0
}

// validate reports a negative duration with ErrBadConfig.
func (t Timeouts) validate() error {
	for _, d := range []time.Duration{t.Propose, t.ProposeDelta, t.Prevote,
		t.PrevoteDelta, t.Precommit, t.PrecommitDelta} {
		if d < 0 {
			return fmt.Errorf("%w: negative timeout %s", ErrBadConfig, d)
		}
	}
	return nil
}

// linear returns base + round*delta for non-negative base and delta,
// saturating at math.MaxInt64 nanoseconds.
func linear(base, delta time.Duration, round uint32) time.Duration {
	const top = time.Duration(math.MaxInt64)
	if delta > 0 && int64(round) > int64(top-base)/int64(delta) {
		return top
	}
	return base + time.Duration(round)*delta
}
