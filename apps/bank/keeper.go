package bank

import (
	"fmt"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

var keySupply = []byte("supply")

func keyBalance(a chain.Address) []byte { return append([]byte("bal/"), a[:]...) }

// Balance returns the balance of addr. Other modules call it with their
// own context.
func Balance(ctx *chain.Context, addr chain.Address) (uint64, error) {
	return sdk.BytesUint64(ctx.For(Name).Store().Get(keyBalance(addr)))
}

// Transfer moves amount from one account to another and emits a
// "transfer" event. It fails with chain.ErrInsufficientFunds when from
// holds less than amount. Modules use it to move funds in and out of
// their own accounts (sdk.ModuleAddress).
func Transfer(ctx *chain.Context, from, to chain.Address, amount uint64) error {
	bctx := ctx.For(Name)
	st := bctx.Store()
	fromBal, err := sdk.BytesUint64(st.Get(keyBalance(from)))
	if err != nil {
		return err
	}
	if fromBal < amount {
		return fmt.Errorf("%w: %s has %d, needs %d", chain.ErrInsufficientFunds, from, fromBal, amount)
	}
	st.Set(keyBalance(from), sdk.Uint64Bytes(fromBal-amount))
	toBal, err := sdk.BytesUint64(st.Get(keyBalance(to)))
	if err != nil {
		return err
	}
	sum, err := sdk.Add(toBal, amount)
	if err != nil {
		return err
	}
	st.Set(keyBalance(to), sdk.Uint64Bytes(sum))
	bctx.Emit("transfer", chain.A("from", from), chain.A("to", to), chain.A("amount", amount))
	return nil
}

// mint adds amount to addr and to the supply. Only genesis mints.
func mint(st *chain.Store, addr chain.Address, amount uint64) error {
	bal, err := sdk.BytesUint64(st.Get(keyBalance(addr)))
	if err != nil {
		return err
	}
	if bal, err = sdk.Add(bal, amount); err != nil {
		return err
	}
	supply, err := sdk.BytesUint64(st.Get(keySupply))
	if err != nil {
		return err
	}
	if supply, err = sdk.Add(supply, amount); err != nil {
		return err
	}
	st.Set(keyBalance(addr), sdk.Uint64Bytes(bal))
	st.Set(keySupply, sdk.Uint64Bytes(supply))
	return nil
}
