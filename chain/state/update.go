package state

import (
	"bytes"
	"fmt"
	"slices"
)

// Change sets or deletes one key. A nil or empty Value deletes the key:
// the tree does not store empty values, so "empty" and "absent" are the
// same state and an empty value can never hide behind a missing one.
type Change struct {
	Key   []byte
	Value []byte
}

// Write is one key-value pair the caller must persist in its store for
// the new root to be readable later. Writes are idempotent: storing the
// same Write twice, or a Write whose key is already stored, is harmless,
// because keys are hashes of their contents.
type Write struct {
	Key   []byte
	Value []byte
}

// Update applies changes to the tree with the given root and returns the
// new root and the writes that make it readable. The tree at root is not
// modified; it stays readable, which is how older heights are served.
//
// changes may come in any order; the result depends only on the set of
// changes. Deleting an absent key, or setting a key to the value it
// already has, changes nothing and writes nothing. Update fails with
// ErrDuplicateKey if two changes name the same key, and with
// ErrMissingNode or ErrCorruptNode if the store cannot produce a node on
// the way; on error newRoot is root, writes is nil, and the memory of the
// previous Update's writes (below) is kept.
//
// Only the paths to the changed keys are read and rehashed, so an update
// of k keys in a tree of n keys costs O(k log n) node reads and hashes.
// writes holds only the nodes and values this update created, in a
// deterministic order: values first (with the key of each new leaf,
// stored like a value under its hash, which is its path, so that Diff can
// name it), then nodes bottom-up (post-order), so a new root node comes
// last.
//
// Until the next Update returns, the tree also serves this Update's nodes
// and values from memory, so Update, Get and Prove work on newRoot before
// the caller has persisted writes. After that only the store serves
// them: persist each Update's writes before the Update after it returns.
func (t *Tree) Update(root Hash, changes []Change) (newRoot Hash, writes []Write, err error) {
	cs, err := sortChanges(changes)
	if err != nil {
		return root, nil, err
	}
	if len(cs) == 0 {
		return root, nil, nil
	}
	u := updater{t: t}
	newRoot, _, err = u.update(root, 0, cs)
	if err != nil {
		return root, nil, fmt.Errorf("update root %x: %w", root, err)
	}
	writes = u.writes()
	t.cache.setPending(u.nodes, u.values)
	return newRoot, writes, nil
}

// change is a Change prepared for the walk: its path and value hash known.
// A change with a nil value is a delete. The walk also turns existing
// leaves into changes with stored set, meaning "already in the store".
type change struct {
	path   Hash
	key    []byte // set for sets, nil for deletes and stored leaves
	value  []byte
	vh     Hash
	stored bool
}

// sortChanges hashes the keys and values and sorts the changes by path.
// Sorted by path, the changes that fall under any subtree are one
// contiguous run, split in two by the next path bit.
func sortChanges(changes []Change) ([]change, error) {
	cs := make([]change, len(changes))
	for i, c := range changes {
		cs[i].path = PathOf(c.Key)
		if len(c.Value) > 0 {
			// Copy: the caller may reuse its buffers after Update returns,
			// but the key and value live on in the writes and the cache.
			cs[i].key = bytes.Clone(c.Key)
			cs[i].value = bytes.Clone(c.Value)
			cs[i].vh = PathOf(c.Value)
		}
	}
	slices.SortFunc(cs, func(a, b change) int { return bytes.Compare(a.path[:], b.path[:]) })
	for i := 1; i < len(cs); i++ {
		if cs[i].path == cs[i-1].path {
			// Equal paths mean equal keys, barring a SHA-256 collision.
			return nil, fmt.Errorf("key path %x: %w", cs[i].path, ErrDuplicateKey)
		}
	}
	return cs, nil
}

// kind tells the caller of a step what the resulting subtree is, because
// a parent must know whether a lone child is a leaf (it floats up) or an
// internal node (it stays below a new parent).
type kind uint8

const (
	kindUnknown kind = iota // subtree untouched; load it to know
	kindEmpty
	kindLeaf
	kindInner
)

type newNode struct {
	h Hash
	n node
}

type newValue struct {
	h Hash
	v []byte
}

// updater collects what one Update creates.
type updater struct {
	t      *Tree
	nodes  []newNode
	values []newValue
}

// update applies the sorted changes cs to the subtree h at depth and
// returns the new subtree. If the subtree comes out unchanged, everything
// created under it is dropped again: those nodes are already stored.
func (u *updater) update(h Hash, depth int, cs []change) (Hash, kind, error) {
	if len(cs) == 0 {
		return h, kindUnknown, nil
	}
	nodeMark, valueMark := len(u.nodes), len(u.values)
	nh, k, err := u.apply(h, depth, cs)
	if err != nil {
		return h, kindUnknown, err
	}
	if nh == h {
		u.nodes, u.values = u.nodes[:nodeMark], u.values[:valueMark]
	}
	return nh, k, nil
}

func (u *updater) apply(h Hash, depth int, cs []change) (Hash, kind, error) {
	if h == EmptyRoot {
		return u.build(depth, setsOnly(cs))
	}
	n, err := u.t.load(h)
	if err != nil {
		return h, kindUnknown, err
	}
	if n.leaf {
		// A leaf stands for a subtree holding one key. Put that key among
		// the changes and rebuild the subtree from the merged set; the
		// set is at most len(cs)+1 leaves, so this stays cheap.
		if !samePrefix(&n.a, &cs[0].path, depth) {
			return h, kindUnknown, fmt.Errorf("leaf %x at depth %d is off its path: %w", h, depth, ErrCorruptNode)
		}
		return u.build(depth, mergeLeaf(n, cs))
	}
	if depth >= Depth {
		return h, kindUnknown, fmt.Errorf("internal node %x below depth %d: %w", h, Depth, ErrCorruptNode)
	}
	split := splitAt(cs, depth)
	left, lk, err := u.update(n.a, depth+1, cs[:split])
	if err != nil {
		return h, kindUnknown, err
	}
	right, rk, err := u.update(n.b, depth+1, cs[split:])
	if err != nil {
		return h, kindUnknown, err
	}
	return u.join(left, lk, right, rk)
}

