package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/citychain/citychain/node"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// `citychain bench`: a load generator whose numbers can be trusted. The
// files:
//
//	bench.go          the command, its flags and their checks
//	bench_load.go     the senders and the transactions of each --mix
//	bench_nodes.go    reaching the nodes, the setup, committing it everywhere
//	bench_run.go      sending, following blocks, sampling mempools
//	bench_report.go   the summary and the series over time (pure)
//	bench_html.go     the --report page
//	bench_ceiling.go  the signature-verification limit (--ceiling)

// Bounds of the flags.
const (
	benchDefaultCount = 10_000
	benchMaxCount     = 1_000_000
	benchMaxRate      = 1_000_000
	benchMaxDuration  = 24 * time.Hour
	benchMaxSettle    = 10 * time.Minute
)

// benchOptions are the flags of one run.
type benchOptions struct {
	devnet      string   // --devnet DIR
	nodeFlag    string   // --node, as given
	nodeSet     bool     // --node was given
	nodes       []string // the API URLs to load, resolved by targets
	count       int      // 0: no count limit
	countSet    bool
	duration    time.Duration // 0: no time limit
	rate        int           // offered tx/s; 0: as fast as the nodes take them
	mix         string
	concurrency int
	batch       int // transactions of different senders in one POST
	senders     int
	settle      time.Duration
	report      string // --report FILE.html
	hashes      string // --hashes FILE
	ceiling     bool
	validators  int // N of the ceiling; 0: from the devnet or the node

	limitTPS float64 // the measured verification limit, with --ceiling
}

// check validates the flags; each error names the flag and the problem.
func (o *benchOptions) check() error {
	if o.devnet != "" && o.nodeSet {
		return errors.New("give --devnet DIR or --node URL[,URL...], not both")
	}
	if o.devnet == "" {
		urls, err := parseNodeList(o.nodeFlag)
		if err != nil {
			return err
		}
		o.nodes = urls
	}
	switch {
	case o.countSet && (o.count < 1 || o.count > benchMaxCount):
		return fmt.Errorf("--count %d: want 1 to %d", o.count, benchMaxCount)
	case o.duration < 0 || o.duration > benchMaxDuration:
		return fmt.Errorf("--duration %s: want a positive duration up to %s", o.duration, benchMaxDuration)
	case o.rate < 0 || o.rate > benchMaxRate:
		return fmt.Errorf("--rate %d: want 0 (as fast as the nodes take them) to %d tx/s", o.rate, benchMaxRate)
	case o.concurrency < 1 || o.concurrency > 256:
		return fmt.Errorf("--concurrency %d: want 1 to 256", o.concurrency)
	case o.batch < 1 || o.batch > node.MaxBatchTxs:
		return fmt.Errorf("--batch %d: want 1 (one transaction per request) to %d", o.batch, node.MaxBatchTxs)
	case o.senders < 1 || o.senders > 2000:
		return fmt.Errorf("--senders %d: want 1 to 2000", o.senders)
	case o.settle < 0 || o.settle > benchMaxSettle:
		return fmt.Errorf("--settle %s: want 0 to %s", o.settle, benchMaxSettle)
	case o.validators < 0 || o.validators > 1000:
		return fmt.Errorf("--validators %d: want 1 to 1000 (0: from the devnet or the node)", o.validators)
	}
	if _, err := mixKinds(o.mix); err != nil {
		return err
	}
	if o.report != "" {
		if ext := strings.ToLower(filepath.Ext(o.report)); ext != ".html" && ext != ".htm" {
			return fmt.Errorf("--report %q: the report is an HTML page; name it FILE.html", o.report)
		}
	}
	if !o.countSet && o.duration == 0 {
		o.count = benchDefaultCount
	}
	return nil
}

// parseNodeList reads --node: one URL or several separated by commas.
func parseNodeList(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		u, err := url.Parse(part)
		if part == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--node %q: %q is not a node URL such as http://127.0.0.1:8700", s, part)
		}
		out = append(out, strings.TrimRight(part, "/"))
	}
	return out, nil
}

// devnetNodes returns the API URLs of the devnet in dir: from the
// devnet.json a running `citychain devnet` writes, else from the config
// of each home (node0, node1, ...).
func devnetNodes(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, node.DevnetFile))
	if err == nil {
		var d node.Devnet
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("--devnet %s: read %s: %w", dir, node.DevnetFile, err)
		}
		var urls []string
		for _, n := range d.Nodes {
			if n.API != "" {
				urls = append(urls, n.API)
			}
		}
		if len(urls) == 0 {
			return nil, fmt.Errorf("--devnet %s: %s lists no node", dir, node.DevnetFile)
		}
		return urls, nil
	}
	var urls []string
	for _, home := range node.DevnetHomes(dir) {
		cfg, err := node.LoadConfig(home)
		if err != nil {
			return nil, fmt.Errorf("--devnet %s: %w", dir, err)
		}
		urls = append(urls, "http://"+cfg.API.Listen)
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("--devnet %s: no %s and no node homes there; start one with citychain devnet --dir %s", dir, node.DevnetFile, dir)
	}
	return urls, nil
}

