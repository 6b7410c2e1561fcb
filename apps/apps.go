package apps

import (
	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/apps/commerce"
	"github.com/citychain/citychain/apps/copyright"
	"github.com/citychain/citychain/apps/poa"
	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
)

// All returns every module in its fixed order. The order is part of the
// state machine (genesis and end-of-block hooks run in it): append new
// modules at the end.
//
// Modules reach each other only through what is handed over here: the
// bank's module accounts (bank.Account) go to the module that owns them,
// which declares the methods it needs as an interface of its own.
//
// The node and the citychain command know modules only from this list.
// What a module does for them beyond chain.App and sdk.CLI (its part of
// the development genesis, the balances on an account, its entry in the
// explorer, commands of its own, a simulator, a step of the demo) it
// offers through the optional interfaces of apps/sdk, which they find by
// type assertion.
func All() []chain.App {
	b := bank.New()
	return []chain.App{
		b,
		poa.New(),
		copyright.New(),
		trace.New(),
		commerce.New(b.ModuleAccount("commerce/escrow")),
		city.New(),
	}
}
