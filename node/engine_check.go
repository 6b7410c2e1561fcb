package node

import (
	"context"
	"sync"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/store"
)

// Checking a proposed block means executing it, which takes a large
// block hundreds of milliseconds. A running node does that away from the
// engine's goroutine, so that meanwhile the engine keeps taking votes,
// timeouts and other proposals; the verdict comes back through dispatch
// as a *checkDone, like any other input, and only then does the machine
// hear of the proposal. The proposals that name the block while it is
// being checked wait in its blockCheck and are judged again with it.

// blockChecker runs the check of a proposed block where the engine does
// not wait for it, and hands &checkDone{c, run(), took} to the engine's
// dispatch afterwards. A running node uses goChecker; the simulation
// runs the check at once and delivers the verdict later in virtual time;
// an engine without one checks on its own goroutine.
type blockChecker interface {
	Check(c *blockCheck, run func() *pendingBlock)
}

// blockCheck is the check of one proposed block in flight.
type blockCheck struct {
	height uint64
	block  *chain.Block
	cb     *chain.CompactBlock
	wait   *txWait                 // the fetch that completed the block, if any
	props  []*chain.SignedProposal // proposals naming the block, in arrival order
}

// maxCheckWaiters bounds the proposals kept waiting for one check: one
// per round of the round window is what honest proposers send.
const maxCheckWaiters = 16

// checkDone is the verdict of a blockCheck and how long it took.
type checkDone struct {
	c    *blockCheck
	pb   *pendingBlock
	took time.Duration
}

// goChecker runs each check on its own goroutine. A check ends by itself
// (one execution); its goroutine exits after handing the verdict over or
// when the node stops, and wait waits for them all.
type goChecker struct {
	in   chan<- any
	done <-chan struct{}
	wg   sync.WaitGroup
}

func (g *goChecker) Check(c *blockCheck, run func() *pendingBlock) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		start := time.Now()
		pb := run()
		select {
		case g.in <- &checkDone{c: c, pb: pb, took: time.Since(start)}:
		case <-g.done:
		}
	}()
}

func (g *goChecker) wait() { g.wg.Wait() }

// treeWriter stores the tree nodes of a valid block's result while the
// votes on the block are gathered, and closes pb.treeDone when done. A
// running node's goChecker is one; without one (the simulation, unit
// tests) the nodes are written with the block, as ever.
type treeWriter interface {
	writeTree(store *store.Store, pb *pendingBlock)
}

func (g *goChecker) writeTree(st *store.Store, pb *pendingBlock) {
	done := make(chan struct{})
	pb.treeDone = done
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer close(done)
		// A failure is not this block's: SaveBlock writes the nodes itself.
		_ = st.WriteTreeAhead(pb.res)
	}()
}

// writeAhead starts writing the tree nodes of pb, a block this node
// built or found valid at the current height, if the engine has a tree
// writer and no one is writing them yet. Storing them is most of storing
// a block, and it then happens while the votes on the block are
// gathered rather than after the decision, where it would delay the
// next height; commit waits for it (awaitTree).
func (e *engine) writeAhead(pb *pendingBlock) {
	w, ok := e.checker.(treeWriter)
	if !ok || pb.err != nil || pb.res == nil || len(pb.res.TreeWrites) == 0 || pb.treeDone != nil {
		return
	}
	w.writeTree(e.n.store, pb)
}

// awaitTree waits until the tree nodes of pb written ahead are stored,
// if they are being written.
func awaitTree(pb *pendingBlock) {
	if pb.treeDone != nil {
		<-pb.treeDone
	}
}

// startCheck begins checking block b of proposal sp, asynchronously when
// the engine has a checker. Everything the check reads from the engine
// is taken here, on the engine's goroutine; the check itself reads only
// the store's snapshot and the node's thread-safe parts.
func (e *engine) startCheck(sp *chain.SignedProposal, b *chain.Block, cb *chain.CompactBlock, w *txWait) {
	run := e.prepareCheck(b)
	c := &blockCheck{height: e.height, block: b, cb: cb, wait: w, props: []*chain.SignedProposal{sp}}
	e.checking[sp.Proposal.BlockHash] = c
	if w == nil { // a fetched block was counted when its fetch began
		e.checked[sp.Proposal.Proposer]++
	} else {
		delete(e.waits, sp.Proposal.BlockHash) // complete: the check has it now
	}
	e.checker.Check(c, run)
}

