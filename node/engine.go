package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/citychain/citychain/apps/poa"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/p2p"
)

// engine drives the Tendermint state machine of package consensus: it is
// the machine's only caller, runs on one goroutine, and turns the
// machine's actions into real effects: blocks built and executed, votes
// signed (through the double-sign guard) and gossiped, timers, commits
// to the store, evidence submitted as transactions.
type engine struct {
	n      *Node
	m      *consensus.Machine
	signer *signer
	net    network

	in           chan any // *inbound, consensus.TimeoutFired, nextHeight
	height       uint64   // the height being decided
	vals         *chain.ValidatorSet
	blocks       map[chain.Hash]*pendingBlock // blocks proposed at this height
	future       []*inbound                   // messages for later heights, bounded
	waitingSince time.Time                    // when the next height's start was delayed; zero if not
	reported     map[string]bool              // evidence already submitted
	heightStart  time.Time                    // when the current height started
	proposal     *SignedProposal              // this node's latest proposal at this height
	resends      uint64
	retry        *consensus.Commit // a decision whose block could not be stored yet
	decided      *DecidedView      // the last height this engine decided, with late precommits
	decidedVals  *chain.ValidatorSet

	view atomic.Pointer[ConsensusView] // for the API, written after each event
}

// network is what the engine needs from p2p.
type network interface {
	PublishConsensus(ctx context.Context, data []byte) error
	BestHeight() uint64
	Sync(ctx context.Context, apply p2p.ApplyFunc) error
	Peers() []p2p.PeerInfo
}

// inbound is a consensus message from a peer (or from this node).
type inbound struct {
	msg  *Message
	self bool
}

// nextHeight asks the loop to start the next height.
type nextHeight struct{}

type pendingBlock struct {
	block *chain.Block
	res   *chain.Result
	err   error // why it is invalid; nil if valid
}

const maxFuture = 2000

// ConsensusView is the engine's state as the API and explorer show it.
type ConsensusView struct {
	Height     uint64            `json:"height"`
	Round      uint32            `json:"round"`
	Step       string            `json:"step"`
	Reason     string            `json:"reason"`
	Proposer   chain.Address     `json:"proposer"`
	Prevotes   []VoteSummary     `json:"prevotes"`
	Precommits []VoteSummary     `json:"precommits"`
	Quorum     uint64            `json:"quorum"`
	Total      uint64            `json:"total_power"`
	Validators []chain.Validator `json:"validators"`
	// Decided is the last height this node decided, with every precommit
	// for its block seen so far: the commit needs only 2f+1 of them, the
	// others arrive after it and are counted here, so a stopped validator
	// shows as a missing precommit.
	Decided *DecidedView `json:"decided,omitempty"`
}

// DecidedView is the outcome of the last height this node decided.
type DecidedView struct {
	Height     uint64        `json:"height"`
	Round      uint32        `json:"round"`
	BlockHash  chain.Hash    `json:"block_hash"`
	Precommits []VoteSummary `json:"precommits"`
}

// VoteSummary is one validator's vote in the current round.
type VoteSummary struct {
	Validator chain.Address `json:"validator"`
	BlockHash chain.Hash    `json:"block_hash"` // zero: nil vote
}

