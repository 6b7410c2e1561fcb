package bank

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/citychain/citychain/chain"
)

// App is the bank module.
type App struct{}

// New returns the bank app.
func New() *App { return &App{} }

// Name returns "bank".
func (*App) Name() string { return Name }

// Check validates an action's payload without state.
func (*App) Check(action string, payload []byte) error {
	switch action {
	case ActionSend:
		_, err := decodeSend(payload)
		return err
	}
	return fmt.Errorf("%w: bank has no action %q (actions: %s)", chain.ErrUnknownAction, action, ActionSend)
}

// Deliver executes an action.
func (*App) Deliver(ctx *chain.Context, action string, payload []byte) error {
	switch action {
	case ActionSend:
		m, err := decodeSend(payload)
		if err != nil {
			return err
		}
		return Transfer(ctx, ctx.Sender, m.To, m.Amount)
	}
	return fmt.Errorf("%w: %q", chain.ErrUnknownAction, action)
}

// GenesisState is the bank's part of the genesis file.
type GenesisState struct {
	Balances []GenesisBalance `json:"balances"`
}

// GenesisBalance is one initial allocation.
type GenesisBalance struct {
	Address chain.Address `json:"address"`
	Amount  uint64        `json:"amount"`
}

// InitGenesis mints the initial balances.
func (*App) InitGenesis(ctx *chain.Context, raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var g GenesisState
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("bank genesis: %w", err)
	}
	st := ctx.Store()
	for i, b := range g.Balances {
		if err := mint(st, b.Address, b.Amount); err != nil {
			return fmt.Errorf("bank genesis balances[%d]: %w", i, err)
		}
	}
	return nil
}
