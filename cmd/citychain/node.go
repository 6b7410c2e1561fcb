package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/p2p"
	"github.com/spf13/cobra"
)

func newNodeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "node",
		Short: "Run a validator or full node of a network (libp2p and BFT consensus)",
		Long: `Run the node in --home: it joins the network named in genesis.json through the
bootstrap peers in config.toml, takes part in consensus if its validator key is
in the validator set, catches up by block sync when it is behind, and serves the
API and explorer. Stop it with Ctrl-C (SIGINT or SIGTERM).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := node.LoadConfig(g.home)
			if err != nil {
				return fmt.Errorf("%w (set up a home with: citychain init --home %s)", err, g.home)
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
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
			if err := waitForDisk(g.home, cfg, log, sig); err != nil {
				return err
			}
			clock, skew, err := node.SkewedClock(os.Getenv(node.EnvClockSkew))
			if err != nil {
				return err
			}
			if clock != nil {
				log.Warn("this node's clock is skewed on purpose (a test hook)", "env", node.EnvClockSkew, "skew", skew.String())
			}
			n, err := node.New(node.Options{Home: g.home, Config: cfg, Logger: log, Network: true,
				Control: node.DevnetControlFromEnv(), Clock: clock})
			if err != nil {
				return err
			}
			if err := n.Start(); err != nil {
				n.Stop()
				return err
			}
			select {
			case <-sig:
				log.Info("stopping")
				return n.Stop()
			case err := <-n.Failed():
				_ = n.Stop()
				return err
			}
		},
	}
}

// waitForDisk holds the start of a node until the disk of its data folder
// has the space store.min_free_mb asks for, or a signal comes.
func waitForDisk(home string, cfg node.Config, log *slog.Logger, sig <-chan os.Signal) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // ends with the wait
		select {
		case <-sig:
			cancel()
		case <-ctx.Done():
		}
	}()
	dir := filepath.Join(home, node.DataDir)
	if _, err := os.Stat(dir); err != nil {
		dir = home // a new node: the data folder is made on the home's disk
	}
	return node.WaitForDisk(ctx, dir, cfg.Store.NeedFreeMB(), log)
}

func newInitCmd(g *globals) *cobra.Command {
	var moniker, genesis string
	var port int
	var bootstrap []string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a node home: config, validator key and node key",
		Long: `Create a home for "citychain node" in --home: config.toml (API on --base-port,
libp2p on --base-port+1000), a new validator key and a new libp2p node key.
It prints what other operators need: the validator address and public key
(for their genesis) and the peer address (for their bootstrap list).

Next: "citychain genesis new" on one machine, "citychain genesis add-validator"
for every other validator, then copy genesis.json into every home. See
docs/network.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if moniker == "" {
				h, _ := os.Hostname()
				moniker = h
			}
			if err := node.InitHome(g.home, moniker, port); err != nil {
				return err
			}
			if genesis != "" {
				gen, err := chain.LoadGenesis(genesis)
				if err != nil {
					return err
				}
				if err := gen.Save(filepath.Join(g.home, node.GenesisFile)); err != nil {
					return err
				}
			}
			if len(bootstrap) > 0 {
				cfg, err := node.LoadConfig(g.home)
				if err != nil {
					return err
				}
				cfg.P2P.Bootstrap = bootstrap
				if err := cfg.Save(g.home); err != nil {
					return err
				}
			}
			return printIdentity(cmd.OutOrStdout(), g)
		},
	}
	cmd.Flags().StringVar(&moniker, "moniker", "", "a name for this node (default: the host name)")
	cmd.Flags().IntVar(&port, "base-port", 8700, "HTTP API port; libp2p uses base-port+1000")
	cmd.Flags().StringVar(&genesis, "genesis", "", "copy this genesis.json into the home (to join an existing network)")
	cmd.Flags().StringSliceVar(&bootstrap, "bootstrap", nil, "peer addresses to dial at start (/ip4/.../tcp/.../p2p/ID), comma-separated")
	return cmd
}

type identity struct {
	Home      string   `json:"home"`
	Validator string   `json:"validator"`
	PubKey    string   `json:"pubkey"`
	PeerID    string   `json:"peer_id"`
	P2P       []string `json:"p2p"`
}

