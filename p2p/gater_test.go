package p2p

import (
	"fmt"
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

// checkBanList fails unless the gater's map and heap hold the same entries.
func checkBanList(t *testing.T, g *gater) {
	t.Helper()
	if len(g.banned) != len(g.expiry) {
		t.Fatalf("%d peers in the map, %d in the heap", len(g.banned), len(g.expiry))
	}
	for i, e := range g.expiry {
		if e.index != i || g.banned[e.id] != e {
			t.Fatalf("heap entry %d (%s) is out of step with the map", i, e.id)
		}
	}
}

func TestGaterBanListIsBoundedAndDropsTheBanEndingFirst(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	now := start
	g := newGater(func() time.Time { return now })
	g.limit = 3
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }

	for i, s := range []int{10, 30, 20} {
		if !g.ban(peer.ID(fmt.Sprint("p", i)), at(s)) {
			t.Fatalf("p%d: ban not fresh", i)
		}
	}
	// Full: p3 takes the place of p0, whose ban ends first.
	if !g.ban("p3", at(40)) {
		t.Fatal("p3: ban not fresh")
	}
	checkBanList(t, g)
	if len(g.banned) != 3 || g.isBanned("p0") || !g.allows("p0") {
		t.Fatalf("after p3: %v, p0 banned %v", g.bannedPeers(), g.isBanned("p0"))
	}
	// A longer ban moves p2 (ends at 20 s) behind p1 (30 s).
	if g.ban("p2", at(50)) {
		t.Fatal("p2 banned again reported fresh")
	}
	if g.ban("p2", at(5)) { // a shorter ban keeps the longer one
		t.Fatal("p2 banned again reported fresh")
	}
	g.ban("p4", at(60))
	checkBanList(t, g)
	for _, id := range []peer.ID{"p2", "p3", "p4"} {
		if !g.isBanned(id) {
			t.Errorf("%s is not banned; list %v", id, g.bannedPeers())
		}
	}
	if g.isBanned("p1") {
		t.Error("p1, whose ban ended first, is still on a full list")
	}

	// Bans that ran out leave at the next ban, without a full sweep.
	now = at(55)
	g.ban("p5", at(100))
	checkBanList(t, g)
	if got := g.bannedPeers(); len(got) != 2 || len(g.banned) != 2 {
		t.Errorf("at 55 s: listed %v, kept %d", got, len(g.banned))
	}
}

func TestGaterBanListHoldsAtMostMaxBans(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	g := newGater(func() time.Time { return now })
	for i := range maxBans + 500 {
		now = now.Add(time.Millisecond)
		g.ban(peer.ID(fmt.Sprint("fresh-", i)), now.Add(time.Minute))
	}
	checkBanList(t, g)
	if len(g.banned) != maxBans || len(g.bannedPeers()) != maxBans {
		t.Fatalf("ban list holds %d peers (%d listed), want %d", len(g.banned), len(g.bannedPeers()), maxBans)
	}
	// The newest bans are kept.
	if !g.isBanned(peer.ID(fmt.Sprint("fresh-", maxBans+499))) || g.isBanned("fresh-0") {
		t.Error("the list kept older bans over newer ones")
	}
}
