package p2p

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Peers that take the status stream and never answer hold up only their
// own exchanges: a peer that connects after three of them are stalling is
// known, with its height, long before their exchanges time out.
func TestStallingStatusPeersHoldUpNoOneElse(t *testing.T) {
	victim := newNode(t, "victim", nil, func(c *Config) {
		c.StatusTimeout = 30 * time.Second // a stalled exchange lasts
		c.StatusInterval = time.Hour       // no periodic round to help
	})
	stop := make(chan struct{})
	defer close(stop)
	ctx := context.Background()
	for i := range 3 {
		s := newNode(t, "staller", nil, nil)
		s.lh.SetStreamHandler(StatusProtocol, func(st network.Stream) {
			select { // read nothing, answer nothing
			case <-stop:
			case <-time.After(40 * time.Second):
			}
			st.Reset()
		})
		if err := victim.lh.Connect(ctx, peer.AddrInfo{ID: s.ID(), Addrs: s.lh.Addrs()}); err != nil {
			t.Fatalf("connect staller %d: %v", i, err)
		}
	}
	eventually(t, 5*time.Second, "three status exchanges stalled", func() bool {
		victim.statusMu.Lock()
		defer victim.statusMu.Unlock()
		return len(victim.statusBusy) == 3
	})
	honest := newNode(t, "honest", goodChain(5), nil)
	if err := victim.lh.Connect(ctx, peer.AddrInfo{ID: honest.ID(), Addrs: honest.lh.Addrs()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the honest peer's height known while the others stall", func() bool {
		p, ok := peerInfo(victim, honest.ID())
		return ok && p.Height == 5
	})
}
