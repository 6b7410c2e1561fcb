package consensus

import (
	"time"

	"github.com/citychain/citychain/chain"
)

// Action is an output of Machine.Handle that the driver carries out:
// ProposeNew, ProposeValid, BroadcastVote, ScheduleTimeout, Commit,
// Evidence or StepChanged. See the package documentation for what the
// driver must do with each.
type Action interface{ isAction() }

// ProposeNew asks the driver to build a new block for Height and Round
// (getValue() in the paper, line 17), sign a Proposal for it with POLRound
// -1, broadcast it, and hand it back to the Machine as ProposalReceived.
type ProposeNew struct {
	Height uint64
	Round  uint32
}

// ProposeValid asks the driver to propose again a block it already holds
// (validValue in the paper, line 16): sign Proposal, broadcast it with the
// block, and hand it back to the Machine as ProposalReceived.
type ProposeValid struct {
	Proposal Proposal
}

// BroadcastVote asks the driver to sign Vote, which has every field but
// the signature, and broadcast it. The driver records it in its
// DoubleSignGuard and persists the guard first, and drops the vote if the
// guard refuses it.
//
// For a precommit of a block, which locks the validator on it (Algorithm 1,
// line 36), POL holds the signed prevotes for the block in this round that
// justify the lock. The guard keeps them: after a crash the validator can
// show others why it is locked, and propose the block again with them.
type BroadcastVote struct {
	Vote chain.Vote
	POL  []chain.Vote
}

// ScheduleTimeout asks the driver to deliver TimeoutFired{Height, Round,
// Step} after Duration.
type ScheduleTimeout struct {
	Height   uint64
	Round    uint32
	Step     Step
	Duration time.Duration
}

// Commit reports the decision of Height: the block BlockHash, decided in
// Round by Precommits, the precommits for it in validator-set order, whose
// power is at least a quorum. The driver stores the block with
// Certificate() and then sends NewHeight for the next height.
type Commit struct {
	Height     uint64
	Round      uint32
	BlockHash  chain.Hash
	Precommits []chain.Vote
}

// Certificate returns the commit certificate of the decision: one signature
// per precommit, in validator-set order, as stored with the block and
// checked by ValidatorSet.VerifyCommit.
func (c Commit) Certificate() *chain.Commit {
	sigs := make([]chain.CommitSig, 0, len(c.Precommits))
	for _, v := range c.Precommits {
		sigs = append(sigs, chain.CommitSig{
			Validator: v.Validator,
			Signature: append([]byte(nil), v.Signature...),
		})
	}
	return &chain.Commit{Height: c.Height, Round: c.Round, BlockHash: c.BlockHash, Signatures: sigs}
}

// Evidence reports that one validator signed two different votes of the
// same type for one height and round. A is the vote the Machine counted, B
// the conflicting one it refused.
type Evidence struct {
	A, B chain.Vote
}

// StepChanged reports that the Machine is now at Height, Round and Step,
// and which rule moved it there. It is for logs, metrics and the explorer.
type StepChanged struct {
	Height uint64
	Round  uint32
	Step   Step
	Reason Reason
}

func (ProposeNew) isAction()      {}
func (ProposeValid) isAction()    {}
func (BroadcastVote) isAction()   {}
func (ScheduleTimeout) isAction() {}
func (Commit) isAction()          {}
func (Evidence) isAction()        {}
func (StepChanged) isAction()     {}
