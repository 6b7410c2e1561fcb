package p2p

import (
	"crypto/sha256"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/sec"
	basichost "github.com/libp2p/go-libp2p/p2p/host/basic"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/libp2p/go-libp2p/p2p/net/upgrader"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	tls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/quicreuse"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	quicgo "github.com/quic-go/quic-go"
	"golang.org/x/crypto/hkdf"
)

// Resource budget of one node. A laptop runs 4 to 7 nodes; each gets a
// small, fixed share instead of libp2p's default of 1/8 of the machine.
const (
	rcmgrMemory = 128 << 20
	rcmgrFDs    = 512
)

// The host is put together from go-libp2p's parts (peerstore, swarm,
// upgrader, TCP and QUIC transports, basic host) rather than with
// libp2p.New. libp2p.New wires every transport go-libp2p has, WebRTC and
// WebTransport included, through a dependency-injection framework, and
// all of that code is linked into the binary whether or not it is used:
// 8 MB, a sixth of the binary, and most of a binary's pages are resident
// in every node process. What a node uses is the same: TCP and QUIC,
// Noise then TLS, yamux, identify, our gate, resource and connection
// managers. Left out, as nothing here used them: relay, hole punching,
// NAT mapping, and the ping service and AutoNAT client libp2p.New starts.

// buildHost makes the libp2p host with our transports, limits and gate.
func buildHost(cfg Config, listen []ma.Multiaddr, g *gater) (host.Host, *connmgr.BasicConnMgr, error) {
	rm, err := newResourceManager()
	if err != nil {
		return nil, nil, err
	}
	cm, err := connmgr.NewConnManager(cfg.MaxPeers/2, cfg.MaxPeers, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		rm.Close()
		return nil, nil, fmt.Errorf("connection manager: %w", err)
	}
	fail := func(what string, err error) (host.Host, *connmgr.BasicConnMgr, error) {
		cm.Close()
		rm.Close()
		return nil, nil, fmt.Errorf("libp2p host: %s: %w", what, err)
	}

	self, err := peer.IDFromPrivateKey(cfg.Key)
	if err != nil {
		return fail("peer id", err)
	}
	ps, err := pstoremem.NewPeerstore()
	if err != nil {
		return fail("peerstore", err)
	}
	if err := ps.AddPrivKey(self, cfg.Key); err != nil {
		ps.Close()
		return fail("peerstore", err)
	}
	if err := ps.AddPubKey(self, cfg.Key.GetPublic()); err != nil {
		ps.Close()
		return fail("peerstore", err)
	}

	var busOpts []eventbus.Option
	swarmOpts := []swarm.Option{
		swarm.WithConnectionGater(g),
		swarm.WithResourceManager(rm),
		swarm.WithUDPBlackHoleSuccessCounter(&swarm.BlackHoleSuccessCounter{N: 100, MinSuccesses: 5, Name: "UDP"}),
		swarm.WithIPv6BlackHoleSuccessCounter(&swarm.BlackHoleSuccessCounter{N: 100, MinSuccesses: 5, Name: "IPv6"}),
	}
	if cfg.Metrics != nil {
		rcmgr.MustRegisterWith(cfg.Metrics) // the resource manager reports to these
		busOpts = append(busOpts, eventbus.WithMetricsTracer(eventbus.NewMetricsTracer(eventbus.WithRegisterer(cfg.Metrics))))
		swarmOpts = append(swarmOpts, swarm.WithMetricsTracer(swarm.NewMetricsTracer(swarm.WithRegisterer(cfg.Metrics))))
	}
	bus := eventbus.NewBus(busOpts...)
	sw, err := swarm.NewSwarm(self, ps, bus, swarmOpts...)
	if err != nil {
		ps.Close()
		return fail("swarm", err)
	}
	// Once the basic host exists, closing it closes the swarm, the
	// peerstore, the connection manager and the resource manager.
	h, quicConns, err := assemble(cfg, sw, bus, cm, rm, g)
	if err != nil {
		sw.Close()
		ps.Close()
		return fail("transports", err)
	}
	own := &ownHost{BasicHost: h, quic: quicConns}
	if err := sw.Listen(listen...); err != nil {
		own.Close()
		return nil, nil, fmt.Errorf("libp2p host: listen: %w", err)
	}
	h.Start()
	return own, cm, nil
}

