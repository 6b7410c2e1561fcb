package consensus

import (
	"bytes"
	"fmt"

	"github.com/citychain/citychain/chain"
)

// DoubleSignGuard is what a validator must remember across crashes so that
// it never signs two different votes, or two different proposals, for one
// height and round: the last prevote and the last precommit it signed, the
// last proposal it signed, and its lock, the last non-nil precommit, with
// the prevotes that justified it.
//
// The zero value has signed nothing. It is a plain value: the driver calls
// Record (or RecordProposal), persists Encode() durably, and only then signs
// and broadcasts. After a restart it decodes the guard, restores the lock
// with LockAt into NewHeight, sends Votes() again, and keeps refusing what
// it refused before.
//
// Why the lock: Tendermint's safety rests on two promises of a correct
// validator: one vote per step, and no prevote against its lock without a
// newer proof-of-lock. A validator that forgets its lock in a crash breaks
// the second promise as surely as a faulty one. The lock moves only with a
// non-nil precommit (Algorithm 1, line 36), so the guard can keep it. It
// keeps the proof-of-lock too: the others can only be led back to a locked
// block by a proposal carrying that proof, and the validators who saw it
// may all have restarted since.
//
// Why the votes themselves: after a restart the guard refuses to sign an
// earlier step again, so a vote that only the crashed validator had would
// be lost for good, and a round that needs it would never end. Keeping the
// last vote of each type lets the validator send them again.
type DoubleSignGuard struct {
	// Prevote and Precommit are the last vote of each type let through,
	// without signature; Type 0 means none yet.
	Prevote   chain.Vote `cbor:"prevote"`
	Precommit chain.Vote `cbor:"precommit"`
	// LockHeight and Lock are the last non-nil precommit let through.
	LockHeight uint64 `cbor:"lock_height"`
	Lock       Lock   `cbor:"lock"`
	// Proposal is the last proposal let through; a zero block hash means
	// none.
	Proposal Proposal `cbor:"proposal"`
}

// last returns the later of the last prevote and the last precommit, the
// position every new vote must come after. Positions are ordered by
// height, then round, then type (prevote before precommit); the zero vote
// comes before all.
func (g DoubleSignGuard) last() chain.Vote {
	if cmpVotes(g.Precommit, g.Prevote) > 0 {
		return g.Precommit
	}
	return g.Prevote
}

// Check returns nil if signing v keeps every promise: v is at a later
// position than the last vote signed, or is exactly that vote again. It
// fails with ErrDoubleSign for a different vote at the same position and
// ErrRegression for an earlier position.
func (g DoubleSignGuard) Check(v chain.Vote) error {
	if v.Type != chain.Prevote && v.Type != chain.Precommit {
		return fmt.Errorf("%w: type %d", ErrBadVote, v.Type)
	}
	last := g.last()
	switch cmpVotes(v, last) {
	case -1:
		return fmt.Errorf("%w: %s at %d/%d, last signed %s at %d/%d", ErrRegression,
			typeName(v.Type), v.Height, v.Round, typeName(last.Type), last.Height, last.Round)
	case 0:
		if !bytes.Equal(v.SignBytes(), last.SignBytes()) {
			return fmt.Errorf("%w: another %s at %d/%d was signed", ErrDoubleSign,
				typeName(v.Type), v.Height, v.Round)
		}
	}
	return nil
}

// Record checks the vote of a BroadcastVote action like Check and, if it
// may be signed, makes it the last vote of its type; a precommit of a block
// also becomes the lock, with the action's proof-of-lock. The caller must
// persist the guard before signing the vote.
func (g *DoubleSignGuard) Record(a BroadcastVote) error {
	v := a.Vote
	if err := g.Check(v); err != nil {
		return err
	}
	v.Signature = nil
	if v.Type == chain.Prevote {
		g.Prevote = v
		return nil
	}
	g.Precommit = v
	if !v.BlockHash.IsZero() {
		g.LockHeight = v.Height
		g.Lock = Lock{Round: v.Round, BlockHash: v.BlockHash, POL: copyVotes(a.POL)}
	}
	return nil
}

func copyVotes(vs []chain.Vote) []chain.Vote {
	if len(vs) == 0 {
		return nil
	}
	out := make([]chain.Vote, len(vs))
	for i, v := range vs {
		out[i] = copyVote(v)
	}
	return out
}

