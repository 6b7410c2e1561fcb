package consensus

import "fmt"

// Step is where a round stands. Steps only move forward within a round:
// propose, prevote, precommit; StepCommit means the height is decided and
// the machine waits for the driver's next NewHeight.
type Step uint8

// The steps of a round, in order.
const (
	StepPropose Step = iota + 1
	StepPrevote
	StepPrecommit
	StepCommit
)

// String returns the lowercase step name.
func (s Step) String() string {
	switch s {
	case StepPropose:
		return "propose"
	case StepPrevote:
		return "prevote"
	case StepPrecommit:
		return "precommit"
	case StepCommit:
		return "commit"
	}
	return fmt.Sprintf("step(%d)", uint8(s))
}

// Reason says which rule of Algorithm 1 changed the step, so an explorer
// can show not only that a round changed but why.
type Reason uint8

// The reasons for a step change, each named after its rule.
const (
	// ReasonNewHeight: a height started in round 0 (lines 10 and 54).
	ReasonNewHeight Reason = iota + 1
	// ReasonProposal: a proposal arrived and the machine prevoted (lines 22
	// and 28).
	ReasonProposal
	// ReasonTimeoutPropose: no usable proposal in time; prevote nil (line 57).
	ReasonTimeoutPropose
	// ReasonPolka: +2/3 prevotes for a valid proposal; lock and precommit
	// it (line 36).
	ReasonPolka
	// ReasonPolkaNil: +2/3 prevotes for nil; precommit nil (line 44).
	ReasonPolkaNil
	// ReasonTimeoutPrevote: no +2/3 prevotes for one value in time;
	// precommit nil (line 61).
	ReasonTimeoutPrevote
	// ReasonTimeoutPrecommit: no decision in this round in time; start the
	// next round (line 65).
	ReasonTimeoutPrecommit
	// ReasonRoundSkip: f+1 validators are in a later round; join it (line 55).
	ReasonRoundSkip
	// ReasonDecided: +2/3 precommits for a valid proposal (line 49).
	ReasonDecided
)

// String returns a short description of the rule.
func (r Reason) String() string {
	switch r {
	case ReasonNewHeight:
		return "new height"
	case ReasonProposal:
		return "proposal received"
	case ReasonTimeoutPropose:
		return "propose timeout"
	case ReasonPolka:
		return "+2/3 prevotes for a block"
	case ReasonPolkaNil:
		return "+2/3 prevotes for nil"
	case ReasonTimeoutPrevote:
		return "prevote timeout"
	case ReasonTimeoutPrecommit:
		return "precommit timeout"
	case ReasonRoundSkip:
		return "f+1 validators in a later round"
	case ReasonDecided:
		return "+2/3 precommits for a block"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}
