package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
)

// The fault matrix: each fault is applied to a real 4-validator devnet
// (separate processes, libp2p, Badger) while a bounded stream of signed
// transfers from eight accounts runs, and the same invariants are checked
// after each one. `make test` runs a short subset (a kill, a partition, a
// skewed clock) on one devnet; `make test-faults` (-faults) runs every
// fault on a fresh devnet each and prints the table.

var runAllFaults = flag.Bool("faults", false, "run the whole fault matrix (make test-faults), not only its short subset")

// recoverWithin is the stated bound: after a fault ends, every running
// node commits a new block within it.
const recoverWithin = 30 * time.Second

// faultCase is one row of the matrix. setup, when set, prepares the
// devnet before the transfers start (nothing is sent yet, so a node it
// restarts loses nothing). apply brings the fault about and ends it; it
// returns how long the fault lasted. It names in crashed the nodes it
// killed (their accepted transactions may be lost; acknowledged ones with
// a receipt may not).
type faultCase struct {
	name  string
	short bool
	setup func(t *testing.T, f *faultRun)
	apply func(t *testing.T, f *faultRun) time.Duration
}

// faultRow is what the table prints for one fault. stage names the check
// under way, so that a failure says which one failed; invariants is the
// outcome: "all held", "FAILED: " and that check, or "skipped: " and why.
type faultRow struct {
	name       string
	held       time.Duration
	acked      int
	receipts   int
	found      int
	heights    uint64
	evidence   int
	validators int
	recovery   time.Duration
	stage      string
	skip       string
	invariants string
}

func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	// Beside TestDocsRun, whose devnets mostly wait.
	t.Parallel()
	cases := faultCases()
	var rows []*faultRow
	// The table prints however the faults end, each row with its outcome.
	t.Cleanup(func() { printFaultTable(t, rows) })
	if *runAllFaults {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				row := trackRow(t, c.name, &rows)
				f := newFaultRun(t, startDevnet(t, 4))
				f.run(t, c, row)
			})
		}
		return
	}
	// One devnet for the short subset, the faults one after another;
	// the invariants are checked after each over everything sent so far.
	f := newFaultRun(t, startDevnet(t, 4))
	for _, c := range cases {
		if !c.short {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			f.run(t, c, trackRow(t, c.name, &rows))
		})
	}
}

// trackRow adds a row for the fault to rows and, when the subtest t ends,
// records its outcome in it.
func trackRow(t *testing.T, name string, rows *[]*faultRow) *faultRow {
	r := &faultRow{name: name, stage: "setting up the devnet"}
	*rows = append(*rows, r)
	t.Cleanup(func() {
		switch {
		case t.Skipped():
			r.invariants = "skipped: " + r.skip
		case t.Failed():
			r.invariants = "FAILED: " + r.stage
		default:
			r.invariants = "all held"
		}
	})
	return r
}

func printFaultTable(t *testing.T, rows []*faultRow) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT\tHELD\tACKED\tRECEIPTS\tFOUND\tHEIGHTS\tEVIDENCE\tVALIDATORS\tRECOVERED IN\tINVARIANTS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.1fs\t%d\t%d\t%d\t%d\t%d\t%d\t%.1fs\t%s\n", r.name, r.held.Seconds(), r.acked, r.receipts, r.found, r.heights, r.evidence, r.validators, r.recovery.Seconds(), r.invariants)
	}
	tw.Flush()
	t.Logf("fault matrix (recovery bound %s):\n%s", recoverWithin, b.String())
	if out := os.Getenv("CITYCHAIN_FAULT_TABLE"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Errorf("write %s: %v", out, err)
		}
	}
}

