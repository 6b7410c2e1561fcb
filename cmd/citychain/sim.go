package main

import (
	"time"

	"github.com/citychain/citychain/apps/city"
	"github.com/spf13/cobra"
)

// newSimCmd groups the simulators; `citychain sim city` runs a district.
func newSimCmd(g *globals) *cobra.Command {
	f := &txFlags{nonce: -1, timeout: 30 * time.Second}
	sim := &cobra.Command{
		Use:   "sim",
		Short: "Simulators that feed a running chain with realistic traffic",
	}
	pf := sim.PersistentFlags()
	pf.StringVar(&f.from, "from", "", "signing key (the city operator for registrations; any funded key for readings)")
	pf.StringVar(&f.passFile, "passphrase-file", "", "read the key's passphrase from this file")
	pf.StringVar(&f.chainID, "chain-id", "", "chain id to sign for (default: the home's genesis, else ask the node)")
	sim.AddCommand(city.SimCommand(city.SimConfig{Client: &cliClient{g: g, f: f}, Clock: time.Now}))
	return sim
}
