package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
)

func TestBenchPercentile(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(i + 1)
	}
	cases := []struct {
		name   string
		values []float64
		p      float64
		want   float64
	}{
		{"no values", nil, 50, 0},
		{"one value is every percentile", []float64{7}, 99, 7},
		{"p50 of 1..100", hundred, 50, 50},
		{"p95 of 1..100", hundred, 95, 95},
		{"p99 of 1..100", hundred, 99, 99},
		{"max of 1..100", hundred, 100, 100},
		{"p50 of four is the second", []float64{10, 20, 30, 40}, 50, 20},
		{"p99 of four is the last", []float64{10, 20, 30, 40}, 99, 40},
		{"p0 is the first", []float64{10, 20}, 0, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := percentile(c.values, c.p); got != c.want {
				t.Fatalf("percentile(%v, %v) = %v, want %v", c.values, c.p, got, c.want)
			}
		})
	}
}

// at returns the instant ms milliseconds after t0.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// A run of four seconds: 5 accepted, 4 committed, 2 refusals.
func sampleRecord() *benchRecord {
	h := func(b byte) chain.Hash { return chain.Sum([]byte{b}) }
	return &benchRecord{
		Start: at(0), SendEnd: at(4000), Submitted: 8, PerSecond: []int{2, 2, 2, 2},
		Rejected: map[string]int{"mempool_full": 2, "network": 1},
		Accepted: []benchTx{
			{Hash: h(1), Sent: at(0), Committed: at(100)},
			{Hash: h(2), Sent: at(1000), Committed: at(1300)},
			{Hash: h(3), Sent: at(2000), Committed: at(2200)},
			{Hash: h(4), Sent: at(3000), Committed: at(5000)}, // last commit: duration 5 s
			{Hash: h(5), Sent: at(3500)},                      // never committed
		},
		Blocks: []benchBlock{
			{Height: 10, Seen: at(100), Txs: 3, Ours: 1},
			{Height: 11, Seen: at(700), Txs: 9, Ours: 0}, // someone else's: not counted
			{Height: 12, Seen: at(1300), Txs: 2, Ours: 1},
			{Height: 13, Seen: at(2200), Txs: 5, Ours: 1},
			{Height: 14, Seen: at(5000), Txs: 1, Ours: 1},
		},
	}
}

func TestBenchSummary(t *testing.T) {
	r := summarize(sampleRecord())
	want := benchReport{
		OfferedTPS:           2,   // 8 submissions in 4 s of sending
		CommittedTPS:         0.8, // 4 committed in 5 s to the last commit
		Submitted:            8,
		Accepted:             5,
		Rejected:             map[string]int{"mempool_full": 2, "network": 1},
		Committed:            4,
		AcceptedNotCommitted: 1,
		// latencies 100, 300, 200, 2000 ms
		LatencyMS:   benchLatency{P50: 200, P95: 2000, P99: 2000, Max: 2000},
		DurationS:   5,
		Blocks:      4,
		MaxBlockTxs: 5,
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("summary\n got %+v\nwant %+v", r, want)
	}
}

func TestBenchSummaryEdgeCases(t *testing.T) {
	t.Run("nothing committed: duration is the sending time", func(t *testing.T) {
		r := summarize(&benchRecord{Start: at(0), SendEnd: at(2000), Submitted: 4,
			Accepted: []benchTx{{Sent: at(0)}, {Sent: at(500)}}})
		if r.Committed != 0 || r.AcceptedNotCommitted != 2 || r.DurationS != 2 || r.CommittedTPS != 0 || r.OfferedTPS != 2 {
			t.Fatalf("%+v", r)
		}
		if r.Rejected == nil {
			t.Fatal("rejected must be an empty object, not null")
		}
	})
	t.Run("committed before it was sent: counted, no latency", func(t *testing.T) {
		r := summarize(&benchRecord{Start: at(0), SendEnd: at(1000), Submitted: 2,
			Accepted: []benchTx{{Sent: at(500), Committed: at(400)}, {Sent: at(0), Committed: at(250)}}})
		if r.Committed != 2 || r.LatencyMS.Max != 250 || r.LatencyMS.P50 != 250 {
			t.Fatalf("%+v", r)
		}
	})
}

