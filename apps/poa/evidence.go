package poa

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// EvidenceRecord is one recorded offence, as stored and queried. Records
// of the retired evidence transaction have a Reporter and, in storage, no
// Kind (README.md, "Evidence", says how they read and are charged).
type EvidenceRecord struct {
	Validator string   `json:"validator" cbor:"validator"`
	Height    uint64   `json:"height" cbor:"height"` // of the offence
	Round     uint64   `json:"round" cbor:"round"`
	Type      uint64   `json:"type" cbor:"type"`                   // vote type of a duplicate vote; 0 for a proposal
	Votes     VotePair `json:"votes" cbor:"votes"`                 // the two votes of a duplicate vote
	Reporter  string   `json:"reporter,omitempty" cbor:"reporter"` // only on records of the retired transaction
	Committed uint64   `json:"committed_at" cbor:"committed_at"`   // height of the block that carried it

	Kind      string        `json:"kind" cbor:"kind,omitempty"`                             // chain.EvidenceDuplicateVote or chain.EvidenceConflictingProposal
	Proposals *ProposalPair `json:"proposals,omitempty" cbor:"proposals,omitempty"`         // the two proposals of a conflicting proposal
	Hash      string        `json:"evidence_hash,omitempty" cbor:"evidence_hash,omitempty"` // of the evidence that proved the offence
	// RemovalAt is the first height the set without the offender signs;
	// zero when the offender is not removed, and NotRemoved says why.
	RemovalAt  uint64 `json:"removal_at,omitempty" cbor:"removal_at,omitempty"`
	NotRemoved string `json:"not_removed,omitempty" cbor:"not_removed,omitempty"`
}

// Pair is the two conflicting statements of an offence, as a record keeps
// them (the a and b of chain.DuplicateVote and chain.ConflictingProposal).
type Pair[T any] struct {
	A T `json:"a" cbor:"a"`
	B T `json:"b" cbor:"b"`
}

// VotePair is the two votes of a duplicate vote.
type VotePair = Pair[VoteJSON]

// ProposalPair is the two proposals of a conflicting proposal.
type ProposalPair = Pair[ProposalJSON]

// VoteJSON is a signed consensus vote as a record shows it: the fields
// and JSON names of chain.Vote, with the signature in hex.
type VoteJSON struct {
	Type      uint64 `json:"type" cbor:"type"`
	Height    uint64 `json:"height" cbor:"height"`
	Round     uint64 `json:"round" cbor:"round"`
	BlockHash string `json:"block_hash" cbor:"block_hash"`
	Validator string `json:"validator" cbor:"validator"`
	Signature string `json:"signature" cbor:"signature"`
}

// VoteToJSON converts a consensus vote for a record.
func VoteToJSON(v *chain.Vote) VoteJSON {
	return VoteJSON{Type: uint64(v.Type), Height: v.Height, Round: uint64(v.Round),
		BlockHash: v.BlockHash.String(), Validator: v.Validator.String(), Signature: hex.EncodeToString(v.Signature)}
}

// ProposalJSON is a signed block proposal as it appears in a record.
type ProposalJSON struct {
	Height    uint64 `json:"height" cbor:"height"`
	Round     uint64 `json:"round" cbor:"round"`
	BlockHash string `json:"block_hash" cbor:"block_hash"`
	POLRound  int64  `json:"pol_round" cbor:"pol_round"`
	Proposer  string `json:"proposer" cbor:"proposer"`
	Signature string `json:"signature" cbor:"signature"`
}

func proposalToJSON(p *chain.EvidenceProposal) ProposalJSON {
	return ProposalJSON{Height: p.Height, Round: uint64(p.Round), BlockHash: p.BlockHash.String(),
		POLRound: int64(p.POLRound), Proposer: p.Proposer.String(), Signature: hex.EncodeToString(p.Signature)}
}