func newEngine(n *Node, net network) (*engine, error) {
	s := n.signer
	c := n.cfg.Consensus
	m, err := consensus.New(consensus.Config{ChainID: n.chainID, Self: n.valAddr, Timeouts: consensus.Timeouts{
		Propose: c.TimeoutPropose.Duration, ProposeDelta: c.TimeoutProposeDelta.Duration,
		Prevote: c.TimeoutPrevote.Duration, PrevoteDelta: c.TimeoutPrevoteDelta.Duration,
		Precommit: c.TimeoutPrecommit.Duration, PrecommitDelta: c.TimeoutPrecommitDelta.Duration,
	}})
	if err != nil {
		return nil, err
	}
	return &engine{n: n, m: m, signer: s, net: net, in: make(chan any, 8192),
		blocks: map[chain.Hash]*pendingBlock{}, reported: map[string]bool{}}, nil
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

// run is the engine's goroutine. It returns when ctx is cancelled.
func (e *engine) run(ctx context.Context) {
	e.awaitPeers(ctx, 3*time.Second)
	e.maybeSync(ctx)
	e.startHeight(ctx, e.n.store.Latest().Height+1)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case x := <-e.in:
			switch v := x.(type) {
			case *inbound:
				e.onMessage(ctx, v)
			case consensus.TimeoutFired:
				if v.Height == e.height {
					e.handle(ctx, v)
				}
			case nextHeight:
				if e.waitingSince.IsZero() {
					continue
				}
				e.waitingSince = time.Time{}
				e.startHeight(ctx, e.n.store.Latest().Height+1)
			}
		case <-e.n.pool.Ready():
			// A transaction arrived: an idle chain starts its next height.
			if !e.waitingSince.IsZero() && time.Since(e.waitingSince) >= e.n.cfg.Consensus.CommitWait.Duration {
				e.waitingSince = time.Time{}
				e.startHeight(ctx, e.n.store.Latest().Height+1)
			}
		case <-tick.C:
			if e.retry != nil && e.retry.Height == e.n.store.Latest().Height+1 {
				e.commit(ctx, *e.retry)
			}
			e.maybeSync(ctx)
			e.resend(ctx)
			if !e.waitingSince.IsZero() && (e.n.pool.Size() > 0 || time.Since(e.waitingSince) >= e.n.cfg.Block.EmptyEvery.Duration) {
				e.waitingSince = time.Time{}
				e.startHeight(ctx, e.n.store.Latest().Height+1)
			}
		}
	}
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
	deadline := time.Now().Add(limit)
	for len(e.net.Peers()) < want && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startHeight begins deciding height h with the validator set stored for
// it, restoring a lock and re-sending votes signed before a restart.
func (e *engine) startHeight(ctx context.Context, h uint64) {
	vals, err := chain.LoadValidators(e.n.store)
	if err != nil {
		e.n.log.Error("load validator set", "err", err)
		return
	}
	e.height, e.vals = h, vals
	e.n.curVals.Store(vals)
	e.n.curHeight.Store(h)
	e.blocks = map[chain.Hash]*pendingBlock{}
	e.heightStart, e.proposal = time.Now(), nil
	lock := e.signer.guard.LockAt(h)
	if lock != nil {
		if b := e.loadLockedBlock(lock.BlockHash); b != nil {
			e.blocks[lock.BlockHash] = b
		}
	}
	e.handle(ctx, consensus.NewHeight{Height: h, Validators: vals, Lock: lock})
	if lock != nil {
		// Others may need the proof of our lock to accept its block again.
		for _, v := range lock.POL {
			v := v
			e.broadcast(ctx, &Message{Vote: &v})
		}
	}
	for _, v := range e.signer.resign(h) {
		v := v
		e.broadcast(ctx, &Message{Vote: &v})
		e.handle(ctx, consensus.VoteReceived{Vote: v})
	}
	// Messages that arrived early for this height.
	var keep []*inbound
	for _, in := range e.future {
		switch msgHeight(in.msg) {
		case h:
			e.onMessage(ctx, in)
		default:
			if msgHeight(in.msg) > h {
				keep = append(keep, in)
			}
		}
	}
	e.future = keep
}

func msgHeight(m *Message) uint64 {
	if m.Vote != nil {
		return m.Vote.Height
	}
	return m.Proposal.Proposal.Height
}

// onMessage checks a message against the current height and passes it
// to the machine.
func (e *engine) onMessage(ctx context.Context, in *inbound) {
	h := msgHeight(in.msg)
	if v := in.msg.Vote; v != nil && e.decided != nil && h == e.decided.Height {
		e.noteLatePrecommit(v, in.self)
		return
	}
	switch {
	case h < e.height:
		return // decided already
	case h > e.height || !e.waitingSince.IsZero():
		if len(e.future) < maxFuture {
			e.future = append(e.future, in)
		}
		if !e.waitingSince.IsZero() && h == e.n.store.Latest().Height+1 {
			// Someone has started the next height: join it now rather than
			// wait for transactions of our own.
			e.waitingSince = time.Time{}
			e.startHeight(ctx, h)
			return
		}
		if h > e.height+1 {
			e.maybeSync(ctx) // others are ahead: catch up by block sync
		}
		return
	}
	if v := in.msg.Vote; v != nil {
		if !in.self {
			if err := verifyVote(e.vals, v); err != nil {
				e.n.log.Debug("dropping vote", "from", v.Validator.String(), "err", err)
				return
			}
		}
		e.handle(ctx, consensus.VoteReceived{Vote: *v})
		return
	}
	e.onProposal(ctx, in.msg.Proposal)
}

