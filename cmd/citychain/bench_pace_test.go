package main

import (
	"context"
	"sync"
	"testing"
	"time"
)

// checkDues fails unless dues are transactions from..from+len(dues)-1 of
// p, each fallen due by now.
func checkDues(t *testing.T, p *benchPace, dues []time.Time, from int) {
	t.Helper()
	now := time.Now()
	for i, at := range dues {
		if want := p.due(from + i); !at.Equal(want) {
			t.Fatalf("due %d is %v, want transaction %d's %v", i, at.Sub(p.start), from+i, want.Sub(p.start))
		}
		if at.After(now) {
			t.Fatalf("transaction %d taken %v before it fell due", from+i, at.Sub(now))
		}
	}
}

func TestBenchPaceBatchesWhatFallsDue(t *testing.T) {
	ctx := context.Background()

	// A worker with ten senders at 1,000 tx/s waits for all ten: they fall
	// due within the hold, so they go in one request.
	p := newBenchPace(time.Now(), 1000, 0)
	dues := p.take(ctx, 10)
	if len(dues) != 10 {
		t.Fatalf("took %d of 10 due within %v", len(dues), benchHold)
	}
	checkDues(t, p, dues, 0)
	if dues[9].Sub(dues[0]) != 9*time.Millisecond {
		t.Fatalf("ten transactions at 1,000 tx/s span %v, want 9ms", dues[9].Sub(dues[0]))
	}

	// At one a second the next falls due long after the hold: a worker
	// with five senders sends the one that is due and no more.
	p = newBenchPace(time.Now().Add(-2*benchHold), 1, 0)
	if dues = p.take(ctx, 5); len(dues) != 1 {
		t.Fatalf("took %d at 1 tx/s, want the 1 due", len(dues))
	}
	checkDues(t, p, dues, 0)

	// A client that fell behind takes its backlog at once, each
	// transaction timed from when it fell due.
	p = newBenchPace(time.Now().Add(-time.Second), 1000, 0)
	dues = p.take(ctx, 50)
	if len(dues) != 50 {
		t.Fatalf("took %d of a backlog of 1,000, want 50", len(dues))
	}
	checkDues(t, p, dues, 0)
	dues = p.take(ctx, 3)
	checkDues(t, p, dues, 50)
	if p.given != 53 {
		t.Fatalf("given %d, want 53", p.given)
	}
}

func TestBenchPaceEnds(t *testing.T) {
	// The limit: 3 in all, then none.
	p := newBenchPace(time.Now().Add(-time.Second), 1000, 3)
	if a, b, c := len(p.take(context.Background(), 2)), len(p.take(context.Background(), 2)), len(p.take(context.Background(), 2)); a != 2 || b != 1 || c != 0 {
		t.Fatalf("took %d, %d, %d under a limit of 3, want 2, 1, 0", a, b, c)
	}

	// The end of sending, while a worker waits on the clock and another
	// for its turn: both return with nothing, and the turn is free again.
	p = newBenchPace(time.Now().Add(time.Hour), 1000, 0)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	got := make([]int, 2)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = len(p.take(ctx, 4)) }()
	}
	time.Sleep(20 * time.Millisecond) // let them wait
	cancel()
	wg.Wait()
	if got[0] != 0 || got[1] != 0 || p.given != 0 {
		t.Fatalf("took %v after the end of sending, given %d", got, p.given)
	}
	p.start = time.Now().Add(-time.Second)
	if dues := p.take(context.Background(), 1); len(dues) != 1 {
		t.Fatal("the turn was not given back when sending ended")
	}

	if newBenchPace(time.Now(), 0, 0) != nil {
		t.Fatal("rate 0 is paced")
	}
}

// TestBenchPaceWorkers takes from one pace in several goroutines: every
// transaction is taken once, in order, whoever takes it.
func TestBenchPaceWorkers(t *testing.T) {
	p := newBenchPace(time.Now().Add(-50*time.Millisecond), 20000, 2000)
	var mu sync.Mutex
	seen := map[time.Time]bool{}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				dues := p.take(context.Background(), 7)
				if len(dues) == 0 {
					return
				}
				mu.Lock()
				for _, at := range dues {
					if seen[at] {
						t.Errorf("transaction due at %v taken twice", at.Sub(p.start))
					}
					seen[at] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 2000 {
		t.Fatalf("%d transactions taken, want the limit of 2000", len(seen))
	}
	for k := 0; k < 2000; k++ {
		if !seen[p.due(k)] {
			t.Fatalf("transaction %d never taken", k)
		}
	}
}