// HandleEvidence records an offence proved by evidence in the block and
// schedules the offender's removal, by the rule of README.md, "Evidence":
// the set without the offender signs from the height of this block plus
// ActivationDelay, unless the offender is no longer a validator or is the
// last one. An offence already charged by block evidence changes nothing.
//
// It does not check the evidence's signatures: the validators checked
// them against the set of the offence's height before voting for the
// block, and the offender may have left the set since.
func (*App) HandleEvidence(ctx *chain.Context, ev chain.Evidence) error {
	o := ev.Offence()
	st := ctx.Store()
	key := offenceKey(o)
	rec, err := sdk.Find[EvidenceRecord](st, key)
	if err != nil {
		return err
	}
	if rec != nil && rec.Kind != "" {
		ctx.Emit("evidence_repeated", chain.A("validator", o.Validator), chain.A("height", o.Height), chain.A("kind", o.Kind))
		return nil
	}
	if rec == nil {
		rec = &EvidenceRecord{Validator: o.Validator.String(), Height: o.Height, Round: uint64(o.Round),
			Type: uint64(o.VoteType), Committed: ctx.Height}
	}
	rec.Kind, rec.Hash = o.Kind, ev.Hash().String()
	if d := ev.DuplicateVote; d != nil {
		rec.Votes = VotePair{A: VoteToJSON(&d.A), B: VoteToJSON(&d.B)}
	} else {
		c := ev.ConflictingProposal
		rec.Proposals = &ProposalPair{A: proposalToJSON(&c.A), B: proposalToJSON(&c.B)}
	}
	ctx.Emit(o.Kind, chain.A("validator", o.Validator), chain.A("height", o.Height),
		chain.A("round", uint64(o.Round)), chain.A("type", uint64(o.VoteType)))

	if rec.RemovalAt, rec.NotRemoved, err = scheduleRemoval(ctx, o.Validator, ev.Hash()); err != nil {
		return err
	}
	if rec.NotRemoved != "" {
		ctx.Emit("not_removed", chain.A("validator", o.Validator), chain.A("reason", rec.NotRemoved))
	} else {
		ctx.Emit("removal_scheduled", chain.A("validator", o.Validator), chain.A("effective_at", rec.RemovalAt))
	}
	sdk.Save(st, key, rec)
	return nil
}

// scheduleRemoval decides the offender's removal and returns the height
// it takes effect, or a reason why there is none.
func scheduleRemoval(ctx *chain.Context, addr chain.Address, evHash chain.Hash) (uint64, string, error) {
	vs, err := ctx.Validators()
	if err != nil {
		return 0, "", err
	}
	if _, ok := vs.Find(addr); !ok {
		return 0, "no longer a validator", nil
	}
	if len(vs.Validators) == 1 {
		return 0, "the last validator is never removed", nil
	}
	st := ctx.Store()
	// A removal of this validator for earlier evidence may still be on its
	// way: one is enough. (No removal reads as height 0, long past.)
	due, err := sdk.GetUint(st, removalKey(addr))
	if err != nil {
		return 0, "", fmt.Errorf("removal of %s: %w", addr, err)
	}
	if due > ctx.Height {
		return due, "", nil
	}
	due = ctx.Height + ActivationDelay
	id := removalID(addr, ctx.Height)
	sdk.Save(st, propKey(id), &Proposal{ID: id, Op: OpRemove, Address: addr.String(), Votes: []string{},
		Height: ctx.Height, DecidedAt: ctx.Height, Effective: due, Cause: "evidence " + evHash.String()})
	st.Set(schedKey(due, id), []byte(id))
	st.Set(removalKey(addr), sdk.Uint64Bytes(due))
	return due, "", nil
}

// removalID names the removal of addr decided at height, in the form of a
// proposal id; its preimage differs from every voted proposal's.
func removalID(addr chain.Address, height uint64) string {
	return chain.Sum([]byte("evidence|" + addr.String() + "|" + strconv.FormatUint(height, 10))).String()[:16]
}

// offenceKey is where an offence is recorded: the validator, the height,
// the round and the vote type, or 0 for a conflicting proposal. Votes
// recorded before proposals could be charged have the same keys.
func offenceKey(o chain.Offence) []byte {
	return sdk.Key("ev/", o.Validator[:], sdk.Uint64Bytes(o.Height), sdk.Uint64Bytes(uint64(o.Round)), []byte{byte(o.VoteType)})
}

func removalKey(addr chain.Address) []byte { return sdk.Key("removal/", addr[:]) }

// queryEvidence lists the recorded offences in key order (by validator,
// then height): all of them, or with a height those carried by the block
// at that height. A record without a kind is a duplicate vote.
func queryEvidence(q *chain.QueryContext, p sdk.Params) (any, error) {
	all := p.Path("height") == ""
	height, err := p.Uint("height", 0)
	if err != nil {
		return nil, err
	}
	out, _, err := sdk.Records(q.Store(), []byte("ev/"), nil, 0, func(r *EvidenceRecord) bool {
		r.Kind = cmp.Or(r.Kind, chain.EvidenceDuplicateVote)
		return all || r.Committed == height
	})
	return out, err
}
