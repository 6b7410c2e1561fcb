package commerce

import (
	"encoding/json"
	"fmt"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// EscrowAccount is what commerce needs of the bank: the module account
// that holds the buyers' payments (bank.Account). apps/apps.go hands it
// over; commerce can move no other funds.
type EscrowAccount interface {
	Address() chain.Address
	// Collect moves amount from the transaction's sender into the account.
	Collect(ctx *chain.Context, amount uint64) error
	// Pay moves amount from the account to another one.
	Pay(ctx *chain.Context, to chain.Address, amount uint64) error
}

// App is the commerce module. Its Name, Check, Deliver and Query come
// from the action and query tables of sdk.Module.
type App struct {
	*sdk.Module
	escrow EscrowAccount
}

// New returns the commerce app, paying through escrow.
func New(escrow EscrowAccount) *App {
	a := &App{escrow: escrow}
	a.Module = sdk.NewModule(Name, []sdk.Handler{
		sdk.Action(ActionListOffer, "offer an item for sale at a unit price, with a stock of units", listOffer),
		sdk.Action(ActionPlaceOrder, "order units of an offer and pay price*quantity into escrow", a.placeOrder),
		sdk.Action(ActionShip, "mark an order shipped (seller); starts the auto-release timer", ship),
		sdk.Action(ActionMarkPickup, "say a shipped order waits at a pickup point (seller)", markPickup),
		sdk.Action(ActionConfirm, "confirm delivery (buyer): the escrow goes to the seller", a.confirm),
		sdk.Action(ActionCancel, "call off an order before it ships (buyer or seller): full refund", a.cancel),
		sdk.Action(ActionDispute, "ask the arbiter to decide a shipped order (buyer or seller)", openDispute),
		sdk.Action(ActionSettle, "decide a dispute (arbiter): refund the buyer or pay the seller", a.settle),
	}, []sdk.Route{
		sdk.Query("order/{id}", "one order, its history and the moves open from its status", queryOrder),
		sdk.Query("orders", "orders in id order, filtered by buyer, seller and status", queryOrders,
			"buyer", "seller", "status", "after"),
		sdk.Query("offer/{id}", "one offer", queryOffer),
		sdk.Query("offers", "offers in id order, filtered by seller", queryOffers, "seller", "after"),
		sdk.Query("params", "the genesis parameters and the escrow address", queryParams),
	})
	return a
}

// GenesisState is the module's part of the genesis file: its Params.
// Fields left out take the DefaultGenesis values.
type GenesisState = Params

// Defaults and limits of the genesis parameters.
const (
	// DefaultReleaseAfterBlocks suits a chain with a block every second
	// or so: a buyer has a couple of minutes to confirm or dispute.
	DefaultReleaseAfterBlocks = 100
	// DevReleaseAfterBlocks is the timeout of `citychain dev` and
	// `devnet`, short enough to watch in a workshop: an idle dev chain
	// makes an empty block every 5 seconds, so an unconfirmed shipment
	// pays out within about 100 seconds, sooner on a busy chain.
	DevReleaseAfterBlocks = 20
	// MaxReleaseAfterBlocks bounds the timeout, so that a release height
	// can never overflow and funds never wait for ever.
	MaxReleaseAfterBlocks = 1_000_000
	DefaultMaxPrice       = 1_000_000_000_000
	DefaultMaxStock       = 1_000_000
)

// DefaultGenesis returns the parameters without an arbiter: orders work,
// disputes are refused.
func DefaultGenesis() GenesisState {
	return GenesisState{ReleaseAfterBlocks: DefaultReleaseAfterBlocks, MaxPrice: DefaultMaxPrice, MaxStock: DefaultMaxStock}
}

// DevGenesis returns the parameters of the development chains: arbiter
// settles disputes, and the release timeout is DevReleaseAfterBlocks.
func DevGenesis(arbiter chain.Address) GenesisState {
	g := DefaultGenesis()
	g.Arbiter = arbiter
	g.ReleaseAfterBlocks = DevReleaseAfterBlocks
	return g
}

// Validate checks the parameters.
func (g *GenesisState) Validate() error {
	switch {
	case g.ReleaseAfterBlocks == 0 || g.ReleaseAfterBlocks > MaxReleaseAfterBlocks:
		return fmt.Errorf("release_after_blocks: %d, want 1 to %d", g.ReleaseAfterBlocks, MaxReleaseAfterBlocks)
	case g.MaxPrice == 0:
		return fmt.Errorf("max_price: must be at least 1")
	case g.MaxStock == 0:
		return fmt.Errorf("max_stock: must be at least 1")
	case g.Arbiter == EscrowAddress:
		return fmt.Errorf("arbiter: the escrow account cannot sign")
	}
	if _, err := sdk.Mul(g.MaxPrice, g.MaxStock); err != nil {
		return fmt.Errorf("max_price * max_stock must fit in 64 bits: %w", err)
	}
	return nil
}

// InitGenesis stores the parameters; a missing section or field takes
// the default.
func (*App) InitGenesis(ctx *chain.Context, raw json.RawMessage) error {
	// The arbiter is read as text and parsed here, so that a bad address
	// is reported with the field's name.
	in := struct {
		GenesisState
		Arbiter string `json:"arbiter"`
	}{GenesisState: DefaultGenesis()}
	if err := sdk.DecodeGenesis(Name, raw, &in); err != nil {
		return err
	}
	g := in.GenesisState
	if in.Arbiter != "" {
		a, err := chain.ParseAddress(in.Arbiter)
		if err != nil {
			return fmt.Errorf("commerce genesis: arbiter: %w", err)
		}
		g.Arbiter = a
	}
	if err := g.Validate(); err != nil {
		return fmt.Errorf("commerce genesis: %w", err)
	}
	sdk.Save(ctx.Store(), keyParams, &g)
	return nil
}
