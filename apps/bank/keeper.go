package bank

import (
	"fmt"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

var keySupply = []byte("supply")

func keyBalance(a chain.Address) []byte { return append([]byte("bal/"), a[:]...) }

// transfer moves amount between two accounts in the bank's own context
// and emits a "transfer" event. It fails with chain.ErrInsufficientFunds
// when from holds less than amount.
func transfer(ctx *chain.Context, from, to chain.Address, amount uint64) error {
	st := ctx.Store()
	fromBal, err := sdk.GetUint(st, keyBalance(from))
	if err != nil {
		return err
	}
	if fromBal < amount {
		return fmt.Errorf("%w: %s has %d, needs %d", chain.ErrInsufficientFunds, from, fromBal, amount)
	}
	st.Set(keyBalance(from), sdk.Uint64Bytes(fromBal-amount))
	if _, err := sdk.AddUint(st, keyBalance(to), amount); err != nil {
		return err
	}
	ctx.Emit("transfer", chain.A("from", from), chain.A("to", to), chain.A("amount", amount))
	return nil
}

// mint adds amount to addr and to the supply. Only genesis mints.
func mint(st *chain.Store, addr chain.Address, amount uint64) error {
	if _, err := sdk.AddUint(st, keyBalance(addr), amount); err != nil {
		return err
	}
	_, err := sdk.AddUint(st, keySupply, amount)
	return err
}

// Account is a module account: an address nobody holds the key of
// (sdk.ModuleAddress), whose funds only the module holding this value can
// move, and which plain sends cannot reach. It is the capability the bank
// hands to a module at wiring time (apps/apps.go); the module declares
// the methods it needs as an interface of its own.
type Account struct {
	bank *App
	name string
	addr chain.Address
}

// ModuleAccount makes the account name ("commerce/escrow") for the module
// that will hold it. Call it while wiring the modules, before the chain
// starts: the set of module accounts is part of the bank's rules. Each
// name is handed out once; asking twice is a wiring bug and panics, so
// that no second module can hold the same funds.
func (a *App) ModuleAccount(name string) *Account {
	addr := sdk.ModuleAddress(name)
	if _, dup := a.owners[addr]; dup {
		panic(fmt.Sprintf("bank: module account %q handed out twice", name))
	}
	a.owners[addr] = name
	return &Account{bank: a, name: name, addr: addr}
}

// Address returns the account's address.
func (m *Account) Address() chain.Address { return m.addr }

// Balance returns what the account holds.
func (m *Account) Balance(ctx *chain.Context) (uint64, error) {
	return sdk.GetUint(ctx.With(m.bank.key).Store(), keyBalance(m.addr))
}

// Collect moves amount from the transaction's sender, who signed the
// module's action, into the account.
func (m *Account) Collect(ctx *chain.Context, amount uint64) error {
	if ctx.Sender.IsZero() {
		return fmt.Errorf("bank: %s collects only from the sender of a transaction", m.name)
	}
	return transfer(ctx.With(m.bank.key), ctx.Sender, m.addr, amount)
}

// Pay moves amount from the account to another one.
func (m *Account) Pay(ctx *chain.Context, to chain.Address, amount uint64) error {
	return transfer(ctx.With(m.bank.key), m.addr, to, amount)
}
