package chain

import (
	"bytes"
	"fmt"

	"github.com/citychain/citychain/chain/crypto"
)

// Evidence is proof that a validator signed two statements an honest
// validator never signs together. It is carried in blocks (Block.Evidence),
// so that every node learns of the offence at the same height and the
// apps can act on it deterministically (see EvidenceHandler).
//
// There are two kinds, and exactly one of the fields is set:
//
//   - DuplicateVote: two votes of one validator for the same height, round
//     and type (prevote or precommit) naming different blocks. A nil vote
//     (zero hash) and a vote for a block conflict too.
//   - ConflictingProposal: two proposals of one proposer for the same
//     height and round naming different blocks.
//
// The two halves are kept in a fixed order, A's block hash below B's
// (bytewise), so that one pair of signed statements has exactly one
// encoding and one hash. NewDuplicateVote and NewConflictingProposal put
// them in that order.
//
// Checking comes in the usual stages. ValidateBasic needs nothing but the
// evidence and the chain id. Verify also checks both signatures, and it
// must be given the validator set of the offence's height, not today's:
// a validator voted out since is still answerable for what it signed while
// it was a member. The executor cannot read old validator sets, so the
// node verifies every piece of evidence before it proposes or votes for a
// block that carries it; a block with evidence that does not verify gets
// no votes from honest validators.
type Evidence struct {
	DuplicateVote       *DuplicateVote       `cbor:"duplicate_vote,omitempty" json:"duplicate_vote,omitempty"`
	ConflictingProposal *ConflictingProposal `cbor:"conflicting_proposal,omitempty" json:"conflicting_proposal,omitempty"`
}

// The kinds of evidence, as Offence.Kind, in JSON and in events.
const (
	EvidenceDuplicateVote       = "duplicate_vote"
	EvidenceConflictingProposal = "conflicting_proposal"
)

// Limits on evidence.
const (
	// MaxBlockEvidence bounds the pieces of evidence in one block.
	MaxBlockEvidence = 50
	// MaxEvidenceAge is how many heights evidence stays admissible: a block
	// at height H may carry evidence of an offence at height h only if
	// H - MaxEvidenceAge <= h < H. Older evidence is refused, so a node need
	// not keep old validator sets, or a memory of judged offences, for ever.
	// At the devnet's pace of a block or two a second, 10,000 heights is a
	// few hours: ample for the evidence to reach a block, short enough to
	// watch a piece of evidence expire in a lab.
	MaxEvidenceAge = 10_000
	// maxEvidenceSize bounds the encoding of one piece of evidence read
	// from outside (DecodeEvidence). Two votes or proposals take about
	// 450 bytes.
	maxEvidenceSize = 4096
)

// DuplicateVote is two conflicting votes of one validator.
type DuplicateVote struct {
	A Vote `cbor:"a" json:"a"`
	B Vote `cbor:"b" json:"b"`
}

// ConflictingProposal is two conflicting proposals of one proposer.
type ConflictingProposal struct {
	A EvidenceProposal `cbor:"a" json:"a"`
	B EvidenceProposal `cbor:"b" json:"b"`
}

// EvidenceProposal is a signed block proposal as it appears in evidence:
// the fields of a Proposal and the proposer's signature over them
// (ProposalSignBytes), so a proposal taken off the wire can be put into
// evidence unchanged (NewEvidenceProposal).
type EvidenceProposal struct {
	Height    uint64  `cbor:"height" json:"height"`
	Round     uint32  `cbor:"round" json:"round"`
	BlockHash Hash    `cbor:"block_hash" json:"block_hash"`
	POLRound  int32   `cbor:"pol_round" json:"pol_round"`
	Proposer  Address `cbor:"proposer" json:"proposer"`
	Signature []byte  `cbor:"signature" json:"signature"`
}

// NewEvidenceProposal returns the evidence half of a proposal signed with
// sig, as a SignedProposal carries it.
func NewEvidenceProposal(p Proposal, sig []byte) EvidenceProposal {
	return EvidenceProposal{Height: p.Height, Round: p.Round, BlockHash: p.BlockHash, POLRound: p.POLRound,
		Proposer: p.Proposer, Signature: bytes.Clone(sig)}
}

