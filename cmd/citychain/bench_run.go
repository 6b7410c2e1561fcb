package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node/client"
)

// A run: workers post the signed transactions at the offered rate, a
// follower reads every new block of the first node to time commits, a
// sampler reads every node's mempool size. Each goroutine ends when the
// run's context does, and runLoad waits for all of them before it
// returns the record.

// Timing of the run's helpers.
const (
	benchSubmitTimeout = 10 * time.Second
	benchFollowPoll    = 200 * time.Millisecond // follower's poll besides the event stream
	benchSampleEvery   = 500 * time.Millisecond
	benchProgressEvery = 250 * time.Millisecond
	benchMaxRetireLogs = 5
)

// benchRun is the state the goroutines of a run share, under mu.
type benchRun struct {
	mu        sync.Mutex
	start     time.Time
	submitted int
	perSecond []int
	rejected  map[string]int
	txs       map[chain.Hash]*benchEntry
	blocks    []benchBlock
	mempool   []benchMempool
	lastSeen  uint64 // height of the last block the follower read
	retired   int
	active    int    // senders not retired
	stopSend  func() // ends sending, when no sender is left
	// Distinct accepted transactions, and those of them seen in a block.
	nAccepted, nCommitted int
}

// benchEntry is one transaction this run posted.
type benchEntry struct {
	// sent is when it fell due under --rate, else the start of its POST:
	// of the latest attempt before its commit.
	sent      time.Time
	committed time.Time // when the follower saw its block
	height    uint64
	accepted  bool
}

// runLoad sends the workload to the targets and returns what it saw.
func runLoad(ctx context.Context, log io.Writer, targets []benchTarget, w *benchWorkload, o *benchOptions, progress bool) (*benchRecord, error) {
	// Every worker keeps its connections: the default keeps two per host.
	if t, ok := http.DefaultTransport.(*http.Transport); ok && t.MaxIdleConnsPerHost < o.concurrency {
		t.MaxIdleConnsPerHost = o.concurrency
	}
	r := &benchRun{rejected: map[string]int{}, txs: map[chain.Hash]*benchEntry{}}
	st, err := targets[0].cl.Status(ctx)
	if err != nil {
		return nil, err
	}
	r.lastSeen = st.Height

	bg, stopBg := context.WithCancel(ctx)
	defer stopBg()
	var bgWG sync.WaitGroup
	bgWG.Add(2)
	go func() { defer bgWG.Done(); r.follow(bg, targets[0].cl, log) }()
	go func() { defer bgWG.Done(); r.sample(bg, targets) }()

	fmt.Fprintf(log, "sending to %d node(s): %s\n", len(targets), targetList(targets))
	r.start = time.Now()
	sendCtx, stopSend := context.WithCancel(ctx)
	defer stopSend()
	if o.duration > 0 {
		sendCtx, stopSend = context.WithDeadline(ctx, r.start.Add(o.duration))
		defer stopSend()
	}
	done := make(chan struct{})
	if progress {
		bgWG.Add(1)
		go func() { defer bgWG.Done(); r.progress(log, o, done) }()
	}
	limit := 0
	if o.duration > 0 && o.rate > 0 {
		limit = int(math.Ceil(float64(o.rate) * o.duration.Seconds()))
	}
	pace := newBenchPace(r.start, o.rate, limit)
	var claimed atomic.Int64
	// claim grants up to n more submissions under --count.
	claim := func(n int) int {
		if o.count == 0 {
			return n
		}
		over := claimed.Add(int64(n)) - int64(o.count)
		return max(n-int(max(over, 0)), 0)
	}
	turns := newBenchTurns(w.senders, len(targets))
	r.active, r.stopSend = len(w.senders), stopSend
	var wg sync.WaitGroup
	for k := 0; k < o.concurrency; k++ {
		wg.Add(1)
		go func() { // exits when sending ends or no sender is left
			defer wg.Done()
			r.work(ctx, sendCtx, log, w, targets, turns, pace, claim, o.batch)
		}()
	}
	wg.Wait()
	stopSend()
	sendEnd := time.Now()
	if n := w.live.Load(); n > 0 {
		fmt.Fprintf(log, "signed %d transactions during the run (they shared the CPU with the nodes)\n", n)
	}

	deadline := sendEnd.Add(o.settle)
	for r.uncommitted() > 0 && time.Now().Before(deadline) {
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			break
		}
	}
	close(done)
	stopBg()
	bgWG.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bench interrupted: %w", err)
	}
	return r.record(sendEnd), nil
}

