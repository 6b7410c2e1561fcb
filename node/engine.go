package node

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// engine drives the Tendermint state machine of package consensus: it is
// the machine's only caller, runs on one goroutine, and turns the
// machine's actions into real effects: blocks built and executed, votes
// signed (through the double-sign guard) and gossiped, timers, commits
// to the store, evidence reported.
//
// Everything it touches outside the node's store, mempool and executor
// comes through small interfaces: the scheduler (clock and timers), the
// network (gossip), the vault behind its signer, and the syncer's block
// fetcher. A running node plugs in the real ones; the seeded simulation
// (sim_test.go) plugs in virtual time and an in-process network and runs
// this same code, event by event, through dispatch.
type engine struct {
	n      *Node
	m      *consensus.Machine
	signer *signer
	net    network   // nil: no network (unit tests)
	sched  scheduler // the clock and timers
	sync   *syncer   // which peer to catch up from; its memory of peers
	fetch  txFetcher // asks peers for transactions; nil: no network
	// checker checks proposed blocks off this goroutine (engine_check.go);
	// nil: on it.
	checker blockChecker

	in           chan any // what run hands to dispatch
	height       uint64   // the height being decided
	vals         *chain.ValidatorSet
	blocks       map[chain.Hash]*pendingBlock // blocks proposed at this height
	future       futureBuffer                 // messages for the next height
	waitingSince time.Time                    // when the next height's start was delayed; zero if not
	reported     map[chain.Offence]bool       // offences of this height already kept
	heightStart  time.Time                    // when the current height started
	proposal     *chain.SignedProposal        // this node's latest proposal at this height
	resends      uint64
	retry        *consensus.Commit // a decision whose block could not be stored yet
	decided      *DecidedView      // the last height this engine decided, with late precommits
	decidedVals  *chain.ValidatorSet
	// clockAhead holds proposals refused only because their time was ahead
	// of this node's clock; each tick judges them again.
	clockAhead map[chain.Hash]*chain.SignedProposal
	// firstProposal is the first signed proposal seen per round of this
	// height (its signed fields), to catch a proposer signing two.
	firstProposal map[uint32]chain.EvidenceProposal
	// checked counts the blocks checked per proposer at this height, and
	// polTaken the re-proposals whose POL votes were taken.
	checked  map[chain.Address]int
	polTaken map[polKey]bool
	// waits holds proposed blocks whose transactions are being fetched
	// (compact_fetch.go); distrust the peers that served wrong ones, and
	// until when they are not asked again.
	waits    map[chain.Hash]*txWait
	checking map[chain.Hash]*blockCheck // proposed blocks being checked
	parked   []consensus.TimeoutFired   // propose timeouts waiting for a check
	distrust map[peer.ID]time.Time
	idents   map[peer.ID]identityCheck // peers' identities, checked (compact_ident.go)
	fetchSeq uint64

	view atomic.Pointer[ConsensusView] // for the API, written after each event
}

// network is what the engine needs from p2p to gossip.
type network interface {
	PublishConsensus(ctx context.Context, data []byte) error
	PublishEvidence(ctx context.Context, data []byte) error
	Peers() []p2p.PeerInfo
}

// inbound is a consensus message from a peer (or from this node). from is
// the peer that delivered it, if known: the first one asked for the
// transactions of a proposal.
type inbound struct {
	msg  *chain.ConsensusMessage
	self bool
	from peer.ID
}

// The other things dispatch takes besides messages, timeouts, the end of
// the commit wait (waitOver), synced blocks (syncBatch), fetched
// transactions (txAnswer) and the verdicts of block checks (checkDone):
// txReady says the mempool has new transactions, tick is the once-a-second
// housekeeping (retries, re-sends, the idle chain's next height).
type (
	txReady struct{}
	tick    struct{}
)

type pendingBlock struct {
	block *chain.Block
	res   *chain.Result
	err   error // why it is invalid; nil if valid
	// treeDone is closed when the tree nodes of res have been written
	// ahead (writeAhead); nil if no one is writing them.
	treeDone chan struct{}
}

