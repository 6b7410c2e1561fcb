package poa

import (
	"encoding/hex"
	"fmt"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// Name is the app's name.
const Name = "poa"

// Actions.
const (
	// ActionPropose is a vote to add or remove a validator.
	ActionPropose = "propose"
	// ActionEvidence is the retired evidence transaction, which Check and
	// Deliver refuse with ErrEvidenceTx.
	ActionEvidence = "evidence"
)

// ErrEvidenceTx refuses the retired evidence transaction and says why. It
// wraps chain.ErrUnknownAction: the API answers 400 unknown_action.
var ErrEvidenceTx = fmt.Errorf("%w: poa no longer takes evidence as a transaction: "+
	"evidence of double signing travels in blocks, where every validator verifies it against the validator set "+
	"of the offence's own height before voting, and poa records it and removes the offender from there "+
	"(see apps/poa/README.md, \"Evidence\")", chain.ErrUnknownAction)

// Operations a proposal can ask for.
const (
	OpAdd    = "add"
	OpRemove = "remove"
)

// MaxTotalPower is the most voting power the validator set may hold in
// all after poa adds a validator. A proposal to add a validator whose power
// would take the set past it is refused when it is voted, and a change
// that would do so when it comes due (after other changes) is skipped.
// The bound sits far below the uint64 limit, so the sums the chain
// makes of powers (the total, the quorum, the votes for a block) cannot
// overflow.
const MaxTotalPower uint64 = 1 << 60

// Propose asks to add or remove one validator.
type Propose struct {
	Op      string `json:"op" cbor:"op"`
	Address string `json:"address" cbor:"address"`
	PubKey  string `json:"pubkey,omitempty" cbor:"pubkey,omitempty"` // hex; for add
	Power   uint64 `json:"power,omitempty" cbor:"power,omitempty"`   // for add; default 1
}

// Validate checks the message without state (sdk.Validator).
func (m *Propose) Validate() error {
	_, _, err := m.parse()
	return err
}

// parse checks the message without state and returns the parsed address
// and, for add, the public key, which must be the address's own.
func (m *Propose) parse() (chain.Address, []byte, error) {
	addr, err := chain.ParseAddress(m.Address)
	if err != nil {
		return addr, nil, fmt.Errorf("%w: address: %w", chain.ErrBadPayload, err)
	}
	switch m.Op {
	case OpAdd:
		pub, err := hex.DecodeString(m.PubKey)
		if err != nil {
			return addr, nil, fmt.Errorf("%w: pubkey: not hex: %v", chain.ErrBadPayload, err)
		}
		if _, err := crypto.ParseCompressedPublicKey(pub); err != nil {
			return addr, nil, fmt.Errorf("%w: pubkey: %w", chain.ErrBadPayload, err)
		}
		if chain.AddressFromPubKeyBytes(pub) != addr {
			return addr, nil, fmt.Errorf("%w: pubkey does not belong to address %s", chain.ErrBadPayload, addr)
		}
		if m.Power > MaxTotalPower {
			return addr, nil, fmt.Errorf("%w: power %d is more than the largest total power of the set, %d",
				chain.ErrBadPayload, m.Power, MaxTotalPower)
		}
		return addr, pub, nil
	case OpRemove:
		if m.PubKey != "" || m.Power != 0 {
			return addr, nil, fmt.Errorf("%w: remove takes only an address", chain.ErrBadPayload)
		}
		return addr, nil, nil
	}
	return addr, nil, fmt.Errorf("%w: op: %q is neither %q nor %q", chain.ErrBadPayload, m.Op, OpAdd, OpRemove)
}

// power is the voting power the proposal gives: for add, 1 unless set.
func (m *Propose) power() uint64 {
	if m.Op == OpAdd && m.Power == 0 {
		return 1
	}
	return m.Power
}

// id names a proposal by its content, so that every validator sending the
// same proposal votes for the same thing.
func (m *Propose) id() string {
	return chain.Sum([]byte(fmt.Sprintf("%s|%s|%s|%d", m.Op, m.Address, m.PubKey, m.power()))).String()[:16]
}
