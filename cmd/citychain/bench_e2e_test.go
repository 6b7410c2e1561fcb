package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchAgainstDevnet runs the real `citychain bench` against a real
// 4-node devnet, one transaction per request and then in batches, and
// checks that each report can be trusted: every field is there, the
// counts are consistent, nothing accepted is left uncommitted, and every
// transaction it says is committed is in a block on every node.
// Throughput itself is not asserted.
func TestBenchAgainstDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	d := startDevnet(t, 4)
	t.Run("one per request", func(t *testing.T) {
		before := postsTo(t, d)
		r := checkBenchRun(t, d, "--duration", "4s", "--rate", "200")
		if posts := postsTo(t, d) - before; posts < r.Submitted {
			t.Errorf("%d POST /v1/txs for %d submissions, want one each", posts, r.Submitted)
		}
	})
	// Up to 50 transactions of different senders in one request: each
	// batch holds what falls due within benchHold of its first, at 400
	// tx/s four or five (more when the client falls behind).
	t.Run("batches", func(t *testing.T) {
		before := postsTo(t, d)
		r := checkBenchRun(t, d, "--duration", "4s", "--rate", "400", "--batch", "50", "--senders", "200", "--concurrency", "4")
		if posts := postsTo(t, d) - before; posts*3 > r.Submitted {
			t.Errorf("%d POST /v1/txs for %d submissions: batches of fewer than three on average", posts, r.Submitted)
		}
	})
}

// postsTo sums the POST /v1/txs requests every node of the devnet has
// answered, from its citychain_http_requests_total.
func postsTo(t *testing.T, d *devnetProc) int {
	t.Helper()
	total := 0
	for _, n := range d.net.Nodes {
		resp, err := http.Get(n.API + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "citychain_http_requests_total{") && strings.Contains(line, `route="txs_post"`) {
				var v float64
				if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err != nil {
					t.Fatalf("metrics line %q: %v", line, err)
				}
				total += int(v)
			}
		}
	}
	return total
}

// checkBenchRun runs the bench against the devnet with args and checks
// its report and the chain against each other.
func checkBenchRun(t *testing.T, d *devnetProc, args ...string) benchReport {
	t.Helper()
	tmp := t.TempDir()
	hashesFile, page := filepath.Join(tmp, "hashes.txt"), filepath.Join(tmp, "bench.html")
	out := run(t, append(append([]string{"bench", "--devnet", d.dir}, args...), "--output", "json",
		"--hashes", hashesFile, "--report", page)...)

	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &fields); err != nil {
		t.Fatalf("bench output is not one JSON object: %v\n%s", err, out)
	}
	for _, f := range []string{"offered_tps", "committed_tps", "submitted", "accepted", "rejected", "committed",
		"accepted_not_committed", "latency_ms", "duration_s", "blocks", "max_block_txs"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("the report has no %q:\n%s", f, out)
		}
	}
	if len(fields) != 11 {
		t.Errorf("the report has %d fields, want exactly 11:\n%s", len(fields), out)
	}
	var r benchReport
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("decode report: %v", err)
	}
	var lat map[string]float64
	if err := json.Unmarshal(fields["latency_ms"], &lat); err != nil || len(lat) != 4 {
		t.Fatalf("latency_ms = %s (%v), want p50, p95, p99, max", fields["latency_ms"], err)
	}
	if r.Submitted == 0 || r.Committed == 0 {
		t.Fatalf("nothing sent or committed:\n%s", out)
	}
	if !(r.Committed <= r.Accepted && r.Accepted <= r.Submitted) {
		t.Errorf("want committed <= accepted <= submitted:\n%s", out)
	}
	if r.AcceptedNotCommitted != 0 || r.AcceptedNotCommitted != r.Accepted-r.Committed {
		t.Errorf("accepted_not_committed = %d, want 0 = accepted - committed:\n%s", r.AcceptedNotCommitted, out)
	}
	rejected := 0
	for _, n := range r.Rejected {
		rejected += n
	}
	if r.Accepted+rejected != r.Submitted {
		t.Errorf("accepted + rejected != submitted:\n%s", out)
	}
	if !(r.LatencyMS.P50 > 0 && r.LatencyMS.P50 <= r.LatencyMS.P95 && r.LatencyMS.P95 <= r.LatencyMS.P99 && r.LatencyMS.P99 <= r.LatencyMS.Max) {
		t.Errorf("latency percentiles out of order: %+v", r.LatencyMS)
	}
	if r.Blocks < 1 || r.MaxBlockTxs < 1 || r.DurationS <= 0 || r.OfferedTPS <= 0 || r.CommittedTPS <= 0 {
		t.Errorf("empty figures:\n%s", out)
	}

	b, err := os.ReadFile(hashesFile)
	if err != nil {
		t.Fatal(err)
	}
	hashes := strings.Fields(string(b))
	if len(hashes) != r.Committed {
		t.Fatalf("%d hashes written, %d committed", len(hashes), r.Committed)
	}
	// Every committed transaction is in a block on every node (a node may
	// be a block behind the one the bench followed: wait a little).
	deadline := time.Now().Add(20 * time.Second)
	for i, cl := range d.nodes {
		for _, h := range hashes {
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				tv, err := cl.Tx(ctx, h)
				cancel()
				if err == nil && tv.Status != "pending" {
					if tv.Status != "ok" || tv.Height == 0 {
						t.Fatalf("node%d: tx %s has status %s (%s) at height %d", i, h, tv.Status, tv.Error, tv.Height)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("node%d: committed tx %s is not in a block: %v %+v", i, h, err, tv)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}

	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "<svg") || strings.Contains(string(html), "<script") {
		t.Errorf("the report page is not the self-contained SVG page")
	}
	return r
}
