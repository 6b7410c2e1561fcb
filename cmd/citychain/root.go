package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/citychain/citychain/apps/copyright"
	"github.com/citychain/citychain/node/client"
	"github.com/spf13/cobra"
)

// Global flags shared by every command (DESIGN.md conventions).
type globals struct {
	home     string
	node     string
	output   string
	logLevel string
}

func defaultHome() string {
	if h := os.Getenv("CITYCHAIN_HOME"); h != "" {
		return h
	}
	dir, err := os.UserHomeDir()
	if err != nil {
		return ".citychain"
	}
	return filepath.Join(dir, ".citychain")
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "citychain",
		Short: "CityChain: a teaching blockchain for city use cases",
		Long: `CityChain is a small, real blockchain: signed transactions, blocks committed by
validators, state kept in Badger, and modules for a city's records.

Start a development chain with one validator:   citychain dev
Send tokens from a development account:          citychain tx bank send --from dev0 --to ADDR --amount 10 --wait`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			switch g.output {
			case "text", "json":
			default:
				return fmt.Errorf("--output %q: want text or json", g.output)
			}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.home, "home", defaultHome(), "home folder with config, keystore and data (env CITYCHAIN_HOME)")
	pf.StringVar(&g.node, "node", "http://127.0.0.1:8700", "URL of the node that client commands talk to")
	pf.StringVarP(&g.output, "output", "o", "text", "output format of read commands: text or json")
	pf.StringVar(&g.logLevel, "log-level", "", "log level: debug, info, warn or error (default from config, else info)")

	root.AddCommand(
		newDevCmd(g),
		newDevnetCmd(g),
		newInitCmd(g),
		newGenesisCmd(g),
		newNodeCmd(g),
		newKeysCmd(g),
		newTxCmd(g),
		newQueryCmd(g),
		newStatusCmd(g),
		newBlockCmd(g),
		newBenchCmd(g),
		copyright.VerifyCommand(),
		newScaffoldCmd(),
		newDemoCmd(g),
		newSimCmd(g),
		newLabCmd(g),
	)
	copyright.FetchBlock = func(cmd *cobra.Command, h uint64) ([]byte, []byte, error) {
		ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
		defer cancel()
		cl := client.New(g.node)
		var b, v json.RawMessage
		if err := cl.Get(ctx, fmt.Sprintf("/v1/blocks/%d", h), &b); err != nil {
			return nil, nil, err
		}
		if err := cl.Get(ctx, "/v1/validators", &v); err != nil {
			return nil, nil, err
		}
		return b, v, nil
	}
	return root
}

// printOut writes v as indented JSON under --output json, else calls text.
func (g *globals) printOut(w io.Writer, v any, text func(w io.Writer)) error {
	if g.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(w)
	return nil
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	switch strings.ToLower(level) {
	case "", "info":
		l = slog.LevelInfo
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
