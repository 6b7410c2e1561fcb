package main

import (
	"time"

	"github.com/citychain/citychain/apps"
	"github.com/citychain/citychain/apps/sdk"
	"github.com/spf13/cobra"
)

// newSimCmd groups the modules' simulators (sdk.Simulators), such as
// `citychain sim city`, which runs a district. The group carries the
// signing flags the simulators' client reads.
func newSimCmd(g *globals) *cobra.Command {
	f := &txFlags{nonce: -1, timeout: 30 * time.Second}
	sim := &cobra.Command{
		Use:   "sim",
		Short: "Simulators that feed a running chain with realistic traffic",
	}
	pf := sim.PersistentFlags()
	pf.StringVar(&f.from, "from", "", "signing key (each simulator's help says which one it needs)")
	pf.StringVar(&f.passFile, "passphrase-file", "", "read the key's passphrase from this file")
	pf.StringVar(&f.chainID, "chain-id", "", "chain id to sign for (default: the home's genesis, else ask the node)")
	c := &cliClient{g: g, f: f}
	for _, a := range apps.All() {
		if m, ok := a.(sdk.Simulators); ok {
			sim.AddCommand(m.SimCommands(c, time.Now)...)
		}
	}
	return sim
}
