package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/citychain/citychain/apps"
	"github.com/citychain/citychain/apps/sdk"
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

// defaultNode is the node client commands talk to when --node is not
// given: $CITYCHAIN_NODE, else node0 of a local devnet or dev chain.
func defaultNode() string {
	if n := os.Getenv("CITYCHAIN_NODE"); n != "" {
		return n
	}
	return "http://127.0.0.1:8700"
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
	pf.StringVar(&g.node, "node", defaultNode(), "URL of the node that client commands talk to (env CITYCHAIN_NODE)")
	pf.StringVarP(&g.output, "output", "o", "text", "output format of read commands: text or json")
	pf.StringVar(&g.logLevel, "log-level", "", "log level: debug, info, warn or error (default from config, else info)")

	root.AddCommand(moduleRootCommands(g)...)
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
		newScaffoldCmd(),
		newDemoCmd(g),
		newSimCmd(g),
		newLabCmd(g),
	)
	return root
}

// moduleRootCommands returns the top-level commands that modules add
// beside "tx" and "query" (sdk.RootCommands), such as copyright's
// "verify". They sign nothing: their client has no signing flags.
func moduleRootCommands(g *globals) []*cobra.Command {
	var cmds []*cobra.Command
	for _, a := range apps.All() {
		if m, ok := a.(sdk.RootCommands); ok {
			cmds = append(cmds, m.RootCommands(&cliClient{g: g, f: &txFlags{}})...)
		}
	}
	return cmds
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
