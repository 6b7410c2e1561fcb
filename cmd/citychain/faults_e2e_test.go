package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
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
			guard := readGuard(t, filepath.Join(f.d.net.Nodes[1].Home, node.SignStateFile))
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
			waitClientHeight(t, cl, f.d.height(0), 60*time.Second)
			// Each process has a guard of its own, so only evidence can
			// stop the key: when it is the proposer both propose, each a
			// block of its own mempool and clock, and the other
			// validators see two proposals for one round.
			f.evidenceAgainst(t, offender, from, 90*time.Second)
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

// skewed restarts node i with its clock moved by skew for a while, then
// restarts it with the right clock. It checks that block times never go
// backwards and that the chain goes on meanwhile.
func (f *faultRun) skewed(t *testing.T, i int, skew string) time.Duration {
	t.Helper()
	t0 := time.Now()
	f.ctl(t, "stop", fmt.Sprint(i))
	f.crash(i)
	p := f.d.startNodeEnv(t, i, node.EnvClockSkew+"="+skew)
	// Long enough for the skewed node to propose at least once (a round
	// robin of four) and to vote on the others' blocks.
	f.progress(t, 8, f.others(i)...)
	f.d.waitHeight(t, f.d.height(0)-1, recoverWithin, i)
	p.kill()
	f.ctl(t, "start", fmt.Sprint(i))
	return time.Since(t0)
}

// twin starts a second process with node i's validator key: a copy of
// its home with its own data, peer key, ports and an empty double-sign
// guard, so the two sign independently.
func (f *faultRun) twin(t *testing.T, i int) (*proc, *client.Client) {
	t.Helper()
	src := f.d.net.Nodes[i].Home
	home := filepath.Join(t.TempDir(), "twin")
	port := freeBasePort(t, 1)
	run(t, "init", "--home", home, "--moniker", "twin", "--base-port", fmt.Sprint(port),
		"--genesis", filepath.Join(src, node.GenesisFile), "--bootstrap", f.d.net.Nodes[(i+1)%4].P2P)
	for _, name := range []string{"validator_key.json", "keystore"} {
		if err := os.RemoveAll(filepath.Join(home, name)); err != nil {
			t.Fatal(err)
		}
		if err := copyTree(filepath.Join(src, name), filepath.Join(home, name)); err != nil {
			t.Fatalf("copy %s: %v", name, err)
		}
	}
	p := startProc(t, port, "node", "--home", home)
	return p, client.New(fmt.Sprintf("http://127.0.0.1:%d", port))
}

