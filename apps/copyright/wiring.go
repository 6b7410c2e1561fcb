package copyright

import (
	"github.com/citychain/citychain/apps/sdk"
	"github.com/spf13/cobra"
)

// What copyright tells the citychain command, the explorer and the
// development chains (the optional interfaces of apps/sdk).

// RootCommands adds "citychain verify", the offline check of a
// certificate (sdk.RootCommands).
func (*App) RootCommands(sdk.Client) []*cobra.Command {
	return []*cobra.Command{VerifyCommand()}
}

// DevGenesis is the default parameters (sdk.DevGenesis).
func (*App) DevGenesis(sdk.DevChain) any { return DefaultGenesis() }

// Explorer describes copyright in the explorer's module list
// (sdk.Explorer).
func (*App) Explorer() sdk.ExplorerEntry {
	return sdk.ExplorerEntry{Title: "Copyright: registered works, found again by content hash and similarity",
		Links: []sdk.Link{{Title: "Check a work or a certificate", Href: "#/verify"}}}
}
