package sdk

import (
	"github.com/citychain/citychain/chain"
	"github.com/spf13/cobra"
)

// The node and the citychain command know modules only through
// apps.All(); what they do for a module beyond chain.App and CLI they
// find by type assertion on these interfaces.

// RootCommands is implemented by modules that add top-level commands to
// citychain beside "tx" and "query" (copyright's offline "verify").
type RootCommands interface {
	RootCommands(c Client) []*cobra.Command
}

// DevGenesis is implemented by modules that have state in the genesis of
// the development chains (citychain dev, devnet, the demo). The answer is
// written as app_state.{module}.
type DevGenesis interface {
	DevGenesis(d DevChain) any
}

// DevChain is what a module learns of a development chain for its
// genesis: the funded development accounts, and the first of them, which
// modules make their administrator, operator or arbiter.
type DevChain struct {
	Admin    chain.Address
	Accounts []chain.Address
	Balance  uint64 // what each development account starts with
}