// waitClientHeight waits until the node behind cl reaches height h.
func waitClientHeight(t *testing.T, cl *client.Client, h uint64, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := cl.Status(ctx)
		cancel()
		if err == nil && st.Height >= h {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %s node did not reach height %d within %s (%v)", "twin", h, limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// smallDisk puts node i's data folder on a small disk of its own (a
// 256 MiB tmpfs, so it needs root) and makes the node keep 64 MiB of it
// free.
func (f *faultRun) smallDisk(t *testing.T, i int) {
	t.Helper()
	if os.Geteuid() != 0 {
		f.skip(t, "a full disk is made with a tmpfs mount, which needs root")
	}
	name := fmt.Sprint(i)
	home := f.d.net.Nodes[i].Home
	data := filepath.Join(home, node.DataDir)
	f.ctl(t, "stop", name)
	moved := data + ".moved"
	if err := os.Rename(data, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", data).CombinedOutput(); err != nil {
		f.skip(t, fmt.Sprintf("cannot mount a tmpfs for the full disk: %v %s", err, bytes.TrimSpace(out)))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", data).Run() })
	if err := copyTree(moved, data); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(home, "config.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil || !strings.Contains(string(cfg), "min_free_mb = 0") {
		t.Fatalf("config.toml has no min_free_mb = 0 to change (%v)", err)
	}
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(cfg), "min_free_mb = 0", "min_free_mb = 64", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	f.ctl(t, "start", name)
	f.d.waitHeight(t, f.d.height(0), recoverWithin, i)
}

// fillDisk fills node i's small disk under load and checks that the node
// stops cleanly, that a start on the full disk waits, and that the node
// carries on once space is back. The stop is not a crash: whatever the
// node accepted before it stopped must reach the chain.
func (f *faultRun) fillDisk(t *testing.T, i int) time.Duration {
	t.Helper()
	name := fmt.Sprint(i)
	home := f.d.net.Nodes[i].Home
	data := filepath.Join(home, node.DataDir)
	t0 := time.Now()
	free, err := node.FreeMB(data)
	if err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(data, "filler")
	if out, err := exec.Command("fallocate", "-l", fmt.Sprintf("%dM", free-40), filler).CombinedOutput(); err != nil {
		t.Fatalf("fallocate: %v %s", err, out)
	}
	// The node stops by itself, cleanly, while the others go on.
	f.at("a clean stop on a full disk")
	f.d.waitView(t, "node"+name+" stopped by the full disk", 10*time.Second, func(v node.DevnetView) bool {
		return state(v, "node"+name).State == "exited"
	})
	f.progress(t, 2, f.others(i)...)
	logPath := filepath.Join(home, "node.log")
	if b, _ := os.ReadFile(logPath); !strings.Contains(string(b), "stopping cleanly before the store runs out of space") {
		f.fail(t, "a clean stop on a full disk", "node%s's log does not say why it stopped", name)
	}
	// Started on the full disk, it waits for space rather than open
	// its store; once space is back it starts and catches up.
	f.ctl(t, "start", name)
	time.Sleep(2 * time.Second)
	f.at("a start on a full disk waits")
	if b, _ := os.ReadFile(logPath); !strings.Contains(string(b), "waiting for disk space") {
		f.fail(t, "a start on a full disk waits", "node%s started on a full disk without waiting for space", name)
	}
	if h := f.d.height(i); h != 0 {
		f.fail(t, "a start on a full disk waits", "node%s serves its API (height %d) on a full disk", name, h)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	f.at("a start once space is back")
	f.d.waitHeight(t, f.d.height(0), recoverWithin, i)
	return time.Since(t0)
}

// readGuard reads a validator's double-sign guard file.
func readGuard(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the validator's double-sign guard: %v", err)
	}
	if _, err := consensus.DecodeDoubleSignGuard(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// guardHolds checks node i's double-sign guard after its data folder was
// wiped. The guard lives in the home, beside the data folder, so the wipe
// must leave it as it was (before). Then the node is started cut off from
// everyone (no bootstrap peers, libp2p on ports nobody dials), with an
// empty chain: it starts at height 1 and, alone, times out round after
// round, asking its signer for votes far below what it signed before the
// wipe. The guard must refuse every one of them and stay as it was; a
// guard lost or reset would sign them, and a validator that does so
// while its peers are at the same heights equivocates.
func (f *faultRun) guardHolds(t *testing.T, i int, before []byte) {
	t.Helper()
	const check = "the wiped validator's guard holds"
	home := f.d.net.Nodes[i].Home
	path := filepath.Join(home, node.SignStateFile)
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, before) {
		f.fail(t, check, "the wipe of %s took the double-sign guard with it (%v)", node.DataDir, err)
	}
	g, _ := consensus.DecodeDoubleSignGuard(before)
	cfgPath := filepath.Join(home, "config.toml")
	orig, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := os.WriteFile(cfgPath, orig, 0o600); err != nil {
			t.Errorf("restore %s: %v", cfgPath, err)
		}
	}()
	cfg, err := node.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	port := freeBasePort(t, 1) + 1000
	cfg.P2P.Bootstrap = nil
	cfg.P2P.Listen = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)}
	if err := cfg.Save(home); err != nil {
		t.Fatal(err)
	}
	p := f.d.startNodeEnv(t, i)
	refused := false
	for deadline := time.Now().Add(20 * time.Second); !refused && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		refused = strings.Contains(p.output(), "refused to sign")
	}
	p.kill()
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, before) {
		got := "unreadable"
		if g2, err := consensus.DecodeDoubleSignGuard(after); err == nil {
			got = fmt.Sprintf("a prevote at height %d and a precommit at height %d", g2.Prevote.Height, g2.Precommit.Height)
		}
		f.fail(t, check, "alone on a wiped folder, node%d signed again below its last precommit at height %d: its guard now holds %s (%v)",
			i, g.Precommit.Height, got, err)
	}
	if !refused {
		f.fail(t, check, "alone on a wiped folder, node%d never asked to sign within 20 s, so its guard was not put to the test:\n%s", i, p.output())
	}
}

// signsAgain checks that node i, back after a wipe, takes its place
// again: its precommit is in the commit of a block above height from
// within recoverWithin.
func (f *faultRun) signsAgain(t *testing.T, i int, from uint64) {
	t.Helper()
	v, err := chain.ParseAddress(f.d.net.Nodes[i].Validator)
	if err != nil {
		t.Fatal(err)
	}
	next := from + 1
	for deadline := time.Now().Add(recoverWithin); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for ; next <= f.d.height(0); next++ {
			if signedBy(t, f.d, next, v) {
				return
			}
		}
	}
	f.fail(t, "the wiped validator signs again", "node%d's precommit is in no commit of heights %d to %d", i, from+1, next-1)
}

