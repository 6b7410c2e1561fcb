package p2p

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Block sync, the asking side. This package only carries blocks: which
// peer to ask, how long to rest a peer that failed, and whether a block
// is real are the node's decisions (node/sync.go). The bytes of the
// protocol are defined in package chain (see chain.SyncRequest).

// Entry is one block and its commit certificate, as a peer served them,
// still encoded: the caller decodes and checks them.
type Entry struct {
	Block, Commit []byte
}

// FetchBlocks asks peer p for the blocks from..to (at most MaxSyncRange)
// and returns what it answered, at least one block, in height order. It
// checks framing and sizes only; whether the blocks are real is the
// caller's judgement (see the node's syncer).
//
// It gives up when ctx ends or after Config.RequestTimeout, whichever
// comes first, and then returns an error that wraps ctx's error
// (context.DeadlineExceeded when either time ran out), so a peer that
// accepts the stream and never answers costs the caller no more than
// that. Other errors: ErrProtocol for a range that is not 1 to
// MaxSyncRange heights from height 1 on and for an answer that breaks the
// protocol (more blocks than asked for, cut short, no end frame);
// ErrTooLarge for a frame or answer above its limit; ErrNoBlocks for an
// answer without blocks; ErrClosed after Close; and the stream's error if
// p cannot be reached, does not speak the protocol or resets the stream.
// On any error it returns no entries, not even those read before it.
func (h *Host) FetchBlocks(ctx context.Context, p peer.ID, from, to uint64) ([]Entry, error) {
	var entries []Entry
	if _, err := h.StreamBlocks(ctx, p, from, to, func(e Entry) { entries = append(entries, e) }); err != nil {
		return nil, err
	}
	return entries, nil
}

// StreamBlocks is FetchBlocks that hands each entry to deliver as soon as
// it is read, in height order, instead of all of them at the end, so the
// caller can start checking the first blocks while the rest are still on
// the wire. It returns how many entries it delivered and the same errors
// as FetchBlocks; an error can come after some entries were delivered
// (an answer cut short, or above its size limit), and those stay
// delivered: each block proves itself by its commit, not by the answer
// it came in.
//
// deliver runs on the caller's goroutine between two reads of the
// stream, while the request's time limit runs: it must not wait on
// anything that may take long.
func (h *Host) StreamBlocks(ctx context.Context, p peer.ID, from, to uint64, deliver func(Entry)) (int, error) {
	req := chain.SyncRequest{From: from, To: to}
	if err := req.ValidateBasic(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	// The request's machinery (time limit, reset when ctx ends, a close
	// that fails after the peer answered) is that of every request.
	n := 0
	err := h.request(ctx, p, syncProtocol(h.cfg.ChainID), req.Encode(), func(r io.Reader) error {
		var err error
		n, err = streamAnswer(r, req, deliver)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("blocks %d to %d from %s: %w", from, to, p, err)
	}
	return n, nil
}

// readAnswer reads the answer to req: a block frame and a commit frame per
// height, ended by an empty frame. At least one block must come; fewer
// than asked for is fine (the peer may have fewer, or the answer reached
// MaxSyncResponse). On error it returns no entries.
func readAnswer(r io.Reader, req chain.SyncRequest) ([]Entry, error) {
	var entries []Entry
	if _, err := streamAnswer(r, req, func(e Entry) { entries = append(entries, e) }); err != nil {
		return nil, err
	}
	return entries, nil
}

// streamAnswer is readAnswer handing each entry to deliver as soon as
// both its frames are read. It returns how many it delivered, also on
// error.
func streamAnswer(r io.Reader, req chain.SyncRequest, deliver func(Entry)) (int, error) {
	n, total := 0, 0
	for {
		height := req.From + uint64(n)
		block, err := readFrame(r, MaxEntrySize)
		if err != nil {
			return n, fmt.Errorf("block %d: %w", height, cutShort(err))
		}
		if len(block) == 0 {
			break // end of answer
		}
		if uint64(n) == req.Count() {
			return n, fmt.Errorf("%w: more than the %d blocks asked for", ErrProtocol, req.Count())
		}
		commit, err := readFrame(r, MaxEntrySize)
		if err != nil {
			return n, fmt.Errorf("commit %d: %w", height, cutShort(err))
		}
		total += len(block) + len(commit)
		if n > 0 && total > MaxSyncResponse {
			return n, fmt.Errorf("%w: answer above %d bytes at block %d", ErrTooLarge, MaxSyncResponse, height)
		}
		deliver(Entry{Block: block, Commit: commit})
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("%w from height %d", ErrNoBlocks, req.From)
	}
	return n, nil
}

// cutShort marks the end of a stream in the middle of an answer, which
// only a peer that breaks the protocol causes, as ErrProtocol. A peer
// that cannot answer resets the stream instead.
func cutShort(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: answer cut short: %w", ErrProtocol, err)
	}
	return err
}

// AvoidForSync marks p as a peer whose blocks were refused, for d: Peers
// reports it as SyncBanned. The node's syncer keeps its own memory; this
// only makes the judgement visible in /v1/peers.
func (h *Host) AvoidForSync(p peer.ID, d time.Duration) { h.peers.banSync(p, d) }
