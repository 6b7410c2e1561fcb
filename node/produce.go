package node

import (
	"context"
	"fmt"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// produce is the single-validator block producer of `citychain dev`: it
// makes a block as soon as transactions are pooled, keeps making blocks
// while any remain, and makes an empty block after EmptyEvery of quiet so
// the chain visibly keeps time. Under load it lets blocks fill (gather).
// It returns when ctx is cancelled.
func (n *Node) produce(ctx context.Context) {
	quiet := time.NewTimer(n.cfg.Block.EmptyEvery.Duration)
	defer quiet.Stop()
	for {
		force := false
		select {
		case <-ctx.Done():
			return
		case <-n.pool.Ready():
		case <-quiet.C:
			force = true
		}
		for ctx.Err() == nil {
			count, err := n.makeBlock(force)
			if err != nil {
				n.log.Error("make block", "err", err)
				select { // back off instead of spinning on a persistent fault
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
				break
			}
			force = false
			if count == 0 {
				break
			}
			n.gather(ctx, count)
		}
		if !quiet.Stop() {
			select {
			case <-quiet.C:
			default:
			}
		}
		quiet.Reset(n.cfg.Block.EmptyEvery.Duration)
	}
}

// gatherWait bounds how long the producer lets a block fill under load.
const gatherWait = 100 * time.Millisecond

// gather waits, after a block of last transactions, for the pool to hold
// a full block, at most gatherWait, when last was at least a quarter of
// block.max_txs: the node is under load. A block stores each state key
// it changes once, with the Merkle tree nodes above it, however many of
// its transactions changed the key, so fuller blocks cost less per
// transaction. At light load the next block follows at once.
func (n *Node) gather(ctx context.Context, last int) {
	full := min(n.cfg.Block.MaxTxs, chain.MaxBlockTxs)
	if last < full/4 {
		return
	}
	timer := time.NewTimer(gatherWait)
	defer timer.Stop()
	for n.pool.Size() < full {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
			return
		case <-n.pool.Ready():
		}
	}
}

// makeBlock builds, executes, signs and stores the next block from the
// pool. It returns the number of transactions in it; with nothing pooled
// and force false it makes no block and returns 0.
func (n *Node) makeBlock(force bool) (int, error) {
	if n.pool.Size() == 0 && !force {
		return 0, nil
	}
	parent := n.store.Latest()
	var last *chain.Commit
	if parent.Height > 0 {
		var err error
		if last, err = n.store.Commit(parent.Height); err != nil {
			return 0, err
		}
	}
	block, res, err := n.buildBlock(parent, last, n.valAddr, min(n.cfg.Block.MaxTxs, chain.MaxBlockTxs))
	if err != nil {
		return 0, err
	}
	vs, err := chain.LoadValidators(n.store)
	if err != nil {
		return 0, err
	}
	commit, err := n.selfCommit(block)
	if err != nil {
		return 0, err
	}
	if err := vs.VerifyCommit(n.chainID, block.Header.Height, block.Hash(), commit); err != nil {
		return 0, fmt.Errorf("this node's validator alone cannot commit (is it the only validator in genesis?): %w", err)
	}
	if err := n.commitBlock(block, commit, res); err != nil {
		return 0, err
	}
	return len(block.Txs), nil
}

// selfCommit signs a precommit for block and wraps it as a commit: with
// one validator, its own vote is the whole quorum. It signs through the
// double-sign guard like a networked validator, so a home used by `dev`
// and later in a network never holds conflicting votes. If this node
// crashed after signing a precommit at this height but before storing
// the block, the new block is committed in the next round.
func (n *Node) selfCommit(b *chain.Block) (*chain.Commit, error) {
	var round uint32
	if last := n.signer.guard.Precommit; last.Type != 0 && last.Height == b.Header.Height {
		round = last.Round + 1
	}
	v, err := n.signer.signVote(consensus.BroadcastVote{Vote: chain.Vote{ChainID: n.chainID, Type: chain.Precommit,
		Height: b.Header.Height, Round: round, BlockHash: b.Hash(), Validator: n.valAddr}})
	if err != nil {
		return nil, fmt.Errorf("sign the commit of block %d: %w", b.Header.Height, err)
	}
	return &chain.Commit{Height: v.Height, Round: v.Round, BlockHash: v.BlockHash,
		Signatures: []chain.CommitSig{{Validator: n.valAddr, Signature: v.Signature}}}, nil
}

// afterCommit does what follows a stored block: the pool drops what the
// block included, waiting clients get their receipts, the event stream
// and metrics learn of the block.
func (n *Node) afterCommit(b *chain.Block, res *chain.Result) {
	hashes := make([]chain.Hash, len(res.Receipts))
	senders := make([]chain.Address, 0, len(res.Txs))
	seen := make(map[chain.Address]bool, len(res.Txs))
	for i, r := range res.Receipts {
		hashes[i] = r.TxHash
		if s := res.Txs[i].Sender(); !seen[s] {
			seen[s] = true
			senders = append(senders, s)
		}
	}
	next := chain.BlockInfo{ChainID: n.chainID, Height: b.Header.Height + 1, Time: n.clock().UTC()}
	n.pool.Update(hashes, senders, func(a chain.Address) (uint64, error) { return chain.Nonce(n.store, a) },
		func(tx *chain.Tx, nonce uint64) error { return n.exec.CheckTx(n.store, next, tx, nonce) })
	n.waiters.notify(res.Receipts)

	h := b.Header.Height
	n.metrics.height.Set(float64(h))
	n.metrics.blockTxs.Observe(float64(len(b.Txs)))
	statuses := map[string]int{}
	for _, r := range res.Receipts {
		statuses[r.Status]++
	}
	for status, count := range statuses {
		n.metrics.txs.WithLabelValues(status).Add(float64(count))
	}
	n.publishTxs(h, res)
	n.bus.Publish(EventConsensus, map[string]any{"height": h, "round": 0, "step": "commit",
		"block_hash": b.Hash(), "proposer": b.Header.Proposer})
	n.bus.Publish(EventBlock, blockSummary(b))
	if len(b.Txs) > 0 {
		n.log.Info("committed block", "height", h, "txs", len(b.Txs), "hash", b.Hash().String()[:12])
	} else {
		n.log.Debug("committed empty block", "height", h)
	}
}
