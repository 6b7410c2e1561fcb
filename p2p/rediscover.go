package p2p

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Why discovered peers are remembered: mDNS reports a peer once, and then
// not again until its record expires. go-libp2p's mDNS (zeroconf)
// announces records with a TTL of 3,200 s and its browser reports each
// service instance only once while the record lives. So when the
// connection to a peer found by mDNS drops (a partition or a Wi-Fi
// outage longer than the transports' idle timeouts: QUIC closes an idle
// connection after 30 s, yamux over TCP after a failed keep-alive),
// nothing would ever dial it again for most of an hour. The redial loop
// therefore dials remembered peers too, like bootstrap peers, until they
// have been neither found nor connected for forgetFound.

// forgetFound is how long a discovered peer is redialled after it was
// last found or connected: long enough to outlast a classroom's Wi-Fi
// outage, short enough to stop dialling a laptop that has left.
const forgetFound = 10 * time.Minute

// discovered is the table of peers found by mDNS or the DHT. It holds at
// most max entries; the least recently seen one makes room for a new one.
// It is safe for concurrent use.
type discovered struct {
	mu    sync.Mutex
	max   int
	peers map[peer.ID]*foundPeer
}

type foundPeer struct {
	addrs []ma.Multiaddr
	seen  time.Time // last found or seen connected
}

func newDiscovered(max int) *discovered {
	return &discovered{max: max, peers: map[peer.ID]*foundPeer{}}
}

// add remembers ai, found at now, with the addresses it came with.
func (d *discovered) add(ai peer.AddrInfo, now time.Time) {
	if ai.ID == "" || len(ai.Addrs) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if p, ok := d.peers[ai.ID]; ok {
		p.addrs, p.seen = ai.Addrs, now
		return
	}
	if len(d.peers) >= d.max {
		var oldest peer.ID
		for id, p := range d.peers {
			if oldest == "" || p.seen.Before(d.peers[oldest].seen) {
				oldest = id
			}
		}
		delete(d.peers, oldest)
	}
	d.peers[ai.ID] = &foundPeer{addrs: ai.Addrs, seen: now}
}

// toRedial returns the remembered peers that are not connected and were
// seen within forgetFound of now; it marks connected ones seen at now and
// forgets the rest.
func (d *discovered) toRedial(now time.Time, connected func(peer.ID) bool) []peer.AddrInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []peer.AddrInfo
	for id, p := range d.peers {
		switch {
		case connected(id):
			p.seen = now
		case now.Sub(p.seen) > forgetFound:
			delete(d.peers, id)
		default:
			out = append(out, peer.AddrInfo{ID: id, Addrs: p.addrs})
		}
	}
	return out
}
