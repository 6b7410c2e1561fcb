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
	"github.com/citychain/citychain/node/client"
	"github.com/spf13/cobra"
)

func newDevnetCmd(g *globals) *cobra.Command {
	var count, basePort int
	var dir string
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a local network of N validator processes with BFT finality",
		Long: `Make N validator homes and one genesis in --dir (the first time), start N
separate "citychain node" processes on 127.0.0.1, print a table of the nodes,
and write DIR/devnet.json. Node i serves its API and explorer on base-port+i
and libp2p on base-port+1000+i; each node's log is DIR/nodeI/node.log.

Kill a node (kill -9 PID) and watch the others carry on; start the devnet again
later with the same --dir to resume the same chain, on the ports it was made
with (a different --base-port is refused). Ctrl-C stops every node.

The funded development accounts dev0..dev9 are in every home's keystore with
an empty passphrase. Their keys are public: local use only.`,
		Example: `  citychain devnet --nodes 4 --dir /tmp/citynet
  citychain status --node http://127.0.0.1:8701
  citychain tx bank send --home /tmp/citynet/node0 --from dev0 --to city1... --amount 5 --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDevnet(cmd, dir, count, basePort)
		},
	}
	cmd.Flags().IntVar(&count, "nodes", 4, "number of validators, 1 to 7")
	cmd.PersistentFlags().StringVar(&dir, "dir", ".devnet", "folder of the node homes and devnet.json")
	cmd.AddCommand(newDevnetCtlCmd(g, &dir))
	cmd.Flags().IntVar(&basePort, "base-port", 8700, "API port of node0; libp2p ports start at base-port+1000")
	return cmd
}

func runDevnet(cmd *cobra.Command, dir string, count, basePort int) error {
	out := cmd.OutOrStdout()
	start := time.Now()
	// Ctrl-C from here on stops every node started so far.
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, created, err := node.PrepareDevnet(dir, count, basePort, time.Now())
	if err != nil {
		return err
	}
	if !created && cmd.Flags().Changed("base-port") {
		if err := d.CheckBasePort(dir, basePort); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	sup, err := node.NewSupervisor(node.SupervisorConfig{Dir: dir, Exe: self, Devnet: d, Out: out})
	if err != nil {
		return err
	}
	defer sup.Close()
	// The development keys are in every keystore before any node runs:
	// scripts and tools use them as soon as devnet.json names the nodes.
	if err := node.FillDevKeystores(d); err != nil {
		return err
	}
	if err := sup.StartAll(); err != nil {
		sup.StopAll()
		return err
	}
	if err := waitForAPIs(ctx, d, 30*time.Second); err != nil {
		sup.StopAll()
		if ctx.Err() != nil {
			return nil // interrupted while starting
		}
		return fmt.Errorf("%w (see the node.log files in %s)", err, dir)
	}
	printDevnet(out, d, dir, created, time.Since(start))
	<-ctx.Done()
	fmt.Fprintln(cmd.ErrOrStderr(), "stopping every node...")
	sup.StopAll()
	return nil
}

func waitForAPIs(ctx context.Context, d *node.Devnet, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, nd := range d.Nodes {
		cl := client.New(nd.API)
		for {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c, cancel := context.WithTimeout(ctx, time.Second)
			_, err := cl.Status(c)
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s did not answer at %s within %s: %v", nd.Name, nd.API, limit, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func printDevnet(w io.Writer, d *node.Devnet, dir string, created bool, took time.Duration) {
	n := len(d.Nodes)
	f := (n - 1) / 3
	what := "resumed"
	if created {
		what = "created"
	}
	abs, _ := filepath.Abs(dir)
	fmt.Fprintf(w, "\nCityChain devnet %s in %s: %d validators, chain %s (up in %.1f s)\n\n", what, abs, n, d.ChainID, took.Seconds())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tPID\tAPI / EXPLORER\tVALIDATOR\tP2P")
	for _, nd := range d.Nodes {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", nd.Name, nd.PID, nd.API, nd.Validator, nd.P2P)
	}
	tw.Flush()
	fmt.Fprintln(w)
	printDevKeysWarning(w, "", "the dev0..dev9 keys in every keystore are")
	fmt.Fprintf(w, "\nFault tolerance: a block is final when validators with more than 2/3 of the\n")
	fmt.Fprintf(w, "votes precommit it: %d of %d here. So the chain keeps going with up to f = (N-1)/3 = %d\n", 2*n/3+1, n, f)
	if f == 0 {
		fmt.Fprintf(w, "node(s) down: with %d validators every one is needed; try --nodes 4 to survive one failure.\n", n)
	} else {
		fmt.Fprintf(w, "node(s) down or lying, and halts (safely, without forking) if more fail, resuming when they return.\n")
	}
	fmt.Fprintf(w, "\nTry:  citychain devnet ctl --dir %s stop node%d      (SIGKILL; watch the others carry on)\n", dir, n-1)
	fmt.Fprintf(w, "      citychain devnet ctl --dir %s start node%d     (it catches up)\n", dir, n-1)
	fmt.Fprintf(w, "      citychain tx bank send --home %s --node %s --from dev0 --to %s --amount 5 --wait\n",
		d.Nodes[0].Home, d.Nodes[0].API, node.DevAccounts()[1].Address)
	fmt.Fprintf(w, "Explorer: %s/#/network shows the nodes and has the same controls (stop, pause, cut ...).\n", d.Nodes[0].API)
	fmt.Fprintf(w, "Logs: %s/nodeI/node.log.  Description: %s.  Stop with Ctrl-C.\n\n", dir, filepath.Join(dir, node.DevnetFile))
}
