package poa

import "github.com/citychain/citychain/apps/sdk"

// Explorer describes the validator-set module in the explorer's module
// list (sdk.Explorer).
func (*App) Explorer() sdk.ExplorerEntry {
	return sdk.ExplorerEntry{Title: "Proof of authority: validator-set changes and evidence of misbehaviour",
		Links: []sdk.Link{
			{Title: "Validators", Href: "#/validators"},
			{Title: "Proposals", Href: "/v1/apps/" + Name + "/proposals"},
			{Title: "Evidence", Href: "/v1/apps/" + Name + "/evidence"},
		}}
}
