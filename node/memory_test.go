package node

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestSoftLimitIsTheFloorOrOneAndAHalfLiveHeaps(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct{ floor, live, want uint64 }{
		{112 * mib, 0, 112 * mib},
		{112 * mib, 60 * mib, 112 * mib},
		{112 * mib, 74 * mib, 112 * mib},
		{112 * mib, 76 * mib, 114 * mib},
		{112 * mib, 200 * mib, 300 * mib},
	} {
		if got := softLimit(c.floor, c.live); got != c.want {
			t.Errorf("softLimit(%d MiB, %d MiB) = %d MiB, want %d", c.floor/mib, c.live/mib, got/mib, c.want/mib)
		}
	}
}

// ApplyRuntime sets the limit to the configured floor and raises it when
// the live heap grows past two thirds of it; when its context ends, the
// floor is back. The test holds 128 MiB live, so the limit must reach at
// least 192 MiB (other tests of the package add to the live heap, never
// take from it).
func TestApplyRuntimeLimitFollowsTheLiveHeap(t *testing.T) {
	restoreRuntime(t, "", "")

	const floor = 16 << 20
	ballast := make([]byte, 128<<20)
	for i := range ballast {
		ballast[i] = byte(i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	MemoryConfig{GCPercent: 100, LimitMB: floor >> 20}.ApplyRuntime(ctx)

	waitLimit := func(ok func(int64) bool) int64 {
		deadline := time.Now().Add(10 * time.Second)
		for {
			runtime.GC()
			limit := debug.SetMemoryLimit(-1)
			if ok(limit) || time.Now().After(deadline) {
				return limit
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if got := waitLimit(func(l int64) bool { return l >= 192<<20 }); got < 192<<20 {
		t.Fatalf("soft limit %d MiB with 128 MiB live, want at least 192 MiB", got>>20)
	}
	// The ballast stays live to the end, so the follower itself never
	// asks for the floor: seeing it means the goroutine saw the end of
	// its context, and it sets nothing after that.
	cancel()
	if got := waitLimit(func(l int64) bool { return l == floor }); got != floor {
		t.Fatalf("soft limit %d MiB after the context ended, want the floor of %d MiB", got>>20, floor>>20)
	}
	runtime.KeepAlive(ballast)
}

// With GOMEMLIMIT and GOGC in the environment, the config sets neither.
func TestApplyRuntimeLeavesTheEnvironmentsSettings(t *testing.T) {
	restoreRuntime(t, "1GiB", "100")
	oldLimit := debug.SetMemoryLimit(-1)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	MemoryConfig{GCPercent: 50, LimitMB: 16}.ApplyRuntime(ctx)
	if got := debug.SetMemoryLimit(-1); got != oldLimit {
		t.Errorf("soft limit %d, want it left at %d", got, oldLimit)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("gc percent %d, want it left at 100", got)
	}
}

// restoreRuntime sets GOMEMLIMIT and GOGC in the environment for the test,
// sets the collector to its default percentage, and puts the process's
// soft limit and percentage back when the test ends.
func restoreRuntime(t *testing.T, memLimit, gogc string) {
	t.Helper()
	t.Setenv("GOMEMLIMIT", memLimit)
	t.Setenv("GOGC", gogc)
	oldLimit := debug.SetMemoryLimit(-1)
	oldPercent := debug.SetGCPercent(100)
	t.Cleanup(func() {
		debug.SetMemoryLimit(oldLimit)
		debug.SetGCPercent(oldPercent)
	})
}

// A node returns its free memory once when a load has ended (the mempool
// found empty at looks loadEndQuiet apart after it held transactions),
// and otherwise every period while it is found empty; never while it
// holds transactions.
func TestIdleReleaseAfterALoadAndEveryPeriod(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &idleRelease{every: 30 * time.Second, last: start}
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	steps := []struct {
		sec, pooled int
		want        bool
	}{
		{1, 0, false},   // idle from the start: nothing to release yet
		{2, 50, false},  // a load
		{3, 800, false}, //
		{4, 0, false},   // empty once: a gap between blocks, perhaps
		{5, 10, false},  // still loaded
		{6, 0, false},   // empty
		{7, 0, true},    // and a second later: the load has ended
		{8, 0, false},   // released once, not at every look
		{20, 0, false},  // within the period of the release
		{37, 0, true},   // a period after the release, still empty
		{38, 5, false},  // never while transactions wait
		{50, 3, false},  //
		{51, 0, false},  // the load ends
		{52, 0, true},   //
		{80, 1, false},  //
		{81, 0, false},  //
		{82, 0, true},   // a load seen at one look counts as a load too
		{111, 0, false}, //
		{112, 0, true},  // and the period counts from that release
	}
	for _, s := range steps {
		if got := r.look(at(s.sec), s.pooled); got != s.want {
			t.Fatalf("at %d s with %d pooled: release %v, want %v", s.sec, s.pooled, got, s.want)
		}
	}
}
