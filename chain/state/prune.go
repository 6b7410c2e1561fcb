package state

import "fmt"

// # Pruning
//
// Every node, value and key entry is content-addressed, and one entry may
// belong to many roots (every subtree a block did not touch is shared
// with the block before). So the store cannot forget a root by deleting
// what the root wrote: it marks what the roots to keep reach, and the
// rest may go (mark and sweep). Mark walks from each root and stops at
// any node already marked, since everything below it is marked too: the
// cost is the number of distinct live nodes, not roots times tree size.

// Live is the set of store entries (nodes, values, keys) reachable from
// the roots marked into it, by hash.
type Live map[Hash]struct{}

// Has reports whether the entry with hash h is reachable.
func (l Live) Has(h Hash) bool {
	_, ok := l[h]
	return ok
}

// NodeHash and ValueHash turn a store key of the tree back into the hash
// it is addressed by; ok is false for a key that is not the tree's.
func NodeHash(storeKey []byte) (h Hash, ok bool) { return hashAfter(storeKey, nodePrefix) }

// ValueHash is NodeHash for value and key entries.
func ValueHash(storeKey []byte) (h Hash, ok bool) { return hashAfter(storeKey, valuePrefix) }

func hashAfter(k []byte, prefix string) (h Hash, ok bool) {
	if len(k) != len(prefix)+32 || string(k[:len(prefix)]) != prefix {
		return h, false
	}
	copy(h[:], k[len(prefix):])
	return h, true
}

// NodePrefix and ValuePrefix are the store key prefixes of the tree's
// entries, for a sweep that iterates them.
const (
	NodePrefix  = nodePrefix
	ValuePrefix = valuePrefix
)

// Mark adds to live every node under root and, for each leaf, its value
// and key entries. It reads the store directly, not through the cache, so
// a sweep does not push the latest state's nodes out of it. It returns
// how many nodes it visited that were not marked yet.
func (t *Tree) Mark(root Hash, live Live) (int, error) {
	if root == EmptyRoot || live.Has(root) {
		return 0, nil
	}
	if t.store == nil {
		return 0, fmt.Errorf("mark %x: no store: %w", root, ErrMissingNode)
	}
	visited := 0
	stack := []Hash{root}
	for len(stack) > 0 {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if h == EmptyRoot || live.Has(h) {
			continue
		}
		enc, err := t.store.Get(nodeKey(h))
		if err != nil {
			return visited, fmt.Errorf("mark: read node %x: %w", h, err)
		}
		if len(enc) == 0 {
			return visited, fmt.Errorf("mark: node %x: %w", h, ErrMissingNode)
		}
		n, err := decodeNode(h, enc)
		if err != nil {
			return visited, err
		}
		live[h] = struct{}{}
		visited++
		if n.leaf {
			live[n.a] = struct{}{} // the key entry, stored under the key's path
			live[n.b] = struct{}{} // the value
			continue
		}
		stack = append(stack, n.a, n.b)
	}
	return visited, nil
}
