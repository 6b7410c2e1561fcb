// Package store keeps a node's chain in Badger: blocks, their commit
// certificates, receipts and the transaction index, the latest state as a
// flat key-value map for fast reads, and the nodes of the state's Merkle
// tree for roots and proofs at every height.
//
// Key layout (all big-endian heights, so keys sort by height):
//
//	b/{height}   block (canonical encoding); height 0 holds the genesis header
//	c/{height}   the commit certificate that made the block final
//	h/{hash}     height of the block with that hash
//	t/{txhash}   receipt of the transaction (which names height and index)
//	s/{key}      latest value of a state key
//	smt/n/..., smt/v/...  Merkle tree nodes, and values and keys (see package state)
//	m/latest     header of the last committed block
//
// Invariant: a block, its commit, receipts, index entries, state changes
// and the m/latest header are written in one Badger transaction
// (SaveBlock), after the block's new Merkle tree nodes. Badger commits a
// transaction atomically, so after a crash, kill -9 included, the store
// holds every block up to m/latest completely and nothing of any later
// one but perhaps some of its tree nodes, which are content-addressed and
// unreachable from any stored root: harmless, and written again if the
// block is. A node may write a block's tree nodes before the block is
// decided (WriteTreeAhead); until then they are such orphans too.
//
// Store.Get, the read of the latest state that a node's admission makes
// for every transaction, keeps the values it read in a bounded cache,
// which each commit updates before the latest header moves, so that a
// read never goes back behind a commit it could see (latestCache).
// Snapshots and the Merkle tree read Badger itself.
package store
