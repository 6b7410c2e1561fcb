package bank

import (
	"encoding/json"
	"fmt"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// App is the bank module. Its Name, Check, Deliver and Query come from
// the action and query tables of sdk.Module.
type App struct {
	*sdk.Module
	key *chain.StoreKey
	// owners maps each module account to the name it was made under:
	// plain sends cannot reach those addresses.
	owners map[chain.Address]string
}

// New returns the bank app.
func New() *App {
	a := &App{owners: map[chain.Address]string{}}
	a.Module = sdk.NewModule(Name,
		[]sdk.Handler{sdk.Action(ActionSend, "send tokens from the sender to another account", a.send)},
		[]sdk.Route{
			sdk.Query("balance/{address}", "the balance of an account", sdk.ByAddress("address", queryBalance)),
			sdk.Query("supply", "the total supply of the native token", querySupply),
		})
	return a
}

// UseKey receives the bank's store key, with which its module accounts
// reach the balances from other modules' transactions.
func (a *App) UseKey(k *chain.StoreKey) { a.key = k }

func (a *App) send(ctx *chain.Context, m *Send) error {
	if owner, ok := a.owners[m.To]; ok {
		return fmt.Errorf("%w: to: %s is the module account %q, which only its module pays into", chain.ErrBadPayload, m.To, owner)
	}
	return transfer(ctx, ctx.Sender, m.To, m.Amount)
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
	var g GenesisState
	if err := sdk.DecodeGenesis(Name, raw, &g); err != nil {
		return err
	}
	st := ctx.Store()
	for i, b := range g.Balances {
		if err := mint(st, b.Address, b.Amount); err != nil {
			return fmt.Errorf("bank genesis balances[%d]: %w", i, err)
		}
	}
	return nil
}
