package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/citychain/citychain/apps"
	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
	"github.com/spf13/cobra"
)

// txFlags are the signing flags every `citychain tx APP ACTION` takes.
type txFlags struct {
	from     string
	wait     bool
	offline  bool
	nonce    int64
	chainID  string
	passFile string
	timeout  time.Duration
}

func newTxCmd(g *globals) *cobra.Command {
	f := &txFlags{}
	cmd := &cobra.Command{
		Use:   "tx [HASH | APP ACTION ...]",
		Short: "Build, sign and send transactions, or show one by hash",
		Long: `With a transaction hash, show that transaction and its receipt.

With an app and an action, build the transaction, sign it with the --from key
and send it to --node. --wait returns once it is committed and prints the
receipt; --offline prints the signed transaction as JSON and sends nothing
(POST /v1/txs accepts exactly that JSON; see "citychain tx submit").`,
		Example: `  citychain tx bank send --from dev0 --to city1... --amount 10 --wait
  citychain tx bank send --from dev0 --to city1... --amount 10 --offline --nonce 7 --chain-id citychain-dev > tx.json
  citychain tx submit tx.json --wait
  citychain tx 3f2a...`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			if _, err := chain.ParseHash(args[0]); err != nil {
				return fmt.Errorf("%q is neither an app (see citychain tx --help) nor a transaction hash: %w", args[0], err)
			}
			return showTx(cmd, g, args[0])
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.from, "from", "", "name of the signing key in the keystore")
	pf.BoolVar(&f.wait, "wait", false, "wait until the transaction is committed and print its receipt")
	pf.BoolVar(&f.offline, "offline", false, "print the signed transaction as JSON and send nothing")
	pf.Int64Var(&f.nonce, "nonce", -1, "nonce to sign with (default: ask the node)")
	pf.StringVar(&f.chainID, "chain-id", "", "chain id to sign for (default: the home's genesis, else ask the node)")
	pf.StringVar(&f.passFile, "passphrase-file", "", "read the key's passphrase from this file")
	pf.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long --wait waits")

	c := &cliClient{g: g, f: f}
	for _, a := range apps.All() {
		cli, ok := a.(sdk.CLI)
		if !ok {
			continue
		}
		sub := &cobra.Command{Use: a.Name(), Short: "Transactions of the " + a.Name() + " module"}
		sub.AddCommand(cli.TxCommands(c)...)
		cmd.AddCommand(sub)
	}
	cmd.AddCommand(newSubmitCmd(g, f))
	return cmd
}

func newSubmitCmd(g *globals, f *txFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "submit FILE",
		Short: "Send a signed transaction from a JSON file (- for standard input)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var body []byte
			var err error
			if args[0] == "-" {
				body, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), node.MaxBodyBytes+1))
			} else {
				body, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			var tx chain.Tx
			if err := json.Unmarshal(body, &tx); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return send(cmd, g, f, &tx)
		},
	}
}

// cliClient implements sdk.Client for the modules' commands.
type cliClient struct {
	g *globals
	f *txFlags
}