// evidenceAgainst waits until a block of node0's chain above height from
// carries evidence against offender, and logs it.
func (f *faultRun) evidenceAgainst(t *testing.T, offender chain.Address, from uint64, limit time.Duration) {
	t.Helper()
	const check = "evidence against the twin key committed"
	f.at(check)
	ctx := context.Background()
	next := from + 1
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		for ; next <= f.d.height(0); next++ {
			b, err := f.d.nodes[0].Block(ctx, fmt.Sprint(next))
			if err != nil {
				t.Fatalf("node0 block %d: %v", next, err)
			}
			for _, ev := range b.Evidence {
				if ev.Offender == offender {
					t.Logf("block %d carries %s evidence against %s (offence at %d/%d)", next, ev.Kind, offender, ev.Height, ev.Round)
					return
				}
			}
		}
	}
	f.fail(t, check, "no block from height %d to %d carries evidence against %s, which signed in two processes for %s", from+1, next-1, offender, limit)
}

// removed waits until node0's validator set no longer lists v.
func (f *faultRun) removed(t *testing.T, v chain.Address, limit time.Duration) {
	t.Helper()
	const check = "the twin key removed by its evidence"
	f.at(check)
	for deadline := time.Now().Add(limit); ; time.Sleep(500 * time.Millisecond) {
		var vv node.ValidatorsView
		err := f.d.nodes[0].Get(context.Background(), "/v1/validators", &vv)
		if err == nil && !slices.ContainsFunc(vv.Validators, func(x chain.Validator) bool { return x.Address == v }) {
			return
		}
		if time.Now().After(deadline) {
			f.fail(t, check, "%s is still a validator %s after the evidence against it (%v)", v, limit, err)
		}
	}
}

// sameAsTwin checks that the twin process committed the same block as
// node0 at every height both have: two processes with one key must not
// have led any node to commit a second block for a height.
func (f *faultRun) sameAsTwin(t *testing.T, cl *client.Client) {
	t.Helper()
	const check = "no height with two blocks"
	f.at(check)
	ctx := context.Background()
	st, err := cl.Status(ctx)
	if err != nil {
		t.Fatalf("the twin's status: %v", err)
	}
	top := min(st.Height, f.d.height(0))
	for h := uint64(1); h <= top; h++ {
		a, err := f.d.nodes[0].Block(ctx, fmt.Sprint(h))
		if err != nil {
			t.Fatalf("node0 block %d: %v", h, err)
		}
		b, err := cl.Block(ctx, fmt.Sprint(h))
		if err != nil {
			t.Fatalf("the twin's block %d: %v", h, err)
		}
		if a.Hash != b.Hash || a.StateRoot != b.StateRoot {
			f.fail(t, check, "FORK at height %d: node0 has %s/%s, the twin %s/%s", h, a.Hash, a.StateRoot, b.Hash, b.StateRoot)
		}
	}
}

func copyTree(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(to, info.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, info.Mode().Perm())
	})
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

// The invariants, as the table names the one that failed.
const (
	invCommitted = "acknowledged txs committed"
	invSameChain = "same hash and state root"
	invCommits   = "commits > 2/3 valid"
	invTimes     = "block times"
	invOnce      = "txs once"
	invSupply    = "supply"
)

// timeSlack is what the future bound on block times allows beyond
// node.MaxClockDrift: the milliseconds between a block's proposal and the
// votes on it, and between the test's clock and the nodes' (one machine).
const timeSlack = 2 * time.Second

