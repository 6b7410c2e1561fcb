// Package state holds the authenticated state of CityChain: every key and
// value the applications store, committed to by one 32-byte root that
// goes into each block header. The structure is a sparse Merkle tree
// (SMT), kept in a key-value store and updated block by block.
//
// # The tree
//
// Picture a complete binary tree of depth 256 with one leaf slot for
// every possible 256-bit path. A key lives in the slot at
// path = SHA-256(key): at depth i the walk takes the left child if bit i
// of the path is 0 and the right child if it is 1, where bit 0 is the
// most significant bit of the first byte. Almost every slot is empty, so
// the tree is "sparse", and nearly all of it is never stored.
//
// Three kinds of node make the tree, with these hashes:
//
//	empty subtree:  32 zero bytes (nothing is stored)
//	leaf:           SHA-256(0x00 || path || SHA-256(value))
//	internal node:  SHA-256(0x01 || left child hash || right child hash)
//
// The tag byte keeps leaves and internal nodes in separate hash domains,
// so a proof can never present one as the other. A leaf carries its full
// path, so its hash does not depend on the depth it sits at.
//
// # Canonical form: leaves float up
//
// A subtree that holds one key is not a chain of internal nodes down to
// depth 256: it is that key's leaf itself, placed as high as it can go.
// A subtree with no keys is empty. So with n keys the tree is about
// log2(n) levels deep, not 256, and proofs have about log2(n) siblings.
//
// These two rules fix the shape of the tree for any set of keys: each
// leaf sits just below the shortest prefix of its path that no other key
// shares. The root therefore depends only on the set of (key, value)
// pairs, never on the order or the batching of the updates that produced
// it. Update keeps the form: deleting a key can leave its sibling alone
// under a parent, and that sibling, if it is a leaf, floats up to take
// the parent's place, as far as it can go.
//
// # Updates
//
// Update sorts a batch of changes by path and walks down from the root
// only along the paths they touch, splitting the batch at each internal
// node by the next path bit. Where the walk meets an empty subtree or a
// leaf, it rebuilds that subtree from the few keys that now belong in it.
// Untouched subtrees are kept by hash, so a batch of k changes to a tree
// of n keys reads and hashes O(k log n) nodes. Nothing is overwritten:
// the new root shares its untouched subtrees with the old one, and the
// old root stays readable.
//
// # Proofs
//
// A proof of a key is the list of sibling hashes met on the walk from the
// root towards its path, plus the leaf where the walk stopped, if any.
// The verifier hashes the terminal (the key's leaf, another key's leaf,
// or the empty hash) and joins it with each sibling from the bottom up;
// the result must equal the root. For absence, a terminal leaf of another
// key must share the target's path above the point where the walk
// stopped, or it could not be in that subtree. VerifyProof needs no
// store and rejects malformed input with ErrInvalidProof.
//
// # Diffs
//
// Diff compares the trees at two roots, say the states before and after
// a block, by walking both from the top at once. Equal hashes mean equal
// subtrees, so it skips every subtree the two share and descends only
// where they differ: d changed keys cost O(d log n) node reads, however
// big the tree. Where one side has a leaf and the other a subtree (a key
// was added next to a lone key, or a delete let a leaf float up), the
// walk carries the leaf down along its path, beside an empty sibling: a
// leaf's hash does not depend on its depth, so it still matches the same
// leaf wherever the other tree holds it lower down.
//
// A leaf holds only its key's path, a hash. To say which key changed,
// Update also stores each key it writes, content-addressed like a value:
// under SHA-256(key), which is the path.
//
// # Storage layout
//
// The tree never writes to the store. Update returns the writes, and the
// caller commits them with the rest of the block:
//
//	"smt/n/" || node hash  -> 65-byte node encoding (tag, two hashes)
//	"smt/v/" || value hash -> value bytes
//	"smt/v/" || key path   -> key bytes (the path is the key's hash)
//
// All are content-addressed: the store key is the hash of the stored
// bytes, so a write never changes the meaning of an existing key, writing
// twice is harmless (a key equal to some value shares its entry), and a
// reader can (and does) check every node it loads. Stores written before
// keys were kept lack them; Diff then reports the path alone.
// Nothing is pruned, so the state at every earlier height can be read
// and proven from its root.
//
// # Invariants
//
//   - Every subtree of exactly one key is that key's leaf, and every
//     internal node holds at least two keys: it never has two empty
//     children, nor a leaf beside an empty sibling.
//   - A leaf at depth d agrees with the path of the walk on its first d
//     bits. No internal node sits at depth 256 or below.
//   - Empty values are not stored: setting a key to an empty value deletes
//     it, so absent and empty are one state.
//   - The result of Update depends only on the old root and the set of
//     changes: no clock, randomness, goroutines or map order, so every
//     node computes the same root for the same block.
//   - Stored nodes and values are immutable; a root, once its writes are
//     persisted, stays readable for as long as the store keeps them.
//
// This package imports no other package of the repository: package chain
// builds on it, not the reverse.
package state