func (c *cliClient) Submit(cmd *cobra.Command, app, action string, payload any) error {
	f := c.f
	if f.from == "" {
		return fmt.Errorf("--from: name the key that signs (see citychain keys list)")
	}
	p, err := chain.EncodePayload(payload)
	if err != nil {
		return err
	}
	key, err := loadKey(c.g, f.from, f.passFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	cl := client.New(c.g.node)
	chainID, err := resolveChainID(ctx, c.g, f, cl)
	if err != nil {
		return err
	}
	tx := &chain.Tx{ChainID: chainID, App: app, Action: action, Payload: p}
	if f.nonce >= 0 {
		tx.Nonce = uint64(f.nonce)
	} else {
		if f.offline {
			return fmt.Errorf("--offline needs --nonce N: an offline signer cannot ask the node")
		}
		acct, err := cl.Account(ctx, chain.AddressOf(key.PublicKey()))
		if err != nil {
			return fmt.Errorf("ask the node for the nonce: %w", err)
		}
		tx.Nonce = acct.PendingNonce
	}
	tx.Sign(key)
	if f.offline {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(tx)
	}
	return send(cmd, c.g, f, tx)
}

func resolveChainID(ctx context.Context, g *globals, f *txFlags, cl *client.Client) (string, error) {
	if f.chainID != "" {
		return f.chainID, nil
	}
	if gen, err := chain.LoadGenesis(filepath.Join(g.home, node.GenesisFile)); err == nil {
		return gen.ChainID, nil
	}
	if f.offline {
		return "", fmt.Errorf("--offline needs --chain-id (no genesis in %s)", g.home)
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return "", fmt.Errorf("ask the node for the chain id: %w", err)
	}
	return st.ChainID, nil
}

// send submits tx and prints the hash, or the receipt with --wait.
func send(cmd *cobra.Command, g *globals, f *txFlags, tx *chain.Tx) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout+10*time.Second)
	defer cancel()
	body, err := json.Marshal(tx)
	if err != nil {
		return err
	}
	cl := client.New(g.node)
	ans, err := cl.SubmitJSONTimeout(ctx, body, f.wait, f.timeout)
	if err != nil {
		var ce *client.Error
		if errors.As(err, &ce) {
			return fmt.Errorf("transaction refused (%s): %s", ce.Code, ce.Message)
		}
		return err
	}
	out := cmd.OutOrStdout()
	return g.printOut(out, ans, func(w io.Writer) {
		if ans.Receipt == nil {
			fmt.Fprintf(w, "sent tx %s (pending; see: citychain tx %s)\n", ans.Hash, ans.Hash)
			return
		}
		printReceipt(w, ans.Receipt)
	})
}

func printReceipt(w io.Writer, r *node.TxView) {
	switch r.Status {
	case chain.StatusOK:
		fmt.Fprintf(w, "tx %s committed in block %d (index %d): ok\n", r.Hash, r.Height, r.Index)
	case chain.StatusFailed:
		fmt.Fprintf(w, "tx %s committed in block %d (index %d): FAILED: %s\n", r.Hash, r.Height, r.Index, r.Error)
	default:
		fmt.Fprintf(w, "tx %s: %s\n", r.Hash, r.Status)
	}
	for _, e := range r.Events {
		parts := make([]string, len(e.Attrs))
		for i, a := range e.Attrs {
			parts[i] = a.Key + "=" + a.Value
		}
		fmt.Fprintf(w, "  event %s.%s %s\n", e.App, e.Type, strings.Join(parts, " "))
	}
}

func showTx(cmd *cobra.Command, g *globals, hash string) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	v, err := client.New(g.node).Tx(ctx, hash)
	if err != nil {
		return err
	}
	return g.printOut(cmd.OutOrStdout(), v, func(w io.Writer) {
		printReceipt(w, v)
		if v.Sender != (chain.Address{}) {
			fmt.Fprintf(w, "  sender %s\n", v.Sender)
		}
		if len(v.Tx) > 0 {
			fmt.Fprintf(w, "  tx %s\n", v.Tx)
		}
	})
}

// Query implements sdk.Client.
func (c *cliClient) Query(cmd *cobra.Command, path string, out any) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	return client.New(c.g.node).Get(ctx, "/v1/apps/"+path, out)
}

// Print implements sdk.Client.
func (c *cliClient) Print(cmd *cobra.Command, v any, text func(w io.Writer)) error {
	return c.g.printOut(cmd.OutOrStdout(), v, text)
}

// Block implements sdk.Client.
func (c *cliClient) Block(cmd *cobra.Command, height uint64, out any) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	return client.New(c.g.node).Get(ctx, fmt.Sprintf("/v1/blocks/%d", height), out)
}

// Validators implements sdk.Client.
func (c *cliClient) Validators(cmd *cobra.Command, out any) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	return client.New(c.g.node).Get(ctx, "/v1/validators", out)
}
