package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/citychain/citychain/node"
	"github.com/spf13/cobra"
)

// `citychain bench catchup`: how fast a new full node catches up with a
// running devnet by block sync, start-up included. The files:
//
//	bench_catchup.go       the command, its flags, the steps and the report
//	bench_catchup_node.go  the new node: its home, its process, its progress

// Bounds and timing of a catch-up run.
const (
	catchupDefaultTxs = 30_000
	catchupMaxTxs     = benchMaxCount
	catchupPoll       = 20 * time.Millisecond // how often the new node's height is read
	catchupTopUps     = 3                     // load runs at most to reach --txs
)

// catchupOptions are the flags of one run.
type catchupOptions struct {
	devnet     string
	txs        int
	nodeBinary string // the binary that runs the new node; "" for this one
	home       string // the new node's home; "" for a temporary folder
	timeout    time.Duration
}

// catchupReport is what a run measured. Seconds runs from the start of
// the new node's process to the moment its height reached Blocks, the
// devnet's height when the process started.
type catchupReport struct {
	Blocks        uint64  `json:"blocks"`
	Txs           int     `json:"txs"`
	Seconds       float64 `json:"seconds"`
	ReplayedTPS   float64 `json:"replayed_tps"`
	BlocksPerS    float64 `json:"blocks_per_s"`
	APIUpS        float64 `json:"api_up_s"`      // process start to the first answer of its API
	FirstBlockS   float64 `json:"first_block_s"` // process start to its first synced block
	CPUS          float64 `json:"cpu_s"`         // CPU time the new node used until it caught up (Linux; else 0)
	Submitted     int     `json:"submitted"`     // transfers this run committed first, to reach --txs
	HashesChecked int     `json:"hashes_checked"`
	HashesMatch   bool    `json:"hashes_match"`
	NodeBinary    string  `json:"node_binary"`
}

// check validates the flags; each error names the flag and the problem.
func (o *catchupOptions) check() error {
	switch {
	case o.devnet == "":
		return errors.New("--devnet DIR is required: the folder of a running `citychain devnet`")
	case o.txs < 1 || o.txs > catchupMaxTxs:
		return fmt.Errorf("--txs %d: want 1 to %d", o.txs, catchupMaxTxs)
	case o.timeout <= 0 || o.timeout > benchMaxDuration:
		return fmt.Errorf("--timeout %s: want a positive duration up to %s", o.timeout, benchMaxDuration)
	}
	if o.nodeBinary == "" {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this binary to run the new node: %w (give --node-binary PATH)", err)
		}
		o.nodeBinary = self
	}
	abs, err := filepath.Abs(o.nodeBinary)
	if err != nil {
		return fmt.Errorf("--node-binary %q: %w", o.nodeBinary, err)
	}
	o.nodeBinary = abs
	st, err := os.Stat(abs)
	switch {
	case err != nil:
		return fmt.Errorf("--node-binary %q: %w", abs, err)
	case st.IsDir() || st.Mode()&0o111 == 0:
		return fmt.Errorf("--node-binary %q is not an executable file", abs)
	}
	if o.home != "" {
		if entries, err := os.ReadDir(o.home); err == nil && len(entries) > 0 {
			return fmt.Errorf("--home %s is not empty: the new node needs a fresh home", o.home)
		}
	}
	return nil
}

