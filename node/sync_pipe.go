package node

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The block sync pipeline. Catching up is signature checking: every
// transaction of every block, and the commit certificate of every block,
// is verified once by every node. Those checks need nothing but the block
// itself (and, for a certificate, the validator set), so they can run
// ahead of execution, on every core, while the engine executes and
// stores the blocks before them, which only one goroutine can do. Three
// stages, each on goroutines of its own, keep all cores busy:
//
//	fetch  (syncLoop, sync.go)   asks the best peer for the blocks after those
//	                             it holds, and hands on each block as it
//	                             arrives, before the answer is complete
//	verify (verifyLoop, workers) decodes each block and verifies its
//	                             certificate, then has GOMAXPROCS workers
//	                             verify its transactions' signatures
//	apply  (applyLoop)           takes the verified blocks in height order,
//	                             hands them to the engine in batches and
//	                             judges the peer of a block the engine refuses
//
// The engine keeps every check (applyPrepared): a block is stored only
// after its certificate verifies against the validator set of its height
// and executing it gives the roots in its header. The verify stage
// cannot know that set for a block more than one height ahead, since the
// set of height h+1 is only known once h has executed; it verifies the
// certificate against the latest stored set when the block's header names
// that set, and the engine uses that verdict only if the set it loads at
// apply time is the very same (same hash). Otherwise, as after a change
// of the set, it verifies the certificate again itself. The verify stage
// checks a block's transactions only once its certificate has verified,
// so that a peer serving made-up blocks costs the workers nothing; what
// it leaves unchecked the engine checks, on every core, as it always
// did. A transaction's signature depends on nothing but the
// transaction, so its verdict always stands; a signature that failed is
// left to the executor, which then refuses the block with the same error
// as without the pipeline.
//
// Memory is bounded: the fetch stage starts a request only while fewer
// than limitBlocks blocks and limitBytes bytes are held (fetched and not
// yet applied or dropped), and asks for no more blocks than fit under
// limitBlocks. Bytes are bounded less tightly, since an answer's size is
// known only once it arrives: at most one answer (p2p.MaxSyncResponse)
// beyond limitBytes.
//
// When the engine refuses a block, or cannot store one through a fault
// of its own, every block held after it is dropped: the generation
// number goes up, the stages skip blocks of an older one, and the fetch
// stage starts again from the store's next height.

// Bounds of the pipeline.
const (
	// syncAheadBlocks bounds the blocks held: one full request being
	// applied and one being verified.
	syncAheadBlocks = 2 * p2p.MaxSyncRange
	// syncAheadBytes bounds the bytes held before another request starts.
	syncAheadBytes = 32 << 20
	// syncBatchBlocks and syncBatchTxs bound what the engine applies in
	// one go (a batch ends with the block that reaches either), so that
	// consensus messages wait at most that long.
	syncBatchBlocks = 32
	syncBatchTxs    = 4000
	// syncVerifyChunk is how many transactions one verify job checks:
	// enough to make the hand-over cheap, few enough to spread a block
	// over the workers.
	syncVerifyChunk = 32
	// syncLocalPause is how long the fetch stage waits after the engine
	// failed to store a block through a fault of its own.
	syncLocalPause = time.Second
)

// syncBlock is one block on its way through the pipeline. The fetch
// stage fills the first group of fields; the verify stage the second,
// then closes ready; after that only the engine reads it.
type syncBlock struct {
	height uint64
	peer   peer.ID // who served it
	gen    uint64  // the pipeline generation it was fetched in
	size   int     // bytes served, block and commit
	raw    [2][]byte

	block     *chain.Block
	commit    *chain.Commit
	hash      chain.Hash
	decodeErr error
	// certSet is the hash of the validator set the certificate was
	// verified against ahead, certErr that verdict; zero if it was not.
	certSet chain.Hash
	certErr error
	// certAhead is set by the engine when it took the verdict of the
	// verify stage rather than verifying the certificate itself.
	certAhead bool
	// txOK[i] says the signature of transaction i verified; txHash[i] is
	// its hash then.
	txOK    []bool
	txHash  []chain.Hash
	pending atomic.Int32 // verify jobs not yet done
	ready   chan struct{}
}

