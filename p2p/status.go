package p2p

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"
)

// PeerInfo describes one connected peer.
type PeerInfo struct {
	ID        peer.ID
	Addrs     []ma.Multiaddr // remote addresses of the open connections
	Direction string         // "inbound" or "outbound": who dialled first
	Latency   time.Duration  // smoothed round trip; 0 if not yet measured
	// Height, Hash and Identity are what the peer last said in the status
	// exchange (Identity unchecked: see Config.Identity); StatusAt is when
	// (zero if it has not answered yet).
	Height   uint64
	Hash     []byte
	Identity []byte
	StatusAt time.Time
	Score    float64 // gossip score; negative after invalid messages
	// SyncBanned means the node's block sync avoids this peer for now,
	// because a block it served was refused (see AvoidForSync).
	SyncBanned bool
}

// Peers returns the connected peers, sorted by ID.
func (h *Host) Peers() []PeerInfo {
	ids := h.lh.Network().Peers()
	slices.Sort(ids)
	out := make([]PeerInfo, 0, len(ids))
	for _, id := range ids {
		info := PeerInfo{ID: id, Latency: h.lh.Peerstore().LatencyEWMA(id), Score: h.score(id)}
		for i, c := range h.lh.Network().ConnsToPeer(id) {
			info.Addrs = append(info.Addrs, c.RemoteMultiaddr())
			if i == 0 {
				info.Direction = direction(c.Stat().Direction)
			}
		}
		if st, at, ok := h.peers.status(id); ok {
			info.Height, info.Hash, info.Identity, info.StatusAt = st.Height, st.Hash, st.Identity, at
		}
		info.SyncBanned = h.peers.syncBanned(id)
		out = append(out, info)
	}
	return out
}

func direction(d network.Direction) string {
	switch d {
	case network.DirInbound:
		return "inbound"
	case network.DirOutbound:
		return "outbound"
	}
	return "unknown"
}

// peerTable remembers what peers said in the status exchange (while they
// are connected) and which peers block sync avoids (until that ends, even
// across reconnects).
type peerTable struct {
	now func() time.Time

	mu      sync.Mutex
	known   map[peer.ID]peerStatus
	syncBan map[peer.ID]time.Time
}

type peerStatus struct {
	status status
	at     time.Time
}

func newPeerTable(now func() time.Time) *peerTable {
	return &peerTable{now: now, known: map[peer.ID]peerStatus{}, syncBan: map[peer.ID]time.Time{}}
}

func (t *peerTable) setStatus(p peer.ID, s status) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.known[p] = peerStatus{status: s, at: t.now()}
}

func (t *peerTable) status(p peer.ID) (status, time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ps, ok := t.known[p]
	return ps.status, ps.at, ok
}

func (t *peerTable) forget(p peer.ID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.known, p)
}

func (t *peerTable) banSync(p peer.ID, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for id, until := range t.syncBan {
		if !now.Before(until) {
			delete(t.syncBan, id)
		}
	}
	t.syncBan[p] = now.Add(d)
}

func (t *peerTable) syncBanned(p peer.ID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	until, ok := t.syncBan[p]
	return ok && t.now().Before(until)
}

// ourStatus is what this node tells its peers.
func (h *Host) ourStatus() status {
	s := status{ChainID: h.cfg.ChainID, Height: h.cfg.Blocks.Height(), Identity: h.cfg.Identity}
	if hs, ok := h.cfg.Blocks.(HashSource); ok {
		s.Hash = hs.LatestHash()
	}
	return s
}

// requestStatus asks peer p for its status and records it. A peer on
// another chain is refused for Config.WrongChainBan and disconnected shortly
// after; the error wraps ErrWrongChain.
func (h *Host) requestStatus(ctx context.Context, p peer.ID) (status, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.StatusTimeout)
	defer cancel()
	start := time.Now()
	s, err := h.lh.NewStream(ctx, p, StatusProtocol)
	if err != nil {
		return status{}, fmt.Errorf("status %s: %w", p, err)
	}
	defer s.Close()
	var b []byte
	err = exchange(s, time.Now().Add(h.cfg.StatusTimeout), h.ourStatus().encode(), func(r io.Reader) error {
		var err error
		b, err = readFrame(r, maxStatusSize)
		return err
	})
	if err != nil {
		s.Reset()
		return status{}, fmt.Errorf("status %s: %w", p, err)
	}
	theirs, err := decodeStatus(b)
	if err != nil {
		s.Reset()
		return status{}, fmt.Errorf("status %s: %w", p, err)
	}
	h.lh.Peerstore().RecordLatency(p, time.Since(start))
	if theirs.ChainID != h.cfg.ChainID {
		h.rejectForeign(p, theirs.ChainID)
		return status{}, fmt.Errorf("status %s: %w: %q", p, ErrWrongChain, theirs.ChainID)
	}
	if h.lh.Network().Connectedness(p) != network.Connected {
		return theirs, nil // it left meanwhile; do not keep a stale entry
	}
	if _, _, known := h.peers.status(p); !known {
		h.log.Info("peer joined", "peer", p.String(), "height", theirs.Height)
	}
	h.peers.setStatus(p, theirs)
	return theirs, nil
}