func TestBenchReportJSONFields(t *testing.T) {
	b, err := json.Marshal(summarize(sampleRecord()))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"accepted", "accepted_not_committed", "blocks", "committed", "committed_tps", "duration_s",
		"latency_ms", "max_block_txs", "offered_tps", "rejected", "submitted"}
	if got := sortedKeys(m); !reflect.DeepEqual(got, want) {
		t.Fatalf("fields %v, want exactly %v", got, want)
	}
	var lat map[string]json.RawMessage
	if err := json.Unmarshal(m["latency_ms"], &lat); err != nil {
		t.Fatal(err)
	}
	if got := sortedKeys(lat); !reflect.DeepEqual(got, []string{"max", "p50", "p95", "p99"}) {
		t.Fatalf("latency_ms fields %v", got)
	}
	if string(m["rejected"]) != `{"mempool_full":2,"network":1}` {
		t.Fatalf("rejected = %s", m["rejected"])
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestBenchSeries(t *testing.T) {
	s := series(sampleRecord())
	if s.Seconds != 5 {
		t.Fatalf("%d buckets, want 5 (up to the last commit at 5.0 s)", s.Seconds)
	}
	if !reflect.DeepEqual(s.Committed, []int{1, 1, 1, 0, 1}) {
		t.Fatalf("committed per second %v", s.Committed)
	}
	if !reflect.DeepEqual(s.Submitted, []int{2, 2, 2, 2, 0}) {
		t.Fatalf("submitted per second %v", s.Submitted)
	}
	if s.P50[1] != 300 || !math.IsNaN(s.P50[3]) || s.P99[4] != 2000 {
		t.Fatalf("p50 %v p99 %v", s.P50, s.P99)
	}
}

func TestBenchCommittedHashesInCommitOrder(t *testing.T) {
	rec := sampleRecord()
	got := committedHashes(rec)
	want := []chain.Hash{rec.Accepted[0].Hash, rec.Accepted[1].Hash, rec.Accepted[2].Hash, rec.Accepted[3].Hash}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("hashes %v", got)
	}
}

