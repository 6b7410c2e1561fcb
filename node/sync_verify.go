package node

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// The checks the verify stage of block sync runs ahead of the engine
// (see sync_pipe.go): decoding, the commit certificate against the set
// the block is expected to be signed by, then every transaction's
// signature. None of them changes anything; each only records a verdict
// in the block for the engine to use.

// decode parses the block and its commit, in that order, and drops the
// served bytes. An error is kept for the engine to report: the same one
// applySynced always gave for bytes that do not decode.
func (b *syncBlock) decode() {
	blk, err := chain.DecodeBlock(b.raw[0])
	if err != nil {
		b.decodeErr = err
		return
	}
	var c chain.Commit
	if err := chain.Decode(b.raw[1], &c); err != nil {
		b.decodeErr = fmt.Errorf("commit %d: %w", b.height, err)
		return
	}
	b.block, b.commit, b.hash = blk, &c, blk.Hash()
	b.raw = [2][]byte{}
}

// check runs the checks of a decoded block that the verify stage does
// itself, and returns the transaction checks it leaves to the workers.
// It verifies the certificate only if the header names vals, the set the
// block is expected to be signed by, and hands out the transactions'
// signatures only if the certificate verified: a block no quorum signed
// is refused by the engine anyway, so a peer that serves made-up blocks
// costs the workers nothing. Everything it does not check is left to
// the engine, which checks it against the set it finds at apply time.
func (b *syncBlock) check(chainID string, vals *chain.ValidatorSet, hash chain.Hash) []verifyJob {
	if vals == nil || b.block.Header.ValidatorsHash != hash {
		return nil
	}
	b.certErr, b.certSet = vals.VerifyCommit(chainID, b.height, b.hash, b.commit), hash
	if b.certErr != nil {
		return nil
	}
	n := len(b.block.Txs)
	b.txOK, b.txHash = make([]bool, n), make([]chain.Hash, n)
	var out []verifyJob
	for lo := 0; lo < n; lo += syncVerifyChunk {
		out = append(out, verifyJob{b: b, lo: lo, hi: min(lo+syncVerifyChunk, n)})
	}
	return out
}

// startVerify is the verify stage's own part for one block: it decodes
// b, checks its certificate against the set sets expects, and returns
// the signature checks left for the workers. With none left, b is ready
// at once.
func (b *syncBlock) startVerify(n *Node, sets *expectedSet) []verifyJob {
	b.decode()
	if b.decodeErr != nil {
		close(b.ready)
		return nil
	}
	vals, hash := sets.forBlock(n, b.block)
	jobs := b.check(n.chainID, vals, hash)
	if len(jobs) == 0 {
		close(b.ready)
		return nil
	}
	b.pending.Store(int32(len(jobs)))
	return jobs
}

// verifyJob is the signatures of transactions lo to hi-1 of a block.
type verifyJob struct {
	b      *syncBlock
	lo, hi int
}

// run does the job and, if it was the block's last, marks the block
// ready. A transaction known says this node verified already (it is
// pooled, or its signature was checked when it came by gossip) is marked
// without a second check. It returns how many signatures it verified.
func (j verifyJob) run(keys *crypto.KeyCache, known func(chain.Hash) bool) int {
	b, verified := j.b, 0
	for i := j.lo; i < j.hi; i++ {
		raw := b.block.Txs[i]
		h := chain.Sum(raw)
		if known != nil && known(h) {
			b.txOK[i], b.txHash[i] = true, h
			continue
		}
		verified++
		tx, err := chain.DecodeTx(raw)
		if err != nil || tx.VerifySignatureWith(keys) != nil {
			continue // the executor finds it again and says why
		}
		b.txOK[i], b.txHash[i] = true, h
	}
	if b.pending.Add(-1) == 0 {
		close(b.ready)
	}
	return verified
}

// verifyWorker runs verify jobs until ctx ends, counting the
// signatures it checks in checked and in the node's metric. The workers
// share the node's key cache with admission and gossip, so a sender's
// key is parsed, and its table built, once for all of them, and the
// cache's bound (mempool.key_cache) holds for block sync too.
func verifyWorker(ctx context.Context, jobs <-chan verifyJob, keys *crypto.KeyCache, known func(chain.Hash) bool, checked *atomic.Int64, metric prometheus.Counter) {
	for {
		select {
		case j := <-jobs:
			k := j.run(keys, known)
			checked.Add(int64(k))
			metric.Add(float64(k))
		case <-ctx.Done():
			return
		}
	}
}

// expectedSet is the verify stage's guess of the validator set that
// signs the blocks ahead: the latest stored one when it was last read. It
// is read again only when a block names another set and the store has
// moved on since, so that a stretch of blocks under one set costs no
// reads, and blocks naming a set the node does not know cost at most one
// read per stored height.
type expectedSet struct {
	height uint64 // of the store when vals was read
	loaded bool
	vals   *chain.ValidatorSet
	hash   chain.Hash
}

// forBlock returns the set to check b against ahead, and its hash; a nil
// set if it cannot be read (the engine then checks the certificate).
func (s *expectedSet) forBlock(n *Node, b *chain.Block) (*chain.ValidatorSet, chain.Hash) {
	if s.loaded && b.Header.ValidatorsHash == s.hash {
		return s.vals, s.hash
	}
	if h := n.store.Latest().Height; !s.loaded || h != s.height {
		s.height, s.loaded, s.vals, s.hash = h, true, nil, chain.Hash{}
		if vals, err := chain.LoadValidators(n.store); err == nil {
			s.vals, s.hash = vals, vals.Hash()
		}
	}
	return s.vals, s.hash
}