// newEngine makes the engine of node n over the given network (nil for
// none), fetcher of blocks for sync (nil for none) and scheduler (nil for
// the real clock).
func newEngine(n *Node, net network, sched scheduler) (*engine, error) {
	m, err := consensus.New(consensus.Config{ChainID: n.chainID, Self: n.valAddr,
		Timeouts: n.cfg.Consensus.Timeouts()})
	if err != nil {
		return nil, err
	}
	e := &engine{n: n, m: m, signer: n.signer, net: net, in: make(chan any, 8192), sync: newSyncer(),
		distrust: map[peer.ID]time.Time{}, idents: map[peer.ID]identityCheck{}}
	switch f := net.(type) {
	case txFetcher: // the simulation's network
		e.fetch = f
	case txPeers:
		e.fetch = &liveTxFetcher{peers: f, in: e.in}
	}
	e.resetHeight()
	e.sched = sched
	if sched == nil {
		e.sched = realTime{clock: n.clock, in: e.in, done: n.quit}
	}
	return e, nil
}

// deliver hands a message to the loop without blocking the caller (a
// p2p reader). If the loop is that far behind, the message is dropped:
// consensus tolerates loss, and the round timeouts recover from it.
func (e *engine) deliver(in *inbound) {
	select {
	case e.in <- in:
	default:
		e.n.log.Warn("consensus inbox full; dropping a message")
	}
}

// run is the engine's goroutine: it feeds dispatch from the inbox, the
// mempool and a once-a-second tick. It returns when ctx is cancelled,
// once the transaction fetches it started have ended.
func (e *engine) run(ctx context.Context) {
	if f, ok := e.fetch.(*liveTxFetcher); ok {
		defer f.wait()
	}
	if c, ok := e.checker.(*goChecker); ok {
		defer c.wait()
	}
	e.judgeFromStart()
	e.awaitPeers(ctx, 3*time.Second)
	e.start(ctx)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case x := <-e.in:
			e.dispatch(ctx, x)
		case <-e.n.pool.Ready():
			e.dispatch(ctx, txReady{})
		case <-t.C:
			e.dispatch(ctx, tick{})
		}
	}
}

// judgeFromStart lets the gossip validator judge the first height's
// messages before the engine starts it: peers that are quicker to connect
// send their proposal and votes while this node still waits for the
// others (awaitPeers), and the inbox keeps them until then. Without it
// they were ignored, and the first height lost its round 0.
func (e *engine) judgeFromStart() {
	if vals, err := chain.LoadValidators(e.n.store); err == nil {
		e.n.current.Store(&heightSet{height: e.n.store.Latest().Height + 1, vals: vals})
	}
}

// start begins at the height after the last stored block and asks block
// sync to look for peers that are further on.
func (e *engine) start(ctx context.Context) {
	e.startHeight(ctx, e.n.store.Latest().Height+1)
	e.sync.poke()
}

// dispatch handles one input of the engine. Every input goes through
// here, in a running node and in the simulation alike.
func (e *engine) dispatch(ctx context.Context, x any) {
	switch v := x.(type) {
	case *inbound:
		e.onMessage(ctx, v)
	case consensus.TimeoutFired:
		if v.Height == e.height && !e.parkTimeout(v) {
			e.handle(ctx, v)
		}
	case waitOver:
		if v.height == e.height && !e.waitingSince.IsZero() && e.n.pool.Size() > 0 {
			e.startNext(ctx)
		}
	case txReady:
		// A transaction arrived: an idle chain starts its next height, and
		// a proposal waiting for it may be complete.
		if !e.waitingSince.IsZero() && e.sched.Now().Sub(e.waitingSince) >= e.n.cfg.Consensus.CommitWait.Duration {
			e.startNext(ctx)
		}
		for _, w := range e.sortedWaits() {
			if e.waits[w.block] == w && e.arrived(w) {
				e.resume(ctx, w)
			}
		}
	case tick:
		e.onTick(ctx)
	case *syncBatch:
		v.reply <- e.applySyncBatch(ctx, v)
	case *txAnswer:
		e.onTxAnswer(ctx, v)
	case *checkDone:
		e.onChecked(ctx, v)
	}
	if len(e.parked) > 0 {
		e.releaseTimeouts(ctx) // a check or fetch may have ended
	}
}