// Proposal returns the signed fields of p.
func (p *EvidenceProposal) Proposal() Proposal {
	return Proposal{Height: p.Height, Round: p.Round, BlockHash: p.BlockHash, POLRound: p.POLRound, Proposer: p.Proposer}
}

// evidenceProposalSignBytes returns the bytes a proposer signs for p.
func evidenceProposalSignBytes(chainID string, p *EvidenceProposal) []byte {
	return ProposalSignBytes(chainID, p.Proposal())
}

// Sign signs the proposal for chainID with key, as a proposer does.
func (p *EvidenceProposal) Sign(chainID string, key *crypto.PrivateKey) {
	p.Signature = key.Sign(evidenceProposalSignBytes(chainID, p))
}

// NewDuplicateVote returns evidence of two conflicting votes, in either
// order. It copies the votes; ValidateBasic says whether they conflict.
func NewDuplicateVote(a, b Vote) Evidence {
	a.Signature = bytes.Clone(a.Signature)
	b.Signature = bytes.Clone(b.Signature)
	if bytes.Compare(a.BlockHash[:], b.BlockHash[:]) > 0 {
		a, b = b, a
	}
	return Evidence{DuplicateVote: &DuplicateVote{A: a, B: b}}
}

// NewConflictingProposal returns evidence of two conflicting proposals,
// in either order. It copies them; ValidateBasic says whether they
// conflict.
func NewConflictingProposal(a, b EvidenceProposal) Evidence {
	a.Signature = bytes.Clone(a.Signature)
	b.Signature = bytes.Clone(b.Signature)
	if bytes.Compare(a.BlockHash[:], b.BlockHash[:]) > 0 {
		a, b = b, a
	}
	return Evidence{ConflictingProposal: &ConflictingProposal{A: a, B: b}}
}

// Offence names what a piece of evidence proves, independently of which
// two statements prove it: a validator that signed three different
// prevotes in one round has committed one offence, whichever pair is
// shown. Offences are comparable, so they can key a map.
type Offence struct {
	Validator Address
	Height    uint64
	Round     uint32
	Kind      string   // EvidenceDuplicateVote or EvidenceConflictingProposal
	VoteType  VoteType // of a duplicate vote; zero for a proposal
}

// String returns a short form for logs and errors.
func (o Offence) String() string {
	if o.Kind == EvidenceDuplicateVote {
		return fmt.Sprintf("%s by %s at height %d round %d (vote type %d)", o.Kind, o.Validator, o.Height, o.Round, o.VoteType)
	}
	return fmt.Sprintf("%s by %s at height %d round %d", o.Kind, o.Validator, o.Height, o.Round)
}