// assemble adds the transports to sw and puts the basic host on it.
func assemble(cfg Config, sw *swarm.Swarm, bus event.Bus, cm *connmgr.BasicConnMgr, rm network.ResourceManager, g *gater) (*basichost.BasicHost, *quicreuse.ConnManager, error) {
	muxers := []upgrader.StreamMuxer{{ID: yamux.ID, Muxer: yamux.DefaultTransport}}
	nt, err := noise.New(noise.ID, cfg.Key, muxers)
	if err != nil {
		return nil, nil, fmt.Errorf("noise: %w", err)
	}
	tt, err := tls.New(tls.ID, cfg.Key, muxers)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	// Noise is offered first; TLS stays for peers that prefer it.
	up, err := upgrader.New([]sec.SecureTransport{nt, tt}, muxers, nil, rm, g)
	if err != nil {
		return nil, nil, fmt.Errorf("upgrader: %w", err)
	}
	// Outgoing TCP connections come from ephemeral ports, not from the
	// listen port (go-libp2p's default, for hole punching, which we do
	// not do). From the listen port, two nodes that dial each other at
	// the same moment make one TCP connection by simultaneous open, on
	// which both sides start the Noise handshake as initiator and fail
	// ("noise: message is too short"). With symmetric bootstrap lists and
	// the same redial period that repeats every period: on WAN links
	// (namespace lab, 50-200 ms) 7 validators stayed at 3 to 5 peers of
	// 6 for over a minute.
	tcpT, err := tcp.NewTCPTransport(up, rm, nil, tcp.DisableReuseport())
	if err != nil {
		return nil, nil, fmt.Errorf("tcp: %w", err)
	}
	if err := sw.AddTransport(tcpT); err != nil {
		return nil, nil, fmt.Errorf("tcp: %w", err)
	}
	resetKey, tokenKey, err := quicKeys(cfg.Key)
	if err != nil {
		return nil, nil, err
	}
	var quicOpts []quicreuse.Option
	if cfg.Metrics != nil {
		quicOpts = append(quicOpts, quicreuse.EnableMetrics(cfg.Metrics))
	}
	quicConns, err := quicreuse.NewConnManager(resetKey, tokenKey, quicOpts...)
	if err != nil {
		return nil, nil, fmt.Errorf("quic: %w", err)
	}
	quicT, err := quic.NewTransport(cfg.Key, quicConns, nil, g, rm)
	if err == nil {
		err = sw.AddTransport(quicT)
	}
	if err != nil {
		quicConns.Close()
		return nil, nil, fmt.Errorf("quic: %w", err)
	}
	h, err := basichost.NewHost(sw, &basichost.HostOpts{
		EventBus:      bus,
		ConnManager:   cm,
		EnableMetrics: cfg.Metrics != nil,
		// A nil registerer with metrics off is never used.
		PrometheusRegisterer: cfg.Metrics,
	})
	if err != nil {
		quicConns.Close()
		return nil, nil, fmt.Errorf("host: %w", err)
	}
	return h, quicConns, nil
}

// newResourceManager gives the node its fixed share (rcmgrMemory,
// rcmgrFDs) with go-libp2p's default limits scaled to it, plus limits of
// their own for identify, the one libp2p service a node runs.
func newResourceManager() (network.ResourceManager, error) {
	limits := rcmgr.DefaultLimits
	limits.AddServiceLimit(identify.ServiceName,
		rcmgr.BaseLimit{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 4 << 20},
		rcmgr.BaseLimitIncrease{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 4 << 20})
	limits.AddServicePeerLimit(identify.ServiceName,
		rcmgr.BaseLimit{StreamsInbound: 16, StreamsOutbound: 16, Streams: 32, Memory: 1 << 20},
		rcmgr.BaseLimitIncrease{})
	for _, id := range []protocol.ID{identify.ID, identify.IDPush} {
		limits.AddProtocolLimit(id,
			rcmgr.BaseLimit{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 4 << 20},
			rcmgr.BaseLimitIncrease{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 4 << 20})
		limits.AddProtocolPeerLimit(id,
			rcmgr.BaseLimit{StreamsInbound: 16, StreamsOutbound: 16, Streams: 32, Memory: 1 << 20},
			rcmgr.BaseLimitIncrease{})
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits.Scale(rcmgrMemory, rcmgrFDs)))
	if err != nil {
		return nil, fmt.Errorf("resource manager: %w", err)
	}
	return rm, nil
}

// quicKeys derives the QUIC stateless-reset and token keys from the
// node's key (HKDF-SHA256 with go-libp2p's info strings), so that they
// survive a restart as they do in nodes built by libp2p.New.
func quicKeys(key crypto.PrivKey) (quicgo.StatelessResetKey, quicgo.TokenGeneratorKey, error) {
	var reset quicgo.StatelessResetKey
	var token quicgo.TokenGeneratorKey
	raw, err := key.Raw()
	if err != nil {
		return reset, token, fmt.Errorf("quic keys: %w", err)
	}
	for _, k := range []struct {
		info string
		out  []byte
	}{
		{"libp2p quic stateless reset key", reset[:]},
		{"libp2p quic token generator key", token[:]},
	} {
		if _, err := io.ReadFull(hkdf.New(sha256.New, raw, nil, []byte(k.info)), k.out); err != nil {
			return reset, token, fmt.Errorf("quic keys: %w", err)
		}
	}
	return reset, token, nil
}

// ownHost is the basic host plus the QUIC socket manager, which the
// basic host does not own: Close closes both.
type ownHost struct {
	*basichost.BasicHost
	quic *quicreuse.ConnManager
}

func (h *ownHost) Close() error {
	err := h.BasicHost.Close()
	if qerr := h.quic.Close(); err == nil {
		err = qerr
	}
	return err
}
