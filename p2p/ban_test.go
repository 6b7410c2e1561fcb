package p2p

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
)

// testClock is the wall clock, moved forward by hand so that a test can
// end a ban without waiting for it.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// Mallory floods A and B with messages their validators reject. Both
// ban her: she is disconnected and her redials are refused, while A and
// B go on gossiping. When A's ban runs out she gets back in, but her
// score is still below the gray list, so A bans her again.
func TestFloodingPeerIsBanned(t *testing.T) {
	clock := &testClock{}
	reg := prometheus.NewRegistry()
	a := newNode(t, "A", nil, func(c *Config) { c.Now = clock.now; c.Metrics = reg })
	b := newNode(t, "B", nil, bootstrapTo(a))
	mallory := newNode(t, "Mallory", nil, bootstrapTo(a, b))
	eventually(t, 10*time.Second, "gossip between A, B and Mallory", func() bool {
		return gossipReady(a, 2) && gossipReady(b, 2) && gossipReady(mallory, 2)
	})

	// Mallory does not validate what she publishes, so she can send what
	// everyone else rejects. Three rejected messages are enough; she sends
	// until both have banned her, at most 300 of each kind.
	bannedBy := func(n *testNode) bool { return slices.Contains(n.Banned(), mallory.ID()) }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 300 && ctx.Err() == nil && !(bannedBy(a) && bannedBy(b)); i++ {
		_ = mallory.PublishTx(ctx, []byte(fmt.Sprintf("bad:tx:%d", i)))
		_ = mallory.PublishConsensus(ctx, []byte(fmt.Sprintf("bad:vote:%d", i)))
		time.Sleep(10 * time.Millisecond)
	}
	eventually(t, 5*time.Second, "A and B to ban Mallory", func() bool { return bannedBy(a) && bannedBy(b) })
	eventually(t, 5*time.Second, "Mallory cut off from A and B", func() bool {
		return !connected(a, mallory) && !connected(b, mallory) && !connected(mallory, a) && !connected(mallory, b)
	})
	for _, n := range []*testNode{a, b} {
		if got := n.Banned(); len(got) != 1 {
			t.Errorf("%s banned %v, want only Mallory", n.name, got)
		}
	}

	// Mallory redials every 200ms; the gate refuses her each time.
	never(t, 1500*time.Millisecond, "Mallory back during her ban", func() bool {
		return connected(a, mallory) || connected(b, mallory)
	})
	waitRelay(t, a, b)
	waitRelay(t, b, a)
	if info, ok := peerInfo(a, b.ID()); !ok || info.Score < 0 {
		t.Errorf("B at A: %+v (connected %v), want a score of at least 0", info, ok)
	}

	// The ban is not a block: the classroom controls neither show nor lift it.
	if got := a.Blocked(); len(got) != 0 {
		t.Errorf("Blocked() = %v, want none", got)
	}
	a.Unblock(mallory.ID())
	a.SetBlocked(nil)
	never(t, time.Second, "Unblock lifted the ban", func() bool { return connected(a, mallory) })
	if got := metricValue(t, reg, "citychain_p2p_bans_total", banLowScore); got != 1 {
		t.Errorf("bans_total{reason=%q} = %v, want 1", banLowScore, got)
	}
	if got := metricValue(t, reg, "citychain_p2p_banned_peers", ""); got != 1 {
		t.Errorf("banned_peers = %v, want 1", got)
	}

	// Ten minutes later the ban has run out and Mallory reconnects. Her
	// score has not had ten real minutes to fade, so A bans her again.
	clock.advance(10*time.Minute + time.Second)
	if bannedBy(a) {
		t.Fatal("still banned after BanDuration")
	}
	eventually(t, 10*time.Second, "A to ban Mallory a second time", func() bool {
		return metricValue(t, reg, "citychain_p2p_bans_total", banLowScore) == 2
	})
	eventually(t, 5*time.Second, "Mallory cut off again", func() bool {
		return bannedBy(a) && !connected(a, mallory)
	})
}

