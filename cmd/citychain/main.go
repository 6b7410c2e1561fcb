// Command citychain is the one binary of CityChain: it runs nodes and
// development networks, manages keys, and builds, signs and sends
// transactions. Run `citychain help` for the commands.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
