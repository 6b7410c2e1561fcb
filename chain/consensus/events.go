package consensus

import "github.com/citychain/citychain/chain"

// Event is an input to Machine.Handle: NewHeight, ProposalReceived,
// VoteReceived or TimeoutFired. The set is closed; other types are refused
// with ErrBadEvent.
type Event interface{ isEvent() }

// NewHeight starts consensus on Height with the validator set that signs
// it, in round 0. The driver sends it at boot and after it has stored the
// block of each Commit action (or synced past a height); heights must
// increase. Lock, when not nil, restores the lock a validator held at this
// height before a restart, as recorded by its DoubleSignGuard (LockAt).
// When the lock carries its proof-of-lock, the block also becomes the valid
// value again, which the Machine will propose when it is the proposer, so
// the driver must still hold that block.
type NewHeight struct {
	Height     uint64
	Validators *chain.ValidatorSet
	Lock       *Lock
}

// Lock is a locked value: the block hash a validator precommitted, the
// round in which it did, and POL, the signed prevotes for the block in that
// round that justified it (the proof-of-lock).
type Lock struct {
	Round     uint32       `cbor:"round"`
	BlockHash chain.Hash   `cbor:"block_hash"`
	POL       []chain.Vote `cbor:"pol"`
}

// Proposal is the proposer's message of a round, as the Machine sees it:
// which block (by hash) it proposes for Height and Round, and POLRound, the
// round of the proof-of-lock (+2/3 prevotes) that justifies proposing it
// again, or -1 for a fresh block. The wire form with its signature belongs
// to the driver; these fields are what it must sign. The type is
// chain.Proposal, defined with its sign bytes next to chain.Vote.
type Proposal = chain.Proposal

// ProposalReceived delivers a proposal whose signature the driver has
// checked. Valid is the driver's verdict after executing the block against
// the state of the previous height: valid(v) in the paper.
type ProposalReceived struct {
	Proposal Proposal
	Valid    bool
}

// VoteReceived delivers a prevote or precommit whose signature the driver
// has checked, including the Machine's own votes once signed.
type VoteReceived struct {
	Vote chain.Vote
}

// TimeoutFired reports that a ScheduleTimeout action's duration has passed.
type TimeoutFired struct {
	Height uint64
	Round  uint32
	Step   Step
}

func (NewHeight) isEvent()        {}
func (ProposalReceived) isEvent() {}
func (VoteReceived) isEvent()     {}
func (TimeoutFired) isEvent()     {}
