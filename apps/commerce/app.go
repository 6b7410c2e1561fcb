package commerce

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/citychain/citychain/chain"
)

// App is the commerce module.
// EscrowAccount is what commerce needs of the bank: the module account that holds
// the buyers' payments (bank.Account). apps/apps.go hands it over; commerce
// can move no other funds.
type EscrowAccount interface {
	Address() chain.Address
	// Collect moves amount from the transaction's sender into the account.
	Collect(ctx *chain.Context, amount uint64) error
	// Pay moves amount from the account to another one.
	Pay(ctx *chain.Context, to chain.Address, amount uint64) error
}

// App is the commerce module.
type App struct{ escrow EscrowAccount }

// New returns the commerce app, paying through escrow.
func New(escrow EscrowAccount) *App { return &App{escrow: escrow} }

// Name returns "commerce".
func (*App) Name() string { return Name }

// Check validates an action's payload without state.
func (*App) Check(action string, payload []byte) error {
	_, err := decode(action, payload)
	return err
}

// Deliver executes an action.
func (a *App) Deliver(ctx *chain.Context, action string, payload []byte) error {
	msg, err := decode(action, payload)
	if err != nil {
		return err
	}
	switch m := msg.(type) {
	case *ListOffer:
		return listOffer(ctx, m)
	case *PlaceOrder:
		return a.placeOrder(ctx, m)
	case *Ship:
		return ship(ctx, m)
	case *MarkPickup:
		return markPickup(ctx, m)
	case *Confirm:
		return a.confirm(ctx, m)
	case *Cancel:
		return a.cancel(ctx, m)
	case *OpenDispute:
		return openDispute(ctx, m)
	case *Settle:
		return a.settle(ctx, m)
	}
	return fmt.Errorf("%w: %q", chain.ErrUnknownAction, action)
}

// EndBlock pays out the shipments whose release timer ends in this block.
func (a *App) EndBlock(ctx *chain.Context) error { return a.releaseDue(ctx) }

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
	if _, err := mul(g.MaxPrice, g.MaxStock); err != nil {
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
	if len(raw) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return fmt.Errorf("commerce genesis: %w", err)
		}
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
	ctx.Store().SetObject(keyParams, &g)
	return nil
}
