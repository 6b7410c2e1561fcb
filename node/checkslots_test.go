package node

import (
	"runtime"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

// A validator among others leaves one processor to its engine; a sole
// validator checks on all of them; there is always at least one slot.
func TestCheckSlotsLeaveOneProcessor(t *testing.T) {
	for _, c := range []struct{ procs, validators, want int }{
		{1, 4, 1}, {2, 4, 1}, {3, 4, 2}, {8, 2, 7}, {64, 7, 63},
		{1, 1, 1}, {2, 1, 2}, {8, 1, 8},
	} {
		if got := checkSlots(c.procs, c.validators); got != c.want {
			t.Errorf("checkSlots(%d, %d) = %d, want %d", c.procs, c.validators, got, c.want)
		}
	}
	// A node takes its slots from the processors Go runs on, not from the
	// machine's cores (GOMAXPROCS may be lower: a container's quota), and
	// from its genesis's validators.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(7))
	dev, _ := testNode(t)
	if got := cap(dev.slots); got != 7 {
		t.Errorf("a dev node with GOMAXPROCS 7 has %d check slots, want 7", got)
	}
	// The count is the state's set, not the genesis's, when there is one.
	if got := validatorCount(dev.Store(), 4); got != 1 {
		t.Errorf("validators of a dev chain's state = %d, want 1", got)
	}
	if got := validatorCount(chain.MemReader{}, 4); got != 4 {
		t.Errorf("validators of a state without a set = %d, want the fallback 4", got)
	}
	d, _, err := InitDevnet(t.TempDir(), 2, freeBase(t, 2), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(d.Nodes[0].Home)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Options{Home: d.Nodes[0].Home, Config: cfg, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	if got := cap(n.slots); got != 6 {
		t.Errorf("a validator of two with GOMAXPROCS 7 has %d check slots, want 6", got)
	}
}
