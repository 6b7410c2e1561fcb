package p2p

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// After Close, no goroutine of this package is left: every loop, worker
// and stream handler has returned.
func TestCloseStopsEveryGoroutine(t *testing.T) {
	withDHT := func(c *Config) { c.DHT = true }
	a := newNode(t, "A", goodChain(5), withDHT)
	b := newNode(t, "B", nil, func(c *Config) { withDHT(c); bootstrapTo(a)(c) })
	waitStatus(t, b, a.ID())
	if ours := hostGoroutines(); ours == 0 {
		t.Fatal("found no goroutines of the hosts while running; the check is broken")
	}
	for _, n := range []*testNode{b, a} {
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Close has waited for ours; give libp2p's own a moment to notice.
	eventually(t, 5*time.Second, "all host goroutines to end", func() bool { return hostGoroutines() == 0 })
}

// hostGoroutines counts goroutines running a method of Host.
func hostGoroutines() int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "citychain/p2p.(*Host)") && !strings.Contains(g, "testing.tRunner") {
			n++
		}
	}
	return n
}