// The block list and the ban list are separate: lifting one never lifts
// the other, and each is listed on its own.
func TestBlockAndBanAreSeparate(t *testing.T) {
	clock := &testClock{}
	n := newNode(t, "A", nil, func(c *Config) { c.Now = clock.now })
	cases := []struct {
		name  string
		steps func(p peer.ID)
		allow bool
	}{
		{"a ban keeps a peer out", func(p peer.ID) {
			n.ban(p, time.Minute, banLowScore)
		}, false},
		{"a ban runs out", func(p peer.ID) {
			n.ban(p, time.Minute, banLowScore)
			clock.advance(2 * time.Minute)
		}, true},
		{"Unblock does not lift a ban", func(p peer.ID) {
			n.ban(p, time.Minute, banLowScore)
			n.Unblock(p)
		}, false},
		{"SetBlocked does not lift a ban", func(p peer.ID) {
			n.ban(p, time.Minute, banLowScore)
			n.SetBlocked(nil)
		}, false},
		{"the end of a ban does not lift a block", func(p peer.ID) {
			n.Block(p)
			n.ban(p, time.Minute, banLowScore)
			clock.advance(2 * time.Minute)
		}, false},
		{"Unblock lifts a block", func(p peer.ID) {
			n.Block(p)
			n.Unblock(p)
		}, true},
		{"a shorter ban does not cut a longer one", func(p peer.ID) {
			n.ban(p, time.Hour, banLowScore)
			n.ban(p, time.Minute, banWrongChain)
			clock.advance(2 * time.Minute)
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := randomPeer(t)
			c.steps(p)
			if got := n.gater.allows(p); got != c.allow {
				t.Errorf("allows = %v, want %v", got, c.allow)
			}
			banned, blocked := slices.Contains(n.Banned(), p), slices.Contains(n.Blocked(), p)
			if banned != n.gater.isBanned(p) {
				t.Errorf("Banned() lists it: %v, but isBanned = %v", banned, !banned)
			}
			if !c.allow && !banned && !blocked {
				t.Error("refused, but neither Banned() nor Blocked() lists it")
			}
			n.SetBlocked(nil)
		})
	}
}

func randomPeer(t *testing.T) peer.ID {
	t.Helper()
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	id, err := PeerID(key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// metricValue returns the value of a counter or gauge in reg; label, if
// not empty, is the value of its "reason" label. A missing metric is 0.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			matches := label == ""
			for _, l := range m.GetLabel() {
				matches = matches || l.GetName() == "reason" && l.GetValue() == label
			}
			if !matches {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// The node's block sync bans a peer that keeps claiming blocks it never
// serves: BanPeer disconnects it, keeps it out for BanDuration and counts
// the ban under the reason given.
func TestBanPeer(t *testing.T) {
	clock := &testClock{}
	reg := prometheus.NewRegistry()
	a := newNode(t, "A", nil, func(c *Config) { c.Now = clock.now; c.Metrics = reg })
	b := newNode(t, "B", nil, bootstrapTo(a))
	eventually(t, 10*time.Second, "B connected to A", func() bool { return connected(a, b) })

	a.BanPeer(b.ID(), "sync stalls")
	a.BanPeer(b.ID(), "sync stalls") // already banned: not counted again
	eventually(t, 5*time.Second, "B cut off", func() bool { return !connected(a, b) && !connected(b, a) })
	if !slices.Contains(a.Banned(), b.ID()) {
		t.Errorf("Banned() = %v, want B", a.Banned())
	}
	if got := metricValue(t, reg, "citychain_p2p_bans_total", "sync stalls"); got != 1 {
		t.Errorf("bans_total{reason=%q} = %v, want 1", "sync stalls", got)
	}
	never(t, time.Second, "B back during its ban", func() bool { return connected(a, b) })

	clock.advance(10*time.Minute + time.Second) // the default BanDuration
	eventually(t, 10*time.Second, "B back after its ban", func() bool { return connected(a, b) })
}
