package p2p

import (
	"container/heap"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// gater decides which connections libp2p may open or accept. It keeps
// two lists that never touch each other:
//
//   - the block list, which only the operator changes (Block, Unblock,
//     SetBlocked). A block lasts until it is lifted by hand.
//   - the ban list, which only this package changes (see ban.go): peers
//     that misbehaved, refused until their ban runs out. Nothing lifts a
//     ban early, unless the list is full (below).
//
// A peer on either list is refused, so Unblock never lets a banned peer
// back and the end of a ban never lets a blocked peer back. While the
// node is isolated (BlockAll) everyone is refused.
//
// The ban list holds at most maxBans peers. Peer ids cost nothing to make,
// so a stream of new ids that each earn a ban must not grow it without
// end: when it is full, the ban that would run out first makes room.
type gater struct {
	now func() time.Time

	mu      sync.RWMutex
	blocked map[peer.ID]struct{}
	banned  map[peer.ID]*banEntry
	expiry  banHeap // the same entries, the one that runs out first on top
	limit   int     // most peers on the ban list
	all     bool
}

// maxBans is how many peers the ban list holds at most.
const maxBans = 1024

// banEntry is one peer on the ban list.
type banEntry struct {
	id    peer.ID
	until time.Time
	index int // in the heap
}

// banHeap orders the ban list by the end of each ban.
type banHeap []*banEntry

func (h banHeap) Len() int           { return len(h) }
func (h banHeap) Less(i, j int) bool { return h[i].until.Before(h[j].until) }
func (h banHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *banHeap) Push(x any) {
	e := x.(*banEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *banHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

func newGater(now func() time.Time) *gater {
	return &gater{now: now, blocked: map[peer.ID]struct{}{}, banned: map[peer.ID]*banEntry{}, limit: maxBans}
}

// allows reports whether p may be connected to now.
func (g *gater) allows(p peer.ID) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.all {
		return false
	}
	if _, ok := g.blocked[p]; ok {
		return false
	}
	e, ok := g.banned[p]
	return !ok || !g.now().Before(e.until)
}

// ban refuses p until the given time, or longer if an earlier ban already
// runs longer. It reports whether p was not banned before the call. Bans
// that ran out are dropped first; if the list is still full, the ban that
// ends first is dropped to make room for p.
func (g *gater) ban(p peer.ID, until time.Time) (fresh bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	for len(g.expiry) > 0 && !now.Before(g.expiry[0].until) {
		g.drop(g.expiry[0])
	}
	if e, ok := g.banned[p]; ok {
		if until.After(e.until) {
			e.until = until
			heap.Fix(&g.expiry, e.index)
		}
		return false
	}
	for len(g.expiry) > 0 && len(g.expiry) >= g.limit {
		g.drop(g.expiry[0])
	}
	e := &banEntry{id: p, until: until}
	heap.Push(&g.expiry, e)
	g.banned[p] = e
	return true
}

// drop takes e off the ban list. The caller holds mu.
func (g *gater) drop(e *banEntry) {
	heap.Remove(&g.expiry, e.index)
	delete(g.banned, e.id)
}

func (g *gater) isBanned(p peer.ID) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	e, ok := g.banned[p]
	return ok && g.now().Before(e.until)
}

// bannedPeers returns the peers whose ban has not run out, sorted.
func (g *gater) bannedPeers() []peer.ID {
	g.mu.RLock()
	now := g.now()
	ids := make([]peer.ID, 0, len(g.banned))
	for id, e := range g.banned {
		if now.Before(e.until) {
			ids = append(ids, id)
		}
	}
	g.mu.RUnlock()
	slices.Sort(ids)
	return ids
}

// The libp2p ConnectionGater interface. Checking the peer before dialling
// and after the handshake (when the remote's ID is proven) covers both
// directions; addresses are not filtered.

func (g *gater) InterceptPeerDial(p peer.ID) bool { return g.allows(p) }

func (g *gater) InterceptAddrDial(peer.ID, ma.Multiaddr) bool { return true }

func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return !g.all
}

func (g *gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return g.allows(p)
}

func (g *gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// Block disconnects from peer id and refuses connections to and from it
// until Unblock. Blocking a peer that is not connected is allowed. A block
// is independent of a ban (see Banned): each keeps the peer out on its own.
func (h *Host) Block(id peer.ID) {
	h.gater.mu.Lock()
	h.gater.blocked[id] = struct{}{}
	h.gater.mu.Unlock()
	h.disconnect(id, "blocked")
}

// Unblock lets peer id connect again, unless it is also banned (see
// Banned), in which case it stays refused until the ban runs out. A
// bootstrap peer is redialled within Config.RedialInterval.
func (h *Host) Unblock(id peer.ID) {
	h.gater.mu.Lock()
	delete(h.gater.blocked, id)
	h.gater.mu.Unlock()
}

// SetBlocked replaces the set of blocked peers with ids: peers in ids are
// disconnected and refused, peers not in ids are allowed again unless
// they are banned. Bans are not part of the set and are left as they are.
func (h *Host) SetBlocked(ids []peer.ID) {
	set := make(map[peer.ID]struct{}, len(ids))
	for _, id := range ids {
		set[id] = struct{}{}
	}
	h.gater.mu.Lock()
	h.gater.blocked = set
	h.gater.mu.Unlock()
	for _, id := range ids {
		h.disconnect(id, "blocked")
	}
}

// Blocked returns the peers blocked by Block or SetBlocked, sorted. Banned
// peers are not listed unless they are blocked too.
func (h *Host) Blocked() []peer.ID {
	h.gater.mu.RLock()
	ids := make([]peer.ID, 0, len(h.gater.blocked))
	for id := range h.gater.blocked {
		ids = append(ids, id)
	}
	h.gater.mu.RUnlock()
	slices.Sort(ids)
	return ids
}

// BlockAll isolates this node when on is true: every connection is
// closed and no new one is made or accepted, until BlockAll(false).
// Peers blocked one by one stay blocked either way.
func (h *Host) BlockAll(on bool) {
	h.gater.mu.Lock()
	h.gater.all = on
	h.gater.mu.Unlock()
	if !on {
		return
	}
	for _, id := range h.lh.Network().Peers() {
		h.disconnect(id, "isolated")
	}
}

// Isolated reports whether BlockAll(true) is in force.
func (h *Host) Isolated() bool {
	h.gater.mu.RLock()
	defer h.gater.mu.RUnlock()
	return h.gater.all
}

// disconnect closes every connection to id.
func (h *Host) disconnect(id peer.ID, why string) {
	if h.lh.Network().Connectedness(id) != network.Connected {
		return
	}
	if err := h.lh.Network().ClosePeer(id); err != nil {
		h.log.Debug("close peer", "peer", id.String(), "err", err)
		return
	}
	h.log.Info("disconnected peer", "peer", id.String(), "reason", why)
}
