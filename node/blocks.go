package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/store"
)

// verifiedSet remembers transaction hashes whose signatures this node has
// checked outside the mempool (in blocks from other validators), so that
// the executor does not check them again. Entries are dropped once their
// block is stored.
type verifiedSet struct {
	mu sync.Mutex
	m  map[chain.Hash]struct{}
}

func (s *verifiedSet) add(h chain.Hash) {
	s.mu.Lock()
	if s.m == nil {
		s.m = map[chain.Hash]struct{}{}
	}
	s.m[h] = struct{}{}
	s.mu.Unlock()
}

func (s *verifiedSet) has(h chain.Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[h]
	return ok
}

func (s *verifiedSet) drop(hs []chain.Hash) {
	s.mu.Lock()
	for _, h := range hs {
		delete(s.m, h)
	}
	if len(s.m) > 100_000 { // bound it even if blocks never commit
		s.m = nil
	}
	s.mu.Unlock()
}

// verified is the executor's check: the mempool or this set vouches.
func (n *Node) verified(h chain.Hash) bool { return n.pool.Has(h) || n.sigs.has(h) }

// preverify checks the signatures of a block's transactions that this
// node has not seen, spread over every core. This is where catching up
// and following other proposers spend their time, so it runs in parallel
// here, outside the deterministic executor.
func (n *Node) preverify(txs [][]byte) {
	work := make(chan []byte)
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() { // exits when work is closed
			defer wg.Done()
			for raw := range work {
				h := chain.Sum(raw)
				tx, err := chain.DecodeTx(raw)
				if err != nil {
					continue // the executor reports it
				}
				n.metrics.sigsBlock.Inc()
				if tx.VerifySignatureWith(n.keys) == nil {
					n.sigs.add(h)
				}
			}
		}()
	}
	for _, raw := range txs {
		if !n.verified(chain.Sum(raw)) {
			work <- raw
		}
	}
	close(work)
	wg.Wait()
}

// blockCutMsg is logged when a proposer's block does not fit one store
// transaction and it builds a smaller one.
var blockCutMsg = fmt.Sprintf("block too large for one store transaction (blocks fit a memtable of %d MiB, or store.memtable_mb if smaller); building a smaller one",
	store.DefaultMemTableSize>>20)

// buildBlock makes the next block on top of parent from the mempool and
// executes it. lastCommit is the commit of parent (nil at height 1).
// Transactions the executor refuses are dropped from the pool and the
// block is built again without them.
func (n *Node) buildBlock(parent chain.Header, lastCommit *chain.Commit, proposer chain.Address, maxTxs int) (*chain.Block, *chain.Result, error) {
	for attempt := 0; ; attempt++ {
		txs := n.pool.Reap(maxTxs, chain.MaxBlockSize-(1<<20))
		ms := n.clock().UnixMilli()
		if ms <= parent.Time {
			ms = parent.Time + 1 // block times strictly increase
		}
		evs := n.evpool.pending(parent.Height+1, chain.MaxBlockEvidence)
		info := chain.BlockInfo{ChainID: n.chainID, Height: parent.Height + 1, Time: time.UnixMilli(ms).UTC(), Evidence: evs}
		start := time.Now()
		snap := n.store.Snapshot()
		if snap.Header().Height != parent.Height {
			snap.Discard()
			return nil, nil, fmt.Errorf("build block %d: the store is at height %d", info.Height, snap.Header().Height)
		}
		vs, err := chain.LoadValidators(snap)
		if err != nil {
			snap.Discard()
			return nil, nil, err
		}
		res, err := n.exec.Execute(snap, parent.StateRoot, info, txs)
		snap.Discard()
		if err != nil {
			var te *chain.TxError
			if errors.As(err, &te) && attempt < 100 {
				// The pool admitted something the block refuses: a bug, but not
				// one to halt on. Drop it, and the sender's later transactions
				// with it, which can no longer follow in nonce order.
				n.log.Error("dropping a pooled transaction that a block refuses", "tx", te.Hash.String(), "err", te.Err)
				var senders []chain.Address
				if tx, derr := chain.DecodeTx(txs[te.Index]); derr == nil {
					senders = []chain.Address{tx.Sender()}
				}
				n.pool.Update([]chain.Hash{te.Hash}, senders, func(a chain.Address) (uint64, error) {
					return chain.Nonce(n.store, a)
				}, nil)
				continue
			}
			return nil, nil, err
		}
		n.metrics.blockExec.Observe(time.Since(start).Seconds())
		b := &chain.Block{
			Header: chain.Header{
				ChainID: n.chainID, Height: info.Height, Time: ms, PrevHash: parent.Hash(),
				TxRoot: chain.ComputeTxRoot(txs), StateRoot: res.StateRoot, ReceiptsRoot: res.ReceiptsRoot,
				Proposer: proposer, ValidatorsHash: vs.Hash(), LastCommitHash: lastCommit.Hash(),
				EvidenceHash: chain.ComputeEvidenceHash(evs),
			},
			Txs:        txs,
			LastCommit: lastCommit,
			Evidence:   evs,
		}
		// The block is stored in one Badger transaction, which a block of
		// large transactions can outgrow before it reaches maxTxs; a
		// decided block that cannot be stored would stop every node with
		// this memtable. So a block that does not fit is built again with
		// three quarters of its transactions.
		if err := n.store.CheckFits(b, fullCommit(b, vs), res); err != nil {
			if !errors.Is(err, store.ErrBlockTooLarge) || len(txs) < 2 {
				return nil, nil, fmt.Errorf("build block %d: %w", info.Height, err)
			}
			level := slog.LevelDebug
			if !n.cutWarned.Swap(true) {
				level = slog.LevelWarn // once: later cuts are the same news
			}
			n.log.Log(context.Background(), level, blockCutMsg,
				"height", info.Height, "txs", len(txs), "memtable_mb", n.cfg.Store.MemtableMB)
			maxTxs = len(txs) * 3 / 4
			continue
		}
		return b, res, nil
	}
}

