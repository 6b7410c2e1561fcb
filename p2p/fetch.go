package p2p

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Entry is one block and its commit certificate, as a peer served them,
// still encoded: the caller decodes and checks them.
type Entry struct {
	Block, Commit []byte
}

// FetchBlocks asks peer p for the blocks from..to (at most MaxSyncRange)
// and returns what it answered, at least one block, in height order. It
// gives up when ctx ends or after Config.RequestTimeout, whichever comes
// first, so a peer that accepts the stream and never answers costs the
// caller no more than that. It checks framing and sizes only; whether the
// blocks are real is the caller's judgement (see the node's syncer).
func (h *Host) FetchBlocks(ctx context.Context, p peer.ID, from, to uint64) ([]Entry, error) {
	if from == 0 || to < from || to-from+1 > MaxSyncRange {
		return nil, fmt.Errorf("%w: blocks %d to %d", ErrProtocol, from, to)
	}
	if !h.tasks.enter() {
		return nil, ErrClosed
	}
	defer h.tasks.leave()
	got, err := h.fetchRange(ctx, p, syncRequest{From: from, To: to})
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(got))
	for i, e := range got {
		out[i] = Entry{Block: e.block, Commit: e.commit}
	}
	return out, nil
}

// AvoidForSync marks p as a peer whose blocks were refused, for d: Peers
// reports it as SyncBanned. The node's syncer keeps its own memory; this
// only makes the judgement visible in /v1/peers.
func (h *Host) AvoidForSync(p peer.ID, d time.Duration) { h.peers.banSync(p, d) }
