package city

import (
	"time"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/spf13/cobra"
)

// What city tells the citychain command, the explorer and the
// development chains (the optional interfaces of apps/sdk).

// SimCommands adds "citychain sim city", the district simulator
// (sdk.Simulators).
func (*App) SimCommands(c sdk.Client, now func() time.Time) []*cobra.Command {
	return []*cobra.Command{SimCommand(SimConfig{Client: c, Clock: now})}
}

// DevGenesis makes the first development account the city operator
// (sdk.DevGenesis).
func (*App) DevGenesis(d sdk.DevChain) any { return DevGenesis(d.Admin) }

// Explorer describes city in the explorer's module list (sdk.Explorer).
func (*App) Explorer() sdk.ExplorerEntry {
	return sdk.ExplorerEntry{Title: "Smart city: FIWARE devices and their signed readings",
		Links: []sdk.Link{{Title: "The city's devices on a plot", Href: "#/city"}}}
}
