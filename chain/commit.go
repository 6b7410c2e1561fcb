package chain

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/citychain/citychain/chain/crypto"
)

// VoteType names the two voting steps of a consensus round.
type VoteType uint8

const (
	// Prevote is the first vote of a round.
	Prevote VoteType = 1
	// Precommit is the second vote; more than 2/3 of them commit a block.
	Precommit VoteType = 2
)

// Vote is a validator's signed statement about a block at a height and
// round. A nil vote (zero BlockHash) votes for no block.
type Vote struct {
	ChainID   string   `cbor:"chain_id" json:"-"`
	Type      VoteType `cbor:"type" json:"type"`
	Height    uint64   `cbor:"height" json:"height"`
	Round     uint32   `cbor:"round" json:"round"`
	BlockHash Hash     `cbor:"block_hash" json:"block_hash"`
	Validator Address  `cbor:"validator" json:"validator"`
	Signature []byte   `cbor:"signature,omitempty" json:"signature"`
}

// SignBytes returns the canonical encoding of the vote without signature.
func (v *Vote) SignBytes() []byte {
	c := *v
	c.Signature = nil
	return MustEncode(&c)
}

// Sign signs the vote with key.
func (v *Vote) Sign(key *crypto.PrivateKey) { v.Signature = key.Sign(v.SignBytes()) }

// CommitSig is one validator's precommit signature inside a commit.
type CommitSig struct {
	Validator Address `cbor:"validator" json:"validator"`
	Signature []byte  `cbor:"signature" json:"signature"`
}

// Commit is the certificate that a block is final: precommits for it from
// validators holding more than 2/3 of the voting power, all in one round.
// Anyone holding the validator set can check it (VerifyCommit).
type Commit struct {
	Height     uint64      `cbor:"height" json:"height"`
	Round      uint32      `cbor:"round" json:"round"`
	BlockHash  Hash        `cbor:"block_hash" json:"block_hash"`
	Signatures []CommitSig `cbor:"signatures" json:"signatures"`
}

// Hash returns SHA-256 of the canonical commit, or the zero hash for nil.
func (c *Commit) Hash() Hash {
	if c == nil {
		return Hash{}
	}
	return Sum(MustEncode(c))
}

// Encode returns the canonical encoding.
func (c *Commit) Encode() []byte { return MustEncode(c) }

// Validator is a member of the validator set.
type Validator struct {
	Address Address `cbor:"address" json:"address"`
	PubKey  []byte  `cbor:"pubkey" json:"pubkey"`
	Power   uint64  `cbor:"power" json:"power"`
}

// ValidatorSet is the list of validators, always sorted by address.
type ValidatorSet struct {
	Validators []Validator `cbor:"validators" json:"validators"`
}

// NewValidatorSet sorts vals by address and checks them: keys must be
// valid compressed points matching their addresses, powers positive,
// addresses unique, and the total power must not overflow.
func NewValidatorSet(vals []Validator) (*ValidatorSet, error) {
	if len(vals) == 0 {
		return nil, fmt.Errorf("validator set is empty")
	}
	vs := &ValidatorSet{Validators: append([]Validator(nil), vals...)}
	sort.Slice(vs.Validators, func(i, j int) bool {
		return bytes.Compare(vs.Validators[i].Address[:], vs.Validators[j].Address[:]) < 0
	})
	var total uint64
	for i, v := range vs.Validators {
		if _, err := crypto.ParseCompressedPublicKey(v.PubKey); err != nil {
			return nil, fmt.Errorf("validator %s: %w", v.Address, err)
		}
		if AddressFromPubKeyBytes(v.PubKey) != v.Address {
			return nil, fmt.Errorf("validator %s: address does not match its public key", v.Address)
		}
		if v.Power == 0 {
			return nil, fmt.Errorf("validator %s: power is zero", v.Address)
		}
		if i > 0 && vs.Validators[i-1].Address == v.Address {
			return nil, fmt.Errorf("validator %s listed twice", v.Address)
		}
		if total+v.Power < total {
			return nil, fmt.Errorf("validator powers: %w", ErrOverflow)
		}
		total += v.Power
	}
	return vs, nil
}

// Hash returns SHA-256 of the canonical encoding of the sorted set.
func (vs *ValidatorSet) Hash() Hash { return Sum(MustEncode(vs)) }

// TotalPower returns the sum of all powers.
func (vs *ValidatorSet) TotalPower() uint64 {
	var t uint64
	for _, v := range vs.Validators {
		t += v.Power
	}
	return t
}

// Quorum returns the smallest power that is more than 2/3 of the total.
// It is computed as 2*(t/3) + (2*(t%3))/3 + 1, which equals 2t/3 + 1
// rounded down but cannot overflow for a total near the uint64 limit.
func (vs *ValidatorSet) Quorum() uint64 {
	t := vs.TotalPower()
	return t/3*2 + t%3*2/3 + 1
}

// Find returns the validator with address a.
func (vs *ValidatorSet) Find(a Address) (Validator, bool) {
	i := sort.Search(len(vs.Validators), func(i int) bool {
		return bytes.Compare(vs.Validators[i].Address[:], a[:]) >= 0
	})
	if i < len(vs.Validators) && vs.Validators[i].Address == a {
		return vs.Validators[i], true
	}
	return Validator{}, false
}

// VerifyCommit checks that c proves block blockHash at height: every
// signature is a valid precommit by a distinct member of vs, and together
// they hold more than 2/3 of the power.
func (vs *ValidatorSet) VerifyCommit(chainID string, height uint64, blockHash Hash, c *Commit) error {
	if c == nil {
		return fmt.Errorf("%w: missing", ErrInvalidCommit)
	}
	if c.Height != height || c.BlockHash != blockHash {
		return fmt.Errorf("%w: for height %d block %s, want height %d block %s",
			ErrInvalidCommit, c.Height, c.BlockHash, height, blockHash)
	}
	seen := make(map[Address]bool, len(c.Signatures))
	var power uint64
	for _, s := range c.Signatures {
		v, ok := vs.Find(s.Validator)
		if !ok {
			return fmt.Errorf("%w: %s is not a validator", ErrInvalidCommit, s.Validator)
		}
		if seen[s.Validator] {
			return fmt.Errorf("%w: %s signed twice", ErrInvalidCommit, s.Validator)
		}
		seen[s.Validator] = true
		vote := Vote{ChainID: chainID, Type: Precommit, Height: c.Height, Round: c.Round,
			BlockHash: c.BlockHash, Validator: s.Validator}
		pub, err := validatorKey(v.PubKey)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidCommit, s.Validator, err)
		}
		if err := pub.Verify(vote.SignBytes(), s.Signature); err != nil {
			return fmt.Errorf("%w: signature of %s: %w", ErrInvalidCommit, s.Validator, err)
		}
		power += v.Power
	}
	if power < vs.Quorum() {
		return fmt.Errorf("%w: power %d of %d, need %d", ErrInvalidCommit, power, vs.TotalPower(), vs.Quorum())
	}
	return nil
}
