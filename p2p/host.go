package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// Host is this node's presence on the CityChain network. Create it with
// New and stop it with Close; all methods are safe for concurrent use.
type Host struct {
	cfg  Config
	log  *slog.Logger
	lh   host.Host // the libp2p host
	self peer.ID

	gater      *gater
	bans       *prometheus.CounterVec // bans by reason
	registered []prometheus.Collector // ours in Config.Metrics
	conns      *connmgr.BasicConnMgr
	bootstrap  []peer.AddrInfo
	peers      *peerTable

	ps        *pubsub.PubSub
	txTopic   *pubsub.Topic
	consTopic *pubsub.Topic
	evTopic   *pubsub.Topic // nil without Config.ValidateEvidence
	scores    atomic.Pointer[map[peer.ID]float64]

	kad        *dht.IpfsDHT // nil unless Config.DHT
	mdns       mdns.Service // nil unless Config.MDNS
	found      chan peer.AddrInfo
	discovered *discovered // peers found by mDNS or the DHT, for redialling

	statusMu   sync.Mutex
	statusBusy map[peer.ID]bool // peers with a status exchange in flight
	serving    chan struct{}    // semaphore of sync requests being answered
	servingTxs chan struct{}    // semaphore of transaction fetch requests being answered
	slotMu     sync.Mutex
	slotsHeld  map[peerSlot]int // requests being answered, by semaphore and peer

	tasks  tasks
	cancel context.CancelFunc
}

// New builds the libp2p host from cfg, joins the gossip topics, registers
// the stream protocols and starts discovery. The background goroutines it
// starts run until Close.
func New(cfg Config) (*Host, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	self, err := PeerID(cfg.Key)
	if err != nil {
		return nil, err
	}
	listen, err := parseAddrs(cfg.ListenAddrs)
	if err != nil {
		return nil, err
	}
	boot, err := parseBootstrap(cfg.Bootstrap, self)
	if err != nil {
		return nil, err
	}

	h := &Host{
		cfg:        cfg,
		log:        cfg.Logger.With("component", "p2p"),
		self:       self,
		gater:      newGater(cfg.Now),
		bans:       newBanCounter(),
		bootstrap:  boot,
		peers:      newPeerTable(cfg.Now),
		found:      make(chan peer.AddrInfo, 64),
		discovered: newDiscovered(cfg.MaxPeers),
		statusBusy: map[peer.ID]bool{},
		serving:    make(chan struct{}, maxServing),
		servingTxs: make(chan struct{}, maxServingTxs),
		slotsHeld:  map[peerSlot]int{},
	}
	if h.lh, h.conns, err = buildHost(cfg, listen, h.gater); err != nil {
		return nil, err
	}

	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	if err := h.start(ctx); err != nil {
		h.Close() // stops whatever start got going
		return nil, err
	}
	h.log.Info("p2p host started", "peer_id", self.String(), "addrs", h.Addrs(), "chain_id", cfg.ChainID)
	return h, nil
}

// start wires up protocols, gossip and discovery and starts the
// background goroutines, each of which returns when ctx is cancelled.
func (h *Host) start(ctx context.Context) error {
	if err := h.registerBanMetrics(); err != nil {
		return err
	}
	h.lh.SetStreamHandler(StatusProtocol, h.guard(h.serveStatus))
	h.lh.SetStreamHandler(syncProtocol(h.cfg.ChainID), h.guard(h.serveSync))
	if h.cfg.Txs != nil {
		h.lh.SetStreamHandler(txFetchProtocol(h.cfg.ChainID), h.guard(h.serveTxs))
	}
	if err := h.startGossip(ctx); err != nil {
		return err
	}
	events, err := h.subscribeConnections()
	if err != nil {
		return err
	}
	h.tasks.goFunc(func() { h.watchConnections(ctx, events) })
	for _, ai := range h.bootstrap {
		h.lh.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.PermanentAddrTTL)
		h.conns.Protect(ai.ID, "bootstrap")
	}
	if len(h.bootstrap) > 0 || h.cfg.MDNS || h.cfg.DHT {
		h.tasks.goFunc(func() { h.redialLoop(ctx) })
	}
	return h.startDiscovery(ctx)
}

// Close stops discovery, gossip and the libp2p host, and waits for every
// goroutine this package started and every stream handler in progress.
// Later calls do nothing and return nil.
func (h *Host) Close() error {
	if !h.tasks.stop() {
		return nil
	}
	h.cancel()
	err := h.closeServices()
	h.tasks.wait()
	h.unregisterBanMetrics()
	h.log.Info("p2p host closed")
	return err
}

// closeServices closes what New opened, in dependency order.
func (h *Host) closeServices() error {
	var errs []error
	if h.mdns != nil {
		errs = append(errs, h.mdns.Close())
	}
	if h.kad != nil {
		errs = append(errs, h.kad.Close())
	}
	errs = append(errs, h.lh.Close())
	return errors.Join(errs...)
}

// ID returns this node's peer ID.
func (h *Host) ID() peer.ID { return h.self }

// Addrs returns the addresses other nodes can dial, each ending in
// /p2p/{peer id}, ready to be used as a bootstrap address.
func (h *Host) Addrs() []ma.Multiaddr {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: h.self, Addrs: h.lh.Addrs()})
	if err != nil { // only for an empty peer ID, which New rules out
		return nil
	}
	return addrs
}

// parseAddrs parses listen multiaddrs.
func parseAddrs(list []string) ([]ma.Multiaddr, error) {
	out := make([]ma.Multiaddr, 0, len(list))
	for _, s := range list {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: listen address %q: %v", ErrConfig, s, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// parseBootstrap parses /p2p/ multiaddrs, merges addresses of one peer
// and leaves out this node's own ID (a shared peer list may include it).
func parseBootstrap(list []string, self peer.ID) ([]peer.AddrInfo, error) {
	addrs := make([]ma.Multiaddr, 0, len(list))
	for _, s := range list {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: bootstrap address %q: %v", ErrConfig, s, err)
		}
		if _, err := peer.AddrInfoFromP2pAddr(a); err != nil {
			return nil, fmt.Errorf("%w: bootstrap address %q needs /p2p/{peer id}: %v", ErrConfig, s, err)
		}
		addrs = append(addrs, a)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(addrs...)
	if err != nil {
		return nil, fmt.Errorf("%w: bootstrap: %v", ErrConfig, err)
	}
	out := infos[:0]
	for _, ai := range infos {
		if ai.ID != self {
			out = append(out, ai)
		}
	}
	return out, nil
}

// tasks tracks the goroutines and stream handlers of a Host so that Close
// can wait for them. Once stopped it starts nothing new.
type tasks struct {
	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

// goFunc runs f on a new goroutine unless the host is closing.
func (t *tasks) goFunc(f func()) {
	if !t.enter() {
		return
	}
	go func() {
		defer t.wg.Done()
		f()
	}()
}

// enter registers work done on a goroutine we do not own (a libp2p stream
// handler). It reports false once the host is closing.
func (t *tasks) enter() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	t.wg.Add(1)
	return true
}

func (t *tasks) leave() { t.wg.Done() }

// stop refuses new work; it reports false if already stopped.
func (t *tasks) stop() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	t.stopped = true
	return true
}

func (t *tasks) closing() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stopped
}

func (t *tasks) wait() { t.wg.Wait() }

// sleep waits for d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