// noteLatePrecommit counts a precommit for the block this node last
// decided that arrived after the decision. It changes nothing in
// consensus; it shows who else signed.
func (e *engine) noteLatePrecommit(v *chain.Vote, self bool) {
	d := e.decided
	if v.Type != chain.Precommit || v.Round != d.Round || v.BlockHash != d.BlockHash {
		return
	}
	for _, p := range d.Precommits {
		if p.Validator == v.Validator {
			return
		}
	}
	if !self {
		if err := verifyVote(e.decidedVals, v); err != nil {
			return
		}
	}
	d.Precommits = append(d.Precommits, VoteSummary{Validator: v.Validator, BlockHash: v.BlockHash})
	e.publishView()
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
		if a.Vote.Type == chain.Precommit && !a.Vote.BlockHash.IsZero() {
			// The block first, the lock on it second: after a crash in
			// between, the node must not be locked on a block it lacks.
			e.saveLockedBlock(a.Vote.BlockHash)
		}
		v, err := e.signer.signVote(a)
		if err != nil {
			e.n.log.Error("refused to sign a vote", "height", a.Vote.Height, "round", a.Vote.Round, "err", err)
			return
		}
		e.broadcast(ctx, &Message{Vote: &v})
		e.handle(ctx, consensus.VoteReceived{Vote: v})
	case consensus.ScheduleTimeout:
		ev := consensus.TimeoutFired{Height: a.Height, Round: a.Round, Step: a.Step}
		time.AfterFunc(a.Duration, func() { // exits after one send or when ctx ends
			select {
			case e.in <- ev:
			case <-ctx.Done():
			}
		})
	case consensus.Commit:
		e.commit(ctx, a)
	case consensus.Evidence:
		e.reportEvidence(a)
	case consensus.StepChanged:
		e.n.bus.Publish("consensus", map[string]any{"height": a.Height, "round": a.Round,
			"step": a.Step.String(), "reason": a.Reason.String(),
			"proposer": consensus.Proposer(e.vals, a.Height, a.Round)})
		if a.Round > 0 && a.Step == consensus.StepPropose {
			e.n.log.Info("round change", "height", a.Height, "round", a.Round, "reason", a.Reason.String())
		}
	}
}

func (e *engine) broadcast(ctx context.Context, m *Message) {
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
	if !e.waitingSince.IsZero() || e.heightStart.IsZero() || time.Since(e.heightStart) < 2*time.Second {
		return
	}
	e.resends++
	if e.proposal != nil && e.proposal.Proposal.Round == e.m.Snapshot().Round {
		e.broadcast(ctx, &Message{Proposal: e.proposal, Resend: e.resends})
	}
	for _, v := range e.signer.resign(e.height) {
		v := v
		e.broadcast(ctx, &Message{Vote: &v, Resend: e.resends})
	}
}

// commit stores the decided block and schedules the next height.
func (e *engine) commit(ctx context.Context, a consensus.Commit) {
	pb := e.blocks[a.BlockHash]
	if pb == nil || pb.block == nil || pb.err != nil {
		// Decided without the block in hand (its proposal was lost): the
		// others have stored it; fetch it by block sync.
		e.n.log.Warn("decided a block this node does not hold; syncing it", "height", a.Height)
		e.maybeSync(ctx)
		return
	}
	if err := e.n.commitBlock(pb.block, a.Certificate(), pb.res); err != nil {
		// A decided block must be stored; keep trying (each tick) rather
		// than sit at a height the others have left.
		e.n.log.Error("store decided block; will retry", "height", a.Height, "err", err)
		e.retry = &a
		return
	}
	e.retry = nil
	_ = os.Remove(filepath.Join(e.n.home, LockedBlockFile))
	d := &DecidedView{Height: a.Height, Round: a.Round, BlockHash: a.BlockHash}
	for _, v := range a.Precommits {
		d.Precommits = append(d.Precommits, VoteSummary{Validator: v.Validator, BlockHash: v.BlockHash})
	}
	e.decided, e.decidedVals = d, e.vals
	e.waitForNextHeight(ctx)
}

