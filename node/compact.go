package node

import (
	"fmt"
	"sync"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// Compact proposals. A proposal carries its block as a chain.CompactBlock:
// the header, the last commit, the evidence and the hashes of the
// transactions, not the transactions themselves. Validators already hold
// nearly all of them, since every transaction is gossiped before a block
// includes it, so the proposal of a block of 2,000 transfers shrinks from
// 472 KB to 69 KB (TestCompactProposalBytes). A validator rebuilds the block from its mempool and from
// the transactions it has seen lately (Mempool.Lookup), and fetches the
// rest from peers (compact_fetch.go).
//
// Nothing a peer sends can slip into the block: the proposer's signature
// covers the block hash, the header binds the hash list through TxRoot
// (checked before anything else, in checkSigned), and the rebuilt block
// must hash to the proposal's block hash, each transaction to the hash at
// its place (chain.CompactBlock.Rebuild), before the block is checked
// and executed like any other.
//
// The engine keeps full blocks: e.blocks, the vault's proposed block
// (ProposedBlockFile) and the locked block (LockedBlockFile) hold every
// transaction, so a node that restarts can propose again, or vote again,
// without asking anyone. Only the gossiped message is compact.

// Bounds of the mempool's memory of transactions seen but not pooled: two
// blocks' worth, so that the transactions of the block being decided are
// still there when it is proposed again in a later round.
const (
	seenMaxTxs   = 2 * chain.MaxBlockTxs
	seenMaxBytes = 2 * chain.MaxBlockSize
)

// seenTxs remembers transactions by hash, the oldest forgotten first once
// it holds maxTxs transactions or maxBytes bytes. It is safe for
// concurrent use.
type seenTxs struct {
	mu               sync.Mutex
	maxTxs, maxBytes int
	bytes            int
	byHash           map[chain.Hash][]byte
	order            []chain.Hash // oldest first, from head on
	head             int
}

func newSeenTxs(maxTxs, maxBytes int) *seenTxs {
	return &seenTxs{maxTxs: maxTxs, maxBytes: maxBytes, byHash: map[chain.Hash][]byte{}}
}

// add remembers raw under h, unless it is known already or larger than
// the whole memory.
func (s *seenTxs) add(h chain.Hash, raw []byte) {
	if len(raw) == 0 || len(raw) > s.maxBytes {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byHash[h]; ok {
		return
	}
	for len(s.byHash) >= s.maxTxs || s.bytes+len(raw) > s.maxBytes {
		old := s.order[s.head]
		s.head++
		s.bytes -= len(s.byHash[old])
		delete(s.byHash, old)
	}
	if s.head > len(s.order)/2 {
		s.order = append(s.order[:0], s.order[s.head:]...)
		s.head = 0
	}
	s.byHash[h] = raw
	s.order = append(s.order, h)
	s.bytes += len(raw)
}

// get returns what is remembered under h, or nil.
func (s *seenTxs) get(h chain.Hash) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byHash[h]
}

// txSource serves this node's transactions to peers that fetch them by
// hash (p2p.TxSource).
type txSource struct{ n *Node }

func (s txSource) TxByHash(h chain.Hash) []byte { return s.n.pool.Lookup(h) }

// offerOwnBlocks lets peers fetch the transactions of the blocks this
// validator keeps in its vault for height h, the one it proposed and the
// one it is locked on: after a restart its mempool is empty, and it may
// be the only node that holds them.
func (e *engine) offerOwnBlocks(h uint64, lock *consensus.Lock) {
	if p := e.signer.guard.Proposal; p.Height == h {
		if _, b, ok := e.signer.proposedBlock(h, p.Round); ok {
			e.n.pool.Remember(b.Txs...)
		}
	}
	if lock != nil {
		if pb := e.blocks[lock.BlockHash]; pb != nil && pb.block != nil {
			e.n.pool.Remember(pb.block.Txs...)
		}
	}
}

// rebuild makes the full block of a compact one from the transactions
// this node holds and, when w is not nil, those fetched for it. If some
// are missing it returns their hashes, each once, in block order, and no
// block. Otherwise it returns the block, checked by cb.Rebuild (each
// transaction is the one listed, the transaction root is the header's,
// the size within bounds) and by hash against want: an error then means
// that the block the proposer signed is invalid.
func (e *engine) rebuild(cb *chain.CompactBlock, want chain.Hash, w *txWait) (*chain.Block, []chain.Hash, error) {
	txs := make([][]byte, len(cb.TxHashes))
	var missing []chain.Hash
	var listed map[chain.Hash]bool
	for i, h := range cb.TxHashes {
		raw := e.n.pool.Lookup(h)
		if raw == nil && w != nil {
			raw = w.got[h]
		}
		if raw != nil {
			txs[i] = raw
			continue
		}
		if listed == nil {
			listed = map[chain.Hash]bool{}
		}
		if !listed[h] {
			listed[h] = true
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		return nil, missing, nil
	}
	b, err := cb.Rebuild(txs)
	if err != nil {
		return nil, nil, err
	}
	if b.Hash() != want {
		// Rebuild keeps the header, so this is a broken invariant, not a
		// peer's doing; refuse the block rather than vote on it.
		return nil, nil, fmt.Errorf("%w: rebuilt block %s, the proposal names %s", chain.ErrInvalidBlock, b.Hash(), want)
	}
	return b, nil, nil
}