func faultCases() []faultCase {
	return []faultCase{
		{name: "kill -9 a validator, restart", short: true, apply: func(t *testing.T, f *faultRun) time.Duration {
			t0 := time.Now()
			f.ctl(t, "stop", "node3")
			f.crash(3)
			f.progress(t, 2, 0, 1, 2)
			f.ctl(t, "start", "node3")
			return time.Since(t0)
		}},
		{name: "kill -9 the proposer, restart", apply: func(t *testing.T, f *faultRun) time.Duration {
			i := f.proposer(t)
			t0 := time.Now()
			f.ctl(t, "stop", fmt.Sprint(i))
			f.crash(i)
			f.progress(t, 2, f.others(i)...)
			f.ctl(t, "start", fmt.Sprint(i))
			return time.Since(t0)
		}},
		{name: "kill -9 two validators (halt), restart", apply: func(t *testing.T, f *faultRun) time.Duration {
			t0 := time.Now()
			f.ctl(t, "stop", "node1")
			f.ctl(t, "stop", "node2")
			f.crash(1)
			f.crash(2)
			f.halted(t, 0, 3)
			f.ctl(t, "start", "node1")
			f.ctl(t, "start", "node2")
			return time.Since(t0)
		}},
		{name: "SIGSTOP a validator, resume", apply: func(t *testing.T, f *faultRun) time.Duration {
			t0 := time.Now()
			f.ctl(t, "pause", "node2")
			f.progress(t, 3, 0, 1, 3)
			f.ctl(t, "resume", "node2")
			return time.Since(t0)
		}},
		{name: "wipe a validator's data folder", apply: func(t *testing.T, f *faultRun) time.Duration {
			t0 := time.Now()
			f.ctl(t, "stop", "node1")
			f.crash(1)
			guard := readGuard(t, f.d.net.Nodes[1].Home)
			if err := os.RemoveAll(filepath.Join(f.d.net.Nodes[1].Home, node.DataDir)); err != nil {
				t.Fatal(err)
			}
			f.progress(t, 2, 0, 2, 3)
			f.guardHolds(t, 1, guard)
			f.ctl(t, "start", "node1")
			restart := f.d.height(0)
			f.at("the wiped validator resyncs")
			f.d.waitHeight(t, restart, 60*time.Second, 1)
			f.signsAgain(t, 1, restart)
			return time.Since(t0)
		}},
		{name: "partition 1|3, heal", short: true, apply: func(t *testing.T, f *faultRun) time.Duration {
			t0 := time.Now()
			f.ctl(t, "split", "node0")
			f.progress(t, 3, 1, 2, 3)
			h := f.d.height(0)
			time.Sleep(2 * time.Second)
			if h0 := f.d.height(0); h0 > h+1 {
				f.fail(t, "no block without a quorum", "the node cut off alone went on from %d to %d", h, h0)
			}
			f.ctl(t, "heal", "all")
			return time.Since(t0)
		}},
		{name: "partition 2|2 (halt), heal", apply: func(t *testing.T, f *faultRun) time.Duration {
			t0 := time.Now()
			f.ctl(t, "split", "node0,node1")
			f.halted(t, 0, 1, 2, 3)
			f.ctl(t, "heal", "all")
			return time.Since(t0)
		}},
		{name: "clock 8 s ahead", short: true, apply: func(t *testing.T, f *faultRun) time.Duration {
			return f.skewed(t, 2, "8s")
		}},
		{name: "clock 8 s behind", apply: func(t *testing.T, f *faultRun) time.Duration {
			return f.skewed(t, 3, "-8s")
		}},
		{name: "clock 3 min ahead", apply: func(t *testing.T, f *faultRun) time.Duration {
			return f.skewed(t, 2, "3m")
		}},
		{name: "clock 3 min behind", apply: func(t *testing.T, f *faultRun) time.Duration {
			return f.skewed(t, 1, "-3m")
		}},
		{name: "restart every node at once", apply: func(t *testing.T, f *faultRun) time.Duration {
			t0 := time.Now()
			f.ctl(t, "stop", "all")
			for i := range 4 {
				f.crash(i)
			}
			time.Sleep(time.Second)
			f.ctl(t, "start", "all")
			return time.Since(t0)
		}},
		{name: "full disk on a validator", setup: func(t *testing.T, f *faultRun) {
			f.smallDisk(t, 2)
		}, apply: func(t *testing.T, f *faultRun) time.Duration {
			return f.fillDisk(t, 2)
		}},
		{name: "one validator key in two processes", apply: func(t *testing.T, f *faultRun) time.Duration {
			t0 := time.Now()
			offender, err := chain.ParseAddress(f.d.net.Nodes[3].Validator)
			if err != nil {
				t.Fatal(err)
			}
			from := f.d.height(0)
			twin, cl := f.twin(t, 3)
			f.at("the twin catches up")
			waitHeightAPI(t, cl, f.d.height(0), 60*time.Second)
			// Each process has a guard of its own, so only evidence can
			// stop the key: when it is the proposer both propose, each a
			// block of its own mempool and clock, and whoever sees both
			// proposals of the round (the other validators, or the twin
			// itself when it is behind) gossips the evidence. Its turn
			// comes every few heights; runs on a 2-core machine take 13
			// to 27 s, and the bound leaves room for a loaded machine,
			// not for a key that is never caught.
			f.evidenceAgainst(t, offender, from, 180*time.Second)
			f.removed(t, offender, 30*time.Second)
			f.sameAsTwin(t, cl)
			twin.kill()
			return time.Since(t0)
		}},
	}
}

// faultRun is a devnet under a stream of transfers.
type faultRun struct {
	t        *testing.T
	d        *devnetProc
	vals     *chain.ValidatorSet
	genesis  map[chain.Address]uint64
	supply   uint64
	load     *txStream
	crashed  map[int]bool // nodes killed during the current fault
	evidence int          // pieces of evidence in node0's chain
	row      *faultRow    // the current fault's row
}

