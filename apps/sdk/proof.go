package sdk

import (
	"encoding/hex"
	"fmt"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/state"
)

// Proven is a stored value with the evidence that the chain holds it: the
// full state key, the exact stored bytes, and a Merkle proof of them
// under the state root of the block at Height. A client checks it with
// Verify against a header it trusts, for example one fetched from another
// node (GET /v1/blocks/{height}), without trusting the node that answered.
type Proven struct {
	Height    uint64       `json:"height"`
	StateRoot chain.Hash   `json:"state_root"`
	Key       string       `json:"key"`   // hex of the full state key
	Value     string       `json:"value"` // hex of the stored bytes; empty proves absence
	Proof     *state.Proof `json:"proof"`
}

// Prove builds a Proven for one of the querying app's keys at the
// query's height.
func Prove(q *chain.QueryContext, key []byte) (*Proven, error) {
	p, err := q.Prove(key)
	if err != nil {
		return nil, err
	}
	proof, ok := p.(*state.Proof)
	if !ok {
		return nil, fmt.Errorf("unexpected proof type %T", p)
	}
	return &Proven{Height: q.Height, StateRoot: q.StateRoot, Key: hex.EncodeToString(q.FullKey(key)),
		Value: hex.EncodeToString(q.Store().Get(key)), Proof: proof}, nil
}

// Verify checks the proof against stateRoot, the state root of a header
// at p.Height that the caller trusts. It also checks that the proof's
// own StateRoot field agrees, so a mismatch is reported clearly.
func (p *Proven) Verify(stateRoot chain.Hash) error {
	if p.StateRoot != stateRoot {
		return fmt.Errorf("proof is for state root %s, the trusted header at height %d has %s", p.StateRoot, p.Height, stateRoot)
	}
	key, err := hex.DecodeString(p.Key)
	if err != nil {
		return fmt.Errorf("proof key: %w", err)
	}
	val, err := hex.DecodeString(p.Value)
	if err != nil {
		return fmt.Errorf("proof value: %w", err)
	}
	if p.Proof == nil {
		return fmt.Errorf("%w: no proof", state.ErrInvalidProof)
	}
	if len(val) == 0 {
		val = nil
	}
	return state.VerifyProof(state.Hash(stateRoot), key, val, p.Proof)
}

// ValueBytes returns the proven stored bytes.
func (p *Proven) ValueBytes() ([]byte, error) { return hex.DecodeString(p.Value) }
