package state

import (
	"bytes"
	"crypto/sha256"
	"fmt"
)

// Reader is the key-value store the tree reads its nodes and values from.
//
// Get returns the bytes stored under key and a nil error when the key is
// present, and (nil, nil) when it is absent; an empty non-nil slice is
// read as absent too, since the tree never stores empty bytes. Any other
// error means the store could not answer and is passed on, wrapped, to
// the caller of the tree. The tree never modifies the returned slice but
// may keep it, so Get must return bytes that stay valid after it returns
// (a Badger adapter copies with Item.ValueCopy).
type Reader interface {
	Get(key []byte) ([]byte, error)
}

// Config holds the dependencies of a Tree.
type Config struct {
	// Store is where nodes and values are read from. The tree never
	// writes to it: Update returns the writes and the caller persists
	// them, typically in the same batch as the block that caused them.
	// A nil Store behaves as an empty store.
	Store Reader
	// CacheNodes bounds the in-memory LRU of decoded nodes. Zero or
	// negative selects DefaultCacheNodes.
	CacheNodes int
}

// Tree reads and updates sparse Merkle trees kept in one store. It holds
// no root of its own: every method takes the root to work on, so one
// Tree serves the state at every height. A Tree is safe for concurrent
// use if its Store is.
type Tree struct {
	store Reader
	cache *cache
}

// NewTree returns a Tree that reads from cfg.Store.
func NewTree(cfg Config) *Tree {
	return &Tree{store: cfg.Store, cache: newCache(cfg.CacheNodes)}
}

// Get returns the value of key in the tree with the given root. found is
// false, with a nil value, when the key is absent. Any root ever returned
// by Update can be read, as long as its writes were persisted (or it is
// the latest Update's root). Get fails with ErrMissingNode when a node or
// value on the way is not in the store, and ErrCorruptNode when one does
// not match its hash.
func (t *Tree) Get(root Hash, key []byte) (value []byte, found bool, err error) {
	path := PathOf(key)
	h := root
	for depth := 0; h != EmptyRoot; depth++ {
		n, err := t.load(h)
		if err != nil {
			return nil, false, fmt.Errorf("get %x at depth %d: %w", key, depth, err)
		}
		if n.leaf {
			if n.a != path {
				return nil, false, nil // the key's subtree holds another key
			}
			v, err := t.loadValue(n.b)
			if err != nil {
				return nil, false, fmt.Errorf("get %x: %w", key, err)
			}
			return v, true, nil
		}
		if depth >= Depth {
			return nil, false, fmt.Errorf("get %x: internal node %x below depth %d: %w", key, h, Depth, ErrCorruptNode)
		}
		h = n.child(bit(&path, depth))
	}
	return nil, false, nil
}

// load returns the node with hash h, from the cache or else the store.
// h must not be EmptyRoot: the empty subtree is not a stored node.
func (t *Tree) load(h Hash) (node, error) {
	if n, ok := t.cache.node(h); ok {
		return n, nil
	}
	if t.store == nil {
		return node{}, fmt.Errorf("node %x: no store: %w", h, ErrMissingNode)
	}
	enc, err := t.store.Get(nodeKey(h))
	if err != nil {
		return node{}, fmt.Errorf("read node %x: %w", h, err)
	}
	if len(enc) == 0 {
		return node{}, fmt.Errorf("node %x: %w", h, ErrMissingNode)
	}
	n, err := decodeNode(h, enc)
	if err != nil {
		return node{}, err
	}
	t.cache.add(h, n)
	return n, nil
}

// loadValue returns the value with hash vh and checks it hashes to vh.
// Values are not cached beyond the latest Update: they can be large and
// the store has its own cache.
func (t *Tree) loadValue(vh Hash) ([]byte, error) {
	if v, ok := t.cache.value(vh); ok {
		return v, nil
	}
	if t.store == nil {
		return nil, fmt.Errorf("value %x: no store: %w", vh, ErrMissingNode)
	}
	v, err := t.store.Get(valueKey(vh))
	if err != nil {
		return nil, fmt.Errorf("read value %x: %w", vh, err)
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("value %x: %w", vh, ErrMissingNode)
	}
	if sha256.Sum256(v) != vh {
		return nil, fmt.Errorf("value %x: content hashes elsewhere: %w", vh, ErrCorruptNode)
	}
	return v, nil
}

// samePrefix reports whether a and b agree on their first n bits.
// The caller guarantees 0 <= n <= Depth.
func samePrefix(a, b *Hash, n int) bool {
	full := n / 8
	if !bytes.Equal(a[:full], b[:full]) {
		return false
	}
	rest := n % 8
	if rest == 0 {
		return true
	}
	mask := byte(0xff) << (8 - uint(rest))
	return a[full]&mask == b[full]&mask
}
