package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestBenchCatchupAgainstDevnet runs the real `citychain bench catchup`
// against a real 4-node devnet: the first run finds no transactions,
// sends a few hundred transfers, then times a new full node process
// catching up; a second run finds enough and sends none. Each report
// must agree with the chain as the test reads it from node0, and the new
// node must have stored the same blocks and been stopped cleanly.
// Throughput itself is not asserted.
func TestBenchCatchupAgainstDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	d := startDevnet(t, 4)
	bin := citychainBin(t)

	home := filepath.Join(t.TempDir(), "catchup")
	r := runCatchupJSON(t, "bench", "catchup", "--devnet", d.dir, "--txs", "300", "--node-binary", bin,
		"--home", home, "--timeout", "60s", "--output", "json")
	if r.Submitted == 0 {
		t.Errorf("a fresh devnet holds no transactions, yet none were sent: %+v", r)
	}
	checkCatchupReport(t, d, r, 300, bin)
	log, err := os.ReadFile(filepath.Join(home, "node.log"))
	if err != nil {
		t.Fatalf("the new node's log: %v", err)
	}
	for _, want := range []string{"caught up by block sync", "stopping"} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("the new node's log does not say %q: it did not sync, or was not stopped with SIGINT", want)
		}
	}

	r = runCatchupJSON(t, "bench", "catchup", "--devnet", d.dir, "--txs", "100", "--timeout", "60s", "-o", "json")
	if r.Submitted != 0 {
		t.Errorf("the devnet holds more than 100 transactions, yet %d were sent", r.Submitted)
	}
	self, _ := filepath.Abs(bin)
	checkCatchupReport(t, d, r, 100, self)
}

// runCatchupJSON runs a command that prints one catch-up report and
// decodes it, refusing unknown fields and missing ones.
func runCatchupJSON(t *testing.T, args ...string) catchupReport {
	t.Helper()
	out := run(t, args...)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &fields); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	want := []string{"blocks", "txs", "seconds", "replayed_tps", "blocks_per_s", "api_up_s", "first_block_s",
		"cpu_s", "submitted", "hashes_checked", "hashes_match", "node_binary"}
	for _, f := range want {
		if _, ok := fields[f]; !ok {
			t.Errorf("the report has no %q:\n%s", f, out)
		}
	}
	if len(fields) != len(want) {
		t.Errorf("the report has %d fields, want %d:\n%s", len(fields), len(want), out)
	}
	var r catchupReport
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("decode report: %v\n%s", err, out)
	}
	return r
}

// checkCatchupReport checks a report against the chain node0 holds.
func checkCatchupReport(t *testing.T, d *devnetProc, r catchupReport, minTxs int, bin string) {
	t.Helper()
	if r.Blocks < 1 || r.Blocks > d.height(0) {
		t.Fatalf("blocks %d, but node0 is at height %d", r.Blocks, d.height(0))
	}
	txs := 0
	for h := uint64(1); h <= r.Blocks; h++ {
		b, err := d.nodes[0].Block(context.Background(), fmt.Sprint(h))
		if err != nil {
			t.Fatal(err)
		}
		txs += len(b.Txs)
	}
	if r.Txs != txs || r.Txs < minTxs {
		t.Errorf("txs %d; node0's blocks 1 to %d hold %d, and at least %d were asked for", r.Txs, r.Blocks, txs, minTxs)
	}
	if !r.HashesMatch || r.HashesChecked != int(r.Blocks) {
		t.Errorf("hashes checked %d of %d, match %v", r.HashesChecked, r.Blocks, r.HashesMatch)
	}
	if !(r.APIUpS > 0 && r.APIUpS <= r.FirstBlockS && r.FirstBlockS <= r.Seconds) {
		t.Errorf("want 0 < api_up_s <= first_block_s <= seconds: %+v", r)
	}
	if r.CPUS <= 0 || r.CPUS > r.Seconds*float64(runtime.NumCPU())+0.5 {
		t.Errorf("cpu_s %.2f: want more than 0 and at most %d cores for %.2f s", r.CPUS, runtime.NumCPU(), r.Seconds)
	}
	near := func(got, want float64) bool { return math.Abs(got-want) <= 0.01*want+0.1 }
	if !near(r.ReplayedTPS, float64(r.Txs)/r.Seconds) || !near(r.BlocksPerS, float64(r.Blocks)/r.Seconds) {
		t.Errorf("rates do not follow from the counts and seconds: %+v", r)
	}
	if r.NodeBinary != bin {
		t.Errorf("node_binary %q, want %q", r.NodeBinary, bin)
	}
}
