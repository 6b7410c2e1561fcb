package commerce

import "github.com/citychain/citychain/apps/sdk"

// What commerce tells the explorer and the development chains (the
// optional interfaces of apps/sdk).

// DevGenesis makes the first development account the arbiter
// (sdk.DevGenesis).
func (*App) DevGenesis(d sdk.DevChain) any { return DevGenesis(d.Admin) }

// Explorer describes commerce in the explorer's module list
// (sdk.Explorer).
func (*App) Explorer() sdk.ExplorerEntry {
	return sdk.ExplorerEntry{Title: "Commerce: schema.org orders paid through an escrow",
		Links: []sdk.Link{{Title: "An order, or the orders of an account", Href: "#/order"}}}
}