// onTick is the housekeeping of every second: retry storing a decided
// block, judge again proposals that were ahead of this node's clock,
// fetch again what proposals still lack, re-send this node's messages of
// a height that drags on, and start an idle chain's next height when it
// is time.
func (e *engine) onTick(ctx context.Context) {
	if e.retry != nil && e.retry.Height == e.n.store.Latest().Height+1 {
		e.commit(ctx, *e.retry)
	}
	pending := make([]*chain.SignedProposal, 0, len(e.clockAhead))
	for _, sp := range e.clockAhead {
		pending = append(pending, sp)
	}
	// In round order, so that every run of the simulation does the same.
	sort.Slice(pending, func(i, j int) bool {
		a, b := pending[i].Proposal, pending[j].Proposal
		return a.Round < b.Round || a.Round == b.Round && bytes.Compare(a.BlockHash[:], b.BlockHash[:]) < 0
	})
	e.clockAhead = map[chain.Hash]*chain.SignedProposal{}
	for _, sp := range pending {
		e.onProposal(ctx, sp, "")
	}
	e.retryWaits(ctx)
	e.resend(ctx)
	if !e.waitingSince.IsZero() && (e.n.pool.Size() > 0 || e.sched.Now().Sub(e.waitingSince) >= e.n.cfg.Block.EmptyEvery.Duration) {
		e.startNext(ctx)
	}
}

// startNext starts the height after the last stored block.
func (e *engine) startNext(ctx context.Context) {
	e.waitingSince = time.Time{}
	e.startHeight(ctx, e.n.store.Latest().Height+1)
}