// build returns the canonical subtree at depth over leaves, which are
// sorted by path, have distinct paths and agree on their first depth bits.
func (u *updater) build(depth int, leaves []change) (Hash, kind, error) {
	switch len(leaves) {
	case 0:
		return EmptyRoot, kindEmpty, nil
	case 1:
		l := leaves[0]
		n := leafNode(l.path, l.vh)
		h := n.hash()
		if !l.stored {
			u.values = append(u.values, newValue{h: l.vh, v: l.value})
			if len(l.key) > 0 {
				// The leaf holds only the key's hash. Keeping the key
				// itself, content-addressed like a value, lets Diff say
				// which key changed. (The empty key cannot be stored:
				// the store reads empty bytes as absent.)
				u.values = append(u.values, newValue{h: l.path, v: l.key})
			}
			u.nodes = append(u.nodes, newNode{h: h, n: n})
		}
		return h, kindLeaf, nil
	}
	if depth >= Depth {
		// Distinct paths always differ before bit 256; getting here means
		// a stored leaf sat where its path does not lead.
		return EmptyRoot, kindUnknown, fmt.Errorf("two leaves share all %d path bits: %w", Depth, ErrCorruptNode)
	}
	split := splitAt(leaves, depth)
	left, lk, err := u.build(depth+1, leaves[:split])
	if err != nil {
		return EmptyRoot, kindUnknown, err
	}
	right, rk, err := u.build(depth+1, leaves[split:])
	if err != nil {
		return EmptyRoot, kindUnknown, err
	}
	return u.join(left, lk, right, rk)
}

// join returns the canonical parent of two subtrees. This is where the
// canonical form is kept: a parent with no leaves is empty, and a parent
// whose only non-empty child is a leaf is that leaf itself. A leaf's hash
// does not depend on its depth, so floating it up costs no rehash.
func (u *updater) join(left Hash, lk kind, right Hash, rk kind) (Hash, kind, error) {
	switch {
	case left == EmptyRoot && right == EmptyRoot:
		return EmptyRoot, kindEmpty, nil
	case right == EmptyRoot:
		if k, err := u.kindOf(left, lk); err != nil || k == kindLeaf {
			return left, k, err
		}
	case left == EmptyRoot:
		if k, err := u.kindOf(right, rk); err != nil || k == kindLeaf {
			return right, k, err
		}
	}
	n := innerNode(left, right)
	h := n.hash()
	u.nodes = append(u.nodes, newNode{h: h, n: n})
	return h, kindInner, nil
}

// kindOf returns k, or loads h to find out when k is kindUnknown.
func (u *updater) kindOf(h Hash, k kind) (kind, error) {
	if k != kindUnknown {
		return k, nil
	}
	n, err := u.t.load(h)
	if err != nil {
		return kindUnknown, err
	}
	if n.leaf {
		return kindLeaf, nil
	}
	return kindInner, nil
}

// writes turns what the update created into store writes: values and
// keys first, then nodes in creation order. Two keys with the same value
// (or a key equal to a value) share one write.
func (u *updater) writes() []Write {
	ws := make([]Write, 0, len(u.values)+len(u.nodes))
	seen := make(map[Hash]bool, len(u.values)) // membership only; order comes from u.values
	for _, v := range u.values {
		if seen[v.h] {
			continue
		}
		seen[v.h] = true
		ws = append(ws, Write{Key: valueKey(v.h), Value: v.v})
	}
	for _, nn := range u.nodes {
		ws = append(ws, Write{Key: nodeKey(nn.h), Value: nn.n.encode()})
	}
	return ws
}

// splitAt returns the index of the first item whose path has bit depth
// set. Items are sorted by path and share their first depth bits, so
// all items with the bit clear come first.
func splitAt(cs []change, depth int) int {
	i, _ := slices.BinarySearchFunc(cs, byte(1), func(c change, b byte) int {
		return int(bit(&c.path, depth)) - int(b)
	})
	return i
}

// setsOnly returns the changes that set a value; deletes under an empty
// subtree have nothing to delete.
func setsOnly(cs []change) []change {
	out := make([]change, 0, len(cs))
	for _, c := range cs {
		if c.value != nil {
			out = append(out, c)
		}
	}
	return out
}

// mergeLeaf returns the leaves of a subtree that held only leaf n after
// cs is applied: the sets of cs, plus n itself unless cs overrides or
// deletes its key. The result stays sorted by path.
func mergeLeaf(n node, cs []change) []change {
	out := make([]change, 0, len(cs)+1)
	placed := false
	for _, c := range cs {
		if !placed && bytes.Compare(n.a[:], c.path[:]) <= 0 {
			placed = true
			if n.a != c.path {
				out = append(out, change{path: n.a, vh: n.b, stored: true})
			}
		}
		if c.value != nil {
			out = append(out, c)
		}
	}
	if !placed {
		out = append(out, change{path: n.a, vh: n.b, stored: true})
	}
	return out
}
