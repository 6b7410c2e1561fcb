package node

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/citychain/citychain/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Block sync: how a node that is behind catches up. It runs on its own
// goroutine (syncLoop), never on the engine's: a peer that claims a great
// height and then never answers costs the syncer one request timeout and
// costs consensus nothing. Fetched blocks go to the engine, which checks
// each against its commit certificate and re-executes it before storing
// it (applySynced); a claimed height is only a hint until a commit
// proves it.
//
// The syncer remembers each peer across rounds of fetching: a peer that
// stalls or answers badly rests for a while, longer each time it does it
// again; a peer that served a block the engine refused rests for
// syncRefusedRest. Only a peer that serves good blocks is trusted again
// at once.

// Sync timings.
const (
	// syncRequestTimeout bounds one request and its answer.
	syncRequestTimeout = 5 * time.Second
	// syncFirstRest is how long a peer rests after its first stall or bad
	// answer; each further one doubles it, up to syncMaxRest.
	syncFirstRest = 2 * time.Second
	syncMaxRest   = 2 * time.Minute
	// syncRefusedRest is how long a peer that served a refused block rests.
	syncRefusedRest = 10 * time.Minute
	// syncStallsToBan is how many stalls in a row get a peer banned: it
	// claims blocks it never serves. A slow but honest peer answers one of
	// them; a paused or lagging one claims no height above ours and is
	// never asked.
	syncStallsToBan = 3
)

// syncOutcome is how one request to a peer ended.
type syncOutcome int

const (
	syncServed  syncOutcome = iota // blocks came and were stored
	syncFailed                     // an error or a useless answer
	syncStalled                    // no answer within syncRequestTimeout
	syncRefused                    // a block was refused: the peer served a lie
)

// syncer chooses the peer to fetch from and remembers how peers did. It
// is safe for concurrent use.
type syncer struct {
	mu    sync.Mutex
	peers map[peer.ID]*syncPeer
	wake  chan struct{}
}

// syncPeer is what the syncer remembers of one peer.
type syncPeer struct {
	strikes int       // stalls and failures since it last served well
	stalls  int       // stalls in a row
	rest    time.Time // not asked again before this
	refused int       // blocks it served that were refused
}

func newSyncer() *syncer {
	return &syncer{peers: map[peer.ID]*syncPeer{}, wake: make(chan struct{}, 1)}
}

// poke asks the sync loop to look for peers ahead now rather than at its
// next tick. It never blocks.
func (s *syncer) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pick returns the peer to fetch the blocks after local from: of the
// peers that claim a greater height and are not resting, the one with the
// greatest claim, then the fewest strikes, then the smallest ID, so the
// choice is reproducible. It returns the claimed height too.
func (s *syncer) pick(now time.Time, local uint64, peers []p2p.PeerInfo) (peer.ID, uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cands := make([]p2p.PeerInfo, 0, len(peers))
	for _, p := range peers {
		if p.Height <= local {
			continue
		}
		if sp := s.peers[p.ID]; sp != nil && now.Before(sp.rest) {
			continue
		}
		cands = append(cands, p)
	}
	if len(cands) == 0 {
		return "", 0, false
	}
	strikes := func(id peer.ID) int {
		if sp := s.peers[id]; sp != nil {
			return sp.strikes
		}
		return 0
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.Height != b.Height {
			return a.Height > b.Height
		}
		if sa, sb := strikes(a.ID), strikes(b.ID); sa != sb {
			return sa < sb
		}
		return a.ID < b.ID
	})
	return cands[0].ID, cands[0].Height, true
}

// record notes how a request to p ended and returns how long p now rests
// (zero if it may be asked again at once).
func (s *syncer) record(now time.Time, p peer.ID, o syncOutcome) time.Duration {
	rest, _ := s.judge(now, p, o)
	return rest
}