// joinCheck lets a proposal wait for the check of its block already in
// flight. It reports whether one is.
func (e *engine) joinCheck(sp *chain.SignedProposal) bool {
	c := e.checking[sp.Proposal.BlockHash]
	if c == nil {
		return false
	}
	if len(c.props) < maxCheckWaiters {
		c.props = append(c.props, sp)
	}
	return true
}

// onChecked takes the verdict of a check: it is recorded as if the
// check had run inline, and the proposals that waited for it are judged
// again, now with the verdict at hand. A verdict of an earlier height is
// stale and dropped.
func (e *engine) onChecked(ctx context.Context, d *checkDone) {
	c := d.c
	hash := c.block.Hash()
	if c.height != e.height || e.checking[hash] != c {
		return
	}
	delete(e.checking, hash)
	if d.pb.block != nil && c.wait != nil {
		e.keepFetched(c.cb.TxHashes, c.wait)
	}
	e.settle(c.props[0], c.wait, d.pb, d.took, c.wait == nil)
	if _, ok := e.blocks[hash]; !ok {
		// Kept for the tick: the clock was behind the block's time. What was
		// fetched for it stays too, as when the check runs inline.
		if c.wait != nil {
			e.waits[hash] = c.wait
		}
		return
	}
	for _, sp := range c.props {
		e.onProposal(ctx, sp, "")
	}
}

// parkTimeout holds back a timeout of a round whose proposal is being
// checked, or is being fetched from its proposer's node (the first
// request of a fetch), and reports whether it did. The round waits for
// the verdict as it did when the check ran on the engine's goroutine and
// held every timeout up meanwhile: a block that takes longer to execute
// than a step's timeout is not refused for that alone, while the votes
// that arrive meanwhile are taken. A check always ends (one execution)
// and a request has a deadline; the timeout is handed over then
// (releaseTimeouts).
func (e *engine) parkTimeout(t consensus.TimeoutFired) bool {
	if !e.checkingRound(t.Round) {
		return false
	}
	e.parked = append(e.parked, t)
	return true
}

// releaseTimeouts hands the machine the parked timeouts whose round has
// no check in flight any more.
func (e *engine) releaseTimeouts(ctx context.Context) {
	kept := e.parked[:0]
	var due []consensus.TimeoutFired
	for _, t := range e.parked {
		if e.checkingRound(t.Round) {
			kept = append(kept, t)
		} else {
			due = append(due, t)
		}
	}
	e.parked = kept
	for _, t := range due {
		if t.Height == e.height {
			e.handle(ctx, t)
		}
	}
}

// checkingRound reports whether a proposal of round r names a block
// being checked, or one whose missing transactions are being asked of
// the first peer (the proposer's node, when known).
func (e *engine) checkingRound(r uint32) bool {
	for _, c := range e.checking {
		for _, sp := range c.props {
			if sp.Proposal.Round == r {
				return true
			}
		}
	}
	for _, w := range e.waits {
		if !w.busy || w.requests > 1 {
			continue
		}
		for _, sp := range w.props {
			if sp.Proposal.Round == r {
				return true
			}
		}
	}
	return false
}

// prepareCheck returns the check of b against the current height's
// parent and validator sets, to be run now or on another goroutine.
func (e *engine) prepareCheck(b *chain.Block) func() *pendingBlock {
	if b.Header.Height != e.height {
		pb := &pendingBlock{err: errWrongHeight(b.Header.Height, e.height)}
		return func() *pendingBlock { return pb }
	}
	parent := e.n.store.Latest()
	parentVals, err := e.n.validatorsFor(parent.Height)
	if err != nil {
		return func() *pendingBlock { return &pendingBlock{err: err} }
	}
	vals := e.vals
	return func() *pendingBlock {
		res, err := e.n.checkBlock(b, parent, parentVals, vals, true)
		return &pendingBlock{block: b, res: res, err: err}
	}
}
