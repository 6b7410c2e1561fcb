package consensus

import "errors"

// Error kinds of package consensus. Callers compare with errors.Is; the
// messages are wrapped with context where they arise. A vote or proposal
// for another chain fails with chain.ErrWrongChain.
var (
	// ErrBadConfig means a Config cannot be used (negative timeouts).
	ErrBadConfig = errors.New("bad consensus config")
	// ErrNotStarted means an event other than NewHeight arrived before the
	// first NewHeight.
	ErrNotStarted = errors.New("consensus not started")
	// ErrBadEvent means an event does not fit: an unknown event type, a
	// NewHeight that does not advance the height or has an unusable
	// validator set, a timeout for an unknown step.
	ErrBadEvent = errors.New("bad consensus event")
	// ErrNotValidator means a vote or proposal is signed by an address that
	// is not in the validator set of its height.
	ErrNotValidator = errors.New("not a validator")
	// ErrNotProposer means a proposal comes from a validator that is not the
	// proposer of its height and round.
	ErrNotProposer = errors.New("not the proposer of the round")
	// ErrBadVote means a vote is malformed: its type is neither prevote nor
	// precommit.
	ErrBadVote = errors.New("malformed vote")
	// ErrBadProposal means a proposal is malformed: a zero block hash or a
	// POL round that is not -1 or below the proposal's round.
	ErrBadProposal = errors.New("malformed proposal")
	// ErrBadRound means a round number is above MaxRound.
	ErrBadRound = errors.New("round out of range")
	// ErrFutureHeight means a message is for a later height than the
	// machine's; the driver should keep it and hand it in after NewHeight.
	ErrFutureHeight = errors.New("message for a future height")
	// ErrStaleHeight means a message is for a height the machine has already
	// decided or left; the sender is behind.
	ErrStaleHeight = errors.New("message for a decided height")
	// ErrRoundTooFar means a message is more than Config.MaxRoundsAhead
	// rounds ahead of the machine and was not stored.
	ErrRoundTooFar = errors.New("message too many rounds ahead")
	// ErrTooManyProposals means the round already holds the most distinct
	// proposals the machine keeps; only a faulty proposer sends that many.
	ErrTooManyProposals = errors.New("too many proposals for one round")
	// ErrDoubleSign means the DoubleSignGuard refused to sign something that
	// conflicts with what it already signed for the same height and round.
	ErrDoubleSign = errors.New("refused to sign a conflicting message")
	// ErrRegression means the DoubleSignGuard refused to sign for a height,
	// round or step before the last one signed.
	ErrRegression = errors.New("refused to sign for an earlier step")
)
