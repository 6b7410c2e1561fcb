package node

import (
	"context"
	"os"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"
)

// liveHeapMetric is the runtime metric of the bytes of objects the last
// collection found live.
const liveHeapMetric = "/gc/heap/live:bytes"

// followEvery is how often the soft limit is adjusted to the live heap.
const followEvery = 500 * time.Millisecond

// softLimit returns the soft memory limit for a live heap of live bytes:
// the configured floor, or one and a half times the live heap when that is
// more. Go collects ever more often as its memory nears the limit, up to
// half the processor once the live heap alone reaches it; raising the
// limit with the live heap leaves at least half the live heap of room for
// garbage, so a node whose live heap grows (Badger's compactions hold
// their tables in memory while they build them) collects as it would with
// a gc_percent of 50 instead of without pause.
func softLimit(floor, live uint64) uint64 {
	return max(floor, live+live/2)
}

// ApplyRuntime sets the garbage collector of the Go runtime: its target
// percentage (debug.SetGCPercent) unless GOGC is set in the environment,
// and its soft memory limit (debug.SetMemoryLimit) unless GOMEMLIMIT is.
// The limit then follows the live heap (softLimit) until ctx is
// cancelled. Both belong to the whole process, so the commands that run
// one node call this; New does not, since tests run many nodes in one
// process.
func (c MemoryConfig) ApplyRuntime(ctx context.Context) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(c.GCPercent)
	}
	if c.LimitMB > 0 && os.Getenv("GOMEMLIMIT") == "" {
		floor := uint64(c.LimitMB) << 20
		debug.SetMemoryLimit(int64(floor))
		go followLiveHeap(ctx, floor, followEvery) // returns when ctx is cancelled
	}
}

// followLiveHeap sets the soft memory limit to softLimit(floor, live heap)
// every period, until ctx is cancelled; then it leaves the floor.
func followLiveHeap(ctx context.Context, floor uint64, every time.Duration) {
	sample := []rtmetrics.Sample{{Name: liveHeapMetric}}
	set := floor
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			debug.SetMemoryLimit(int64(floor))
			return
		case <-t.C:
		}
		rtmetrics.Read(sample)
		if sample[0].Value.Kind() != rtmetrics.KindUint64 {
			return // a runtime without the metric: the floor stays
		}
		if want := softLimit(floor, sample[0].Value.Uint64()); want != set {
			debug.SetMemoryLimit(int64(want))
			set = want
		}
	}
}

// releaseLook is how often a node looks at its mempool to decide whether
// to return its free memory, and loadEndQuiet how long the mempool must
// stay empty after holding transactions before the node takes the load
// as ended.
const (
	releaseLook  = time.Second
	loadEndQuiet = time.Second
)

// idleRelease decides when a node returns its free memory to the system
// (a collection and debug.FreeOSMemory): once when a load has ended, the
// mempool found empty at every look for loadEndQuiet after it held
// transactions, and then every `every` while it is found empty. A load
// leaves the heap's goal at twice the live heap of its busiest moment
// (Badger's flushes swell it); the runtime gives pages back only slowly
// below that goal, so without the release a devnet that has just served
// a burst keeps its peak for as long as `every`.
type idleRelease struct {
	every      time.Duration
	busy       bool      // the mempool held transactions at a look since the last release
	emptySince time.Time // the first of the looks in a row that found the mempool empty; zero when the last look did not
	last       time.Time // the last release, or when the node started
}

// look records one look at the mempool, which held pooled transactions,
// at now, and says whether to release now.
func (r *idleRelease) look(now time.Time, pooled int) bool {
	if pooled > 0 {
		r.busy = true
		r.emptySince = time.Time{}
		return false
	}
	if r.emptySince.IsZero() {
		r.emptySince = now
	}
	loadEnded := r.busy && now.Sub(r.emptySince) >= loadEndQuiet
	if !loadEnded && now.Sub(r.last) < r.every {
		return false
	}
	r.busy = false
	r.last = now
	return true
}
