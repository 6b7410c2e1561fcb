package node

import (
	"context"
	"fmt"

	"github.com/citychain/citychain/apps/poa"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// commit stores the decided block and schedules the next height.
func (e *engine) commit(ctx context.Context, a consensus.Commit) {
	pb := e.blocks[a.BlockHash]
	if pb == nil || pb.block == nil || pb.err != nil {
		// Decided without the block in hand (its proposal was lost): the
		// others have stored it; block sync fetches it.
		e.n.log.Warn("decided a block this node does not hold; syncing it", "height", a.Height)
		e.sync.poke()
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
	_ = e.n.vault.Remove(LockedBlockFile)
	d := &DecidedView{Height: a.Height, Round: a.Round, BlockHash: a.BlockHash}
	for _, v := range a.Precommits {
		d.Precommits = append(d.Precommits, VoteSummary{Validator: v.Validator, BlockHash: v.BlockHash})
	}
	e.decided, e.decidedVals = d, e.vals
	e.waitForNextHeight()
}

// waitForNextHeight pauses before the next height: briefly when
// transactions are waiting, up to EmptyEvery when there are none, so an
// idle chain does not spin out empty blocks. The wake-up after
// CommitWait starts the height if transactions are pooled by then; the
// tick and txReady start it later otherwise.
func (e *engine) waitForNextHeight() {
	e.waitingSince = e.sched.Now()
	e.sched.After(e.n.cfg.Consensus.CommitWait.Duration, waitOver{})
}

// waitOver is the wake-up at the end of CommitWait.
type waitOver struct{}

// syncBatch is blocks fetched by block sync from one peer, handed to the
// engine to check and store on its own goroutine; the result goes back
// on reply (buffered, so the engine never waits for the syncer).
type syncBatch struct {
	from    uint64
	entries [][2][]byte // block, commit
	reply   chan syncResult
}

// syncResult says how many blocks of a batch were stored and, if one was
// refused, why.
type syncResult struct {
	applied int
	err     error
}

// applySyncBatch checks and stores synced blocks that follow the store,
// skipping those consensus has stored meanwhile, then starts the height
// after the last one.
func (e *engine) applySyncBatch(ctx context.Context, b *syncBatch) syncResult {
	var r syncResult
	for i, ent := range b.entries {
		h := b.from + uint64(i)
		latest := e.n.store.Latest().Height
		if h <= latest {
			continue
		}
		e.n.syncing.Store(true)
		err := e.n.applySynced(h, ent[0], ent[1])
		e.n.syncing.Store(false)
		if err != nil {
			r.err = fmt.Errorf("block %d: %w", h, err)
			break
		}
		r.applied++
	}
	if r.applied > 0 {
		e.n.log.Info("caught up by block sync", "to", e.n.store.Latest().Height)
		e.decided = nil // this node did not decide the synced blocks
		e.retry = nil
		e.startNext(ctx)
	}
	return r
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

// reportConflictingProposals notes two signed proposals of one proposer
// for one round naming different blocks.
func (e *engine) reportConflictingProposals(a, b *chain.SignedProposal) {
	key := fmt.Sprintf("proposal/%s/%d/%d", a.Proposal.Proposer, a.Proposal.Height, a.Proposal.Round)
	if e.reported[key] {
		return
	}
	e.reported[key] = true
	e.n.log.Warn("conflicting proposals seen", "validator", a.Proposal.Proposer.String(),
		"height", a.Proposal.Height, "round", a.Proposal.Round)
}
