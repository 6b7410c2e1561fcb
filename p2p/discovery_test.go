package p2p

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
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
