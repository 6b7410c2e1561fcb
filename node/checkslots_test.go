package node

import (
	"runtime"
	"testing"
)

// Signature checks of new transactions leave one processor to the engine,
// and always have at least one.
func TestCheckSlotsLeaveOneProcessor(t *testing.T) {
	for _, c := range []struct{ procs, want int }{{1, 1}, {2, 1}, {3, 2}, {8, 7}, {64, 63}} {
		if got := checkSlots(c.procs); got != c.want {
			t.Errorf("checkSlots(%d) = %d, want %d", c.procs, got, c.want)
		}
	}
	// A node takes its slots from the processors Go runs on, not from the
	// machine's cores: GOMAXPROCS may be lower (a container's quota).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(7))
	n, _ := testNode(t)
	if got := cap(n.slots); got != 6 {
		t.Fatalf("a node with GOMAXPROCS 7 has %d check slots, want 6", got)
	}
}