// check verifies the invariants on every node:
//   - every node has the same block hash and state root at every height;
//   - every block's commit holds valid precommits of more than 2/3 of
//     the power of the validator set that signs its height;
//   - block times increase, and none is later than the wall clock at
//     the check plus node.MaxClockDrift (and timeSlack): no quorum of
//     honest clocks accepts a block from further in the future;
//   - every transaction with a receipt, or accepted by a node that did
//     not crash, is in the chain exactly once on every node, and no
//     transaction is in it twice;
//   - the balances of every account add up to the supply of genesis.
//
// Each check names itself in the row before it can fail.
func (f *faultRun) check(t *testing.T, acks []ack) (found int, heights uint64) {
	t.Helper()
	all := []int{0, 1, 2, 3}
	ctx := context.Background()
	sets := f.knownSets(t)
	// Wait for the accepted transactions to be committed (bounded).
	f.at(invCommitted)
	must := map[chain.Hash]bool{}
	for _, a := range acks {
		if a.receipt || !f.crashed[a.node] {
			must[a.hash] = true
		}
	}
	// The wait goes on, for up to 20 s, until every mempool is empty, so
	// that "found" counts the excused transactions that still made it
	// into the chain too.
	deadline, quietBy := time.Now().Add(60*time.Second), time.Now().Add(20*time.Second)
	var seen map[chain.Hash]int
	for {
		pooled := f.pooled(all)
		top := f.d.height(0)
		f.at(invCommitted)
		f.d.waitHeight(t, top, recoverWithin, all...)
		seen = f.scan(t, 0, top, sets)
		var missing []chain.Hash
		for h := range must {
			if seen[h] == 0 {
				missing = append(missing, h)
			}
		}
		if len(missing) == 0 && (pooled == 0 || time.Now().After(quietBy)) {
			if pooled != 0 {
				t.Logf("the mempools were not seen empty within 20 s of the load's end (%d pooled; -1: a node did not answer)", pooled)
			}
			heights = top
			break
		}
		if time.Now().After(deadline) {
			f.fail(t, invCommitted, "%d of %d acknowledged transactions are not in the chain after 60 s, e.g. %s", len(missing), len(must), missing[0])
		}
		time.Sleep(time.Second)
	}
	// Every node the same, block by block.
	f.at(invSameChain)
	f.d.checkSameChain(t, all...)
	for _, i := range all[1:] {
		other := f.scan(t, i, heights, sets)
		for h, n := range seen {
			if other[h] != n {
				f.fail(t, invOnce, "tx %s is %d times in node0's chain and %d times in node%d's", h, n, other[h], i)
			}
		}
	}
	for h, n := range seen {
		if n > 1 {
			f.fail(t, invOnce, "tx %s is %d times in the chain", h, n)
		}
	}
	for _, a := range acks {
		if seen[a.hash] == 1 {
			found++
		}
	}
	// Supply: the accounts of genesis hold it all, no more, no less.
	f.at(invSupply)
	var sup bank.SupplyAnswer
	if err := f.d.nodes[0].Get(ctx, "/v1/apps/bank/supply", &sup); err != nil {
		t.Fatal(err)
	}
	sum, at := f.balances(t)
	if sup.Supply != f.supply || sum != f.supply {
		f.fail(t, invSupply, "supply: genesis %d, the bank says %d, the balances at height %d add up to %d", f.supply, sup.Supply, at, sum)
	}
	return found, heights
}