func printIdentity(w io.Writer, g *globals) error {
	vk, err := node.LoadValidatorKey(filepath.Join(g.home, node.ValidatorKeyFile))
	if err != nil {
		return err
	}
	nk, err := p2p.LoadKey(filepath.Join(g.home, node.NodeKeyFile))
	if err != nil {
		return err
	}
	id, err := p2p.PeerID(nk)
	if err != nil {
		return err
	}
	cfg, err := node.LoadConfig(g.home)
	if err != nil {
		return err
	}
	pub := vk.PublicKey()
	out := identity{Home: g.home, Validator: chain.AddressOf(pub).String(), PubKey: hex.EncodeToString(pub.Bytes()), PeerID: id.String()}
	for _, a := range cfg.P2P.Listen {
		out.P2P = append(out.P2P, a+"/p2p/"+id.String())
	}
	return g.printOut(w, out, func(w io.Writer) {
		fmt.Fprintf(w, "home:       %s\nvalidator:  %s\npubkey:     %s\npeer id:    %s\n", out.Home, out.Validator, out.PubKey, out.PeerID)
		for _, a := range out.P2P {
			fmt.Fprintf(w, "p2p:        %s\n", a)
		}
		fmt.Fprintln(w, "\nListen addresses are on 127.0.0.1; for other machines, set p2p.listen and")
		fmt.Fprintln(w, "api.listen in config.toml to this machine's LAN address (see docs/network.md).")
	})
}

func newGenesisCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "genesis",
		Short: "Write the genesis file of a new network",
	}
	var chainID string
	var devAccounts bool
	newG := &cobra.Command{
		Use:   "new",
		Short: "Start a genesis.json in --home with this home's validator",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := filepath.Join(g.home, node.GenesisFile)
			if _, err := os.Stat(path); err == nil {
				return fmt.Errorf("%s exists already", path)
			}
			vk, err := node.LoadValidatorKey(filepath.Join(g.home, node.ValidatorKeyFile))
			if err != nil {
				return fmt.Errorf("%w (run citychain init first)", err)
			}
			gen := node.DevGenesis(chainID, nil, time.Now())
			if !devAccounts {
				gen.AppState = nil
			}
			pub := vk.PublicKey()
			gen.Validators = []chain.GenesisValidator{{Name: "validator0", Address: chain.AddressOf(pub),
				PubKey: hex.EncodeToString(pub.Bytes()), Power: 1}}
			if err := gen.Validate(); err != nil {
				return err
			}
			if err := gen.Save(path); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s for chain %s with 1 validator\n", path, chainID)
			if devAccounts {
				fmt.Fprintln(cmd.OutOrStdout(), "funded the development accounts dev0..dev9, and dev0 runs the modules: their keys are public, so this chain is for classes (--dev-accounts=false for one that holds value)")
			}
			return nil
		},
	}
	newG.Flags().StringVar(&chainID, "chain-id", "citychain-net", "the new chain's id")
	newG.Flags().BoolVar(&devAccounts, "dev-accounts", true, "fund the public development accounts dev0..dev9 (for classes; not for value)")

	var pubkey, name string
	var power uint64
	addVal := &cobra.Command{
		Use:   "add-validator --pubkey HEX",
		Short: "Add a validator (from another machine's citychain init) to genesis.json",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := filepath.Join(g.home, node.GenesisFile)
			gen, err := chain.LoadGenesis(path)
			if err != nil {
				return err
			}
			pub, err := hex.DecodeString(pubkey)
			if err != nil {
				return fmt.Errorf("--pubkey: %w", err)
			}
			if name == "" {
				name = fmt.Sprintf("validator%d", len(gen.Validators))
			}
			gen.Validators = append(gen.Validators, chain.GenesisValidator{Name: name,
				Address: chain.AddressFromPubKeyBytes(pub), PubKey: hex.EncodeToString(pub), Power: power})
			if err := gen.Validate(); err != nil {
				return err
			}
			if err := gen.Save(path); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added %s (%s); %d validators\n", name, chain.AddressFromPubKeyBytes(pub), len(gen.Validators))
			return nil
		},
	}
	addVal.Flags().StringVar(&pubkey, "pubkey", "", "the validator's compressed public key (hex), as citychain init printed it")
	addVal.Flags().StringVar(&name, "name", "", "a name for the validator")
	addVal.Flags().Uint64Var(&power, "power", 1, "voting power")
	_ = addVal.MarkFlagRequired("pubkey")

	show := &cobra.Command{
		Use:   "show",
		Short: "Print this home's node identity (validator, public key, peer address)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return printIdentity(cmd.OutOrStdout(), g) },
	}
	cmd.AddCommand(newG, addVal, show)
	return cmd
}