// waitForNextHeight pauses before the next height: briefly when
// transactions are waiting, up to EmptyEvery when there are none, so an
// idle chain does not spin out empty blocks.
func (e *engine) waitForNextHeight(ctx context.Context) {
	e.waitingSince = time.Now()
	wait := e.n.cfg.Consensus.CommitWait.Duration
	time.AfterFunc(wait, func() { // exits after one send or when ctx ends
		if e.n.pool.Size() == 0 {
			return // the ticker starts the height when a tx arrives or time is up
		}
		select {
		case e.in <- nextHeight{}:
		case <-ctx.Done():
		}
	})
}

// maybeSync catches up by block sync when a peer is ahead.
func (e *engine) maybeSync(ctx context.Context) {
	if e.net == nil || e.net.BestHeight() <= e.n.store.Latest().Height {
		return
	}
	before := e.n.store.Latest().Height
	e.n.syncing.Store(true)
	err := e.net.Sync(ctx, e.n.applySynced)
	e.n.syncing.Store(false)
	if err != nil && ctx.Err() == nil {
		e.n.log.Warn("block sync", "err", err)
	}
	if after := e.n.store.Latest().Height; after > before {
		e.n.log.Info("caught up by block sync", "from", before, "to", after)
		e.decided = nil // this node did not decide the synced blocks
		e.waitingSince = time.Time{}
		e.startHeight(ctx, after+1)
	}
}

// reportEvidence submits conflicting votes as a poa evidence transaction
// signed by this node's validator key.
func (e *engine) reportEvidence(a consensus.Evidence) {
	key := fmt.Sprintf("%s/%d/%d/%d", a.A.Validator, a.A.Height, a.A.Round, a.A.Type)
	if e.reported[key] {
		return
	}
	e.reported[key] = true
	e.n.log.Warn("equivocation seen", "validator", a.A.Validator.String(), "height", a.A.Height, "round", a.A.Round)
	payload, err := chain.EncodePayload(poa.Evidence{A: poa.VoteToJSON(&a.A), B: poa.VoteToJSON(&a.B)})
	if err != nil {
		return
	}
	nonce, err := chain.Nonce(e.n.store, e.n.valAddr)
	if err != nil {
		return
	}
	if p, ok := e.n.pool.NextNonce(e.n.valAddr); ok {
		nonce = p
	}
	tx := &chain.Tx{ChainID: e.n.chainID, App: poa.Name, Action: poa.ActionEvidence, Payload: payload, Nonce: nonce}
	tx.Sign(e.n.key)
	if _, err := e.n.Submit(tx); err != nil {
		e.n.log.Warn("submit evidence", "err", err)
	}
}

// publishView records the machine's state for the API.
func (e *engine) publishView() {
	if e.vals == nil {
		return
	}
	s := e.m.Snapshot()
	v := &ConsensusView{Height: s.Height, Round: s.Round, Step: s.Step.String(),
		Proposer: consensus.Proposer(e.vals, s.Height, s.Round), Quorum: e.vals.Quorum(),
		Total: e.vals.TotalPower(), Validators: e.vals.Validators,
		Prevotes: []VoteSummary{}, Precommits: []VoteSummary{}}
	if d := e.decided; d != nil {
		// A copy: the engine goes on appending to its own.
		v.Decided = &DecidedView{Height: d.Height, Round: d.Round, BlockHash: d.BlockHash,
			Precommits: append([]VoteSummary(nil), d.Precommits...)}
	}
	for _, x := range e.m.Votes(s.Round, chain.Prevote) {
		v.Prevotes = append(v.Prevotes, VoteSummary{Validator: x.Validator, BlockHash: x.BlockHash})
	}
	for _, x := range e.m.Votes(s.Round, chain.Precommit) {
		v.Precommits = append(v.Precommits, VoteSummary{Validator: x.Validator, BlockHash: x.BlockHash})
	}
	e.view.Store(v)
}
