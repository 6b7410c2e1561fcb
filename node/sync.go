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

// Block sync: how a node that is behind catches up. It runs on
// goroutines of its own, never on the engine's: a peer that claims a
// great height and then never answers costs the syncer one request
// timeout and costs consensus nothing. Blocks go through a pipeline
// (sync_pipe.go): this file's loop fetches them, a verify stage checks
// their commits and signatures on every core, and the engine checks each
// block against its commit certificate and re-executes it before storing
// it (applyPrepared); a claimed height is only a hint until a commit
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
	// syncStatusWait is how soon the loop looks again while it has no
	// peer or a peer's height is not known yet, during the first
	// syncStartup after start, so that catching up does not wait for the
	// next tick.
	syncStatusWait = 100 * time.Millisecond
	syncStartup    = 10 * time.Second
	// syncStallsToBan is how many stalls in a row get a peer banned: it
	// claims blocks it never serves. A slow but honest peer answers one of
	// them; a paused or lagging one claims no height above ours and is
	// never asked.
	syncStallsToBan = 3
	// syncSlowAnswer is how long an answer short of what the peer claims
	// may take before it counts as a failure.
	syncSlowAnswer = time.Second
	// syncCutBySize is the answer size above which a short answer may
	// have been cut by the server's size bound: the next block and commit
	// could not fit under p2p.MaxSyncResponse.
	syncCutBySize = p2p.MaxSyncResponse - 2*p2p.MaxEntrySize
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
// is safe for concurrent use. It also holds the sync pipeline's shared
// state.
type syncer struct {
	mu    sync.Mutex
	peers map[peer.ID]*syncPeer
	wake  chan struct{}
	pipe  *syncPipe
}

// syncPeer is what the syncer remembers of one peer.
type syncPeer struct {
	strikes int       // stalls and failures since it last served well
	stalls  int       // stalls in a row
	rest    time.Time // not asked again before this
	refused int       // blocks it served that were refused
	// rate is the blocks per second its answers delivered, each new answer
	// weighing half; rated says it answered at least once.
	rate  float64
	rated bool
	// short says its latest whole answer held fewer blocks than asked
	// although it claimed them.
	short bool
}

func newSyncer() *syncer {
	return &syncer{peers: map[peer.ID]*syncPeer{}, wake: make(chan struct{}, 1), pipe: newSyncPipe()}
}

// poke asks the sync loop to look for peers ahead now rather than at its
// next tick. It never blocks.
func (s *syncer) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pick returns the peer to fetch the blocks after local from, and its
// claimed height. Of the peers that claim a greater height and are not
// resting it prefers, in this order: one whose latest answer was not
// short; the one whose claim covers more of the next p2p.MaxSyncRange
// heights; one not heard yet (so that every peer is tried once), else
// the one that delivered more blocks per second; the fewest strikes; the
// greatest claim; the smallest ID, so the choice is reproducible.
func (s *syncer) pick(now time.Time, local uint64, peers []p2p.PeerInfo) (peer.ID, uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	type cand struct {
		p     p2p.PeerInfo
		reach uint64
		sp    syncPeer
	}
	cands := make([]cand, 0, len(peers))
	for _, p := range peers {
		if p.Height <= local {
			continue
		}
		var sp syncPeer
		if known := s.peers[p.ID]; known != nil {
			if now.Before(known.rest) {
				continue
			}
			sp = *known
		}
		reach := p.Height - local
		cands = append(cands, cand{p: p, reach: min(reach, p2p.MaxSyncRange), sp: sp})
	}
	if len(cands) == 0 {
		return "", 0, false
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.sp.short != b.sp.short {
			return !a.sp.short
		}
		if a.reach != b.reach {
			return a.reach > b.reach
		}
		if a.sp.rated != b.sp.rated {
			return !a.sp.rated
		}
		if a.sp.rate != b.sp.rate {
			return a.sp.rate > b.sp.rate
		}
		if a.sp.strikes != b.sp.strikes {
			return a.sp.strikes < b.sp.strikes
		}
		if a.p.Height != b.p.Height {
			return a.p.Height > b.p.Height
		}
		return a.p.ID < b.p.ID
	})
	return cands[0].p.ID, cands[0].p.Height, true
}

