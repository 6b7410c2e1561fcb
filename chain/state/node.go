package state

import (
	"crypto/sha256"
	"fmt"
)

// Hash is a SHA-256 digest. It is an alias of [32]byte, so it is
// assignable to and from any named 32-byte hash type of the caller.
type Hash = [32]byte

// EmptyRoot is the root of a tree that holds no keys: 32 zero bytes. Every
// empty subtree, at any depth, has this hash.
var EmptyRoot Hash

// Depth is the number of bits in a key path, and so the deepest level a
// node can sit at. Depth 0 is the root.
const Depth = 256

// Tags that start a node encoding. They keep the two hash domains apart:
// no leaf encoding can ever be read as an internal node, or the reverse.
const (
	tagLeaf  byte = 0x00
	tagInner byte = 0x01
)

// nodeSize is the length of every node encoding: a tag and two hashes.
const nodeSize = 1 + 32 + 32

// Store key prefixes. Nodes and values are content-addressed: the key is
// the prefix followed by the 32 raw bytes of the hash.
const (
	nodePrefix  = "smt/n/"
	valuePrefix = "smt/v/"
)

// PathOf returns the path of key in the tree: SHA-256 of the key. Hashing
// spreads keys evenly over the 2^256 leaves, which keeps the tree about
// log2(n) deep whatever keys the applications choose.
func PathOf(key []byte) Hash { return sha256.Sum256(key) }

// bit returns bit i of path, where bit 0 is the most significant bit of
// byte 0. Bit i chooses the child at depth i: 0 is left, 1 is right.
// The caller guarantees 0 <= i < Depth.
func bit(path *Hash, i int) byte {
	return (path[i/8] >> (7 - uint(i%8))) & 1
}

// node is one non-empty node of the tree, decoded. Empty subtrees are
// never stored; they are the zero hash.
type node struct {
	leaf bool
	// For a leaf, a is the key path and b the value hash.
	// For an internal node, a is the left child and b the right child.
	a, b Hash
}

func leafNode(path, valueHash Hash) node { return node{leaf: true, a: path, b: valueHash} }
func innerNode(left, right Hash) node    { return node{a: left, b: right} }

// child returns the left child for side 0 and the right child otherwise.
func (n node) child(side byte) Hash {
	if side == 0 {
		return n.a
	}
	return n.b
}

// hash is the node's identity: in the parent, in proofs and in the store.
func (n node) hash() Hash { return sha256.Sum256(n.encode()) }

func nodeKey(h Hash) []byte  { return append([]byte(nodePrefix), h[:]...) }
func valueKey(h Hash) []byte { return append([]byte(valuePrefix), h[:]...) }

// encode returns the 65 bytes that are hashed and stored for n.
func (n node) encode() []byte {
	enc := make([]byte, nodeSize)
	enc[0] = tagInner
	if n.leaf {
		enc[0] = tagLeaf
	}
	copy(enc[1:33], n.a[:])
	copy(enc[33:], n.b[:])
	return enc
}

// decodeNode parses a stored node and checks that it hashes to h, the key
// it was stored under. The check costs one SHA-256 per disk read and turns
// silent store corruption into ErrCorruptNode.
func decodeNode(h Hash, enc []byte) (node, error) {
	if len(enc) != nodeSize || (enc[0] != tagLeaf && enc[0] != tagInner) {
		return node{}, fmt.Errorf("node %x: %d bytes, tag %v: %w", h, len(enc), enc[:min(len(enc), 1)], ErrCorruptNode)
	}
	if sha256.Sum256(enc) != h {
		return node{}, fmt.Errorf("node %x: content hashes elsewhere: %w", h, ErrCorruptNode)
	}
	var n node
	n.leaf = enc[0] == tagLeaf
	copy(n.a[:], enc[1:33])
	copy(n.b[:], enc[33:])
	return n, nil
}