// awaitPeers gives the bootstrap dials a moment before the first round, so
// that the first proposal is not sent into an empty network: it returns
// once this node is connected to every other validator, or after limit.
func (e *engine) awaitPeers(ctx context.Context, limit time.Duration) {
	vals, err := chain.LoadValidators(e.n.store)
	if err != nil || e.net == nil {
		return
	}
	want := len(vals.Validators) - 1
	deadline := e.sched.Now().Add(limit)
	for len(e.net.Peers()) < want && e.sched.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startHeight begins deciding height h with the validator set stored for
// it, restoring a lock and re-sending votes signed before a restart, then
// hands the machine the messages that arrived early for h.
func (e *engine) startHeight(ctx context.Context, h uint64) {
	vals, err := chain.LoadValidators(e.n.store)
	if err != nil {
		e.n.log.Error("load validator set", "err", err)
		return
	}
	e.height, e.vals = h, vals
	e.n.current.Store(&heightSet{height: h, vals: vals})
	e.resetHeight()
	e.heightStart, e.proposal = e.sched.Now(), nil
	lock := e.signer.guard.LockAt(h)
	if lock != nil {
		if b := e.loadLockedBlock(lock.BlockHash); b != nil {
			e.blocks[lock.BlockHash] = b
		}
	}
	e.offerOwnBlocks(h, lock)
	// The votes signed before a restart, taken before the new height can
	// sign any: a proposer prevotes its own proposal while handling
	// NewHeight, and vote has sent that prevote already.
	resigned := e.signer.resign(h)
	e.handle(ctx, consensus.NewHeight{Height: h, Validators: vals, Lock: lock})
	if lock != nil {
		// Others may need the proof of our lock to accept its block again.
		for _, v := range lock.POL {
			v := v
			e.broadcast(ctx, &chain.ConsensusMessage{Vote: &v})
		}
	}
	for _, v := range resigned {
		v := v
		e.broadcast(ctx, &chain.ConsensusMessage{Vote: &v})
		e.handle(ctx, consensus.VoteReceived{Vote: v})
	}
	for _, in := range e.future.take(h) {
		e.onMessage(ctx, in)
	}
}

// resetHeight forgets what the engine kept about the previous height's
// proposals and offences.
func (e *engine) resetHeight() {
	e.blocks = map[chain.Hash]*pendingBlock{}
	e.clockAhead = map[chain.Hash]*chain.SignedProposal{}
	e.firstProposal = map[uint32]chain.EvidenceProposal{}
	e.checked = map[chain.Address]int{}
	e.polTaken = map[polKey]bool{}
	e.reported = map[chain.Offence]bool{}
	e.waits = map[chain.Hash]*txWait{}
	e.checking = map[chain.Hash]*blockCheck{}
	e.parked = nil
}

// handle passes one event to the machine and carries out its actions.
func (e *engine) handle(ctx context.Context, ev consensus.Event) {
	actions, err := e.m.Handle(ev)
	if err != nil {
		e.n.log.Debug("consensus event not taken", "event", fmt.Sprintf("%T", ev), "err", err)
	}
	for _, a := range actions {
		e.do(ctx, a)
	}
	e.publishView()
}

func (e *engine) do(ctx context.Context, a consensus.Action) {
	switch a := a.(type) {
	case consensus.ProposeNew:
		e.proposeNew(ctx, a)
	case consensus.ProposeValid:
		e.proposeValid(ctx, a)
	case consensus.BroadcastVote:
		e.vote(ctx, a)
	case consensus.ScheduleTimeout:
		e.sched.After(a.Duration, consensus.TimeoutFired{Height: a.Height, Round: a.Round, Step: a.Step})
	case consensus.Commit:
		e.commit(ctx, a)
	case consensus.Evidence:
		e.reportEvidence(ctx, a)
	case consensus.StepChanged:
		e.n.log.Debug("step", "height", a.Height, "round", a.Round, "step", a.Step.String(), "reason", a.Reason.String())
		e.n.bus.Publish("consensus", map[string]any{"height": a.Height, "round": a.Round,
			"step": a.Step.String(), "reason": a.Reason.String(),
			"proposer": consensus.Proposer(e.vals, a.Height, a.Round)})
		if a.Round > 0 && a.Step == consensus.StepPropose {
			e.n.log.Info("round change", "height", a.Height, "round", a.Round, "reason", a.Reason.String())
		}
	}
}

// vote signs and sends a vote the machine asked for. A precommit for a
// block locks this validator on it, so the block is saved first: after a
// crash the node must not be locked on a block it lacks, and if the block
// cannot be saved the vote is not signed at all.
func (e *engine) vote(ctx context.Context, a consensus.BroadcastVote) {
	if a.Vote.Type == chain.Precommit && !a.Vote.BlockHash.IsZero() {
		// Ask the guard first: a precommit it would refuse must not replace
		// the block of the lock it keeps.
		v := a.Vote
		v.ChainID = e.n.chainID
		if err := e.signer.guard.Check(v); err != nil {
			e.n.log.Error("refused to sign a vote", "height", v.Height, "round", v.Round, "err", err)
			return
		}
		if err := e.saveLockedBlock(a.Vote.BlockHash); err != nil {
			e.n.log.Error("not locking on a block that cannot be saved", "height", a.Vote.Height, "round", a.Vote.Round, "err", err)
			return
		}
	}
	v, err := e.signer.signVote(a)
	if err != nil {
		e.n.log.Error("refused to sign a vote", "height", a.Vote.Height, "round", a.Vote.Round, "err", err)
		return
	}
	e.broadcast(ctx, &chain.ConsensusMessage{Vote: &v})
	e.handle(ctx, consensus.VoteReceived{Vote: v})
}

func (e *engine) broadcast(ctx context.Context, m *chain.ConsensusMessage) {
	if e.net == nil {
		return
	}
	if err := e.net.PublishConsensus(ctx, chain.MustEncode(m)); err != nil && ctx.Err() == nil {
		e.n.log.Debug("publish consensus message", "err", err)
	}
}

// resend repeats this node's proposal and votes of the current height
// when the height has been undecided for a while: a peer that was down,
// partitioned or slow when they first went out may need them to finish
// the round (gossip does not replay old messages to newcomers).
func (e *engine) resend(ctx context.Context) {
	if !e.waitingSince.IsZero() || e.heightStart.IsZero() || e.sched.Now().Sub(e.heightStart) < 2*time.Second {
		return
	}
	e.resends++
	if e.proposal != nil && e.proposal.Proposal.Round == e.m.Snapshot().Round {
		e.broadcast(ctx, &chain.ConsensusMessage{Proposal: e.proposal, Resend: e.resends})
	}
	for _, v := range e.signer.resign(e.height) {
		v := v
		e.broadcast(ctx, &chain.ConsensusMessage{Vote: &v, Resend: e.resends})
	}
}