func newBenchCmd(g *globals) *cobra.Command {
	o := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load nodes with signed transactions and report throughput and latency",
		Long: `Send signed transactions to one node (--node URL), several (--node URL,URL,...)
or every node of a devnet (--devnet DIR), follow the blocks, and report what was
submitted, accepted and committed, the committed transactions per second, and
the latency from submission to commit.

Each sender account sends to one node, senders spread over the nodes round
robin (sender i to node i mod N), so that each sender's nonces reach one node in
order. Transactions are signed before the clock starts, so that signing does
not compete with the nodes for the CPU (with --duration and no --rate or
--count, the first 20,000 are; more are signed as they go).

With --batch N (N > 1) each worker posts up to N transactions of different
senders bound for the same node in one request, as a CBOR batch; each is
answered on its own, so refusals are handled as for single ones. The default,
1, posts one transaction per request, as a wallet does.

With --rate R the transactions fall due one every 1/R s. A worker sends the
one that is due and those that fall due in the next 10 ms, up to --batch, in
one request (at 1,000 tx/s, --batch 10 sends ten a request); each is timed from
when it fell due, so that wait counts in its latency. Without --rate each is
timed from the start of its request.

The run ends after --count submissions or --duration, whichever comes first
(--count 10000 when neither is given), then waits up to --settle for the
accepted transactions to be committed.

--mix chooses the transactions, all valid under the dev genesis of "citychain
dev" and "citychain devnet":
  transfer  bank sends of 1 to dev9
  trace     EPCIS ObjectEvent captures (OBSERVE of one EPC per sender); dev0 is
            the genesis trace admin and registers the other senders first
  city      sensor reports, one reading signed by the sender's own device;
            dev0, the genesis city operator, registers the devices first
  mixed     the three in turn

--output json prints one object: offered_tps, committed_tps, submitted, accepted,
rejected, committed, accepted_not_committed, latency_ms {p50, p95, p99, max},
duration_s, blocks, max_block_txs (see docs/benchmarks.md).`,
		Example: `  citychain bench --count 20000
  citychain bench --devnet .devnet --duration 30s --rate 1000 --report bench.html
  citychain bench --node http://127.0.0.1:8700,http://127.0.0.1:8701 --mix mixed --output json
  citychain bench --devnet .devnet --duration 20s --ceiling
  citychain bench --node http://127.0.0.1:8700 --count 30000 --batch 200 --concurrency 8 --senders 2000
  citychain bench ceiling --validators 4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.nodeFlag, o.nodeSet = g.node, cmd.Flags().Changed("node")
			o.countSet = cmd.Flags().Changed("count")
			if err := o.check(); err != nil {
				return err
			}
			if o.devnet != "" {
				urls, err := devnetNodes(o.devnet)
				if err != nil {
					return err
				}
				o.nodes = urls
			}
			return runBenchCmd(cmd, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.devnet, "devnet", "", "load every node of the devnet in DIR (its devnet.json, else its node homes)")
	f.IntVar(&o.count, "count", 0, "submissions to send (default 10000 when --duration is not given)")
	f.DurationVar(&o.duration, "duration", 0, "how long to send (with --count too, whichever ends first)")
	f.IntVar(&o.rate, "rate", 0, "offered transactions per second, over all nodes (0: as fast as the nodes take them)")
	f.StringVar(&o.mix, "mix", "transfer", "transactions to send: transfer, trace, city or mixed")
	f.IntVar(&o.concurrency, "concurrency", 10, "parallel HTTP senders")
	f.IntVar(&o.batch, "batch", 1, "transactions of different senders per request, posted as a CBOR batch when over 1")
	f.IntVar(&o.senders, "senders", 100, "accounts to send from; beyond dev0..dev9 they are made and funded first")
	f.DurationVar(&o.settle, "settle", 30*time.Second, "how long to wait, after sending, for the accepted transactions to be committed")
	f.StringVar(&o.report, "report", "", "write an HTML page with the run's charts to FILE.html")
	f.StringVar(&o.hashes, "hashes", "", "write the hashes of the committed transactions to FILE, one per line")
	f.BoolVar(&o.ceiling, "ceiling", false, "measure the signature-verification limit first and state committed tx/s as a share of it")
	f.IntVar(&o.validators, "validators", 0, "nodes N of the verification limit (default: the devnet's nodes, else the node's validators)")
	cmd.AddCommand(newBenchCeilingCmd(g), newBenchCatchupCmd(g))
	return cmd
}

// runBenchCmd runs the load and prints the report.
func runBenchCmd(cmd *cobra.Command, g *globals, o *benchOptions) error {
	ctx := cmd.Context()
	log := cmd.ErrOrStderr()
	targets, chainID, validators, err := connectTargets(ctx, o.nodes)
	if err != nil {
		return err
	}
	var ceiling *benchCeiling
	if o.ceiling {
		n := o.validators
		switch {
		case n > 0:
		case o.devnet != "":
			n = len(targets)
		default:
			n = validators
		}
		c, err := measureCeiling(n, ceilingVerifications, ceilingTimeLimit)
		if err != nil {
			return err
		}
		ceiling = &c
		o.limitTPS = c.LimitTPS
		fmt.Fprintln(log, c)
	}
	w, err := prepareWorkload(ctx, log, targets, chainID, o)
	if err != nil {
		return err
	}
	rec, err := runLoad(ctx, log, targets, w, o, isTerminal(log))
	if err != nil {
		return err
	}
	r := summarize(rec)
	if o.hashes != "" {
		if err := writeHashes(o.hashes, rec); err != nil {
			return err
		}
	}
	if o.report != "" {
		page, err := benchPage(o, targets, chainID, rec, r, ceiling)
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.report, page, 0o644); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		fmt.Fprintf(log, "report written to %s\n", o.report)
	}
	if ceiling != nil && g.output == "json" {
		fmt.Fprintln(log, ceiling.share(r.CommittedTPS))
	}
	return g.printOut(cmd.OutOrStdout(), r, func(w io.Writer) {
		fmt.Fprintf(w, "submitted %d, accepted %d, committed %d in %.2f s; accepted but not committed: %d\n",
			r.Submitted, r.Accepted, r.Committed, r.DurationS, r.AcceptedNotCommitted)
		fmt.Fprintf(w, "throughput: %.1f committed tx/s (offered %.1f tx/s)\n", r.CommittedTPS, r.OfferedTPS)
		fmt.Fprintf(w, "latency submit->commit: p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms\n",
			r.LatencyMS.P50, r.LatencyMS.P95, r.LatencyMS.P99, r.LatencyMS.Max)
		fmt.Fprintf(w, "blocks: %d, largest %d txs\n", r.Blocks, r.MaxBlockTxs)
		if len(r.Rejected) > 0 {
			fmt.Fprintf(w, "rejected: %v\n", r.Rejected)
		}
		if ceiling != nil {
			fmt.Fprintln(w, ceiling)
			fmt.Fprintln(w, ceiling.share(r.CommittedTPS))
		}
	})
}

// newBenchCeilingCmd is `citychain bench ceiling`: the limit alone.
func newBenchCeilingCmd(g *globals) *cobra.Command {
	var devnet string
	var validators int
	cmd := &cobra.Command{
		Use:   "ceiling",
		Short: "Measure one core's secp256k1 verify time and print the verification limit",
		Long: `Verify the signature of a signed transfer 2,000 times on one core and print the
limit it sets on a network of N nodes sharing this machine's C cores, each node
verifying every transaction once: C / (N x verify time) tx/s.

N is --validators, else the number of nodes of --devnet DIR, else the number of
validators the node at --node reports.`,
		Example: `  citychain bench ceiling --validators 4
  citychain bench ceiling --devnet .devnet --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if validators < 0 || validators > 1000 {
				return fmt.Errorf("--validators %d: want 1 to 1000", validators)
			}
			n := validators
			switch {
			case n > 0:
			case devnet != "":
				urls, err := devnetNodes(devnet)
				if err != nil {
					return err
				}
				n = len(urls)
			default:
				urls, err := parseNodeList(g.node)
				if err != nil {
					return err
				}
				_, _, v, err := connectTargets(cmd.Context(), urls[:1])
				if err != nil {
					return fmt.Errorf("%w (or give --validators N)", err)
				}
				n = v
			}
			c, err := measureCeiling(n, ceilingVerifications, ceilingTimeLimit)
			if err != nil {
				return err
			}
			return g.printOut(cmd.OutOrStdout(), c, func(w io.Writer) { fmt.Fprintln(w, c) })
		},
	}
	cmd.Flags().StringVar(&devnet, "devnet", "", "take N from the devnet in DIR")
	cmd.Flags().IntVar(&validators, "validators", 0, "N, the nodes that each verify every transaction")
	return cmd
}

// writeHashes writes the committed hashes, one per line, in commit order.
func writeHashes(path string, rec *benchRecord) error {
	var b strings.Builder
	for _, h := range committedHashes(rec) {
		b.WriteString(h.String())
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("--hashes: %w", err)
	}
	return nil
}

// isTerminal reports whether w is a terminal, where a progress bar makes
// sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
