package p2p

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

func TestBlockedPeerCannotReconnect(t *testing.T) {
	a, b, c := threeNodes(t)

	a.Block(b.ID())
	eventually(t, 5*time.Second, "A and B disconnected", func() bool {
		return !connected(a, b) && !connected(b, a)
	})
	// B keeps redialling A (its bootstrap peer) every 200ms; A refuses.
	never(t, time.Second, "A reconnected to blocked B", func() bool { return connected(a, b) })
	if !connected(a, c) {
		t.Error("blocking B cut C too")
	}
	if got := a.Blocked(); len(got) != 1 || got[0] != b.ID() {
		t.Errorf("Blocked() = %v", got)
	}

	a.Unblock(b.ID())
	eventually(t, 5*time.Second, "B back after Unblock", func() bool { return connected(a, b) })

	// SetBlocked replaces the whole set.
	a.SetBlocked([]peer.ID{b.ID(), c.ID()})
	eventually(t, 5*time.Second, "A cut from B and C", func() bool {
		return !connected(a, b) && !connected(a, c)
	})
	a.SetBlocked(nil)
	eventually(t, 5*time.Second, "B and C back", func() bool { return connected(a, b) && connected(a, c) })
}

func TestBlockAllIsolatesNode(t *testing.T) {
	a, b, c := threeNodes(t)

	// B is isolated: it closes its link to A and makes no new one,
	// although A is its bootstrap peer and is redialled every 200ms.
	b.BlockAll(true)
	if !b.Isolated() {
		t.Fatal("Isolated() = false after BlockAll(true)")
	}
	eventually(t, 5*time.Second, "B isolated", func() bool { return len(b.Peers()) == 0 })
	never(t, time.Second, "isolated B got a connection", func() bool {
		return connected(b, a) || connected(b, c)
	})
	if !connected(a, c) {
		t.Error("isolating B cut A from C")
	}

	b.BlockAll(false)
	eventually(t, 5*time.Second, "B reconnected", func() bool { return connected(b, a) })
	eventually(t, 10*time.Second, "B back in the gossip mesh", func() bool { return gossipReady(b, 1) })
}
