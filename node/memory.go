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
