package state

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// Difference is one key whose value differs between two trees.
type Difference struct {
	// Path is where the key lives in the tree: SHA-256 of the key.
	Path Hash
	// Key is the key itself, or nil when the store does not hold it (a
	// store written before Update kept keys). The empty key is []byte{}.
	Key []byte
	// Old is the value under the first root and New the value under the
	// second; nil means the key is absent there.
	Old, New []byte
}

// Diff returns the keys whose values differ between the trees with roots
// a and b, in ascending key order, at most limit of them (limit <= 0
// means no limit); truncated reports that there are more. Keys the store
// cannot name (see Difference.Key) come after the others, by path.
//
// Diff walks the two trees at once and skips every subtree whose hash is
// the same on both sides, so for d differences in a tree of n keys it
// reads O(d log n) nodes, one stored key per difference, and the values
// of the differences it returns, never the whole tree. Since the tree is
// ordered by path and not by key, it must see every difference to find
// the first limit keys, but it keeps only O(limit) of them in memory.
//
// Diff fails with ErrMissingNode when a root, node or value is not in the
// store (the error names its hash), and with ErrCorruptNode when stored
// bytes do not match their hash. Diff(a, a, limit) reads nothing.
func (t *Tree) Diff(a, b Hash, limit int) (diffs []Difference, truncated bool, err error) {
	d := differ{t: t, limit: limit}
	if err := d.walk(subtree{h: a}, subtree{h: b}, 0); err != nil {
		return nil, false, fmt.Errorf("diff %x to %x: %w", a, b, err)
	}
	d.trim()
	diffs = make([]Difference, len(d.found))
	for i, f := range d.found {
		diffs[i] = Difference{Path: f.path}
		if f.known {
			diffs[i].Key = bytes.Clone(f.key)
		}
		if f.hasOld {
			if diffs[i].Old, err = t.loadValue(f.oldVH); err != nil {
				return nil, false, fmt.Errorf("diff %x to %x: old value of %x: %w", a, b, f.path, err)
			}
			diffs[i].Old = bytes.Clone(diffs[i].Old)
		}
		if f.hasNew {
			if diffs[i].New, err = t.loadValue(f.newVH); err != nil {
				return nil, false, fmt.Errorf("diff %x to %x: new value of %x: %w", a, b, f.path, err)
			}
			diffs[i].New = bytes.Clone(diffs[i].New)
		}
	}
	return diffs, d.truncated, nil
}

// subtree is one side of the walk: a hash, and its node once loaded.
type subtree struct {
	h      Hash
	n      node
	loaded bool
}

// children returns the two subtrees below s, which sits at depth. A leaf
// is its own child on the side its path takes, beside an empty subtree:
// that is the same subtree seen one level down, since a lone key's leaf
// floats up and its hash does not depend on its depth. This is how the
// walk lines up a leaf on one side with an internal node on the other.
func (s subtree) children(depth int) (subtree, subtree) {
	if !s.n.leaf {
		return subtree{h: s.n.a}, subtree{h: s.n.b}
	}
	if bit(&s.n.a, depth) == 0 {
		return s, subtree{}
	}
	return subtree{}, s
}

// found is a difference the walk has met, before its values are read.
type found struct {
	path           Hash
	key            []byte
	known          bool // key is the stored preimage of path
	oldVH, newVH   Hash
	hasOld, hasNew bool
}

// differ collects what one Diff finds.
type differ struct {
	t         *Tree
	limit     int
	found     []found
	truncated bool
}

// walk compares subtree x of the first tree with subtree y of the second,
// both at depth.
func (d *differ) walk(x, y subtree, depth int) error {
	switch {
	case x.h == y.h:
		return nil // the same keys and values, however many
	case x.h == EmptyRoot:
		return d.all(y, depth, false)
	case y.h == EmptyRoot:
		return d.all(x, depth, true)
	}
	if err := d.load(&x); err != nil {
		return err
	}
	if err := d.load(&y); err != nil {
		return err
	}
	if x.n.leaf && y.n.leaf {
		if x.n.a == y.n.a { // one key, a new value
			return d.add(x.n.a, &x.n.b, &y.n.b)
		}
		// Two keys: one went, one came.
		if err := d.add(x.n.a, &x.n.b, nil); err != nil {
			return err
		}
		return d.add(y.n.a, nil, &y.n.b)
	}
	if depth >= Depth {
		inner := x.h
		if x.n.leaf {
			inner = y.h
		}
		return fmt.Errorf("internal node %x below depth %d: %w", inner, Depth, ErrCorruptNode)
	}
	xl, xr := x.children(depth)
	yl, yr := y.children(depth)
	if err := d.walk(xl, yl, depth+1); err != nil {
		return err
	}
	return d.walk(xr, yr, depth+1)
}

// all records every leaf of s, a subtree at depth that the other tree
// lacks entirely: as removed if old, else as added.
func (d *differ) all(s subtree, depth int, old bool) error {
	if s.h == EmptyRoot {
		return nil
	}
	if err := d.load(&s); err != nil {
		return err
	}
	if s.n.leaf {
		if old {
			return d.add(s.n.a, &s.n.b, nil)
		}
		return d.add(s.n.a, nil, &s.n.b)
	}
	if depth >= Depth {
		return fmt.Errorf("internal node %x below depth %d: %w", s.h, Depth, ErrCorruptNode)
	}
	if err := d.all(subtree{h: s.n.a}, depth+1, old); err != nil {
		return err
	}
	return d.all(subtree{h: s.n.b}, depth+1, old)
}

func (d *differ) load(s *subtree) error {
	if s.loaded {
		return nil
	}
	n, err := d.t.load(s.h)
	if err != nil {
		return err
	}
	s.n, s.loaded = n, true
	return nil
}

// add records a difference at path; a nil value hash means absent. When
// twice the limit has piled up, it keeps the first limit by key.
func (d *differ) add(path Hash, oldVH, newVH *Hash) error {
	f := found{path: path}
	if oldVH != nil {
		f.oldVH, f.hasOld = *oldVH, true
	}
	if newVH != nil {
		f.newVH, f.hasNew = *newVH, true
	}
	var err error
	if f.key, f.known, err = d.t.loadKey(path); err != nil {
		return err
	}
	d.found = append(d.found, f)
	if d.limit > 0 && len(d.found) >= 2*d.limit {
		d.trim()
	}
	return nil
}

// trim sorts what was found and keeps the first limit.
func (d *differ) trim() {
	slices.SortFunc(d.found, func(a, b found) int {
		switch {
		case a.known && b.known:
			return bytes.Compare(a.key, b.key)
		case a.known:
			return -1
		case b.known:
			return 1
		}
		return bytes.Compare(a.path[:], b.path[:])
	})
	if d.limit > 0 && len(d.found) > d.limit {
		d.found = d.found[:d.limit]
		d.truncated = true
	}
}

// emptyKeyPath is the path of the empty key, the one key Update cannot
// store (the store reads empty bytes as absent).
var emptyKeyPath = PathOf(nil)

// loadKey returns the key whose path is path. known is false when the
// store does not hold it; other store failures are errors.
func (t *Tree) loadKey(path Hash) (key []byte, known bool, err error) {
	if path == emptyKeyPath {
		return []byte{}, true, nil
	}
	key, err = t.loadValue(path)
	if errors.Is(err, ErrMissingNode) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("key of %x: %w", path, err)
	}
	return key, true, nil
}
