package p2p

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/discovery"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
)

// How a node finds peers:
//
//   - Bootstrap peers from the config are dialled at start and again every
//     Config.RedialInterval while disconnected (and not blocked). This is
//     what a devnet relies on; a restarted node is found again this way.
//   - mDNS (Config.MDNS) announces the node on the local network under a
//     service name that includes the chain id and reports nodes it hears.
//   - The DHT (Config.DHT) is a Kademlia DHT private to the chain: its
//     protocol prefix includes the chain id, so it never joins the public
//     IPFS DHT. It is bootstrapped from the bootstrap peers; every node
//     advertises itself under the chain's namespace and looks up the
//     others, which lets nodes that share one bootstrap peer meet.
//
// Peers found by mDNS or the DHT are queued on Host.found and dialled by
// one goroutine, so discovery never blocks on a slow dial. They are also
// remembered (rediscover.go), and the redial loop dials them again when
// their connection drops, as it does bootstrap peers.

const (
	// advertiseEvery bounds the time between two DHT advertisements.
	advertiseEvery = 5 * time.Minute
	// lookupTimeout bounds one DHT advertisement or lookup.
	lookupTimeout = 30 * time.Second
)

// startDiscovery starts mDNS and the DHT when the config asks for them.
func (h *Host) startDiscovery(ctx context.Context) error {
	if h.cfg.MDNS {
		svc := mdns.NewMdnsService(h.lh, mdnsServiceName(h.cfg.ChainID), mdnsNotifee{h.found})
		if err := svc.Start(); err != nil {
			return fmt.Errorf("mdns: %w", err)
		}
		h.mdns = svc
	}
	if h.cfg.DHT {
		opts := []dht.Option{
			dht.Mode(dht.ModeServer), // every node answers: the network is small
			dht.ProtocolPrefix(dhtPrefix(h.cfg.ChainID)),
			dht.DisableValues(), // only provider records are needed
		}
		if len(h.bootstrap) > 0 {
			opts = append(opts, dht.BootstrapPeers(h.bootstrap...))
		}
		kad, err := dht.New(h.lh, opts...)
		if err != nil {
			return fmt.Errorf("dht: %w", err)
		}
		h.kad = kad
		rd := drouting.NewRoutingDiscovery(kad)
		h.tasks.goFunc(func() { h.advertiseLoop(ctx, rd) })
		h.tasks.goFunc(func() { h.findLoop(ctx, rd) })
	}
	if h.cfg.MDNS || h.cfg.DHT {
		h.tasks.goFunc(func() { h.dialFound(ctx) })
	}
	return nil
}

// mdnsServiceName makes a DNS-SD service name for the chain: one label of
// at most 63 bytes, of letters, digits and '-'.
func mdnsServiceName(chainID string) string {
	label := "citychain-" + strings.Map(func(r rune) rune {
		if r == '.' || r == '_' {
			return '-'
		}
		return r
	}, strings.ToLower(chainID))
	if len(label) > 62 {
		label = label[:62]
	}
	return "_" + label + "._udp"
}

// mdnsNotifee queues peers heard on the local network. The mDNS service
// calls it on goroutines of its own, possibly just after Close, so it
// never blocks: when the queue is full the peer is dropped, and mDNS
// announces it again later.
type mdnsNotifee struct{ found chan<- peer.AddrInfo }

func (n mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	select {
	case n.found <- ai:
	default:
	}
}

// redialLoop dials every bootstrap peer that is not connected, and every
// discovered peer that is not connected while there is room for it, now
// and then every Config.RedialInterval. It returns when ctx is cancelled.
func (h *Host) redialLoop(ctx context.Context) {
	tick := time.NewTicker(h.cfg.RedialInterval)
	defer tick.Stop()
	for {
		targets := h.bootstrap
		if len(h.lh.Network().Peers()) < h.cfg.MaxPeers {
			isConnected := func(p peer.ID) bool { return h.lh.Network().Connectedness(p) == network.Connected }
			targets = append(slices.Clip(targets), h.discovered.toRedial(h.cfg.Now(), isConnected)...)
		}
		var wg sync.WaitGroup
		for _, ai := range targets {
			if !h.shouldDial(ai.ID) {
				continue
			}
			wg.Add(1)
			go func() { // ends within Config.DialTimeout
				defer wg.Done()
				h.dial(ctx, ai)
			}()
		}
		wg.Wait()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// dialFound dials the peers that mDNS and the DHT report, one at a time.
// It returns when ctx is cancelled.
func (h *Host) dialFound(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ai := <-h.found:
			if ai.ID == "" || ai.ID == h.self {
				continue
			}
			h.discovered.add(ai, h.cfg.Now())
			if !h.shouldDial(ai.ID) || len(h.lh.Network().Peers()) >= h.cfg.MaxPeers {
				continue
			}
			h.dial(ctx, ai)
		}
	}
}

// advertiseLoop announces this node in the DHT under the chain's
// namespace, again before the record expires, and retries every
// Config.DiscoveryInterval while that fails (as it does until the routing
// table has peers). It returns when ctx is cancelled.
func (h *Host) advertiseLoop(ctx context.Context, rd *drouting.RoutingDiscovery) {
	ns := discoveryNamespace(h.cfg.ChainID)
	for {
		actx, cancel := context.WithTimeout(ctx, lookupTimeout)
		ttl, err := rd.Advertise(actx, ns)
		cancel()
		wait := h.cfg.DiscoveryInterval
		if err == nil {
			wait = min(advertiseEvery, max(ttl/2, h.cfg.DiscoveryInterval))
		} else if ctx.Err() == nil {
			h.log.Debug("dht advertise failed", "err", err)
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// findLoop looks up the chain's namespace in the DHT every
// Config.DiscoveryInterval and queues what it finds for dialFound. It
// returns when ctx is cancelled.
func (h *Host) findLoop(ctx context.Context, rd *drouting.RoutingDiscovery) {
	ns := discoveryNamespace(h.cfg.ChainID)
	for {
		fctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		found, err := rd.FindPeers(fctx, ns, discovery.Limit(h.cfg.MaxPeers))
		if err == nil {
			for ai := range found { // closed when the lookup ends or fctx expires
				if ai.ID != h.self {
					mdnsNotifee{h.found}.HandlePeerFound(ai)
				}
			}
		} else if ctx.Err() == nil {
			h.log.Debug("dht lookup failed", "err", err)
		}
		cancel()
		if !sleep(ctx, h.cfg.DiscoveryInterval) {
			return
		}
	}
}

// shouldDial reports whether p is someone else, not connected and not
// refused by the gate.
func (h *Host) shouldDial(p peer.ID) bool {
	return p != h.self && h.lh.Network().Connectedness(p) != network.Connected && h.gater.allows(p)
}

// dial connects to ai within Config.DialTimeout. Our own redial interval
// is the backoff, so libp2p's dial backoff (which can grow to minutes and
// would delay reconnecting to a restarted node) is bypassed.
func (h *Host) dial(ctx context.Context, ai peer.AddrInfo) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.DialTimeout)
	defer cancel()
	ctx = network.WithForceDirectDial(ctx, "citychain redial")
	if err := h.lh.Connect(ctx, ai); err != nil {
		h.log.Debug("dial failed", "peer", ai.ID.String(), "err", err)
		return
	}
	// Not yet worth an Info line: the peer may still refuse us. The status
	// exchange logs "peer joined" once it is sure.
	h.log.Debug("dialled peer", "peer", ai.ID.String())
}