// balances adds up node0's balances of the genesis accounts, all read at
// one height. Transactions the nodes accepted may still be committing
// after the load stops (the check waits only for those it must find), and
// a transfer committed between two reads would count its amount twice or
// not at all; so the accounts are read again until one pass sees a
// single height (each answer names the height it was read at).
func (f *faultRun) balances(t *testing.T) (sum, height uint64) {
	t.Helper()
	ctx := context.Background()
	for try := 0; try < 50; try++ {
		sum, height = 0, 0
		same := true
		for a := range f.genesis {
			acct, err := f.d.nodes[0].Account(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			if height == 0 {
				height = acct.Height
			}
			same = same && acct.Height == height
			sum += acct.Balance
		}
		if same {
			return sum, height
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.fail(t, invSupply, "node0's chain moved during each of 50 passes over the %d genesis accounts", len(f.genesis))
	return 0, 0
}

// pooled adds up the transactions waiting in the listed nodes' mempools.
func (f *faultRun) pooled(nodes []int) int {
	n := 0
	for _, i := range nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := f.d.nodes[i].Status(ctx)
		cancel()
		if err != nil {
			return -1 // not known: not quiet
		}
		n += st.MempoolTxs
	}
	return n
}

// knownSets returns the validator sets a block of the run may be signed
// by: genesis's and the one node0 has now (they differ once evidence has
// removed a validator).
func (f *faultRun) knownSets(t *testing.T) []*chain.ValidatorSet {
	t.Helper()
	var vv node.ValidatorsView
	if err := f.d.nodes[0].Get(context.Background(), "/v1/validators", &vv); err != nil {
		t.Fatal(err)
	}
	now, err := chain.NewValidatorSet(vv.Validators)
	if err != nil {
		t.Fatalf("node0's validator set: %v", err)
	}
	return []*chain.ValidatorSet{f.vals, now}
}

// scan reads node i's blocks 1..top: it checks each block's commit and
// time, and counts each transaction hash.
func (f *faultRun) scan(t *testing.T, i int, top uint64, sets []*chain.ValidatorSet) map[chain.Hash]int {
	t.Helper()
	ctx := context.Background()
	seen := map[chain.Hash]int{}
	evidence := 0
	var last time.Time
	now := time.Now()
	future := now.Add(node.MaxClockDrift + timeSlack)
	for h := uint64(1); h <= top; h++ {
		b, err := f.d.nodes[i].Block(ctx, fmt.Sprint(h))
		if err != nil {
			t.Fatalf("node%d block %d: %v", i, h, err)
		}
		if !b.Time.After(last) {
			f.fail(t, invTimes, "node%d block %d: time %s is not after the block before's %s", i, h, b.Time, last)
		}
		if b.Time.After(future) {
			f.fail(t, invTimes, "node%d block %d: time %s is %s ahead of the wall clock, more than %s", i, h,
				b.Time, b.Time.Sub(now).Round(time.Millisecond), node.MaxClockDrift+timeSlack)
		}
		last = b.Time
		if err := verifyCommitView(b, sets...); err != nil {
			f.fail(t, invCommits, "node%d: %v", i, err)
		}
		for _, tx := range b.Txs {
			seen[tx.Hash]++
		}
		evidence += len(b.Evidence)
	}
	if i == 0 {
		f.evidence = evidence
	}
	return seen
}

// ack is a transaction a node accepted: with a receipt when it waited
// for the commit.
type ack struct {
	hash    chain.Hash
	node    int
	receipt bool
}

// txStream sends transfers from dev accounts 0..n-1, each account always
// through the same node (account k through node k mod 4), so that no two
// nodes ever hold different transactions with one nonce. It is bounded:
// at most maxPerSender transactions per account.
type txStream struct {
	d     *devnetProc
	stopc chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
	mu    sync.Mutex
	acks  []ack
}

const maxPerSender = 3000

func startTxStream(d *devnetProc, senders int, every time.Duration) *txStream {
	s := &txStream{d: d, stopc: make(chan struct{})}
	to := node.DevAccounts()[9].Address.String()
	for k := 0; k < senders; k++ {
		s.wg.Add(1)
		go func() { // ends at stop or after maxPerSender transfers
			defer s.wg.Done()
			key := node.DevKey(k)
			from := chain.AddressOf(key.PublicKey())
			i := k % 4
			tick := time.NewTicker(every)
			defer tick.Stop()
			for n := 0; n < maxPerSender; n++ {
				select {
				case <-s.stopc:
					return
				case <-tick.C:
				}
				cl := s.d.nodes[i]
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				acct, err := cl.Account(ctx, from)
				cancel()
				if err != nil {
					continue // the node is down, paused or cut off: try later
				}
				p, _ := chain.EncodePayload(map[string]any{"to": to, "amount": 1})
				tx := &chain.Tx{ChainID: node.DevnetChainID, App: "bank", Action: "send", Payload: p, Nonce: acct.PendingNonce}
				tx.Sign(key)
				wait := n%10 == 9
				limit := 3 * time.Second
				if wait {
					limit = 20 * time.Second
				}
				ctx, cancel = context.WithTimeout(context.Background(), limit)
				ans, err := cl.Submit(ctx, tx, wait)
				cancel()
				if err != nil {
					continue
				}
				a := ack{hash: ans.Hash, node: i}
				if wait && ans.Receipt != nil && ans.Receipt.Status == chain.StatusOK {
					a.receipt = true
				}
				s.mu.Lock()
				s.acks = append(s.acks, a)
				s.mu.Unlock()
			}
		}()
	}
	return s
}

// stop ends the stream and returns what the nodes accepted. It may be
// called more than once.
func (s *txStream) stop() []ack {
	s.once.Do(func() { close(s.stopc) })
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acks
}

// startNodeEnv starts node i of the devnet outside its supervisor, with
// extra environment variables; the test's cleanup kills it.
func (d *devnetProc) startNodeEnv(t testing.TB, i int, env ...string) *proc {
	t.Helper()
	api := d.net.Nodes[i].API
	port := 0
	if _, err := fmt.Sscanf(api[strings.LastIndex(api, ":")+1:], "%d", &port); err != nil {
		t.Fatalf("api %q: %v", api, err)
	}
	p := startProcEnv(t, port, env, "node", "--home", d.net.Nodes[i].Home)
	return p
}