func newBenchCatchupCmd(g *globals) *cobra.Command {
	o := &catchupOptions{}
	cmd := &cobra.Command{
		Use:   "catchup --devnet DIR",
		Short: "Time a new full node catching up with a running devnet by block sync",
		Long: `Measure how fast a new full node replays the chain of a running devnet.

First it makes sure the devnet has committed at least --txs transactions,
sending signed transfers (as "citychain bench --mix transfer" does) when it has
fewer. Then it makes a fresh home for a full node with the devnet's genesis and
every devnet node as a bootstrap peer (as "citychain init --genesis --bootstrap"
does), starts "citychain node" on it as a separate process on free ports of
127.0.0.1, and times it from the start of the process until its height reaches
the devnet's height at that moment: start-up included. Then it compares the
new node's block hash and state root with node0's at every height, and stops
the process (SIGINT, by its PID).

It prints the blocks and transactions replayed, the seconds, and transactions
per second, and the CPU time the new node used meanwhile (from /proc, on
Linux). --output json prints one object: blocks, txs, seconds, replayed_tps,
blocks_per_s, api_up_s, first_block_s, cpu_s, submitted, hashes_checked,
hashes_match, node_binary.

--node-binary runs the new node with another citychain binary (an older build,
say), so that two versions can be measured against the same devnet.`,
		Example: `  citychain devnet --nodes 4 --dir /tmp/citynet &
  citychain bench catchup --devnet /tmp/citynet
  citychain bench catchup --devnet /tmp/citynet --txs 5000 --output json
  citychain bench catchup --devnet /tmp/citynet --node-binary ./citychain-old`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			r, err := runCatchup(ctx, cmd.ErrOrStderr(), o)
			if err != nil {
				return err
			}
			return g.printOut(cmd.OutOrStdout(), r, func(w io.Writer) {
				fmt.Fprintf(w, "replayed %d blocks with %d transactions in %.2f s: %.0f tx/s (%.1f blocks/s)\n",
					r.Blocks, r.Txs, r.Seconds, r.ReplayedTPS, r.BlocksPerS)
				fmt.Fprintf(w, "start-up: API up after %.2f s, first block after %.2f s\n", r.APIUpS, r.FirstBlockS)
				if r.CPUS > 0 {
					fmt.Fprintf(w, "the new node used %.2f CPU-seconds meanwhile: %.2f of this machine's %d cores\n",
						r.CPUS, r.CPUS/r.Seconds, runtime.NumCPU())
				}
				fmt.Fprintf(w, "block hashes and state roots equal node0's at all %d heights\n", r.HashesChecked)
				if r.Submitted > 0 {
					fmt.Fprintf(w, "(%d transfers were committed first to reach --txs %d)\n", r.Submitted, o.txs)
				}
				fmt.Fprintf(w, "node binary: %s\n", r.NodeBinary)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.devnet, "devnet", "", "folder of the running devnet (its devnet.json)")
	f.IntVar(&o.txs, "txs", catchupDefaultTxs, "transactions the chain must hold; transfers are sent first if it holds fewer")
	f.StringVar(&o.nodeBinary, "node-binary", "", "citychain binary that runs the new node (default: this one)")
	f.StringVar(&o.home, "home", "", "home folder for the new node, kept afterwards (default: a temporary one, removed)")
	f.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up if the new node has not caught up by then")
	return cmd
}

// runCatchup does the steps of a run and returns its report.
func runCatchup(ctx context.Context, log io.Writer, o *catchupOptions) (*catchupReport, error) {
	d, err := loadDevnet(o.devnet)
	if err != nil {
		return nil, err
	}
	var urls []string
	for _, n := range d.Nodes {
		urls = append(urls, n.API)
	}
	targets, chainID, _, err := connectTargets(ctx, urls)
	if err != nil {
		return nil, fmt.Errorf("%w (is `citychain devnet --dir %s` running?)", err, o.devnet)
	}
	chainTxs, height, err := countTxs(ctx, log, targets[0], 0, 0)
	if err != nil {
		return nil, err
	}
	submitted := 0
	for try := 0; chainTxs < o.txs; try++ {
		if try == catchupTopUps {
			return nil, fmt.Errorf("the devnet holds %d transactions after %d load runs, want %d", chainTxs, try, o.txs)
		}
		fmt.Fprintf(log, "the devnet holds %d transactions; sending %d transfers...\n", chainTxs, o.txs-chainTxs)
		n, err := loadTransfers(ctx, log, targets, chainID, o.txs-chainTxs)
		if err != nil {
			return nil, err
		}
		submitted += n
		if chainTxs, height, err = countTxs(ctx, log, targets[0], chainTxs, height); err != nil {
			return nil, err
		}
	}

	nn, err := newCatchupNode(ctx, d, o)
	if err != nil {
		return nil, err
	}
	defer nn.close(log)
	// The target is the devnet's height as the process starts: blocks
	// made after that are not part of the catch-up.
	if chainTxs, height, err = countTxs(ctx, log, targets[0], chainTxs, height); err != nil {
		return nil, err
	}
	if err := nn.start(); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "new node started (pid %d, %s); catching up to height %d (%d transactions)...\n",
		nn.pid(), nn.api, height, chainTxs)
	prog, err := nn.waitHeight(ctx, log, height, o.timeout, isTerminal(log))
	if err != nil {
		return nil, err
	}
	checked, err := compareChains(ctx, log, targets[0], nn, height)
	if err != nil {
		nn.keep = true
		return nil, err
	}
	secs := prog.caughtUp.Seconds()
	r := &catchupReport{Blocks: height, Txs: chainTxs, Seconds: round(secs, 3),
		APIUpS: round(prog.apiUp.Seconds(), 3), FirstBlockS: round(prog.firstBlock.Seconds(), 3), CPUS: round(prog.cpu.Seconds(), 2),
		Submitted: submitted, HashesChecked: checked, HashesMatch: true, NodeBinary: o.nodeBinary}
	if secs > 0 {
		r.ReplayedTPS = round(float64(chainTxs)/secs, 1)
		r.BlocksPerS = round(float64(height)/secs, 1)
	}
	return r, nil
}

// loadDevnet reads DIR/devnet.json, which a running devnet writes.
func loadDevnet(dir string) (*node.Devnet, error) {
	b, err := os.ReadFile(filepath.Join(dir, node.DevnetFile))
	if err != nil {
		return nil, fmt.Errorf("--devnet %s: %w (start one with: citychain devnet --dir %s)", dir, err, dir)
	}
	var d node.Devnet
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("--devnet %s: read %s: %w", dir, node.DevnetFile, err)
	}
	if len(d.Nodes) == 0 {
		return nil, fmt.Errorf("--devnet %s: %s lists no node", dir, node.DevnetFile)
	}
	for _, n := range d.Nodes {
		if n.API == "" || n.P2P == "" || n.Home == "" {
			return nil, fmt.Errorf("--devnet %s: %s lacks the API, p2p address or home of %s", dir, node.DevnetFile, n.Name)
		}
	}
	return &d, nil
}

