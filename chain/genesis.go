package chain

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Genesis is the genesis file: the chain id, the first validator set,
// optionally the rules of execution, and each app's initial state. Every
// node of a network must start from the same file; its hash is part of
// what the nodes agree on.
type Genesis struct {
	ChainID     string             `json:"chain_id"`
	GenesisTime time.Time          `json:"genesis_time"`
	Validators  []GenesisValidator `json:"validators"`
	// Params, when present, replace the default rules of execution
	// (DefaultExecParams) and are kept in state; when absent, nothing is
	// stored and the defaults apply.
	Params   *ExecParams                `json:"params,omitempty"`
	AppState map[string]json.RawMessage `json:"app_state"`
}

// GenesisValidator is a validator in the genesis file.
type GenesisValidator struct {
	Name    string  `json:"name,omitempty"`
	Address Address `json:"address"`
	PubKey  string  `json:"pubkey"` // hex, 33-byte compressed
	Power   uint64  `json:"power"`
}

// LoadGenesis reads and validates a genesis file.
func LoadGenesis(path string) (*Genesis, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read genesis: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var g Genesis
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("genesis %s: %w", path, err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("genesis %s: %w", path, err)
	}
	return &g, nil
}

// Save writes the genesis file, indented.
func (g *Genesis) Save(path string) error {
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Validate checks the chain id, the validator set and the params.
func (g *Genesis) Validate() error {
	if !namePattern.MatchString(g.ChainID) || len(g.ChainID) > MaxNameLen {
		return fmt.Errorf("chain_id %q must be a lowercase identifier (letters, digits, - and _)", g.ChainID)
	}
	if g.GenesisTime.IsZero() {
		return fmt.Errorf("genesis_time is missing")
	}
	if _, err := g.ValidatorSet(); err != nil {
		return err
	}
	if g.Params != nil {
		return g.Params.Validate()
	}
	return nil
}

// ValidatorSet returns the genesis validators as a checked, sorted set.
func (g *Genesis) ValidatorSet() (*ValidatorSet, error) {
	vals := make([]Validator, 0, len(g.Validators))
	for i, v := range g.Validators {
		pub, err := hex.DecodeString(v.PubKey)
		if err != nil {
			return nil, fmt.Errorf("validators[%d].pubkey: %w", i, err)
		}
		vals = append(vals, Validator{Address: v.Address, PubKey: pub, Power: v.Power})
	}
	vs, err := NewValidatorSet(vals)
	if err != nil {
		return nil, fmt.Errorf("validators: %w", err)
	}
	return vs, nil
}

// Header returns the height-0 header that block 1 links to: it carries
// the genesis state root and validator set.
func (g *Genesis) Header(stateRoot Hash, vs *ValidatorSet) Header {
	return Header{ChainID: g.ChainID, Height: 0, Time: g.GenesisTime.UnixMilli(),
		StateRoot: stateRoot, ValidatorsHash: vs.Hash()}
}

// MustJSON marshals v, which must be a plain data value.
func MustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("json %T: %v", v, err))
	}
	return b
}