// syncPipe holds what the stages share: the generation, the blocks in
// flight between them and how much is held.
type syncPipe struct {
	gen      atomic.Uint64
	toVerify chan *syncBlock
	toApply  chan *syncBlock
	room     chan struct{} // poked when held blocks are released

	limitBlocks, limitBytes int

	mu         sync.Mutex
	held       int // blocks fetched and not yet applied or dropped
	heldBytes  int
	next       uint64 // first height not fetched yet in generation nextGen; 0: the store's next
	nextGen    uint64
	pauseUntil time.Time
	avgSize    int // bytes per block of the latest answers

	stats syncStats
}

// syncStats counts what the engine applied, and how much of the checking
// the verify stage had done for it: for logs and tests.
type syncStats struct {
	blocks, certsAhead atomic.Int64 // blocks stored; of them, certificates verified ahead
	txs, sigsAhead     atomic.Int64 // their transactions; of them, signatures verified ahead
	sigsChecked        atomic.Int64 // signatures the workers checked, for blocks stored or not
}

// count adds a stored block to the stats.
func (s *syncStats) count(b *syncBlock) {
	s.blocks.Add(1)
	if b.certAhead {
		s.certsAhead.Add(1)
	}
	s.txs.Add(int64(len(b.block.Txs)))
	n := 0
	for _, ok := range b.txOK {
		if ok {
			n++
		}
	}
	s.sigsAhead.Add(int64(n))
}

func newSyncPipe() *syncPipe {
	return &syncPipe{
		toVerify:    make(chan *syncBlock, syncAheadBlocks),
		toApply:     make(chan *syncBlock, syncAheadBlocks),
		room:        make(chan struct{}, 1),
		limitBlocks: syncAheadBlocks,
		limitBytes:  syncAheadBytes,
	}
}

// plan says where the next request starts, for how many blocks at most,
// and in which generation, given the height of the store. It reports
// false when the pipeline is full or resting.
func (s *syncPipe) plan(now time.Time, stored uint64) (from uint64, count uint64, gen uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.pauseUntil) {
		return 0, 0, 0, false
	}
	gen = s.gen.Load()
	if s.nextGen != gen {
		s.next, s.nextGen = 0, gen
	}
	from = max(s.next, stored+1)
	room := min(p2p.MaxSyncRange, s.limitBlocks-s.held)
	if s.heldBytes >= s.limitBytes {
		room = 0
	} else if s.avgSize > 0 {
		room = min(room, (s.limitBytes-s.heldBytes)/s.avgSize+1)
	}
	if room <= 0 {
		return 0, 0, 0, false
	}
	return from, uint64(room), gen, true
}

// push hands one fetched block to the verify and apply stages. The
// channels hold limitBlocks blocks and plan never lets more be held, so
// it does not wait.
func (s *syncPipe) push(ctx context.Context, b *syncBlock) {
	b.ready = make(chan struct{})
	s.mu.Lock()
	s.held++
	s.heldBytes += b.size
	s.mu.Unlock()
	for _, ch := range []chan *syncBlock{s.toVerify, s.toApply} {
		select {
		case ch <- b:
		case <-ctx.Done():
			return
		}
	}
}

// fetched records that a request of generation gen from height from
// brought n blocks of size bytes in all: the next request starts after
// them, unless the blocks were dropped meanwhile.
func (s *syncPipe) fetched(gen, from uint64, n, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.gen.Load() || gen != s.nextGen {
		return
	}
	s.next = from + uint64(n)
	if n > 0 {
		s.avgSize = max(size/n, 1)
	}
}

// release returns the room of blocks applied or dropped.
func (s *syncPipe) release(bs ...*syncBlock) {
	s.mu.Lock()
	for _, b := range bs {
		s.held--
		s.heldBytes -= b.size
	}
	s.mu.Unlock()
	select {
	case s.room <- struct{}{}:
	default:
	}
}

// drop makes every block held stale: the stages skip them and the next
// request starts from the store. pause, if positive, also rests the
// fetch stage for that long.
func (s *syncPipe) drop(now time.Time, pause time.Duration) {
	s.mu.Lock()
	s.gen.Add(1)
	if pause > 0 {
		s.pauseUntil = now.Add(pause)
	}
	s.mu.Unlock()
	select {
	case s.room <- struct{}{}:
	default:
	}
}

