package p2p

import (
	"bufio"
	"sync"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Bounds on answering sync and transaction fetch requests, beside the
// slots shared by all peers (maxServing, maxServingTxs).
const (
	// maxServingPerPeer is how many sync requests of one peer this node
	// answers at once. The node's syncer asks one peer one range at a
	// time.
	maxServingPerPeer = 1
	// requestReadTimeout bounds the wait for the request frame once a
	// stream holds a slot (Config.RequestTimeout, if shorter, bounds it
	// instead). An asker writes its request as soon as the stream opens,
	// so a stream that sends nothing is closed long before
	// Config.RequestTimeout, which bounds writing the answer.
	requestReadTimeout = 2 * time.Second
)

// peerSlot names the requests of one peer held in one of a host's
// semaphores of requests being answered (serving, servingTxs).
type peerSlot struct {
	sem chan struct{}
	p   peer.ID
}

// takeSlot takes one of sem's slots for a request of p, unless p holds
// perPeer of them already or none is free. The caller answers the request
// only if ok, and then calls release when done. The count of each peer
// goes when it drops to zero: h.slotsHeld holds requests in progress only.
func (h *Host) takeSlot(sem chan struct{}, p peer.ID, perPeer int) (release func(), ok bool) {
	k := peerSlot{sem: sem, p: p}
	h.slotMu.Lock()
	defer h.slotMu.Unlock()
	if h.slotsHeld[k] >= perPeer {
		return nil, false
	}
	select {
	case sem <- struct{}{}:
	default:
		return nil, false
	}
	h.slotsHeld[k]++
	return func() {
		h.slotMu.Lock()
		if h.slotsHeld[k]--; h.slotsHeld[k] <= 0 {
			delete(h.slotsHeld, k)
		}
		h.slotMu.Unlock()
		<-sem
	}, true
}

// readRequest reads the one request frame of s, at most limit bytes, within
// requestReadTimeout, and then gives the answer Config.RequestTimeout.
func (h *Host) readRequest(s network.Stream, limit int) ([]byte, error) {
	if err := s.SetReadDeadline(time.Now().Add(min(requestReadTimeout, h.cfg.RequestTimeout))); err != nil {
		return nil, err
	}
	b, err := readFrame(s, limit)
	if err != nil {
		return nil, err
	}
	if err := s.SetDeadline(time.Now().Add(h.cfg.RequestTimeout)); err != nil {
		return nil, err
	}
	return b, nil
}

// serveSync answers one block sync request (see chain.SyncRequest for the
// protocol): the stored blocks and commits from the first requested
// height on, as many as this node has and as fit in MaxSyncResponse, then
// an empty frame. A malformed request, one that does not arrive within
// requestReadTimeout, or a server busy with maxServing requests or with
// maxServingPerPeer of this peer's resets the stream; the asker then tries
// elsewhere or later.
func (h *Host) serveSync(s network.Stream) {
	p := s.Conn().RemotePeer()
	release, ok := h.takeSlot(h.serving, p, maxServingPerPeer)
	if !ok {
		h.log.Debug("sync request refused: busy", "peer", p.String())
		s.Reset()
		return
	}
	release = sync.OnceFunc(release)
	defer release()
	b, err := h.readRequest(s, chain.SyncRequestSize)
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
	if writeFrame(w, nil) != nil {
		s.Reset()
		return
	}
	// The answer is whole; only the buffer's last part is left to hand to
	// the stream. The slot goes first: the asker reads the answer's end
	// only after this flush, and a syncer that asks this node again at
	// once must not find its finished request still holding its slot.
	release()
	if w.Flush() != nil {
		s.Reset()
		return
	}
	s.Close()
	h.log.Debug("served blocks", "peer", p.String(), "from", req.From, "count", sent, "bytes", bytes)
}