// work sends transactions until sending ends (sendCtx, the pace's
// limit), the count is reached, or no sender is left. Each turn it takes
// up to batch senders bound for one node, as many as are waiting (and
// as the pace allows), and sends one transaction of each: alone, or with
// batch over 1 in one CBOR batch.
func (r *benchRun) work(ctx, sendCtx context.Context, log io.Writer, w *benchWorkload, targets []benchTarget,
	turns *benchTurns, pace *benchPace, claim func(int) int, batch int) {
	for {
		senders := turns.take(sendCtx, batch)
		n := len(senders)
		var dues []time.Time
		if pace != nil && n > 0 {
			dues = pace.take(sendCtx, n)
			n = len(dues)
		}
		if n > 0 {
			n = claim(n)
		}
		turns.giveBack(senders[n:])
		if n == 0 {
			return
		}
		senders = senders[:n]
		bodies := make([]benchBody, 0, n)
		ready := senders[:0:0]
		for i, s := range senders {
			b, err := w.next(s)
			if err != nil {
				r.retire(log, s, err)
				continue
			}
			if dues != nil {
				b.due = dues[i]
			}
			ready, bodies = append(ready, s), append(bodies, b)
		}
		if len(ready) == 0 {
			continue
		}
		t := targets[ready[0].target]
		var errs []error
		if batch > 1 {
			errs = r.submitBatch(ctx, t, ready, bodies)
		} else {
			errs = []error{r.submit(ctx, t, ready[0], bodies[0])}
		}
		var back []*benchSender
		for i, s := range ready {
			if errs[i] != nil {
				r.retire(log, s, errs[i])
				continue
			}
			back = append(back, s)
		}
		turns.put(back...)
	}
}

// errRefused is a refusal that retrying the same transaction will not
// cure: the sender stops, since its later nonces would only be refused.
var errRefused = errors.New("refused")

