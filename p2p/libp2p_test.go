package p2p

import (
	"strings"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// The hand-assembled host speaks both transports a node listens on: a
// node that listens on TCP only and one that listens on QUIC only are
// each reached, and learn each other's heights, over that transport.
func TestHostConnectsOverTCPAndOverQUIC(t *testing.T) {
	for _, tc := range []struct{ name, listen, proto string }{
		{"tcp", "/ip4/127.0.0.1/tcp/0", "/tcp/"},
		{"quic", "/ip4/127.0.0.1/udp/0/quic-v1", "/quic-v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			only := func(c *Config) { c.ListenAddrs = []string{tc.listen} }
			a := newNode(t, "A", goodChain(3), only)
			for _, addr := range a.Addrs() {
				if !strings.Contains(addr.String(), tc.proto) {
					t.Fatalf("A listens on %s, want only %s addresses", addr, tc.proto)
				}
			}
			b := newNode(t, "B", nil, func(c *Config) { only(c); bootstrapTo(a)(c) })
			waitStatus(t, b, a.ID())
			if info, _ := peerInfo(b, a.ID()); info.Height != 3 {
				t.Errorf("B learnt height %d of A, want 3", info.Height)
			}
			conns := b.lh.Network().ConnsToPeer(a.ID())
			if len(conns) == 0 {
				t.Fatal("B has no connection to A")
			}
			for _, c := range conns {
				if !strings.Contains(c.RemoteMultiaddr().String(), tc.proto) {
					t.Errorf("B reaches A over %s, want %s", c.RemoteMultiaddr(), tc.proto)
				}
			}
		})
	}
}

// Close gives back the TCP and UDP ports: a new host listens on exactly
// the ports of the one just closed. A listener or QUIC socket left open
// by Close would make this fail with "address already in use".
func TestCloseGivesBackTheListenPorts(t *testing.T) {
	a := newNode(t, "A", nil, nil)
	var used []string
	for _, addr := range a.Addrs() {
		_, tcpErr := addr.ValueForProtocol(ma.P_TCP)
		_, quicErr := addr.ValueForProtocol(ma.P_QUIC_V1)
		if tcpErr == nil || quicErr == nil {
			listen, _ := ma.SplitLast(addr) // without /p2p/ID
			used = append(used, listen.String())
		}
	}
	if len(used) != 2 {
		t.Fatalf("A listens on %v, want one TCP and one QUIC address", a.Addrs())
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := nodeConfig(t, "B", &memBlocks{}, newInbox())
		c.ListenAddrs = used
		b, err := New(c)
		if err == nil {
			got := map[string]bool{}
			for _, addr := range b.Addrs() {
				listen, _ := ma.SplitLast(addr)
				got[listen.String()] = true
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			for _, u := range used {
				if !got[u] {
					t.Errorf("the new host listens on %v, not on %s", b.Addrs(), u)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a new host cannot listen on the closed host's ports %v: %v", used, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A host that cannot listen on any of its addresses is not made: New
// says so, and what it had built is closed again.
func TestNewFailsWhenItCannotListen(t *testing.T) {
	a := newNode(t, "A", nil, func(c *Config) { c.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"} })
	taken, _ := ma.SplitLast(a.Addrs()[0])
	c := nodeConfig(t, "B", &memBlocks{}, newInbox())
	c.ListenAddrs = []string{taken.String()}
	b, err := New(c)
	if err == nil {
		b.Close()
		t.Fatalf("a second host listens on %s, which A holds", taken)
	}
	if !strings.Contains(err.Error(), "listen") {
		t.Errorf("error %q does not say that listening failed", err)
	}
}

// With a registry, the host reports libp2p's own metrics there as
// libp2p.New's hosts did: connections and streams held against the
// resource manager, the swarm's dials and connections, event-bus traffic.
func TestHostReportsLibp2pMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := newNode(t, "A", goodChain(2), func(c *Config) { c.Metrics = reg })
	b := newNode(t, "B", nil, bootstrapTo(a))
	waitStatus(t, b, a.ID())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range families {
		have[f.GetName()] = true
	}
	for _, want := range []string{"libp2p_rcmgr_connections", "libp2p_rcmgr_streams", "libp2p_swarm_connections_opened_total", "libp2p_eventbus_events_emitted_total", "libp2p_identify_identify_pushes_triggered_total"} {
		if !have[want] {
			t.Errorf("metric %s is not reported", want)
		}
	}
}