// fullCommit is the largest commit b can get from vs, every validator's
// signature in it, for measuring what storing b costs before the real
// commit exists.
func fullCommit(b *chain.Block, vs *chain.ValidatorSet) *chain.Commit {
	c := &chain.Commit{Height: b.Header.Height, Round: math.MaxUint32, BlockHash: b.Hash()}
	for _, v := range vs.Validators {
		c.Signatures = append(c.Signatures, chain.CommitSig{Validator: v.Address, Signature: make([]byte, crypto.SignatureSize)})
	}
	return c
}

// MaxClockDrift is how far ahead of this node's clock a proposed block's
// time may be before the node refuses to vote for it. No honest quorum
// commits a block dated further ahead of its clocks than this.
const MaxClockDrift = 10 * time.Second

// errClockAhead marks the one refusal of a block that depends on this
// node rather than on the block: its clock. It is not remembered, since
// the block may be fine a moment later.
var errClockAhead = errors.New("block time is ahead of this node's clock")

// checkBlock validates a block made by another validator for the height
// after parent, in the named stages: the block alone, its links to the
// parent, its last commit against the parent's validator set, and its
// execution against the parent's state. It returns the execution result.
//
// checkClock applies the clock check to proposals only: a block that
// already carries a commit certificate (block sync) is final whatever this
// node's clock says, and refusing it would keep a node with a slow clock
// behind for ever.
func (n *Node) checkBlock(b *chain.Block, parent chain.Header, parentVals, vals *chain.ValidatorSet, checkClock bool) (*chain.Result, error) {
	if err := b.ValidateBasic(n.chainID); err != nil {
		return nil, err
	}
	if err := b.Header.ValidateAgainstParent(&parent); err != nil {
		return nil, err
	}
	if checkClock && b.Header.Time > n.clock().Add(MaxClockDrift).UnixMilli() {
		return nil, fmt.Errorf("%w: %w (%s)", chain.ErrInvalidBlock, errClockAhead, b.Header.BlockTime())
	}
	if b.Header.ValidatorsHash != vals.Hash() {
		return nil, fmt.Errorf("%w: validators hash does not match the set for height %d", chain.ErrInvalidBlock, b.Header.Height)
	}
	if _, ok := vals.Find(b.Header.Proposer); !ok {
		return nil, fmt.Errorf("%w: proposer %s is not a validator", chain.ErrInvalidBlock, b.Header.Proposer)
	}
	if b.Header.Height > 1 {
		if err := parentVals.VerifyCommit(n.chainID, parent.Height, parent.Hash(), b.LastCommit); err != nil {
			return nil, fmt.Errorf("%w: last commit: %w", chain.ErrInvalidBlock, err)
		}
	}
	// Evidence is judged by the validator set of its offence's height,
	// which the executor cannot read: the node checks it here, before it
	// votes for or stores the block.
	if err := n.evpool.verifyBlock(n.chainID, b.Evidence, n.validatorsFor); err != nil {
		return nil, err
	}
	t0 := time.Now()
	n.preverify(b.Txs)
	if d := time.Since(t0); d > 200*time.Millisecond {
		n.log.Info("slow preverify", "txs", len(b.Txs), "took", d.String())
	}
	snap := n.store.Snapshot()
	defer snap.Discard()
	if sh := snap.Header(); sh.Hash() != parent.Hash() {
		return nil, fmt.Errorf("check block %d: the store moved to height %d", b.Header.Height, snap.Header().Height)
	}
	start := time.Now()
	res, err := n.exec.Execute(snap, parent.StateRoot, chain.BlockInfo{ChainID: n.chainID,
		Height: b.Header.Height, Time: b.Header.BlockTime(), Evidence: b.Evidence}, b.Txs)
	if err != nil {
		return nil, err
	}
	n.metrics.blockExec.Observe(time.Since(start).Seconds())
	if d := time.Since(start); d > 200*time.Millisecond {
		n.log.Info("slow execute", "txs", len(b.Txs), "took", d.String())
	}
	if res.StateRoot != b.Header.StateRoot {
		return nil, fmt.Errorf("%w: state root after execution is %s, header says %s", chain.ErrInvalidBlock, res.StateRoot, b.Header.StateRoot)
	}
	if res.ReceiptsRoot != b.Header.ReceiptsRoot {
		return nil, fmt.Errorf("%w: receipts root after execution is %s, header says %s", chain.ErrInvalidBlock, res.ReceiptsRoot, b.Header.ReceiptsRoot)
	}
	return res, nil
}

// commitBlock stores a final block with its certificate and tells the
// rest of the node.
func (n *Node) commitBlock(b *chain.Block, c *chain.Commit, res *chain.Result) error {
	start := time.Now()
	if err := n.store.SaveBlock(b, c, res); err != nil {
		return err
	}
	n.metrics.blockStore.Observe(time.Since(start).Seconds())
	n.evpool.committed(b.Header.Height, b.Evidence)
	n.afterCommit(b, res)
	n.sigs.drop(b.TxHashes())
	return nil
}