// judge is record, also saying whether p has earned a ban: a block of its
// was refused, or it stalled syncStallsToBan times in a row.
func (s *syncer) judge(now time.Time, p peer.ID, o syncOutcome) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.peers[p]
	if sp == nil {
		if len(s.peers) >= syncMemory {
			s.forget(now)
		}
		sp = &syncPeer{}
		s.peers[p] = sp
	}
	var rest time.Duration
	ban := false
	switch o {
	case syncServed:
		sp.strikes, sp.stalls = 0, 0
	case syncFailed, syncStalled:
		sp.strikes++
		rest = syncFirstRest << min(sp.strikes-1, 10)
		rest = min(rest, syncMaxRest)
		if o == syncStalled {
			sp.stalls++
			ban = sp.stalls >= syncStallsToBan
		}
	case syncRefused:
		sp.strikes++
		sp.refused++
		rest = syncRefusedRest
		ban = true
	}
	sp.rest = now.Add(rest)
	return rest, ban
}

// syncMemory bounds the peers the syncer remembers.
const syncMemory = 1024

// forget drops what the syncer remembers of peers that are not resting;
// if all are, of all of them. The caller holds s.mu.
func (s *syncer) forget(now time.Time) {
	for id, sp := range s.peers {
		if !now.Before(sp.rest) {
			delete(s.peers, id)
		}
	}
	if len(s.peers) >= syncMemory {
		clear(s.peers)
	}
}

// resting reports whether p is resting at now, for tests and status.
func (s *syncer) resting(now time.Time, p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.peers[p]
	return sp != nil && now.Before(sp.rest)
}

// fetcher is what the sync loop needs from p2p.
type fetcher interface {
	Peers() []p2p.PeerInfo
	FetchBlocks(ctx context.Context, p peer.ID, from, to uint64) ([]p2p.Entry, error)
	AvoidForSync(p peer.ID, d time.Duration)
	BanPeer(p peer.ID, reason string)
}

// syncLoop is the sync goroutine of a networked node. Each second, or
// when poked, it fetches from the best peer ahead until no peer it may
// ask is ahead. It returns when ctx ends.
func (e *engine) syncLoop(ctx context.Context, f fetcher) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.sync.wake:
		case <-t.C:
		}
		for ctx.Err() == nil && e.syncOnce(ctx, f) {
		}
	}
}

// syncOnce makes one request to the best peer ahead and hands what it
// got to the engine. It reports whether it asked anyone.
func (e *engine) syncOnce(ctx context.Context, f fetcher) bool {
	local := e.n.store.Latest().Height
	p, claimed, ok := e.sync.pick(e.sched.Now(), local, f.Peers())
	if !ok {
		return false
	}
	to := local + min(claimed-local, p2p.MaxSyncRange)
	rctx, cancel := context.WithTimeout(ctx, syncRequestTimeout)
	entries, err := f.FetchBlocks(rctx, p, local+1, to)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		o := syncFailed
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(rctx.Err(), context.DeadlineExceeded) {
			o = syncStalled
		}
		rest, ban := e.sync.judge(e.sched.Now(), p, o)
		e.n.log.Warn("block sync: no blocks from peer", "peer", p.String(), "from", local+1, "rests", rest.String(), "err", err)
		if ban {
			f.BanPeer(p, "sync stalls")
		}
		return true
	}
	b := &syncBatch{from: local + 1, reply: make(chan syncResult, 1)}
	for _, en := range entries {
		b.entries = append(b.entries, [2][]byte{en.Block, en.Commit})
	}
	select {
	case e.in <- b:
	case <-ctx.Done():
		return false
	}
	var r syncResult
	select {
	case r = <-b.reply:
	case <-ctx.Done():
		return false
	}
	if e.syncDone(p, r) {
		f.BanPeer(p, "refused block")
	}
	return true
}

// syncDone records the engine's verdict on a batch from p and reports
// whether p has earned a ban.
func (e *engine) syncDone(p peer.ID, r syncResult) bool {
	if r.err == nil {
		// Blocks already stored by consensus count as served: the peer was
		// right, only slower than consensus.
		e.sync.record(e.sched.Now(), p, syncServed)
		return false
	}
	rest, ban := e.sync.judge(e.sched.Now(), p, syncRefused)
	if f, ok := e.net.(fetcher); ok {
		f.AvoidForSync(p, rest)
	}
	e.n.log.Warn("block sync: refused a block; avoiding peer", "peer", p.String(), "for", rest.String(), "err", r.err)
	return ban
}
