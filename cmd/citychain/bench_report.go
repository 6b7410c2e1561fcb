package main

import (
	"math"
	"sort"
	"time"

	"github.com/citychain/citychain/chain"
)

// What `citychain bench` observes and how it turns that into numbers.
// Everything here is pure: the run (bench_run.go) fills a benchRecord,
// summarize and benchSeries read it, and the tests feed them records
// made by hand.

// benchReport is the summary `citychain bench --output json` prints, one
// object with exactly these fields (docs/benchmarks.md documents them):
//
//   - submitted: transactions sent in POST /v1/txs requests, one per
//     request unless --batch (a refused transaction that is retried
//     counts once per attempt);
//   - accepted: distinct transactions a node accepted;
//   - rejected: refusals by reason, the API's error code ("mempool_full",
//     "bad_nonce", ...) or "network" / "timeout" when no answer came;
//   - committed: accepted transactions of this run found in a block;
//   - accepted_not_committed: accepted minus committed once the settle
//     wait is over; anything but 0 means the chain lost or delayed work;
//   - latency_ms: submit-to-commit of the committed transactions: from
//     when the transaction fell due under --rate (else the start of its
//     POST) to the moment the bench saw the block holding it on the first
//     node (nearest-rank percentiles);
//   - duration_s: from the first submission to the commit of the last
//     committed transaction (to the end of sending if none committed);
//   - offered_tps: submitted / seconds spent sending;
//   - committed_tps: committed / duration_s;
//   - blocks: blocks holding at least one committed transaction of this
//     run; max_block_txs: the most transactions (anyone's) in one of them.
type benchReport struct {
	OfferedTPS           float64        `json:"offered_tps"`
	CommittedTPS         float64        `json:"committed_tps"`
	Submitted            int            `json:"submitted"`
	Accepted             int            `json:"accepted"`
	Rejected             map[string]int `json:"rejected"`
	Committed            int            `json:"committed"`
	AcceptedNotCommitted int            `json:"accepted_not_committed"`
	LatencyMS            benchLatency   `json:"latency_ms"`
	DurationS            float64        `json:"duration_s"`
	Blocks               int            `json:"blocks"`
	MaxBlockTxs          int            `json:"max_block_txs"`
}

// benchLatency holds submit-to-commit percentiles in milliseconds.
type benchLatency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// benchRecord is what one run observed.
type benchRecord struct {
	Start   time.Time // the first submission began
	SendEnd time.Time // the last submission was answered
	// Submitted counts transactions posted (each attempt), PerSecond the
	// same by the second (since Start) their POST began in; Rejected
	// counts refusals by reason.
	Submitted int
	PerSecond []int
	Rejected  map[string]int
	// Accepted holds one entry per distinct transaction a node accepted.
	Accepted []benchTx
	// Blocks are the blocks committed after Start, in height order.
	Blocks []benchBlock
	// Mempool holds the nodes' mempool sizes sampled during the run.
	Mempool []benchMempool
}

// benchTx is one accepted transaction: when its accepted submission
// began and when the bench saw it in a block (zero if never).
type benchTx struct {
	Hash      chain.Hash
	Sent      time.Time
	Committed time.Time
}

// benchBlock is one committed block as the bench saw it: Txs is every
// transaction in it, Ours those this run submitted and had accepted.
type benchBlock struct {
	Height uint64
	Seen   time.Time
	Txs    int
	Ours   int
}

// benchMempool is one sample of each node's mempool size (-1: the node
// did not answer).
type benchMempool struct {
	At    time.Time
	Sizes []int
}

