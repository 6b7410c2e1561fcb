package p2p

import (
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
)

// Bans. Some peers this node refuses on its own judgement, for a while:
//
//   - a peer whose gossip score fell below the gray list threshold, that
//     is, a peer that sent messages the validators rejected (see score.go).
//     Gossipsub on its own only ignores a gray-listed peer: it stays
//     connected, and everything it sends is still received and decoded
//     before it is dropped. Here the peer is disconnected and refused for
//     Config.BanDuration;
//   - a peer the node has proof against and bans with BanPeer (block sync
//     does), refused for Config.BanDuration too;
//   - a peer on another chain, refused for Config.WrongChainBan (see
//     status.go).
//
// Bans live in the gater's ban list, apart from the operator's block list,
// and end when their time runs out, or earlier when the list is full and
// a new ban takes the place of the one that would end first (see gater).
//
// Gossipsub keeps a peer's score for RetainScore (ten minutes, score.go)
// after the peer leaves, so a peer that comes back sooner is judged by
// what is left of its old score and, if that is still below the
// threshold, banned again at once. With the default ban of ten minutes
// the old score is about gone when the ban ends, and the peer starts
// over: a few more rejected messages and it is banned again.

// Ban reasons, the label of the bans metric.
const (
	banLowScore   = "gossip_score"
	banWrongChain = "wrong_chain"
)

// Banned returns the peers this node currently refuses on its own
// judgement, sorted: peers whose gossip score fell below the gray list
// threshold and peers on another chain. A ban runs out by itself; Unblock
// does not lift it. Peers blocked by hand are listed by Blocked instead.
func (h *Host) Banned() []peer.ID { return h.gater.bannedPeers() }

// ban puts p on the ban list for d (keeping a longer ban in place). It
// reports whether p was not banned already; only such a fresh ban is
// counted in the bans metric.
func (h *Host) ban(p peer.ID, d time.Duration, reason string) bool {
	fresh := h.gater.ban(p, h.cfg.Now().Add(d))
	if fresh {
		h.bans.WithLabelValues(reason).Inc()
	}
	return fresh
}

// banLowScores bans and disconnects every connected peer whose gossip
// score is below the gray list threshold. Gossipsub calls it with a fresh
// copy of the scores every scoreInspectPeriod, on a new goroutine each
// time and once more while it shuts down.
//
// Only connected peers are judged. Gossipsub keeps the score of a peer
// that left, but a peer that is not there costs nothing; if it comes back
// with a score still that low, it is banned then.
func (h *Host) banLowScores(scores map[peer.ID]float64) {
	if !h.tasks.enter() { // Close has begun; it closes every connection
		return
	}
	defer h.tasks.leave()
	for p, score := range scores {
		if score >= graylistThreshold || p == h.self {
			continue
		}
		if h.lh.Network().Connectedness(p) != network.Connected {
			continue
		}
		if h.ban(p, h.cfg.BanDuration, banLowScore) {
			h.log.Warn("peer's gossip score is below the gray list; disconnecting and banning it",
				"peer", p.String(), "score", score, "threshold", float64(graylistThreshold), "ban", h.cfg.BanDuration)
		}
		h.disconnect(p, "gossip score below the gray list")
	}
}

// newBanCounter makes the counter of bans by reason.
func newBanCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "citychain_p2p_bans_total",
		Help: "Peers banned by this node, by reason (gossip_score, wrong_chain, or the one given to BanPeer).",
	}, []string{"reason"})
}

// registerBanMetrics exports the ban counter and the number of peers
// banned now to Config.Metrics, when it is set. A registry holds one
// Host's ban metrics at a time.
func (h *Host) registerBanMetrics() error {
	if h.cfg.Metrics == nil {
		return nil
	}
	banned := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "citychain_p2p_banned_peers",
		Help: "Peers this node refuses for now on its own judgement (see Host.Banned).",
	}, func() float64 { return float64(len(h.Banned())) })
	for _, c := range []prometheus.Collector{h.bans, banned} {
		if err := h.cfg.Metrics.Register(c); err != nil {
			return fmt.Errorf("register p2p ban metrics: %w", err)
		}
		h.registered = append(h.registered, c)
	}
	return nil
}

// unregisterBanMetrics removes what registerBanMetrics registered, so
// that a node may start a new Host on the same registry after Close.
func (h *Host) unregisterBanMetrics() {
	for _, c := range h.registered {
		h.cfg.Metrics.Unregister(c)
	}
	h.registered = nil
}

// BanPeer bans p for the configured BanDuration and disconnects it, for a
// reason the caller has proof of (for example a peer that keeps claiming
// blocks it never serves). reason labels the bans metric.
func (h *Host) BanPeer(p peer.ID, reason string) {
	if h.ban(p, h.cfg.BanDuration, reason) {
		h.log.Warn("banning peer", "peer", p.String(), "reason", reason, "for", h.cfg.BanDuration)
	}
	h.disconnect(p, reason)
}