func TestBenchPageIsSelfContained(t *testing.T) {
	o := &benchOptions{mix: "transfer", rate: 200, duration: 4 * time.Second, senders: 100, concurrency: 10, batch: 1, settle: 30 * time.Second}
	rec := sampleRecord()
	rec.Mempool = []benchMempool{{At: at(500), Sizes: []int{3, 4}}, {At: at(1000), Sizes: []int{-1, 2}}}
	targets := []benchTarget{{url: "http://127.0.0.1:8700"}, {url: "http://127.0.0.1:8701"}}
	c := ceilingOf(100*time.Microsecond, 2000, 2, 2)
	page, err := benchPage(o, targets, "citychain-devnet", rec, summarize(rec), &c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, want := range []string{"<svg", "committed_tps", "accepted_not_committed", "transactions per block",
		"transactions in the mempool", "latency, ms", "200 tx/s", "verification limit", "10000 tx/s", "node 1"} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, banned := range []string{"<script", "src=", "href=", "url(", "@import", "<link"} {
		if strings.Contains(s, banned) {
			t.Errorf("the page has %q: it must make no outside request", banned)
		}
	}
	if n := strings.Count(s, "<svg"); n != 4 {
		t.Errorf("%d charts, want 4", n)
	}
}

func TestBenchCeiling(t *testing.T) {
	c := ceilingOf(133*time.Microsecond, 2000, 2, 4)
	if c.LimitTPS != 3759 { // 2 / (4 x 133 µs)
		t.Fatalf("limit %v", c.LimitTPS)
	}
	if got := c.share(1880); !strings.Contains(got, "50.0%") {
		t.Fatalf("share: %s", got)
	}
	m, err := measureCeiling(4, 50, time.Second)
	if err != nil || m.Verifications != 50 || m.VerifyUS <= 0 || m.LimitTPS <= 0 || m.Nodes != 4 ||
		m.KnownVerifyUS <= 0 || m.KnownLimitTPS <= 0 {
		t.Fatalf("measure: %+v %v", m, err)
	}
	if !strings.Contains(m.String(), "known sender") || !strings.Contains(m.share(100), "of the known sender's") {
		t.Fatalf("the known sender's speed is not stated: %s / %s", m, m.share(100))
	}
}

func TestBenchFlagErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"devnet and node", []string{"--devnet", dir, "--node", "http://127.0.0.1:1"}, "not both"},
		{"node not a URL", []string{"--node", "127.0.0.1:8700"}, `--node "127.0.0.1:8700"`},
		{"an empty node in the list", []string{"--node", "http://127.0.0.1:1,,http://127.0.0.1:2"}, "is not a node URL"},
		{"count zero", []string{"--count", "0"}, "--count 0: want 1 to 1000000"},
		{"count too big", []string{"--count", "2000000"}, "--count 2000000"},
		{"negative duration", []string{"--duration", "-1s"}, "--duration -1s"},
		{"negative rate", []string{"--rate", "-5"}, "--rate -5"},
		{"unknown mix", []string{"--mix", "copyright"}, `--mix "copyright": want transfer, trace, city or mixed`},
		{"no concurrency", []string{"--concurrency", "0"}, "--concurrency 0"},
		{"no batch", []string{"--batch", "0"}, "--batch 0: want 1 (one transaction per request) to 5000"},
		{"batch over the node's limit", []string{"--batch", "5001"}, "--batch 5001"},
		{"too many senders", []string{"--senders", "5000"}, "--senders 5000"},
		{"negative settle", []string{"--settle", "-1s"}, "--settle -1s"},
		{"report not html", []string{"--report", "out.txt"}, `--report "out.txt": the report is an HTML page`},
		{"negative validators", []string{"--validators", "-1"}, "--validators -1"},
		{"devnet without nodes", []string{"--devnet", dir}, "--devnet " + dir + ": no devnet.json and no node homes"},
		{"unknown output", []string{"--output", "yaml"}, `--output "yaml"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := newRootCmd()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(append([]string{"bench"}, c.args...))
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one with %q", err, c.want)
			}
		})
	}
}

func TestBenchDevnetNodes(t *testing.T) {
	t.Run("from devnet.json", func(t *testing.T) {
		dir := t.TempDir()
		d := node.Devnet{ChainID: node.DevnetChainID, Nodes: []node.DevnetNode{
			{Name: "node0", API: "http://127.0.0.1:9100"}, {Name: "node1", API: "http://127.0.0.1:9101"}}}
		if err := d.Save(dir); err != nil {
			t.Fatal(err)
		}
		urls, err := devnetNodes(dir)
		if err != nil || !reflect.DeepEqual(urls, []string{"http://127.0.0.1:9100", "http://127.0.0.1:9101"}) {
			t.Fatalf("%v %v", urls, err)
		}
	})
	t.Run("from the homes when no supervisor wrote devnet.json", func(t *testing.T) {
		dir := t.TempDir()
		if _, _, err := node.InitDevnet(dir, 2, 9200, time.Now()); err != nil {
			t.Fatal(err)
		}
		_ = os.Remove(filepath.Join(dir, node.DevnetFile))
		urls, err := devnetNodes(dir)
		if err != nil || !reflect.DeepEqual(urls, []string{"http://127.0.0.1:9200", "http://127.0.0.1:9201"}) {
			t.Fatalf("%v %v", urls, err)
		}
	})
}

func TestBenchNodeList(t *testing.T) {
	urls, err := parseNodeList("http://127.0.0.1:8700/, http://127.0.0.1:8701")
	if err != nil || !reflect.DeepEqual(urls, []string{"http://127.0.0.1:8700", "http://127.0.0.1:8701"}) {
		t.Fatalf("%v %v", urls, err)
	}
}

func TestBenchSignPlan(t *testing.T) {
	cases := []struct {
		name string
		o    benchOptions
		want int
	}{
		{"count alone", benchOptions{count: 500}, 500},
		{"rate and duration", benchOptions{rate: 200, duration: 4 * time.Second}, 800},
		{"count ends first", benchOptions{count: 100, rate: 200, duration: 4 * time.Second}, 100},
		{"duration ends first", benchOptions{count: 5000, rate: 200, duration: 4 * time.Second}, 800},
		{"open ended", benchOptions{duration: time.Minute}, benchOpenEnded},
		{"open ended under a measured limit", benchOptions{duration: 20 * time.Second, limitTPS: 3873.2}, 77464},
		{"the limit does not raise a count", benchOptions{count: 500, duration: 20 * time.Second, limitTPS: 3873.2}, 500},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := signPlan(&c.o); got != c.want {
				t.Fatalf("plan %d, want %d", got, c.want)
			}
		})
	}
}

func TestBenchSendersSpreadRoundRobin(t *testing.T) {
	w, err := newWorkload("c", []benchKind{kindTransfer}, 10, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range w.senders {
		if s.target != i%4 {
			t.Fatalf("sender %d sends to node %d, want %d", i, s.target, i%4)
		}
	}
	if w.senders[0].name != "dev0" || w.senders[9].name != "dev9" {
		t.Fatal("the first senders are the dev accounts")
	}
}

// chainState is benchState read from an in-memory chain.
type chainState struct{ c *chaintest.Chain }

func (s chainState) Balance(_ context.Context, a chain.Address) (uint64, error) {
	v, err := s.c.Query(bank.Name, "balance/"+a.String(), nil)
	if err != nil {
		return 0, err
	}
	return v.(bank.BalanceAnswer).Balance, nil
}

func (s chainState) IsParticipant(_ context.Context, a chain.Address) (bool, error) {
	_, err := s.c.Query(trace.Name, "participants/"+a.String(), nil)
	if errors.Is(err, chain.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (s chainState) Device(_ context.Context, id string) (string, uint64, bool, error) {
	v, err := s.c.Query(city.Name, "device/"+id, nil)
	if errors.Is(err, chain.ErrNotFound) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, err
	}
	d := v.(*city.DeviceView)
	return d.PubKey, d.State.LastSeq, true, nil
}

func (s chainState) Nonce(_ context.Context, a chain.Address) (uint64, error) {
	return chain.Nonce(s.c.State(), a)
}

// TestBenchMixesAreValidUnderTheDevGenesis runs the setup and three
// rounds of every kind through the real modules, from a chain with the
// dev genesis: every receipt must be ok, and a second setup finds
// nothing left to do.
func TestBenchMixesAreValidUnderTheDevGenesis(t *testing.T) {
	dev0 := node.DevAccounts()[0].Address
	var bg bank.GenesisState
	for _, a := range node.DevAccounts() {
		bg.Balances = append(bg.Balances, bank.GenesisBalance{Address: a.Address, Amount: a.Balance})
	}
	c, err := chaintest.New([]chain.App{bank.New(), trace.New(), city.New()}, map[string]any{
		bank.Name: bg, trace.Name: trace.DevGenesis(dev0), city.Name: city.DevGenesis(dev0)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st := chainState{c}
	w, err := newWorkload(chaintest.ChainID, []benchKind{kindTransfer, kindTrace, kindCity}, 13, 2)
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return c.Time }
	setup, err := w.setupTxs(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	// 3 senders past dev9 to fund, 12 participants (all but dev0), 13 devices.
	if len(setup) != 3+12+13 {
		t.Fatalf("%d setup transactions, want 28", len(setup))
	}
	applyBlock(t, c, "setup", encodeTxs(setup))
	again, err := w.setupTxs(ctx, st)
	if err != nil || len(again) != 0 {
		t.Fatalf("a second setup sends %d transactions (%v), want none", len(again), err)
	}
	for _, s := range w.senders {
		if s.nonce, err = st.Nonce(ctx, s.addr); err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; round < 3; round++ {
		var raws [][]byte
		for _, s := range w.senders {
			// Two of each kind in one block, at one reading of the clock:
			// two trace events of a sender must still differ (their CBV
			// event hashes, which the module keeps unique).
			for k := 0; k < 6; k++ {
				b, err := w.next(s)
				if err != nil {
					t.Fatal(err)
				}
				var tx chain.Tx
				if err := json.Unmarshal(b.body, &tx); err != nil {
					t.Fatal(err)
				}
				if tx.Hash() != b.hash {
					t.Fatal("the hash kept is not the hash of the JSON posted")
				}
				raws = append(raws, tx.Encode())
			}
		}
		applyBlock(t, c, "load", raws)
	}
	if _, seq, _, _ := st.Device(ctx, w.senders[5].device); seq != 6 {
		t.Fatalf("device seq %d after six readings", seq)
	}
}

func encodeTxs(txs []*chain.Tx) [][]byte {
	var out [][]byte
	for _, tx := range txs {
		out = append(out, tx.Encode())
	}
	return out
}

func applyBlock(t *testing.T, c *chaintest.Chain, what string, raws [][]byte) {
	t.Helper()
	rs, err := c.Block(raws...)
	if err != nil {
		t.Fatalf("%s block: %v", what, err)
	}
	for i, r := range rs {
		if r.Status != chain.StatusOK {
			var tx chain.Tx
			_ = chain.Decode(raws[i], &tx)
			t.Fatalf("%s tx %d (%s/%s): %s", what, i, tx.App, tx.Action, r.Error)
		}
	}
}

// Senders wait their turn in one queue per node: a worker takes up to a
// batch of one node's senders, oldest first; the nodes take turns; a
// sender given back goes to the front, one put back to the end.
func TestBenchTurns(t *testing.T) {
	var senders []*benchSender
	for i := range 7 {
		senders = append(senders, &benchSender{name: fmt.Sprint("s", i), target: i % 2})
	}
	turns := newBenchTurns(senders, 2)
	ctx := context.Background()
	names := func(ss []*benchSender) string {
		var out []string
		for _, s := range ss {
			out = append(out, s.name)
		}
		return strings.Join(out, " ")
	}
	steps := []struct {
		max  int
		want string
	}{
		{3, "s0 s2 s4"}, // node 0's first three
		{3, "s1 s3 s5"}, // then node 1
		{3, "s6"},       // node 0 again: what is left
	}
	var taken [][]*benchSender
	for _, st := range steps {
		got := turns.take(ctx, st.max)
		if names(got) != st.want {
			t.Fatalf("take(%d) = %q, want %q", st.max, names(got), st.want)
		}
		taken = append(taken, got)
	}
	turns.put(taken[0][0])                                // s0's turn is over
	turns.giveBack(taken[2])                              // s6 was not sent
	turns.giveBack(taken[1][1:])                          // nor s3, s5
	if got := names(turns.take(ctx, 5)); got != "s3 s5" { // node 1 is next
		t.Fatalf("after giving back: %q", got)
	}
	if got := names(turns.take(ctx, 5)); got != "s6 s0" {
		t.Fatalf("node 0 after giving back and putting back: %q", got)
	}
	done, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if got := turns.take(done, 1); got != nil { // every sender is out
		t.Fatalf("take after the end: %q", names(got))
	}
}

// A batch answer is handled per transaction, as single answers are: an
// accepted one counts once, a refusal for a passing reason keeps the
// transaction for the sender's next turn, any other refusal stops its
// sender only; a batch refused as a whole is that refusal of each.
func TestBenchBatchAnswers(t *testing.T) {
	var answer func(raws [][]byte) (int, any)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var raws [][]byte
		if r.Header.Get("Content-Type") != "application/cbor" || chain.Decode(body, &raws) != nil {
			http.Error(w, "want a CBOR batch", http.StatusBadRequest)
			return
		}
		status, v := answer(raws)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}))
	defer srv.Close()
	target := benchTarget{url: srv.URL, cl: client.New(srv.URL)}
	bodies := make([]benchBody, 4)
	var senders []*benchSender
	for i := range bodies {
		raw := []byte(fmt.Sprint("tx", i))
		bodies[i] = benchBody{body: raw, hash: chain.Sum(raw)}
		senders = append(senders, &benchSender{name: fmt.Sprint("s", i)})
	}
	run := &benchRun{start: time.Now(), rejected: map[string]int{}, txs: map[chain.Hash]*benchEntry{}}

	answer = func(raws [][]byte) (int, any) {
		out := make([]node.BatchResult, len(raws))
		for i, raw := range raws {
			out[i].Hash = chain.Sum(raw)
		}
		out[1].Error = &node.ErrorCause{Code: "mempool_full", Message: "full"}
		out[2].Error = &node.ErrorCause{Code: "bad_nonce", Message: "used"}
		out[3].Hash = chain.Hash{} // names another transaction
		return http.StatusOK, out
	}
	errs := run.submitBatch(context.Background(), target, senders, bodies)
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], errRefused) || !errors.Is(errs[3], errRefused) {
		t.Fatalf("outcomes %v", errs)
	}
	if senders[1].retry == nil || senders[1].retry.hash != bodies[1].hash || senders[0].retry != nil {
		t.Fatal("only the transaction refused for a passing reason waits for a retry")
	}
	if run.submitted != 4 || run.nAccepted != 1 || !reflect.DeepEqual(run.rejected, map[string]int{"mempool_full": 1, "bad_nonce": 1, "bad_answer": 1}) {
		t.Fatalf("submitted %d, accepted %d, rejected %v", run.submitted, run.nAccepted, run.rejected)
	}
	for i, b := range bodies {
		if e := run.txs[b.hash]; e == nil || e.sent.IsZero() {
			t.Fatalf("transaction %d is not timed from its POST", i)
		}
	}

	answer = func([][]byte) (int, any) {
		return http.StatusServiceUnavailable, node.APIError{Error: node.ErrorCause{Code: "stopping", Message: "bye"}}
	}
	errs = run.submitBatch(context.Background(), target, senders[:2], bodies[:2])
	if errs[0] != nil || errs[1] != nil || senders[0].retry == nil || run.rejected["stopping"] != 2 {
		t.Fatalf("a batch refused as a whole for a passing reason: %v, rejected %v", errs, run.rejected)
	}
	if run.nAccepted != 1 || run.submitted != 6 {
		t.Fatalf("accepted %d, submitted %d", run.nAccepted, run.submitted)
	}
}

// Signing ahead on every core gives each sender its share and a fifth
// more, each transaction signed by its sender, in nonce order.
func TestBenchSignAheadKeepsEachSendersOrder(t *testing.T) {
	w, err := newWorkload("c", []benchKind{kindTransfer, kindCity}, 12, 4)
	if err != nil {
		t.Fatal(err)
	}
	w.cbor = true
	for i, s := range w.senders {
		s.nonce = uint64(10 * i)
	}
	if err := w.signAhead(100); err != nil {
		t.Fatal(err)
	}
	for i, s := range w.senders {
		share := 100 / 12
		if i < 100%12 {
			share++
		}
		if want := share + share/5 + 1; len(s.queue) != want {
			t.Fatalf("%s: %d queued, want %d", s.name, len(s.queue), want)
		}
		for j, b := range s.queue {
			tx, err := chain.DecodeTx(b.body)
			if err != nil {
				t.Fatal(err)
			}
			if tx.Sender() != s.addr || tx.Nonce != uint64(10*i+j) || tx.VerifySignature() != nil {
				t.Fatalf("%s: transaction %d from %s with nonce %d", s.name, j, tx.Sender(), tx.Nonce)
			}
		}
	}
}

// The follower reads blocks in CBOR, and as JSON from a node that answers
// only JSON (one older than the CBOR form): both give the same digest,
// and once a node has answered JSON it is asked once per block.
func TestReadBlockFallsBackToJSONForOlderNodes(t *testing.T) {
	txs := [][]byte{[]byte("first tx bytes"), []byte("second tx bytes")}
	b := &chain.Block{Header: chain.Header{ChainID: "bench-test", Height: 5, TxRoot: chain.ComputeTxRoot(txs),
		StateRoot: chain.Sum([]byte("state"))}, Txs: txs}
	c := &chain.Commit{Height: 5, BlockHash: b.Hash()}
	view := map[string]any{"hash": b.Hash(), "height": 5, "state_root": b.Header.StateRoot,
		"txs": []map[string]any{{"hash": chain.Sum(txs[0])}, {"hash": chain.Sum(txs[1])}}}
	serve := func(cbor bool, asked *int) *client.Client {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			*asked++
			if r.URL.Path != "/v1/blocks/5" {
				http.NotFound(w, r)
				return
			}
			if cbor && r.Header.Get("Accept") == "application/cbor" {
				w.Header().Set("Content-Type", "application/cbor")
				_, _ = w.Write(node.EncodeBlockAnswer(b.Encode(), c.Encode()))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(view)
		}))
		t.Cleanup(srv.Close)
		return client.New(srv.URL)
	}
	want := &blockDigest{Hash: b.Hash(), StateRoot: b.Header.StateRoot, TxHashes: b.TxHashes()}
	for _, tc := range []struct {
		cbor bool
		// requests for the first and for each later block
		first, later int
	}{{true, 1, 1}, {false, 2, 1}} {
		asked := 0
		cl := serve(tc.cbor, &asked)
		br := &blockReader{cl: cl}
		for i, wantAsked := range []int{tc.first, tc.first + tc.later, tc.first + 2*tc.later} {
			got, err := br.read(context.Background(), 5)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("CBOR node %v, read %d: %+v, %v; want %+v", tc.cbor, i, got, err, want)
			}
			if asked != wantAsked {
				t.Fatalf("CBOR node %v, read %d: %d requests in all, want %d", tc.cbor, i, asked, wantAsked)
			}
		}
		_, _, err := cl.EncodedBlock(context.Background(), "5")
		if tc.cbor != (err == nil) || (!tc.cbor && !errors.Is(err, client.ErrNoCBOR)) {
			t.Fatalf("CBOR node %v: EncodedBlock error %v", tc.cbor, err)
		}
	}
}