// countTxs reads node0's blocks after height from and returns known plus
// the transactions in them, and the height it read up to.
func countTxs(ctx context.Context, log io.Writer, t benchTarget, known int, from uint64) (int, uint64, error) {
	st, err := t.cl.Status(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("node0 does not answer: %w", err)
	}
	if st.Height > from+100 {
		fmt.Fprintf(log, "counting the transactions in blocks %d to %d...\n", from+1, st.Height)
	}
	br := &blockReader{cl: t.cl}
	for h := from + 1; h <= st.Height; h++ {
		b, err := br.read(ctx, h)
		if err != nil {
			return 0, 0, fmt.Errorf("node0 block %d: %w", h, err)
		}
		known += len(b.TxHashes)
	}
	return known, st.Height, nil
}

// loadTransfers sends count transfers to the devnet's nodes with the
// load of `citychain bench` and returns how many were committed.
func loadTransfers(ctx context.Context, log io.Writer, targets []benchTarget, chainID string, count int) (int, error) {
	urls := make([]string, len(targets))
	for i, t := range targets {
		urls[i] = t.url
	}
	o := &benchOptions{nodes: urls, count: count, countSet: true, mix: "transfer",
		concurrency: 10, senders: 100, batch: 50, settle: 2 * time.Minute}
	w, err := prepareWorkload(ctx, log, targets, chainID, o)
	if err != nil {
		return 0, err
	}
	rec, err := runLoad(ctx, log, targets, w, o, isTerminal(log))
	if err != nil {
		return 0, err
	}
	r := summarize(rec)
	if len(r.Rejected) > 0 {
		fmt.Fprintf(log, "rejected while loading: %v\n", r.Rejected)
	}
	fmt.Fprintf(log, "committed %d of %d transfers\n", r.Committed, r.Submitted)
	return r.Committed, nil
}

// compareChains compares the new node's block hash and state root with
// node0's at every height up to height, and returns how many it compared.
func compareChains(ctx context.Context, log io.Writer, t benchTarget, nn *catchupNode, height uint64) (int, error) {
	fmt.Fprintf(log, "comparing %d blocks with node0...\n", height)
	node0, newNode := &blockReader{cl: t.cl}, &blockReader{cl: nn.cl}
	for h := uint64(1); h <= height; h++ {
		want, err := node0.read(ctx, h)
		if err != nil {
			return 0, fmt.Errorf("node0 block %d: %w", h, err)
		}
		got, err := newNode.read(ctx, h)
		if err != nil {
			return 0, fmt.Errorf("new node block %d: %w", h, err)
		}
		if got.Hash != want.Hash || got.StateRoot != want.StateRoot || len(got.TxHashes) != len(want.TxHashes) {
			return 0, fmt.Errorf("the new node's block %d differs from node0's: hash %s, state root %s, %d txs; node0 has %s, %s, %d txs (its home is kept: %s)",
				h, got.Hash, got.StateRoot, len(got.TxHashes), want.Hash, want.StateRoot, len(want.TxHashes), nn.home)
		}
	}
	return int(height), nil
}

// clearLine blanks a progress line on a terminal.
func clearLine(w io.Writer) { fmt.Fprintf(w, "\r%s\r", strings.Repeat(" ", 79)) }