// Compare orders offences by height, validator, round, kind and vote
// type. It returns -1, 0 or +1.
func (o Offence) Compare(p Offence) int {
	switch {
	case o.Height != p.Height:
		return cmpUint(o.Height, p.Height)
	case o.Validator != p.Validator:
		return bytes.Compare(o.Validator[:], p.Validator[:])
	case o.Round != p.Round:
		return cmpUint(uint64(o.Round), uint64(p.Round))
	case o.Kind != p.Kind:
		if o.Kind < p.Kind {
			return -1
		}
		return 1
	}
	return cmpUint(uint64(o.VoteType), uint64(p.VoteType))
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Offence returns what the evidence proves. For evidence that is not
// well formed (neither or both kinds set) it returns the zero Offence.
func (e Evidence) Offence() Offence {
	switch {
	case e.DuplicateVote != nil && e.ConflictingProposal == nil:
		a := &e.DuplicateVote.A
		return Offence{Validator: a.Validator, Height: a.Height, Round: a.Round, Kind: EvidenceDuplicateVote, VoteType: a.Type}
	case e.ConflictingProposal != nil && e.DuplicateVote == nil:
		a := &e.ConflictingProposal.A
		return Offence{Validator: a.Proposer, Height: a.Height, Round: a.Round, Kind: EvidenceConflictingProposal}
	}
	return Offence{}
}

// Kind returns EvidenceDuplicateVote or EvidenceConflictingProposal, or ""
// when the evidence is not well formed.
func (e Evidence) Kind() string { return e.Offence().Kind }

// Height returns the height of the offence.
func (e Evidence) Height() uint64 { return e.Offence().Height }

// Offender returns the address of the validator the evidence accuses.
func (e Evidence) Offender() Address { return e.Offence().Validator }

// Encode returns the canonical encoding.
func (e Evidence) Encode() []byte { return MustEncode(e) }

// Hash returns SHA-256 of the canonical encoding. Two different pairs of
// statements proving one offence have different hashes; use Offence to
// tell offences apart.
func (e Evidence) Hash() Hash { return Sum(MustEncode(e)) }

// DecodeEvidence parses the canonical encoding of one piece of evidence,
// as gossiped between nodes. It does not validate it.
func DecodeEvidence(data []byte) (*Evidence, error) {
	if len(data) > maxEvidenceSize {
		return nil, fmt.Errorf("%w: evidence of %d bytes, limit %d", ErrDecode, len(data), maxEvidenceSize)
	}
	var e Evidence
	if err := Decode(data, &e); err != nil {
		return nil, fmt.Errorf("decode evidence: %w", err)
	}
	return &e, nil
}

// ValidateBasic checks the shape of the evidence without any state: one
// kind set; both halves by one validator for one height and round (and
// one vote type), both signed, for chainID, in canonical order and naming
// different blocks. Errors wrap ErrInvalidEvidence.
func (e Evidence) ValidateBasic(chainID string) error {
	switch {
	case e.DuplicateVote != nil && e.ConflictingProposal == nil:
		return e.DuplicateVote.validateBasic(chainID)
	case e.ConflictingProposal != nil && e.DuplicateVote == nil:
		return e.ConflictingProposal.validateBasic()
	}
	return fmt.Errorf("%w: exactly one of %s and %s must be set", ErrInvalidEvidence, EvidenceDuplicateVote, EvidenceConflictingProposal)
}

func (d *DuplicateVote) validateBasic(chainID string) error {
	a, b := &d.A, &d.B
	if a.ChainID != chainID || b.ChainID != chainID {
		return fmt.Errorf("%w: %w: votes for %q and %q, this chain is %q", ErrInvalidEvidence, ErrWrongChain, a.ChainID, b.ChainID, chainID)
	}
	if a.Type != Prevote && a.Type != Precommit {
		return fmt.Errorf("%w: vote type %d", ErrInvalidEvidence, a.Type)
	}
	if a.Validator != b.Validator || a.Height != b.Height || a.Round != b.Round || a.Type != b.Type {
		return fmt.Errorf("%w: the votes are not by one validator for one height, round and type", ErrInvalidEvidence)
	}
	if a.Height == 0 {
		return fmt.Errorf("%w: height 0", ErrInvalidEvidence)
	}
	if err := distinctInOrder(a.BlockHash, b.BlockHash); err != nil {
		return err
	}
	return signed(a.Signature, b.Signature)
}

func (c *ConflictingProposal) validateBasic() error {
	a, b := &c.A, &c.B
	if a.Proposer != b.Proposer || a.Height != b.Height || a.Round != b.Round {
		return fmt.Errorf("%w: the proposals are not by one proposer for one height and round", ErrInvalidEvidence)
	}
	if a.Height == 0 {
		return fmt.Errorf("%w: height 0", ErrInvalidEvidence)
	}
	for _, p := range []*EvidenceProposal{a, b} {
		if p.BlockHash.IsZero() {
			return fmt.Errorf("%w: a proposal names no block", ErrInvalidEvidence)
		}
		if p.POLRound < -1 || p.POLRound >= 0 && uint32(p.POLRound) >= p.Round {
			return fmt.Errorf("%w: pol_round %d in round %d", ErrInvalidEvidence, p.POLRound, p.Round)
		}
	}
	if err := distinctInOrder(a.BlockHash, b.BlockHash); err != nil {
		return err
	}
	return signed(a.Signature, b.Signature)
}

// distinctInOrder checks that the halves name different blocks, a's hash
// first.
func distinctInOrder(a, b Hash) error {
	switch bytes.Compare(a[:], b[:]) {
	case 0:
		return fmt.Errorf("%w: both name block %s: no conflict", ErrInvalidEvidence, a)
	case 1:
		return fmt.Errorf("%w: halves out of order (a's block hash must sort first)", ErrInvalidEvidence)
	}
	return nil
}

func signed(a, b []byte) error {
	if len(a) != crypto.SignatureSize || len(b) != crypto.SignatureSize {
		return fmt.Errorf("%w: signatures of %d and %d bytes, want %d", ErrInvalidEvidence, len(a), len(b), crypto.SignatureSize)
	}
	return nil
}

// Verify runs ValidateBasic and checks both signatures against the key
// the offender has in vals, which must be the validator set of the
// offence's height (the set that signs that height's block). Errors wrap
// ErrInvalidEvidence.
func (e Evidence) Verify(chainID string, vals *ValidatorSet) error {
	if err := e.ValidateBasic(chainID); err != nil {
		return err
	}
	o := e.Offence()
	v, ok := vals.Find(o.Validator)
	if !ok {
		return fmt.Errorf("%w: %s was not a validator at height %d", ErrInvalidEvidence, o.Validator, o.Height)
	}
	pub, err := validatorKey(v.PubKey)
	if err != nil {
		return fmt.Errorf("%w: key of %s: %w", ErrInvalidEvidence, o.Validator, err)
	}
	var msgs, sigs [2][]byte
	if d := e.DuplicateVote; d != nil {
		msgs = [2][]byte{d.A.SignBytes(), d.B.SignBytes()}
		sigs = [2][]byte{d.A.Signature, d.B.Signature}
	} else {
		c := e.ConflictingProposal
		msgs = [2][]byte{evidenceProposalSignBytes(chainID, &c.A), evidenceProposalSignBytes(chainID, &c.B)}
		sigs = [2][]byte{c.A.Signature, c.B.Signature}
	}
	for i := range msgs {
		if err := pub.Verify(msgs[i], sigs[i]); err != nil {
			return fmt.Errorf("%w: signature %c of %s: %w", ErrInvalidEvidence, 'a'+i, o.Validator, err)
		}
	}
	return nil
}

// ComputeEvidenceHash returns the Merkle root over the encodings of evs,
// the header's EvidenceHash: the zero hash for no evidence.
func ComputeEvidenceHash(evs []Evidence) Hash {
	leaves := make([][]byte, len(evs))
	for i := range evs {
		leaves[i] = MustEncode(&evs[i])
	}
	return MerkleRoot(leaves)
}

// ValidateEvidenceList checks the evidence of the block at height without
// any state: at most MaxBlockEvidence pieces, each passing ValidateBasic,
// each for an offence below height and at most MaxEvidenceAge heights
// old, and no offence twice. Signatures are not checked (see Verify).
// Errors wrap ErrInvalidBlock and ErrInvalidEvidence.
func ValidateEvidenceList(chainID string, height uint64, evs []Evidence) error {
	if len(evs) > MaxBlockEvidence {
		return fmt.Errorf("%w: %d pieces of evidence, limit %d", ErrInvalidBlock, len(evs), MaxBlockEvidence)
	}
	seen := make(map[Offence]bool, len(evs))
	for i := range evs {
		ev := &evs[i]
		if err := ev.ValidateBasic(chainID); err != nil {
			return fmt.Errorf("%w: evidence %d: %w", ErrInvalidBlock, i, err)
		}
		o := ev.Offence()
		if o.Height >= height {
			return fmt.Errorf("%w: evidence %d: %w: offence at height %d, not below the block's %d",
				ErrInvalidBlock, i, ErrInvalidEvidence, o.Height, height)
		}
		if height-o.Height > MaxEvidenceAge {
			return fmt.Errorf("%w: evidence %d: %w: offence at height %d is older than %d heights",
				ErrInvalidBlock, i, ErrInvalidEvidence, o.Height, MaxEvidenceAge)
		}
		if seen[o] {
			return fmt.Errorf("%w: evidence %d: %w: %s shown twice", ErrInvalidBlock, i, ErrInvalidEvidence, o)
		}
		seen[o] = true
	}
	return nil
}
