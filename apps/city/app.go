package city

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/citychain/citychain/chain"
)

// App is the city module.
type App struct{}

// New returns the city app.
func New() *App { return &App{} }

// Name returns "city".
func (*App) Name() string { return Name }

// Check validates an action's payload without state. A registration is
// checked in full; a report, command or acknowledgement for its shape,
// since its device's model and key are in the state.
func (*App) Check(action string, payload []byte) error {
	var err error
	switch action {
	case ActionRegister:
		_, _, err = decodeRegister(payload)
	case ActionReport:
		_, err = decodeReport(payload)
	case ActionCommand:
		_, _, err = decodeCommand(payload)
	case ActionAck:
		_, err = decodeAck(payload)
	default:
		err = unknownAction(action)
	}
	return err
}

// Deliver executes an action. Registering and commanding need a city
// operator as sender; reports and acknowledgements may come from anyone
// and are checked against the device's key instead.
func (*App) Deliver(ctx *chain.Context, action string, payload []byte) error {
	switch action {
	case ActionRegister:
		m, _, err := decodeRegister(payload)
		if err != nil {
			return err
		}
		return register(ctx, m)
	case ActionReport:
		rs, err := decodeReport(payload)
		if err != nil {
			return err
		}
		return report(ctx, rs)
	case ActionCommand:
		m, raw, err := decodeCommand(payload)
		if err != nil {
			return err
		}
		return issue(ctx, m, raw)
	case ActionAck:
		a, err := decodeAck(payload)
		if err != nil {
			return err
		}
		return acknowledge(ctx, a)
	}
	return unknownAction(action)
}

func unknownAction(action string) error {
	return fmt.Errorf("%w: city has no action %q (actions: %s, %s, %s, %s)", chain.ErrUnknownAction, action,
		ActionRegister, ActionReport, ActionCommand, ActionAck)
}

// GenesisState is the city's part of the genesis file: who may register
// devices and send them commands, and how much history the state keeps.
type GenesisState struct {
	Operators    []chain.Address `json:"operators"`
	HistoryLimit uint64          `json:"history_limit,omitempty"` // readings kept per device; 0 means DefaultHistoryLimit
}

// DefaultGenesis is a city with no operator: nobody can register a
// device until a genesis names one.
func DefaultGenesis() GenesisState {
	return GenesisState{Operators: []chain.Address{}, HistoryLimit: DefaultHistoryLimit}
}

// DevGenesis is the genesis of `citychain dev` and `devnet`: the given
// development key (dev0) is the city operator.
func DevGenesis(operator chain.Address) GenesisState {
	g := DefaultGenesis()
	g.Operators = []chain.Address{operator}
	return g
}

// InitGenesis stores the operators and params. Without a city section
// the module starts with no operator and the default params.
func (*App) InitGenesis(ctx *chain.Context, raw json.RawMessage) error {
	g := DefaultGenesis()
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&g); err != nil {
			return fmt.Errorf("city genesis: %w", err)
		}
	}
	if err := initState(ctx.Store(), &g); err != nil {
		return fmt.Errorf("city genesis: %w", err)
	}
	return nil
}
