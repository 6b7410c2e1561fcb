package p2p

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
	ma "github.com/multiformats/go-multiaddr"
)

// With the DHT on, two nodes that only know a common bootstrap peer find
// each other through it and connect directly.
func TestDHTConnectsPeersOfABootstrapNode(t *testing.T) {
	withDHT := func(c *Config) { c.DHT = true }
	a := newNode(t, "A", nil, withDHT)
	b := newNode(t, "B", nil, func(c *Config) { withDHT(c); bootstrapTo(a)(c) })
	c := newNode(t, "C", nil, func(c *Config) { withDHT(c); bootstrapTo(a)(c) })
	eventually(t, 30*time.Second, "B and C to meet through the DHT", func() bool {
		return connected(b, c) && connected(c, b)
	})
	// Both advertised themselves under the chain's namespace.
	rd := drouting.NewRoutingDiscovery(a.kad)
	eventually(t, 30*time.Second, "B and C to be advertised in the DHT", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		found, err := rd.FindPeers(ctx, discoveryNamespace("testchain"))
		if err != nil {
			return false
		}
		seen := map[peer.ID]bool{}
		for ai := range found {
			seen[ai.ID] = true
		}
		return seen[b.ID()] && seen[c.ID()]
	})
	// The DHT speaks the chain's own protocol, not the public IPFS one.
	protos, err := a.lh.Peerstore().GetProtocols(b.ID())
	if err != nil {
		t.Fatal(err)
	}
	var private, public bool
	for _, p := range protos {
		private = private || p == "/citychain/testchain/kad/1.0.0"
		public = public || p == "/ipfs/kad/1.0.0"
	}
	if !private || public {
		t.Errorf("B speaks %v", protos)
	}
}

// The mDNS notifee must never block the mDNS service, even when nobody
// reads the queue (as after Close).
func TestMDNSNotifeeNeverBlocks(t *testing.T) {
	q := make(chan peer.AddrInfo, 2)
	n := mdnsNotifee{q}
	done := make(chan struct{})
	go func() {
		for range 10 {
			n.HandlePeerFound(peer.AddrInfo{ID: "x"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("HandlePeerFound blocked on a full queue")
	}
	if len(q) != 2 {
		t.Errorf("queue holds %d, want 2", len(q))
	}
}

// A peer that discovery reported is dialled again whenever its connection
// drops. mDNS reports a peer only once while its record lives (53
// minutes), so without this a partition longer than the transports' idle
// timeouts would keep the two sides apart.
func TestDiscoveredPeerIsRedialled(t *testing.T) {
	// The DHT is on only to start discovery; its own lookups wait an hour,
	// so nothing but the redial loop can bring B back.
	quiet := func(c *Config) { c.DHT = true; c.DiscoveryInterval = time.Hour }
	a := newNode(t, "A", nil, quiet)
	b := newNode(t, "B", nil, quiet)
	a.found <- peer.AddrInfo{ID: b.ID(), Addrs: b.lh.Addrs()} // as mDNS reports it
	eventually(t, 10*time.Second, "A to dial B, found by discovery", func() bool { return connected(a, b) })
	for range 3 {
		if err := a.lh.Network().ClosePeer(b.ID()); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "A to dial B again after the connection dropped", func() bool { return connected(a, b) })
	}
}

// The table of discovered peers stays within its size and forgets a peer
// that has been neither found nor connected for forgetFound.
func TestDiscoveredTable(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	d := newDiscovered(2)
	addr := []ma.Multiaddr{ma.StringCast("/ip4/10.0.0.1/tcp/1")}
	d.add(peer.AddrInfo{ID: "A", Addrs: addr}, t0)
	d.add(peer.AddrInfo{ID: "B", Addrs: addr}, t0.Add(time.Second))
	d.add(peer.AddrInfo{ID: "C", Addrs: addr}, t0.Add(2*time.Second)) // A, the oldest, makes room
	d.add(peer.AddrInfo{ID: "D"}, t0)                                 // no address: nothing to dial
	none := func(peer.ID) bool { return false }
	ids := func(ais []peer.AddrInfo) map[peer.ID]bool {
		m := map[peer.ID]bool{}
		for _, ai := range ais {
			m[ai.ID] = true
		}
		return m
	}
	if got := ids(d.toRedial(t0.Add(time.Minute), none)); len(got) != 2 || !got["B"] || !got["C"] {
		t.Fatalf("to redial: %v, want B and C", got)
	}
	// C stays connected and so stays remembered; B is forgotten.
	onlyC := func(p peer.ID) bool { return p == "C" }
	if got := d.toRedial(t0.Add(forgetFound), onlyC); len(got) != 1 || got[0].ID != "B" {
		t.Fatalf("C connected: %v, want B alone", got)
	}
	if got := ids(d.toRedial(t0.Add(forgetFound+2*time.Second), none)); len(got) != 1 || !got["C"] {
		t.Fatalf("after %s: %v, want C alone", forgetFound, got)
	}
}
