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
	ActionPropose  = "propose"
	ActionEvidence = "evidence"
)

// Operations a proposal can ask for.
const (
	OpAdd    = "add"
	OpRemove = "remove"
)

// Propose asks to add or remove one validator.
type Propose struct {
	Op      string `json:"op" cbor:"op"`
	Address string `json:"address" cbor:"address"`
	PubKey  string `json:"pubkey,omitempty" cbor:"pubkey,omitempty"` // hex; for add
	Power   uint64 `json:"power,omitempty" cbor:"power,omitempty"`   // for add; default 1
}

// validate checks the message without state and returns the parsed
// address and, for add, the public key.
func (m *Propose) validate() (chain.Address, []byte, error) {
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
		return addr, pub, nil
	case OpRemove:
		if m.PubKey != "" || m.Power != 0 {
			return addr, nil, fmt.Errorf("%w: remove takes only an address", chain.ErrBadPayload)
		}
		return addr, nil, nil
	}
	return addr, nil, fmt.Errorf("%w: op: %q is neither %q nor %q", chain.ErrBadPayload, m.Op, OpAdd, OpRemove)
}

// id names a proposal by its content, so that every validator sending the
// same proposal votes for the same thing.
func (m *Propose) id() string {
	power := m.Power
	if m.Op == OpAdd && power == 0 {
		power = 1
	}
	h := chain.Sum([]byte(fmt.Sprintf("%s|%s|%s|%d", m.Op, m.Address, m.PubKey, power)))
	return h.String()[:16]
}

// VoteJSON is a signed consensus vote as it appears in evidence.
type VoteJSON struct {
	Type      uint64 `json:"type" cbor:"type"`
	Height    uint64 `json:"height" cbor:"height"`
	Round     uint64 `json:"round" cbor:"round"`
	BlockHash string `json:"block_hash" cbor:"block_hash"`
	Validator string `json:"validator" cbor:"validator"`
	Signature string `json:"signature" cbor:"signature"`
}

// Evidence is two conflicting votes by one validator.
type Evidence struct {
	A VoteJSON `json:"a" cbor:"a"`
	B VoteJSON `json:"b" cbor:"b"`
}

// VoteToJSON converts a consensus vote for an evidence payload.
func VoteToJSON(v *chain.Vote) VoteJSON {
	return VoteJSON{Type: uint64(v.Type), Height: v.Height, Round: uint64(v.Round),
		BlockHash: v.BlockHash.String(), Validator: v.Validator.String(), Signature: hex.EncodeToString(v.Signature)}
}

func (j VoteJSON) vote(chainID string) (*chain.Vote, error) {
	if j.Type != uint64(chain.Prevote) && j.Type != uint64(chain.Precommit) {
		return nil, fmt.Errorf("type %d is not a vote type", j.Type)
	}
	if j.Round > 1<<31 {
		return nil, fmt.Errorf("round %d out of range", j.Round)
	}
	bh, err := chain.ParseHash(j.BlockHash)
	if err != nil {
		return nil, fmt.Errorf("block_hash: %w", err)
	}
	val, err := chain.ParseAddress(j.Validator)
	if err != nil {
		return nil, fmt.Errorf("validator: %w", err)
	}
	sig, err := hex.DecodeString(j.Signature)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	return &chain.Vote{ChainID: chainID, Type: chain.VoteType(j.Type), Height: j.Height, Round: uint32(j.Round),
		BlockHash: bh, Validator: val, Signature: sig}, nil
}

// conflict checks the shape of the evidence: same validator, height,
// round and type, different blocks.
func (e *Evidence) conflict(chainID string) (*chain.Vote, *chain.Vote, error) {
	a, err := e.A.vote(chainID)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: a: %w", chain.ErrBadPayload, err)
	}
	b, err := e.B.vote(chainID)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: b: %w", chain.ErrBadPayload, err)
	}
	if a.Validator != b.Validator || a.Height != b.Height || a.Round != b.Round || a.Type != b.Type {
		return nil, nil, fmt.Errorf("%w: the votes are not by one validator for one height, round and step", chain.ErrBadPayload)
	}
	if a.BlockHash == b.BlockHash {
		return nil, nil, fmt.Errorf("%w: the votes are for the same block: no conflict", chain.ErrBadPayload)
	}
	return a, b, nil
}