// submit posts one transaction in its JSON form. A refusal for a passing
// reason (full mempool, no answer) keeps the transaction for the
// sender's next turn; any other refusal is errRefused.
func (r *benchRun) submit(ctx context.Context, t benchTarget, s *benchSender, b benchBody) error {
	entries := r.begin([]benchBody{b})
	c, cancel := context.WithTimeout(ctx, benchSubmitTimeout)
	_, err := t.cl.SubmitJSON(c, b.body, false)
	cancel()
	code, msg := refusal(ctx, err)
	if code == "" && err != nil {
		return err // the run itself ends
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.answer(t, s, b, entries[0], code, msg)
}

// submitBatch posts one transaction of each sender as a CBOR batch and
// returns each sender's outcome as submit does. Every transaction is
// timed from when it fell due (with --rate), else from the start of the
// batch's POST. A batch refused as a whole, or not answered, counts as
// that refusal of each of its transactions.
func (r *benchRun) submitBatch(ctx context.Context, t benchTarget, senders []*benchSender, bodies []benchBody) []error {
	entries := r.begin(bodies)
	raws := make([][]byte, len(bodies))
	for i, b := range bodies {
		raws[i] = b.body
	}
	c, cancel := context.WithTimeout(ctx, benchSubmitTimeout)
	res, err := t.cl.SubmitBatch(c, raws)
	cancel()
	code, msg := refusal(ctx, err)
	errs := make([]error, len(bodies))
	if code == "" && err != nil {
		for i := range errs {
			errs[i] = err // the run itself ends
		}
		return errs
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, b := range bodies {
		c, m := code, msg
		switch {
		case err != nil:
		case res[i].Hash != b.hash:
			c, m = "bad_answer", fmt.Sprintf("answer %d names transaction %s, not %s", i, res[i].Hash, b.hash)
		case res[i].Error != nil:
			c, m = res[i].Error.Code, res[i].Error.Message
		}
		errs[i] = r.answer(t, senders[i], b, entries[i], c, m)
	}
	return errs
}

// begin counts the submission of bodies, starting now, and returns the
// entry of each transaction.
func (r *benchRun) begin(bodies []benchBody) []*benchEntry {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.submitted += len(bodies)
	sec := max(int(now.Sub(r.start)/time.Second), 0)
	for len(r.perSecond) <= sec {
		r.perSecond = append(r.perSecond, 0)
	}
	r.perSecond[sec] += len(bodies)
	entries := make([]*benchEntry, len(bodies))
	for i, b := range bodies {
		e := r.txs[b.hash]
		if e == nil {
			e = &benchEntry{}
			r.txs[b.hash] = e
		}
		if e.committed.IsZero() {
			e.sent = now
			if !b.due.IsZero() {
				e.sent = b.due
			}
		}
		entries[i] = e
	}
	return entries
}

// refusal names what went wrong with a POST: "" for an answer, the
// API's error code for a refusal, "timeout" or "network" for no answer.
// It returns "" with err not nil when the run itself was cancelled.
func refusal(ctx context.Context, err error) (code, msg string) {
	var ce *client.Error
	switch {
	case err == nil:
		return "", ""
	case errors.As(err, &ce):
		return ce.Code, ce.Message
	case ctx.Err() != nil:
		return "", ""
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout", err.Error()
	}
	return "network", err.Error()
}

// answer records one transaction's answer, code "" being its
// acceptance. A refusal for a passing reason keeps the transaction for
// the sender's next turn; any other is errRefused. The caller holds mu.
func (r *benchRun) answer(t benchTarget, s *benchSender, b benchBody, e *benchEntry, code, msg string) error {
	if code == "" {
		if !e.accepted {
			e.accepted = true
			r.nAccepted++
			if !e.committed.IsZero() {
				r.nCommitted++
			}
		}
		return nil
	}
	r.rejected[code]++
	switch code {
	case "mempool_full", "stopping", "timeout", "network":
		s.retry = &b
		return nil
	}
	return fmt.Errorf("%w by %s: %s: %s", errRefused, t.url, code, msg)
}

func (r *benchRun) retire(log io.Writer, s *benchSender, err error) {
	r.mu.Lock()
	r.retired++
	r.active--
	n, left := r.retired, r.active
	r.mu.Unlock()
	if left == 0 {
		fmt.Fprintln(log, "every sender stopped")
		r.stopSend()
	}
	switch {
	case n <= benchMaxRetireLogs:
		fmt.Fprintf(log, "sender %s stops: %v\n", s.name, err)
	case n == benchMaxRetireLogs+1:
		fmt.Fprintln(log, "more senders stop; the rejected counts say why")
	}
}

// follow reads every block of the node as soon as its event stream
// announces one, polling besides in case the stream drops events.
func (r *benchRun) follow(ctx context.Context, cl *client.Client, log io.Writer) {
	wake := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // exits when ctx ends or the stream breaks
		defer wg.Done()
		_ = cl.Events(ctx, func(ev client.StreamEvent) bool {
			if ev.Type == "block" {
				select {
				case wake <- struct{}{}:
				default:
				}
			}
			return true
		}, "block")
	}()
	defer wg.Wait()
	tick := time.NewTicker(benchFollowPoll)
	defer tick.Stop()
	br := &blockReader{cl: cl}
	lastErr := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
		// A failure is said once until another one comes: the follower
		// tries again at the next block or tick.
		if err := r.catchUp(ctx, br); err != nil && ctx.Err() == nil && err.Error() != lastErr {
			lastErr = err.Error()
			fmt.Fprintf(log, "following the blocks: %v (trying again)\n", err)
		}
	}
}

