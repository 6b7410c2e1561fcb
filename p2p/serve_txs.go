package p2p

import (
	"bufio"
	"sync"

	"github.com/citychain/citychain/chain"
	"github.com/libp2p/go-libp2p/core/network"
)

// Bounds on the transaction fetch requests this node answers at once:
// from all peers, and from one peer. A node may ask one peer for the
// missing transactions of two proposals at once (of two rounds).
const (
	maxServingTxs        = 8
	maxServingTxsPerPeer = 2
)

// serveTxs answers one transaction fetch request (see chain.TxRequest):
// one frame per requested hash, in order, holding the transaction if
// Config.Txs has it and fits in the answer, empty otherwise. A malformed
// request, one that does not arrive within requestReadTimeout, or a
// server busy with maxServingTxs requests or with maxServingTxsPerPeer of
// this peer's resets the stream; the asker then tries another peer.
func (h *Host) serveTxs(s network.Stream) {
	p := s.Conn().RemotePeer()
	release, ok := h.takeSlot(h.servingTxs, p, maxServingTxsPerPeer)
	if !ok {
		h.log.Debug("tx request refused: busy", "peer", p.String())
		s.Reset()
		return
	}
	release = sync.OnceFunc(release)
	defer release()
	b, err := h.readRequest(s, chain.MaxTxRequestSize)
	if err != nil {
		s.Reset()
		return
	}
	req, err := chain.DecodeTxRequest(b)
	if err != nil {
		h.log.Debug("bad tx request", "peer", p.String(), "err", err)
		s.Reset()
		return
	}
	w := bufio.NewWriterSize(s, 64<<10)
	served, bytes := 0, 0
	for _, hash := range req.Hashes {
		raw := h.cfg.Txs.TxByHash(hash)
		if len(raw) > chain.MaxTxSize || bytes+len(raw) > chain.MaxTxAnswerSize {
			raw = nil // the asker would refuse the answer; say "not held"
		}
		if writeFrame(w, raw) != nil {
			s.Reset()
			return
		}
		if raw != nil {
			served++
			bytes += len(raw)
		}
	}
	release() // the answer is whole: as in serveSync, the slot goes before the last flush
	if w.Flush() != nil {
		s.Reset()
		return
	}
	s.Close()
	h.log.Debug("served transactions", "peer", p.String(), "asked", len(req.Hashes), "served", served, "bytes", bytes)
}
