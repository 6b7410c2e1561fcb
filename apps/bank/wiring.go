package bank

import (
	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// What the bank tells the node, the explorer and the development chains
// (the optional interfaces of apps/sdk).

// Balance returns what addr holds (sdk.Balances): the node shows it on
// GET /v1/accounts/{address}.
func (*App) Balance(q *chain.QueryContext, addr chain.Address) (uint64, error) {
	return sdk.BytesUint64(q.Store().Get(keyBalance(addr)))
}

// DevGenesis funds every development account with d.Balance
// (sdk.DevGenesis).
func (*App) DevGenesis(d sdk.DevChain) any {
	var g GenesisState
	for _, a := range d.Accounts {
		g.Balances = append(g.Balances, GenesisBalance{Address: a, Amount: d.Balance})
	}
	return g
}

// Explorer describes the bank in the explorer's module list
// (sdk.Explorer).
func (*App) Explorer() sdk.ExplorerEntry {
	return sdk.ExplorerEntry{Title: "The native token: balances and transfers",
		Links: []sdk.Link{{Title: "Total supply", Href: "/v1/apps/" + Name + "/supply"}}}
}