// heldBlocks returns how many blocks the pipeline holds.
func (s *syncPipe) heldBlocks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// stale reports whether b was fetched before the blocks were last dropped.
func (s *syncPipe) stale(b *syncBlock) bool { return !s.current(b.gen) }

// current reports whether gen is the pipeline's generation.
func (s *syncPipe) current(gen uint64) bool { return gen == s.gen.Load() }

// startSyncStages starts the verify and apply stages of the pipeline on
// goroutines added to wg. Each returns when ctx ends.
func (e *engine) startSyncStages(ctx context.Context, wg *sync.WaitGroup, f fetcher) {
	jobs := make(chan verifyJob, 4*runtime.GOMAXPROCS(0))
	wg.Add(2)
	go func() { // exits when ctx ends
		defer wg.Done()
		e.sync.pipe.verifyLoop(ctx, e.n, jobs)
	}()
	go func() { // exits when ctx ends
		defer wg.Done()
		e.applyLoop(ctx, f)
	}()
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() { // exits when ctx ends
			defer wg.Done()
			verifyWorker(ctx, jobs, e.n.keys, e.n.verified, &e.sync.pipe.stats.sigsChecked, e.n.metrics.sigsSync)
		}()
	}
}

// verifyLoop is the verify stage's dispatcher: it decodes each block the
// fetch stage hands on, in order, checks its certificate, and hands the
// signatures of its transactions to the workers in jobs. The last job of
// a block closes its ready channel.
func (s *syncPipe) verifyLoop(ctx context.Context, n *Node, jobs chan<- verifyJob) {
	var sets expectedSet
	for {
		var b *syncBlock
		select {
		case b = <-s.toVerify:
		case <-ctx.Done():
			return
		}
		if s.stale(b) {
			close(b.ready)
			continue
		}
		for _, j := range b.startVerify(n, &sets) {
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}
}

// applyLoop is the apply stage: it takes the blocks in the order they
// were fetched, waits until each is verified, and hands the engine every
// consecutive one that is ready, up to syncBatchBlocks or syncBatchTxs at
// a time. When
// the engine refuses a block it judges the block's peer (rest and ban,
// as syncDone says) and drops every block held after it.
func (e *engine) applyLoop(ctx context.Context, f fetcher) {
	s := e.sync.pipe
	var head *syncBlock
	for {
		if head == nil {
			select {
			case head = <-s.toApply:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-head.ready:
		case <-ctx.Done():
			return
		}
		var batch []*syncBlock
		txs := 0
		for head != nil && len(batch) < syncBatchBlocks && txs < syncBatchTxs && isClosed(head.ready) {
			if s.stale(head) {
				s.release(head)
			} else {
				batch = append(batch, head)
				if head.block != nil {
					txs += len(head.block.Txs)
				}
			}
			head = nil
			select {
			case head = <-s.toApply:
			default:
			}
		}
		if len(batch) == 0 {
			continue
		}
		r, ok := e.handOver(ctx, batch)
		if !ok {
			return
		}
		s.release(batch...)
		e.judgeBatch(f, batch, r)
	}
}

// handOver gives the engine a batch of verified blocks and waits for its
// verdict. It reports false if ctx ended first.
func (e *engine) handOver(ctx context.Context, blocks []*syncBlock) (syncResult, bool) {
	b := &syncBatch{from: blocks[0].height, blocks: blocks, reply: make(chan syncResult, 1)}
	select {
	case e.in <- b:
	case <-ctx.Done():
		return syncResult{}, false
	}
	select {
	case r := <-b.reply:
		return r, true
	case <-ctx.Done():
		return syncResult{}, false
	}
}

// judgeBatch acts on the engine's verdict on a batch: a refused block
// costs its peer (syncRefusedBy) and drops what was fetched after it; a
// failure of this node's own drops it too and rests the fetch stage for
// syncLocalPause, so that a broken store is not hammered.
func (e *engine) judgeBatch(f fetcher, batch []*syncBlock, r syncResult) {
	switch {
	case r.err != nil:
		bad := batch[r.at]
		if e.syncRefusedBy(f, bad.peer, r.err) {
			f.BanPeer(bad.peer, "refused block")
		}
		e.sync.pipe.drop(e.sched.Now(), 0)
	case r.at < len(batch):
		e.sync.pipe.drop(e.sched.Now(), syncLocalPause)
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