// catchUp reads the blocks after the last one read, up to the node's
// height, and marks this run's transactions in them as committed now. It
// reads each block in CBOR, the stored bytes, which costs the node less
// than the JSON view of a large block (blockReader).
func (r *benchRun) catchUp(ctx context.Context, br *blockReader) error {
	seen := time.Now()
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := br.cl.Status(c)
	if err != nil {
		return err
	}
	for h := r.lastSeenHeight() + 1; h <= st.Height; h++ {
		b, err := br.read(c, h)
		if err != nil {
			return fmt.Errorf("block %d: %w", h, err)
		}
		r.mu.Lock()
		for _, hash := range b.TxHashes {
			if e := r.txs[hash]; e != nil && e.committed.IsZero() {
				e.committed, e.height = seen, h
				if e.accepted {
					r.nCommitted++
				}
			}
		}
		r.blocks = append(r.blocks, benchBlock{Height: h, Seen: seen, Txs: len(b.TxHashes)})
		r.lastSeen = h
		r.mu.Unlock()
	}
	return nil
}

func (r *benchRun) lastSeenHeight() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastSeen
}

// sample reads every node's mempool size from GET /v1/status.
func (r *benchRun) sample(ctx context.Context, targets []benchTarget) {
	tick := time.NewTicker(benchSampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		at := time.Now()
		sizes := make([]int, len(targets))
		for i, t := range targets {
			c, cancel := context.WithTimeout(ctx, 2*time.Second)
			st, err := t.cl.Status(c)
			cancel()
			sizes[i] = -1
			if err == nil {
				sizes[i] = st.MempoolTxs
			}
		}
		r.mu.Lock()
		r.mempool = append(r.mempool, benchMempool{At: at, Sizes: sizes})
		r.mu.Unlock()
	}
}

// uncommitted counts accepted transactions not yet seen in a block.
func (r *benchRun) uncommitted() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nAccepted - r.nCommitted
}

// record returns what the run saw, once its goroutines have ended.
func (r *benchRun) record(sendEnd time.Time) *benchRecord {
	rec := &benchRecord{Start: r.start, SendEnd: sendEnd, Submitted: r.submitted, PerSecond: r.perSecond,
		Rejected: r.rejected, Mempool: r.mempool}
	ours := map[uint64]int{}
	for h, e := range r.txs {
		if !e.accepted {
			continue
		}
		rec.Accepted = append(rec.Accepted, benchTx{Hash: h, Sent: e.sent, Committed: e.committed})
		if !e.committed.IsZero() {
			ours[e.height]++
		}
	}
	for _, b := range r.blocks {
		b.Ours = ours[b.Height]
		rec.Blocks = append(rec.Blocks, b)
	}
	return rec
}

// progress draws a bar on the terminal until done is closed.
func (r *benchRun) progress(log io.Writer, o *benchOptions, done <-chan struct{}) {
	tick := time.NewTicker(benchProgressEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			fmt.Fprintf(log, "\r%s\r", strings.Repeat(" ", 79))
			return
		case <-tick.C:
		}
		r.mu.Lock()
		sub, elapsed := r.submitted, time.Since(r.start)
		committed, waiting := r.nCommitted, r.nAccepted-r.nCommitted
		r.mu.Unlock()
		frac := 0.0
		if o.count > 0 {
			frac = float64(sub) / float64(o.count)
		}
		if o.duration > 0 {
			frac = max(frac, elapsed.Seconds()/o.duration.Seconds())
		}
		frac = min(frac, 1)
		const width = 24
		bar := strings.Repeat("#", int(frac*width)) + strings.Repeat(".", width-int(frac*width))
		fmt.Fprintf(log, "\r[%s] %3.0f%%  sent %d  committed %d  waiting %d  %.1f s ", bar, 100*frac, sub, committed, waiting, elapsed.Seconds())
	}
}

func targetList(targets []benchTarget) string {
	var urls []string
	for _, t := range targets {
		urls = append(urls, t.url)
	}
	return strings.Join(urls, ", ")
}