// Votes returns the last prevote and precommit let through at height,
// unsigned, in that order. After a restart the driver signs them again
// (signing is deterministic, so the signatures are the ones sent before)
// and sends them, and hands them to its Machine, because peers may need
// them to finish the round.
func (g DoubleSignGuard) Votes(height uint64) []chain.Vote {
	var out []chain.Vote
	for _, v := range []chain.Vote{g.Prevote, g.Precommit} {
		if v.Type != 0 && v.Height == height {
			out = append(out, v)
		}
	}
	return out
}

// LockAt returns the lock recorded for height, or nil when the validator
// precommitted no block at that height. The result goes into NewHeight;
// after a restart the driver also sends its POL votes again, so that peers
// can check a re-proposal of the block.
func (g DoubleSignGuard) LockAt(height uint64) *Lock {
	if g.LockHeight != height || g.Lock.BlockHash.IsZero() {
		return nil
	}
	l := g.Lock
	l.POL = copyVotes(l.POL)
	return &l
}

// CheckProposal returns nil if p may be signed: it is for a later height and
// round than the last proposal signed, or is exactly that proposal again.
// It fails with ErrDoubleSign for a different proposal for the same height
// and round, and ErrRegression for an earlier one.
func (g DoubleSignGuard) CheckProposal(p Proposal) error {
	if g.Proposal.BlockHash.IsZero() {
		return nil
	}
	last := g.Proposal
	switch cmpPositions(p.Height, p.Round, 0, last.Height, last.Round, 0) {
	case -1:
		return fmt.Errorf("%w: proposal at %d/%d, last signed at %d/%d", ErrRegression,
			p.Height, p.Round, last.Height, last.Round)
	case 0:
		if p != last {
			return fmt.Errorf("%w: another proposal at %d/%d was signed", ErrDoubleSign, p.Height, p.Round)
		}
	}
	return nil
}

// RecordProposal checks p like CheckProposal and, if it may be signed, makes
// it the last proposal signed. The caller must persist the guard before
// signing p.
func (g *DoubleSignGuard) RecordProposal(p Proposal) error {
	if err := g.CheckProposal(p); err != nil {
		return err
	}
	if p.BlockHash.IsZero() {
		return fmt.Errorf("%w: zero block hash", ErrBadProposal)
	}
	g.Proposal = p
	return nil
}

// Encode returns the canonical encoding of the guard, for persisting.
func (g DoubleSignGuard) Encode() []byte { return chain.MustEncode(&g) }

// DecodeDoubleSignGuard parses the canonical encoding made by Encode. It
// fails with chain.ErrDecode or chain.ErrNonCanonical on bad bytes and
// ErrBadVote when a recorded vote has the wrong type.
func DecodeDoubleSignGuard(data []byte) (DoubleSignGuard, error) {
	var g DoubleSignGuard
	if err := chain.Decode(data, &g); err != nil {
		return DoubleSignGuard{}, fmt.Errorf("decode double-sign guard: %w", err)
	}
	if g.Prevote.Type != 0 && g.Prevote.Type != chain.Prevote ||
		g.Precommit.Type != 0 && g.Precommit.Type != chain.Precommit {
		return DoubleSignGuard{}, fmt.Errorf("decode double-sign guard: %w: vote of the wrong type", ErrBadVote)
	}
	return g, nil
}

// cmpVotes orders two votes by position: -1 if a is before b, 0 if at the
// same height, round and type, +1 if after. A zero vote (Type 0) is before
// every vote.
func cmpVotes(a, b chain.Vote) int {
	return cmpPositions(a.Height, a.Round, uint8(a.Type), b.Height, b.Round, uint8(b.Type))
}

// cmpPositions orders (height, round, step) positions: -1 if a is before
// b, 0 if equal, +1 if after.
func cmpPositions(ah uint64, ar uint32, as uint8, bh uint64, br uint32, bs uint8) int {
	switch {
	case ah != bh:
		return before(ah < bh)
	case ar != br:
		return before(ar < br)
	case as != bs:
		return before(as < bs)
	}
	return 0
}

func before(less bool) int {
	if less {
		return -1
	}
	return 1
}

func typeName(t chain.VoteType) string {
	switch t {
	case chain.Prevote:
		return "prevote"
	case chain.Precommit:
		return "precommit"
	}
	return "nothing"
}
