package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/citychain/citychain/apps"
	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node/client"
	"github.com/spf13/cobra"
)

func newQueryCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "query APP ...",
		Short: "Ask a node about accounts and module state",
		Example: `  citychain query bank balance city1...
  citychain query account city1... --output json`,
	}
	c := &cliClient{g: g, f: &txFlags{}}
	for _, a := range apps.All() {
		cli, ok := a.(sdk.CLI)
		if !ok {
			continue
		}
		sub := &cobra.Command{Use: a.Name(), Short: "Queries of the " + a.Name() + " module"}
		sub.AddCommand(cli.QueryCommands(c)...)
		cmd.AddCommand(sub)
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "account ADDRESS",
		Short: "Show an account's balance and nonce",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := chain.ParseAddress(args[0])
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			a, err := client.New(g.node).Account(ctx, addr)
			if err != nil {
				return err
			}
			return g.printOut(cmd.OutOrStdout(), a, func(w io.Writer) {
				fmt.Fprintf(w, "address: %s\nbalance: %d\nnonce:   %d (next to sign: %d)\nheight:  %d\n",
					a.Address, a.Balance, a.Nonce, a.PendingNonce, a.Height)
			})
		},
	})
	return cmd
}

func newStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the node's chain, height and validators",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			s, err := client.New(g.node).Status(ctx)
			if err != nil {
				return err
			}
			return g.printOut(cmd.OutOrStdout(), s, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintf(tw, "chain\t%s\n", s.ChainID)
				fmt.Fprintf(tw, "node\t%s (%s)\n", s.Moniker, s.NodeID)
				fmt.Fprintf(tw, "height\t%d\n", s.Height)
				fmt.Fprintf(tw, "latest block\t%s at %s\n", s.LatestBlockHash, s.LatestBlockTime.Format(time.RFC3339))
				fmt.Fprintf(tw, "state root\t%s\n", s.StateRoot)
				fmt.Fprintf(tw, "syncing\t%v\n", s.Syncing)
				fmt.Fprintf(tw, "peers\t%d\n", s.Peers)
				fmt.Fprintf(tw, "mempool\t%d txs\n", s.MempoolTxs)
				fmt.Fprintf(tw, "validators\t%d\n", len(s.Validators))
				tw.Flush()
			})
		},
	}
}

func newBlockCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "block [HEIGHT|latest]",
		Short: "Show a block with its transactions and commit signatures",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h := "latest"
			if len(args) == 1 {
				h = args[0]
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			b, err := client.New(g.node).Block(ctx, h)
			if err != nil {
				return err
			}
			return g.printOut(cmd.OutOrStdout(), b, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintf(tw, "height\t%d\n", b.Height)
				fmt.Fprintf(tw, "hash\t%s\n", b.Hash)
				fmt.Fprintf(tw, "time\t%s\n", b.Time.Format(time.RFC3339Nano))
				fmt.Fprintf(tw, "prev hash\t%s\n", b.PrevHash)
				fmt.Fprintf(tw, "state root\t%s\n", b.StateRoot)
				fmt.Fprintf(tw, "proposer\t%s\n", b.Proposer)
				fmt.Fprintf(tw, "txs\t%d\n", len(b.Txs))
				tw.Flush()
				for _, t := range b.Txs {
					fmt.Fprintf(w, "  %s  %s.%s from %s nonce %d\n", t.Hash, t.App, t.Action, t.Sender, t.Nonce)
				}
				if b.Commit != nil {
					fmt.Fprintf(w, "commit: round %d, %d signature(s)\n", b.Commit.Round, len(b.Commit.Signatures))
					for _, s := range b.Commit.Signatures {
						fmt.Fprintf(w, "  %s %s…\n", s.Validator, s.Signature[:16])
					}
				}
			})
		},
	}
}
