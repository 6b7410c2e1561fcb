package p2p

import (
	"bufio"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/libp2p/go-libp2p/core/network"
)

// serveSync answers one block sync request (see chain.SyncRequest for the
// protocol): the stored blocks and commits from the first requested
// height on, as many as this node has and as fit in MaxSyncResponse, then
// an empty frame. A malformed request or a busy server resets the stream;
// the asker then tries elsewhere.
func (h *Host) serveSync(s network.Stream) {
	p := s.Conn().RemotePeer()
	select {
	case h.serving <- struct{}{}:
		defer func() { <-h.serving }()
	default:
		h.log.Debug("sync request refused: busy", "peer", p.String())
		s.Reset()
		return
	}
	if err := s.SetDeadline(time.Now().Add(h.cfg.RequestTimeout)); err != nil {
		s.Reset()
		return
	}
	b, err := readFrame(s, chain.SyncRequestSize)
	if err != nil {
		s.Reset()
		return
	}
	req, err := decodeSyncRequest(b)
	if err != nil {
		h.log.Debug("bad sync request", "peer", p.String(), "err", err)
		s.Reset()
		return
	}

	w := bufio.NewWriterSize(s, 64<<10)
	var sent, bytes int
	height := h.cfg.Blocks.Height()
	for i := range req.Count() {
		ht := req.From + i
		if ht > height {
			break
		}
		block, commit, err := h.cfg.Blocks.BlockAndCommit(ht)
		if err != nil {
			h.log.Warn("sync: cannot read stored block", "height", ht, "err", err)
			break
		}
		size := len(block) + len(commit)
		if len(block) == 0 || len(block) > MaxEntrySize || len(commit) > MaxEntrySize {
			h.log.Error("sync: stored block does not fit the protocol", "height", ht,
				"block_bytes", len(block), "commit_bytes", len(commit))
			break
		}
		if sent > 0 && bytes+size > MaxSyncResponse {
			break
		}
		if writeFrame(w, block) != nil || writeFrame(w, commit) != nil {
			s.Reset()
			return
		}
		sent++
		bytes += size
	}
	if writeFrame(w, nil) != nil || w.Flush() != nil {
		s.Reset()
		return
	}
	s.Close()
	h.log.Debug("served blocks", "peer", p.String(), "from", req.From, "count", sent, "bytes", bytes)
}
