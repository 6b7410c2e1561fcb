package copyright

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/citychain/citychain/chain"
)

// App is the copyright registry.
type App struct{}

// New returns the copyright app.
func New() *App { return &App{} }

// Name returns "copyright".
func (*App) Name() string { return Name }

// Check validates an action's payload without state.
func (*App) Check(action string, payload []byte) error {
	_, err := decode(action, payload)
	return err
}

// Deliver executes an action. It never sees a file: it checks the shape
// of the fingerprints, their uniqueness, and the distance between stored
// Data-Codes.
func (*App) Deliver(ctx *chain.Context, action string, payload []byte) error {
	msg, err := decode(action, payload)
	if err != nil {
		return err
	}
	switch m := msg.(type) {
	case *Register:
		_, err = register(ctx, m)
	case *Transfer:
		id, _ := ParseWorkID(m.Work)
		to, _ := chain.ParseAddress(m.To)
		err = transfer(ctx, id, to)
	case *GrantLicense:
		_, err = grant(ctx, m)
	case *Revoke:
		err = revoke(ctx, m)
	case *Annotate:
		err = annotate(ctx, m)
	}
	return err
}

// validator is what every payload type implements.
type validator interface{ Validate() error }

// decode parses and validates the payload of action.
func decode(action string, payload []byte) (validator, error) {
	var m validator
	switch action {
	case ActionRegister:
		m = &Register{}
	case ActionTransfer:
		m = &Transfer{}
	case ActionGrant:
		m = &GrantLicense{}
	case ActionRevoke:
		m = &Revoke{}
	case ActionAnnotate:
		m = &Annotate{}
	default:
		return nil, fmt.Errorf("%w: copyright has no action %q (actions: register, transfer, grant, revoke, annotate)", chain.ErrUnknownAction, action)
	}
	if err := chain.DecodePayload(payload, m); err != nil {
		return nil, err
	}
	return m, m.Validate()
}

// GenesisState is the module's part of the genesis file.
type GenesisState struct {
	// MaxDistance: see Params. At most MaxDistanceLimit.
	MaxDistance uint64 `json:"max_distance"`
}

// DefaultGenesis returns {"max_distance": 4}: two 64-bit Data-Codes that
// differ in 4 bits or fewer come from files that share most of their
// chunks.
func DefaultGenesis() GenesisState { return GenesisState{MaxDistance: 4} }

// InitGenesis stores the parameters; a missing section or field takes
// the default.
func (*App) InitGenesis(ctx *chain.Context, raw json.RawMessage) error {
	g := DefaultGenesis()
	if len(raw) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&g); err != nil {
			return fmt.Errorf("copyright genesis: %w", err)
		}
	}
	if g.MaxDistance > MaxDistanceLimit {
		return fmt.Errorf("copyright genesis: max_distance %d, limit %d (the band index is exact only up to it)", g.MaxDistance, MaxDistanceLimit)
	}
	ctx.Store().SetObject(keyParams, Params(g))
	return nil
}