// delivered notes that p answered a request with n blocks in took; whole
// says the answer ended without an error, short that it held fewer
// blocks than asked although p claimed them.
func (s *syncer) delivered(now time.Time, p peer.ID, n int, took time.Duration, whole, short bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.peer(now, p)
	rate := float64(n) / max(took, time.Millisecond).Seconds()
	if sp.rated {
		rate = (sp.rate + rate) / 2
	}
	sp.rate, sp.rated = rate, true
	if whole {
		sp.short = short
	}
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
	sp := s.peer(now, p)
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

// peer returns what the syncer remembers of p, making room for it if p is
// new. The caller holds s.mu.
func (s *syncer) peer(now time.Time, p peer.ID) *syncPeer {
	sp := s.peers[p]
	if sp == nil {
		if len(s.peers) >= syncMemory {
			s.forget(now)
		}
		sp = &syncPeer{}
		s.peers[p] = sp
	}
	return sp
}

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

// streamer is optional behaviour of a fetcher: it hands over each block
// as soon as it arrives (p2p.Host.StreamBlocks), so the pipeline can
// verify the first blocks of an answer while the rest are on the wire.
type streamer interface {
	StreamBlocks(ctx context.Context, p peer.ID, from, to uint64, deliver func(p2p.Entry)) (int, error)
}

// stream fetches from..to from p through f, streaming if f can.
func stream(ctx context.Context, f fetcher, p peer.ID, from, to uint64, deliver func(p2p.Entry)) (int, error) {
	if s, ok := f.(streamer); ok {
		return s.StreamBlocks(ctx, p, from, to, deliver)
	}
	entries, err := f.FetchBlocks(ctx, p, from, to)
	for _, en := range entries {
		deliver(en)
	}
	return len(entries), err
}

// syncLoop is the sync goroutine of a networked node and the fetch stage
// of the pipeline. At start, each second, when poked, and when the
// pipeline has made room, it fetches from the best peer ahead until no
// peer it may ask is ahead of the blocks it holds or the pipeline is
// full. It starts the other stages and returns when ctx ends, once they
// have returned.
func (e *engine) syncLoop(ctx context.Context, f fetcher) {
	var stages sync.WaitGroup
	defer stages.Wait()
	e.startSyncStages(ctx, &stages, f)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	started := time.Now()
	for {
		for ctx.Err() == nil && e.syncOnce(ctx, f) {
		}
		var soon <-chan time.Time
		if time.Since(started) < syncStartup && heightsUnknown(f.Peers()) {
			soon = time.After(syncStatusWait)
		}
		select {
		case <-ctx.Done():
			return
		case <-e.sync.wake:
		case <-e.sync.pipe.room:
		case <-t.C:
		case <-soon:
		}
	}
}

// heightsUnknown reports whether this node has no peer yet, or a peer
// that has not told its height yet.
func heightsUnknown(peers []p2p.PeerInfo) bool {
	for _, p := range peers {
		if p.StatusAt.IsZero() {
			return true
		}
	}
	return len(peers) == 0
}

// syncOnce makes one request to the best peer ahead of the blocks the
// pipeline holds, and hands each block to the pipeline as it arrives;
// it does not wait for the engine. It reports whether it asked anyone:
// not when no peer it may ask is ahead, when the pipeline is full, or
// while it rests after a failure of this node's own.
func (e *engine) syncOnce(ctx context.Context, f fetcher) bool {
	pipe := e.sync.pipe
	from, count, gen, ok := pipe.plan(e.sched.Now(), e.n.store.Latest().Height)
	if !ok {
		return false
	}
	p, claimed, ok := e.sync.pick(e.sched.Now(), from-1, f.Peers())
	if !ok {
		return false
	}
	to := from - 1 + min(claimed-(from-1), count)
	rctx, cancel := context.WithTimeout(ctx, syncRequestTimeout)
	start := time.Now()
	got, size := 0, 0
	n, err := stream(rctx, f, p, from, to, func(en p2p.Entry) {
		b := &syncBlock{height: from + uint64(got), peer: p, gen: gen,
			size: len(en.Block) + len(en.Commit), raw: [2][]byte{en.Block, en.Commit}}
		got++
		size += b.size
		pipe.push(ctx, b)
	})
	cancel()
	took := time.Since(start)
	pipe.fetched(gen, from, n, size)
	if err != nil && ctx.Err() != nil {
		return false
	}
	// to is at most the claimed height, so an answer of fewer blocks
	// than asked held fewer than p claims to have, unless it reached the
	// size bound.
	short := n < int(to-from+1) && size <= syncCutBySize
	e.sync.delivered(e.sched.Now(), p, n, took, err == nil, short)
	if err != nil {
		// Blocks that came before the failure stay in the pipeline: each
		// proves itself by its commit. The peer is judged on its answer.
		o := syncFailed
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(rctx.Err(), context.DeadlineExceeded) {
			o = syncStalled
		}
		rest, ban := e.sync.judge(e.sched.Now(), p, o)
		e.n.log.Warn("block sync: request failed", "peer", p.String(), "from", from, "blocks", n, "rests", rest.String(), "err", err)
		if ban {
			f.BanPeer(p, "sync stalls")
		}
		return true
	}
	// A short answer that took long counts as a failure: a peer that
	// claims heights it does not serve, or serves them slowly, must not
	// keep the node from the others. Its blocks stay in the pipeline.
	if short && took >= syncSlowAnswer {
		rest, _ := e.sync.judge(e.sched.Now(), p, syncFailed)
		e.n.log.Warn("block sync: short slow answer", "peer", p.String(), "from", from, "asked", to-from+1,
			"blocks", n, "took", took.String(), "rests", rest.String())
		return true
	}
	// Any other whole answer counts as served; whether its blocks are
	// real is the engine's verdict, and a refused one costs the peer far
	// more (syncRefusedBy). An answer of a generation since dropped
	// counts for nothing.
	if pipe.current(gen) {
		e.sync.record(e.sched.Now(), p, syncServed)
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
	f, _ := e.net.(fetcher)
	return e.syncRefusedBy(f, p, r.err)
}

// syncRefusedBy records that the engine refused a block p served, for
// err: p rests for syncRefusedRest, which f (if not nil) shows in
// /v1/peers. It reports whether p has earned a ban.
func (e *engine) syncRefusedBy(f fetcher, p peer.ID, err error) bool {
	rest, ban := e.sync.judge(e.sched.Now(), p, syncRefused)
	if f != nil {
		f.AvoidForSync(p, rest)
	}
	e.n.log.Warn("block sync: refused a block; avoiding peer", "peer", p.String(), "for", rest.String(), "err", err)
	return ban
}