// foreignGrace is how long a connection to a peer on another chain stays
// open after the mismatch is seen: long enough for the peer's own status
// request to be answered, so that both sides learn why they part.
const foreignGrace = time.Second

// rejectForeign refuses a peer of another chain for Config.WrongChainBan and
// closes the connection after foreignGrace.
func (h *Host) rejectForeign(p peer.ID, chainID string) {
	if h.ban(p, h.cfg.WrongChainBan, banWrongChain) {
		h.log.Warn("peer is on another chain; disconnecting", "peer", p.String(),
			"their_chain", chainID, "our_chain", h.cfg.ChainID, "ban", h.cfg.WrongChainBan)
	}
	h.peers.forget(p)
	time.AfterFunc(foreignGrace, func() {
		if !h.tasks.enter() { // Close has begun; it closes every connection
			return
		}
		defer h.tasks.leave()
		h.disconnect(p, "wrong chain")
	})
}

// serveStatus answers a status request and records the asker's status
// too. An asker on another chain gets our answer, then is refused.
func (h *Host) serveStatus(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	if err := s.SetDeadline(time.Now().Add(h.cfg.StatusTimeout)); err != nil {
		s.Reset()
		return
	}
	b, err := readFrame(s, maxStatusSize)
	if err != nil {
		s.Reset()
		return
	}
	theirs, err := decodeStatus(b)
	if err != nil {
		h.log.Debug("bad status request", "peer", p.String(), "err", err)
		s.Reset()
		return
	}
	if err := writeFrame(s, h.ourStatus().encode()); err != nil {
		s.Reset()
		return
	}
	if theirs.ChainID != h.cfg.ChainID {
		h.rejectForeign(p, theirs.ChainID)
		return
	}
	if _, _, known := h.peers.status(p); known {
		h.peers.setStatus(p, theirs) // a newcomer is logged by our own request
	}
}

// guard wraps a stream handler so that Close waits for it and so that no
// handler starts once Close has begun.
func (h *Host) guard(f func(network.Stream)) network.StreamHandler {
	return func(s network.Stream) {
		if !h.tasks.enter() {
			s.Reset()
			return
		}
		defer h.tasks.leave()
		f(s)
	}
}

func (h *Host) subscribeConnections() (event.Subscription, error) {
	sub, err := h.lh.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged), eventbus.BufSize(256))
	if err != nil {
		return nil, fmt.Errorf("subscribe to connection events: %w", err)
	}
	return sub, nil
}

// watchConnections queues a status request for each new connection and,
// every Config.StatusInterval, for every connected peer; it forgets the
// status of peers that leave. It returns when ctx is cancelled (Close).
func (h *Host) watchConnections(ctx context.Context, sub event.Subscription) {
	defer sub.Close()
	tick := time.NewTicker(h.cfg.StatusInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			ev, ok := e.(event.EvtPeerConnectednessChanged)
			if !ok {
				continue
			}
			switch ev.Connectedness {
			case network.Connected:
				if !h.gater.allows(ev.Peer) {
					// The gate closed while this connection was being made.
					h.disconnect(ev.Peer, "blocked")
					continue
				}
				h.queueStatus(ctx, ev.Peer)
			case network.NotConnected:
				if _, _, known := h.peers.status(ev.Peer); known {
					h.log.Info("peer left", "peer", ev.Peer.String())
				}
				h.peers.forget(ev.Peer)
			}
		case <-tick.C:
			for _, p := range h.lh.Network().Peers() {
				h.queueStatus(ctx, p)
			}
		}
	}
}

// queueStatus starts a status exchange with p on a goroutine of its own,
// unless one with p is in flight already. Each exchange ends within
// Config.StatusTimeout, so a peer that takes the stream and never answers
// holds up only its own; honest peers' heights and identities stay
// fresh. At most 4 x Config.MaxPeers run at once (the connection manager
// keeps the peers near MaxPeers); a peer left out is asked at the next
// periodic round.
func (h *Host) queueStatus(ctx context.Context, p peer.ID) {
	h.statusMu.Lock()
	if h.statusBusy[p] || len(h.statusBusy) >= 4*h.cfg.MaxPeers {
		h.statusMu.Unlock()
		return
	}
	h.statusBusy[p] = true
	h.statusMu.Unlock()
	h.tasks.goFunc(func() {
		defer func() {
			h.statusMu.Lock()
			delete(h.statusBusy, p)
			h.statusMu.Unlock()
		}()
		if h.lh.Network().Connectedness(p) != network.Connected {
			return
		}
		if _, err := h.requestStatus(ctx, p); err != nil && ctx.Err() == nil {
			h.log.Debug("status exchange failed", "peer", p.String(), "err", err)
		}
	})
}
