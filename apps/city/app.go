package city

import (
	"encoding/json"
	"fmt"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// App is the city module. Its Name, Check, Deliver and Query come from
// the action and query tables of sdk.Module. Check takes a registration
// in full; a report, command or acknowledgement only for its shape,
// since its device's model and key are in the state.
type App struct{ *sdk.Module }

// New returns the city app.
func New() *App {
	return &App{sdk.NewModule(Name,
		[]sdk.Handler{
			sdk.Action(ActionRegister, "an operator registers a device with its key, type, place and district", register),
			sdk.Action(ActionReport, "readings, each signed by its device; anyone may carry them", deliverReport),
			sdk.Action(ActionCommand, "an operator asks a device to act", issue),
			sdk.Action(ActionAck, "a device answers a command, signed with its key", acknowledge),
		},
		routes())}
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
	if err := sdk.DecodeGenesis(Name, raw, &g); err != nil {
		return err
	}
	if err := initState(ctx.Store(), &g); err != nil {
		return fmt.Errorf("city genesis: %w", err)
	}
	return nil
}
