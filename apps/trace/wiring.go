package trace

import "github.com/citychain/citychain/apps/sdk"

// What trace tells the explorer and the development chains (the
// optional interfaces of apps/sdk).

// DevGenesis makes the first development account the administrator
// (sdk.DevGenesis).
func (*App) DevGenesis(d sdk.DevChain) any { return DevGenesis(d.Admin) }

// Explorer describes trace in the explorer's module list (sdk.Explorer).
func (*App) Explorer() sdk.ExplorerEntry {
	return sdk.ExplorerEntry{Title: "Traceability: GS1 EPCIS events and the provenance of products",
		Links: []sdk.Link{{Title: "Provenance of a product", Href: "#/trace"}}}
}
