package p2p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// progressEvery is how often Sync logs its progress.
const progressEvery = 2 * time.Second

// entry is one block with its commit, as received from a peer.
type entry struct {
	block, commit []byte
}

// Syncing reports whether Sync is running.
func (h *Host) Syncing() bool { return h.syncing.Load() }

// Sync catches this node up with its peers. It asks every connected peer
// for its height and, while some peer is ahead of Config.Blocks.Height(),
// fetches up to MaxSyncRange blocks at a time from the peer that is
// furthest ahead and hands them to apply in height order.
//
// A peer whose block apply rejects is avoided for Config.SyncBan (by this
// and later calls); a peer whose answers fail (timeout, malformed frames,
// no blocks) is retried a few times, then left out of this call. Either
// way Sync goes on with the next best peer.
//
// Sync returns nil once no usable peer is ahead: caught up with every
// peer it can still use (a peer that lies about its height cannot keep it
// running). It returns ctx.Err() when ctx is done, ErrSyncInProgress if
// another Sync is running, and ErrClosed after Close.
func (h *Host) Sync(ctx context.Context, apply ApplyFunc) error {
	if apply == nil {
		return fmt.Errorf("%w: nil apply function", ErrConfig)
	}
	if !h.syncing.CompareAndSwap(false, true) {
		return ErrSyncInProgress
	}
	defer h.syncing.Store(false)

	prog := newProgress(h, h.cfg.Blocks.Height())
	failures := make(map[peer.ID]int)
	h.refreshStatus(ctx)
	fresh := true // peer heights were just asked for
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if h.tasks.closing() {
			return ErrClosed
		}
		local := h.cfg.Blocks.Height()
		p, target, ok := h.pickSyncPeer(local, failures)
		if !ok {
			if !fresh {
				// Peers may have grown while we fetched: ask once more.
				h.refreshStatus(ctx)
				fresh = true
				continue
			}
			prog.done(local)
			return nil
		}
		fresh = false
		req := syncRequest{From: local + 1, To: local + min(target-local, MaxSyncRange)}
		entries, err := h.fetchRange(ctx, p, req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failures[p]++
			h.log.Warn("sync: request failed", "peer", p.String(), "from", req.From,
				"to", req.To, "attempt", failures[p], "err", err)
			if !sleep(ctx, time.Duration(failures[p])*200*time.Millisecond) {
				return ctx.Err()
			}
			continue
		}
		applied := 0
		for i, e := range entries {
			height := req.From + uint64(i)
			if err := apply(height, e.block, e.commit); err != nil {
				h.peers.banSync(p, h.cfg.SyncBan)
				h.log.Warn("sync: block rejected; avoiding peer", "peer", p.String(),
					"height", height, "for", h.cfg.SyncBan, "err", err)
				break
			}
			applied++
			prog.applied(height, target)
		}
		if applied > 0 && h.cfg.Blocks.Height() <= local {
			// Without this check Sync would fetch the same range forever.
			return fmt.Errorf("sync: apply accepted %d blocks but BlockSource.Height stayed at %d", applied, local)
		}
	}
}

// pickSyncPeer returns the connected peer with the greatest height above
// local, leaving out banned peers and those that failed too often. Ties
// go to the peer with fewer failures, then to the smaller peer ID, so the
// choice is reproducible.
func (h *Host) pickSyncPeer(local uint64, failures map[peer.ID]int) (peer.ID, uint64, bool) {
	var best peer.ID
	var bestHeight uint64
	for _, p := range h.lh.Network().Peers() {
		st, _, ok := h.peers.status(p)
		if !ok || st.Height <= local || failures[p] >= maxFetchFailures || h.peers.syncBanned(p) {
			continue
		}
		better := best == "" || st.Height > bestHeight ||
			(st.Height == bestHeight && (failures[p] < failures[best] ||
				(failures[p] == failures[best] && p < best)))
		if better {
			best, bestHeight = p, st.Height
		}
	}
	return best, bestHeight, best != ""
}

// fetchRange asks p for the blocks of req and reads the answer. At least
// one block must come back; fewer than asked is fine (the peer may have
// fewer, or the answer hit MaxSyncResponse).
func (h *Host) fetchRange(ctx context.Context, p peer.ID, req syncRequest) ([]entry, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.RequestTimeout)
	defer cancel()
	s, err := h.lh.NewStream(ctx, p, SyncProtocol(h.cfg.ChainID))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	fail := func(err error) ([]entry, error) {
		s.Reset()
		return nil, err
	}
	if err := s.SetDeadline(time.Now().Add(h.cfg.RequestTimeout)); err != nil {
		return fail(err)
	}
	if err := writeFrame(s, req.encode()); err != nil {
		return fail(err)
	}
	if err := s.CloseWrite(); err != nil {
		return fail(err)
	}
	r := bufio.NewReaderSize(s, 64<<10)
	var entries []entry
	total := 0
	for {
		block, err := readFrame(r, MaxEntrySize)
		if err != nil {
			return fail(fmt.Errorf("block %d: %w", req.From+uint64(len(entries)), err))
		}
		if len(block) == 0 {
			break // end of answer
		}
		if uint64(len(entries)) == req.count() {
			return fail(fmt.Errorf("%w: more blocks than asked for", ErrProtocol))
		}
		commit, err := readFrame(r, MaxEntrySize)
		if err != nil {
			return fail(fmt.Errorf("commit %d: %w", req.From+uint64(len(entries)), err))
		}
		total += len(block) + len(commit)
		if len(entries) > 0 && total > MaxSyncResponse {
			return fail(fmt.Errorf("%w: answer above %d bytes", ErrTooLarge, MaxSyncResponse))
		}
		entries = append(entries, entry{block: block, commit: commit})
	}
	if len(entries) == 0 {
		return nil, errors.New("peer sent no blocks")
	}
	return entries, nil
}

// progress logs how far Sync has come and how fast.
type progress struct {
	h      *Host
	start  time.Time
	from   uint64
	last   time.Time
	lastH  uint64
	target uint64
}

func newProgress(h *Host, from uint64) *progress {
	now := h.cfg.Now()
	return &progress{h: h, start: now, from: from, last: now, lastH: from}
}

func (p *progress) applied(height, target uint64) {
	p.target = max(p.target, target)
	now := p.h.cfg.Now()
	if now.Sub(p.last) < progressEvery {
		return
	}
	rate := float64(height-p.lastH) / now.Sub(p.last).Seconds()
	p.h.log.Info(fmt.Sprintf("synced to height %d of %d, %.0f blocks/s", height, p.target, rate))
	p.last, p.lastH = now, height
}

func (p *progress) done(height uint64) {
	if height <= p.from {
		return
	}
	took := p.h.cfg.Now().Sub(p.start)
	rate := float64(height-p.from) / max(took.Seconds(), 1e-3)
	p.h.log.Info(fmt.Sprintf("sync done at height %d: %d blocks in %s, %.0f blocks/s",
		height, height-p.from, took.Round(time.Millisecond), rate))
}
