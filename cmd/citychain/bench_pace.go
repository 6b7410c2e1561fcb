package main

import (
	"context"
	"time"
)

// benchPace lets the transactions of a --rate run go at that rate:
// transaction k of the run falls due at start + k/rate. A worker that
// holds n senders waits for the next transaction to fall due and then
// up to benchHold longer for the rest of its n, and takes what has
// fallen due by then. So at 1,000 tx/s a worker with --batch 10 sends
// ten transactions in one request every 10 ms, instead of one
// transaction a millisecond in requests of one. Each transaction is
// timed from when it fell due, so the wait for its batch counts in its
// latency, and so does any backlog of a client that fell behind. One
// worker waits on the clock at a time; the others queue for their turn.
type benchPace struct {
	turn  chan struct{} // held by the worker that waits on the clock
	start time.Time
	rate  int
	given int // transactions taken so far
	limit int // 0: no limit
}

// benchHold is how long a worker waits for its batch to fill once its
// first transaction is due.
const benchHold = 10 * time.Millisecond

// newBenchPace returns the pace of rate transactions a second from
// start, ending after limit (0: none); nil for rate 0: no pacing.
func newBenchPace(start time.Time, rate, limit int) *benchPace {
	if rate <= 0 {
		return nil
	}
	return &benchPace{turn: make(chan struct{}, 1), start: start, rate: rate, limit: limit}
}

// due is when transaction k falls due.
func (p *benchPace) due(k int) time.Time {
	return p.start.Add(time.Duration(int64(k) * int64(time.Second) / int64(p.rate)))
}

// take waits for up to n transactions to fall due and returns when each
// of those it takes fell due, oldest first: at least one, unless ctx
// ended or the limit was reached, when it returns none.
func (p *benchPace) take(ctx context.Context, n int) []time.Time {
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	defer func() { <-p.turn }()
	if p.limit > 0 {
		n = min(n, p.limit-p.given)
	}
	if n <= 0 {
		return nil
	}
	first, last := p.due(p.given), p.due(p.given+n-1)
	if hold := first.Add(benchHold); last.After(hold) {
		last = hold
	}
	if d := time.Until(last); d > 0 {
		if sleepCtx(ctx, d) != nil {
			return nil
		}
	}
	now := time.Now()
	var dues []time.Time
	for len(dues) < n {
		at := p.due(p.given + len(dues))
		if at.After(now) {
			break
		}
		dues = append(dues, at)
	}
	p.given += len(dues)
	return dues
}