// summarize computes the report of a run.
func summarize(rec *benchRecord) benchReport {
	r := benchReport{Submitted: rec.Submitted, Accepted: len(rec.Accepted), Rejected: map[string]int{}}
	for k, v := range rec.Rejected {
		r.Rejected[k] = v
	}
	var lat []float64
	last := time.Time{}
	for _, tx := range rec.Accepted {
		if tx.Committed.IsZero() {
			continue
		}
		r.Committed++
		if tx.Committed.After(last) {
			last = tx.Committed
		}
		// A transaction in a block before this run sent it was committed
		// from another client's identical copy: it has no latency of its own.
		if !tx.Committed.Before(tx.Sent) {
			lat = append(lat, ms(tx.Committed.Sub(tx.Sent)))
		}
	}
	r.AcceptedNotCommitted = r.Accepted - r.Committed
	sort.Float64s(lat)
	r.LatencyMS = benchLatency{P50: percentile(lat, 50), P95: percentile(lat, 95), P99: percentile(lat, 99), Max: percentile(lat, 100)}
	if send := rec.SendEnd.Sub(rec.Start).Seconds(); send > 0 {
		r.OfferedTPS = round(float64(r.Submitted)/send, 1)
	}
	end := rec.SendEnd
	if r.Committed > 0 {
		end = last
	}
	if d := end.Sub(rec.Start).Seconds(); d > 0 {
		r.DurationS = round(d, 3)
		r.CommittedTPS = round(float64(r.Committed)/d, 1)
	}
	for _, b := range rec.Blocks {
		if b.Ours > 0 {
			r.Blocks++
			r.MaxBlockTxs = max(r.MaxBlockTxs, b.Txs)
		}
	}
	return r
}

// percentile returns the nearest-rank p-th percentile of sorted values:
// the smallest value with at least p% of the values at or below it
// (p = 100 is the maximum). It is 0 for no values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(v float64, digits int) float64 {
	f := math.Pow(10, float64(digits))
	return math.Round(v*f) / f
}

// committedHashes returns the hashes of the committed transactions in the
// order they were committed.
func committedHashes(rec *benchRecord) []chain.Hash {
	var txs []benchTx
	for _, tx := range rec.Accepted {
		if !tx.Committed.IsZero() {
			txs = append(txs, tx)
		}
	}
	sort.SliceStable(txs, func(i, j int) bool { return txs[i].Committed.Before(txs[j].Committed) })
	out := make([]chain.Hash, len(txs))
	for i, tx := range txs {
		out[i] = tx.Hash
	}
	return out
}

// benchSeries is a run over time, one bucket per second since Start,
// for the HTML report.
type benchSeries struct {
	Seconds   int       // buckets
	Submitted []int     // submissions begun in each second
	Committed []int     // transactions committed in each second
	P50       []float64 // latency percentiles (ms) of those; NaN if none
	P95       []float64
	P99       []float64
}

// series buckets a run by second: submissions by the second they began
// in, committed transactions and their latency by the second they were
// committed.
func series(rec *benchRecord) benchSeries {
	end := rec.SendEnd
	for _, tx := range rec.Accepted {
		if tx.Committed.After(end) {
			end = tx.Committed
		}
	}
	n := int(math.Ceil(end.Sub(rec.Start).Seconds()))
	n = max(n, len(rec.PerSecond), 1)
	s := benchSeries{Seconds: n, Submitted: make([]int, n), Committed: make([]int, n),
		P50: make([]float64, n), P95: make([]float64, n), P99: make([]float64, n)}
	lat := make([][]float64, n)
	bucket := func(t time.Time) int { return min(max(int(t.Sub(rec.Start)/time.Second), 0), n-1) }
	copy(s.Submitted, rec.PerSecond)
	for _, tx := range rec.Accepted {
		if tx.Committed.IsZero() {
			continue
		}
		b := bucket(tx.Committed)
		s.Committed[b]++
		if !tx.Committed.Before(tx.Sent) {
			lat[b] = append(lat[b], ms(tx.Committed.Sub(tx.Sent)))
		}
	}
	for i, l := range lat {
		sort.Float64s(l)
		s.P50[i], s.P95[i], s.P99[i] = math.NaN(), math.NaN(), math.NaN()
		if len(l) > 0 {
			s.P50[i], s.P95[i], s.P99[i] = percentile(l, 50), percentile(l, 95), percentile(l, 99)
		}
	}
	return s
}
