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
func All() []chain.App {
	return []chain.App{
		bank.New(),
		poa.New(),
		copyright.New(),
		trace.New(),
		commerce.New(),
		city.New(),
	}
}
