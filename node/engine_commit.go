package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// commit stores the decided block and schedules the next height.
func (e *engine) commit(ctx context.Context, a consensus.Commit) {
	pb := e.blocks[a.BlockHash]
	if pb == nil || pb.block == nil || pb.err != nil {
		// Decided without the block in hand (its proposal was lost): block
		// sync fetches it from the others, or a re-sent proposal brings it
		// and the next tick stores it.
		e.n.log.Warn("decided a block this node does not hold; syncing it", "height", a.Height)
		e.retry = &a
		e.sync.poke()
		return
	}
	awaitTree(pb)
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
	e.sched.After(e.n.cfg.Consensus.CommitWait.Duration, waitOver{height: e.height})
}

// waitOver is the wake-up at the end of the commit wait of height.
type waitOver struct{ height uint64 }

// syncBatch is blocks fetched by block sync, handed to the engine to
// check and store on its own goroutine; the result goes back on reply
// (buffered, so the engine never waits for the syncer). The sync pipeline
// hands over blocks it has verified ahead; entries are blocks as served,
// which the engine decodes and verifies itself (tests, the simulation).
type syncBatch struct {
	from    uint64
	entries [][2][]byte // block, commit
	blocks  []*syncBlock
	reply   chan syncResult
}

// syncResult says how many blocks of a batch were stored and where the
// batch stopped: at is the index of the block that was refused (err says
// why) or that this node failed to store (err is nil); it is the batch's
// length when every block was stored or skipped.
type syncResult struct {
	applied int
	at      int
	err     error
}

// applySyncBatch checks and stores synced blocks that follow the store,
// skipping those consensus has stored meanwhile, then starts the height
// after the last one.
func (e *engine) applySyncBatch(ctx context.Context, b *syncBatch) syncResult {
	blocks := b.blocks
	if blocks == nil {
		for i, ent := range b.entries {
			blocks = append(blocks, &syncBlock{height: b.from + uint64(i), raw: ent})
		}
	}
	r := syncResult{at: len(blocks)}
	stats := &e.sync.pipe.stats
	for i, sb := range blocks {
		if sb.height <= e.n.store.Latest().Height {
			continue
		}
		if sb.block == nil && sb.decodeErr == nil {
			sb.decode()
		}
		e.n.syncing.Store(true)
		err := e.n.applyPrepared(sb)
		e.n.syncing.Store(false)
		if errors.Is(err, errLocal) {
			// This node's own fault, not the peer's: try again later.
			e.n.log.Error("store a synced block", "height", sb.height, "err", err)
			r.at = i
			break
		}
		if err != nil {
			r.at, r.err = i, fmt.Errorf("block %d: %w", sb.height, err)
			break
		}
		r.applied++
		stats.count(sb)
	}
	if r.applied > 0 {
		// One line per catch-up, not per batch: the pipeline hands over
		// small batches as blocks become ready.
		level := slog.LevelDebug
		if e.sync.pipe.heldBlocks() <= len(blocks) {
			level = slog.LevelInfo
		}
		e.n.log.Log(ctx, level, "caught up by block sync", "to", e.n.store.Latest().Height,
			"synced_blocks", stats.blocks.Load(), "certificates_verified_ahead", stats.certsAhead.Load(),
			"synced_txs", stats.txs.Load(), "signatures_verified_ahead", stats.sigsAhead.Load())
		e.decided = nil // this node did not decide the synced blocks
		e.retry = nil
		e.startNext(ctx)
	}
	return r
}

// evidencePoolSize bounds the evidence a node holds for blocks to come.
const evidencePoolSize = 1000

// reportEvidence keeps two conflicting votes the machine saw as evidence
// for a block to carry: this node proposes it in its next block, and
// every validator checks it against the validator set of the offence's
// height before voting for that block.
func (e *engine) reportEvidence(ctx context.Context, a consensus.Evidence) {
	e.keepEvidence(ctx, chain.NewDuplicateVote(a.A, a.B))
}

// reportConflictingProposals keeps two signed proposals of one proposer
// for one round naming different blocks as evidence.
func (e *engine) reportConflictingProposals(ctx context.Context, a, b chain.EvidenceProposal) {
	e.keepEvidence(ctx, chain.NewConflictingProposal(a, b))
}

// keepEvidence puts evidence this node made into its pool and, when it is
// new there, gossips it: a node may be the only one to have seen both
// statements (a second proposal that reached it alone, or late), and the
// evidence must reach whoever proposes next. Peers check it like evidence
// in a block (validateGossipEvidence).
func (e *engine) keepEvidence(ctx context.Context, ev chain.Evidence) {
	o := ev.Offence()
	if e.reported[o] {
		return
	}
	err := e.n.evpool.add(ev, e.n.validatorsFor, e.n.chainID)
	if err == nil || errors.Is(err, errEvidenceKnown) || errors.Is(err, errEvidenceEnough) {
		e.reported[o] = true // kept, known or enough: no need to try again at this height
	}
	if err == nil && e.net != nil {
		if perr := e.net.PublishEvidence(ctx, ev.Encode()); perr != nil && ctx.Err() == nil {
			e.n.log.Debug("publish evidence", "offence", o.String(), "err", perr)
		}
	}
	switch {
	case err == nil:
		e.n.log.Warn("misbehaviour seen; evidence kept for the next block", "offence", o.String())
	case errors.Is(err, chain.ErrInvalidEvidence):
		e.n.log.Error("evidence the engine made does not verify", "offence", o.String(), "err", err)
	default:
		e.n.log.Debug("evidence not kept", "offence", o.String(), "err", err)
	}
}