func newFaultRun(t *testing.T, d *devnetProc) *faultRun {
	t.Helper()
	g, err := chain.LoadGenesis(filepath.Join(d.net.Nodes[0].Home, node.GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	var bal struct {
		Balances []struct {
			Address chain.Address `json:"address"`
			Amount  uint64        `json:"amount"`
		} `json:"balances"`
	}
	if err := json.Unmarshal(g.AppState["bank"], &bal); err != nil {
		t.Fatalf("genesis bank state: %v", err)
	}
	f := &faultRun{t: t, d: d, genesis: map[chain.Address]uint64{}}
	if f.vals, err = g.ValidatorSet(); err != nil {
		t.Fatalf("genesis validators: %v", err)
	}
	for _, a := range bal.Balances {
		f.genesis[a.Address] += a.Amount
		f.supply += a.Amount
	}
	d.waitHeight(t, 1, 30*time.Second, 0, 1, 2, 3)
	return f
}

// run applies one fault under load, checks the invariants after it and
// fills in row.
func (f *faultRun) run(t *testing.T, c faultCase, row *faultRow) {
	t.Helper()
	f.row = row
	f.crashed = map[int]bool{}
	if c.setup != nil {
		f.at("setting up the fault")
		c.setup(t, f)
	}
	f.load = startTxStream(f.d, 8, 100*time.Millisecond)
	t.Cleanup(func() { f.load.stop() })
	// A few seconds of normal running first, so that the fault lands on
	// a chain that is busy.
	time.Sleep(2 * time.Second)
	f.at("the fault's own checks")
	row.held = c.apply(t, f)
	end := time.Now()
	f.at("recovered within " + recoverWithin.String())
	row.recovery = f.recovered(t, end)
	// Keep sending a little after the recovery, then stop and let every
	// accepted transaction reach a block.
	time.Sleep(2 * time.Second)
	acks := f.load.stop()
	row.acked = len(acks)
	for _, a := range acks {
		if a.receipt {
			row.receipts++
		}
	}
	row.found, row.heights = f.check(t, acks)
	row.evidence = f.evidence
	var vv node.ValidatorsView
	if err := f.d.nodes[0].Get(context.Background(), "/v1/validators", &vv); err != nil {
		t.Fatal(err)
	}
	row.validators = len(vv.Validators)
}

// at names the check under way in the current row: if the fault fails
// from here on, this is the check the table says failed.
func (f *faultRun) at(check string) { f.row.stage = check }

// fail records check as the one that failed and ends the fault.
func (f *faultRun) fail(t *testing.T, check, format string, args ...any) {
	t.Helper()
	f.at(check)
	t.Fatalf(format, args...)
}

// skip ends the fault as skipped, for reason.
func (f *faultRun) skip(t *testing.T, reason string) {
	t.Helper()
	f.row.skip = reason
	t.Skip(reason)
}

func (f *faultRun) crash(i int) { f.crashed[i] = true }

func (f *faultRun) ctl(t *testing.T, action, name string) {
	t.Helper()
	if out, ok := f.d.ctl(t, action, name); !ok {
		t.Fatalf("devnet ctl %s %s: %s", action, name, out)
	}
}

func (f *faultRun) others(i int) []int {
	var o []int
	for j := range 4 {
		if j != i {
			o = append(o, j)
		}
	}
	return o
}

// progress waits until the listed nodes commit n more blocks.
func (f *faultRun) progress(t *testing.T, n uint64, nodes ...int) {
	t.Helper()
	h := f.d.height(nodes[0])
	f.d.waitHeight(t, h+n, recoverWithin, nodes...)
}

// halted checks that the listed nodes make no progress for 5 s (a block
// already in flight may still finish first).
func (f *faultRun) halted(t *testing.T, nodes ...int) {
	t.Helper()
	time.Sleep(2 * time.Second)
	before := make([]uint64, len(nodes))
	for k, i := range nodes {
		before[k] = f.d.height(i)
	}
	time.Sleep(5 * time.Second)
	for k, i := range nodes {
		if h := f.d.height(i); h > before[k] {
			f.fail(t, "no block without a quorum", "without a quorum node%d went on from %d to %d", i, before[k], h)
		}
	}
}

// proposer finds the devnet node that proposes the round node0 is in.
func (f *faultRun) proposer(t *testing.T) int {
	t.Helper()
	var v node.ValidatorsView
	if err := f.d.nodes[0].Get(context.Background(), "/v1/validators", &v); err != nil {
		t.Fatal(err)
	}
	if v.Consensus == nil {
		t.Fatal("node0 shows no consensus state")
	}
	for i, nd := range f.d.net.Nodes {
		if nd.Validator == v.Consensus.Proposer.String() {
			return i
		}
	}
	t.Fatalf("proposer %s is not a devnet node", v.Consensus.Proposer)
	return -1
}

// recovered waits until every node commits a block started after end,
// and returns how long that took.
func (f *faultRun) recovered(t *testing.T, end time.Time) time.Duration {
	t.Helper()
	all := []int{0, 1, 2, 3}
	for _, i := range all {
		f.d.waitAPI(t, i, 30*time.Second)
	}
	start := make([]uint64, 4)
	for _, i := range all {
		start[i] = f.d.height(i)
	}
	top := max(start[0], start[1], start[2], start[3])
	deadline := end.Add(recoverWithin)
	for {
		ok := true
		for _, i := range all {
			if f.d.height(i) <= top {
				ok = false
			}
		}
		if ok {
			return time.Since(end)
		}
		if time.Now().After(deadline) {
			out, _ := f.d.ctl(t, "status")
			t.Fatalf("not every node committed a new block within %s of the fault's end:\n%s", recoverWithin, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
