package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/citychain/citychain/node"
	"github.com/spf13/cobra"
)

func newDevCmd(g *globals) *cobra.Command {
	var basePort int
	var emptyEvery time.Duration
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a one-validator development chain with funded accounts",
		Long: `Run a development chain with a single validator in --home (created on first
use). Blocks are made as soon as transactions arrive, and an empty block every
few seconds. Ten funded accounts, dev0 to dev9, are put into the keystore with
an empty passphrase and printed with their private keys.

Those keys are public knowledge: use them on your own machine only.

Stop with Ctrl-C; run the same command again to carry on the same chain.`,
		Example: `  citychain dev --home /tmp/city
  citychain tx bank send --home /tmp/city --from dev0 --to city1... --amount 10 --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home := g.home
			created, err := node.InitDevHome(home, basePort, time.Now())
			if err != nil {
				return fmt.Errorf("prepare dev home %s: %w", home, err)
			}
			cfg, err := node.LoadConfig(home)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("base-port") {
				cfg.API.Listen = fmt.Sprintf("127.0.0.1:%d", basePort)
				cfg.P2P.Listen = node.DefaultConfig("", basePort).P2P.Listen
			}
			if cmd.Flags().Changed("empty-every") {
				cfg.Block.EmptyEvery.Duration = emptyEvery
			}
			level := cfg.Log.Level
			if g.logLevel != "" {
				level = g.logLevel
			}
			log, err := newLogger(level, os.Stderr)
			if err != nil {
				return err
			}
			memCtx, stopMem := context.WithCancel(cmd.Context())
			defer stopMem()
			cfg.Memory.ApplyRuntime(memCtx)
			n, err := node.New(node.Options{Home: home, Config: cfg, Logger: log, P2P: true})
			if err != nil {
				return err
			}
			if err := n.Start(); err != nil {
				n.Stop()
				return err
			}
			printDevBanner(cmd.OutOrStdout(), home, "http://"+n.APIAddr(), n.P2PAddrs(), created)

			sig := make(chan os.Signal, 1)
			signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
			select {
			case <-sig:
				fmt.Fprintln(cmd.ErrOrStderr(), "stopping...")
				return n.Stop()
			case err := <-n.Failed():
				_ = n.Stop()
				return err
			}
		},
	}
	cmd.Flags().IntVar(&basePort, "base-port", 8700, "HTTP API port (libp2p will use base-port+1000)")
	cmd.Flags().DurationVar(&emptyEvery, "empty-every", 5*time.Second, "make an empty block after this long without transactions")
	return cmd
}

func printDevBanner(w io.Writer, home, api string, p2pAddrs []string, created bool) {
	abs, _ := filepath.Abs(home)
	state := "resumed the chain in"
	if created {
		state = "created a new chain in"
	}
	fmt.Fprintf(w, "\nCityChain development node: %s %s\n", state, abs)
	fmt.Fprintf(w, "  API and explorer: %s\n", api)
	if len(p2pAddrs) > 0 {
		fmt.Fprintf(w, "  libp2p:           %s\n", p2pAddrs[0])
		fmt.Fprintf(w, "  Follow it from another home: citychain init --home F --base-port 8800 --genesis %s --bootstrap %s\n",
			filepath.Join(home, node.GenesisFile), p2pAddrs[0])
		fmt.Fprintln(w, "                               citychain node --home F")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Development accounts (keystore names, empty passphrase):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tADDRESS\tPRIVATE KEY")
	for _, a := range node.DevAccounts() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.Name, a.Address, a.PrivKey)
	}
	tw.Flush()
	fmt.Fprintln(w)
	printDevKeysWarning(w, "  ", "these keys are")
	fmt.Fprintf(w, "\nTry:  citychain tx bank send --home %s --from dev0 --to %s --amount 10 --wait\n", home, node.DevAccounts()[1].Address)
	fmt.Fprintln(w, "Stop with Ctrl-C.")
}

// printDevKeysWarning says that the development keys are public, in the
// words `dev` and `devnet` share: what names the keys, indented by indent.
func printDevKeysWarning(w io.Writer, indent, what string) {
	fmt.Fprintf(w, "%sWARNING: %s published in the CityChain source. Anyone can spend\n", indent, what)
	fmt.Fprintf(w, "%sfrom these accounts. Use them for local development only, never for value.\n", indent)
}
