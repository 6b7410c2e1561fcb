package chain

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
)

// Overlay is a write cache over a Reader. Executing a block stacks two
// of them: one for the block over the committed state, and one per
// transaction over the block's, so that a failed transaction's writes are
// simply thrown away and a successful one's are merged up (Flush).
//
// The overlay keeps its written keys in order as well (keyIndex), so
// that Iterate streams the layer below merged with its own writes and
// costs what the caller reads, not the size of the prefix.
//
// A read error from the layer below is sticky: the overlay remembers the
// first one and Err reports it, so the executor can abort the block
// instead of recording a storage fault as a failed transaction.
type Overlay struct {
	parent Reader
	writes map[string][]byte // nil value means deleted
	keys   keyIndex          // the keys of writes, in order
	err    error
}

// NewOverlay returns an empty overlay over parent.
func NewOverlay(parent Reader) *Overlay {
	return &Overlay{parent: parent, writes: make(map[string][]byte)}
}

// Get returns the value of key, or nil when absent.
func (o *Overlay) Get(key []byte) ([]byte, error) {
	if v, ok := o.writes[string(key)]; ok {
		// A copy: an app that edits what it read must not change a
		// pending write behind Set's back (a failed transaction's changes
		// would survive into the block).
		return append([]byte(nil), v...), nil
	}
	v, err := o.parent.Get(key)
	if err != nil {
		o.fail(err)
		return nil, err
	}
	return v, nil
}

// Set writes value under key. Setting an empty value deletes the key:
// the state tree does not tell empty from absent, so neither does the
// overlay.
func (o *Overlay) Set(key, value []byte) {
	if len(value) == 0 {
		o.put(string(key), nil)
		return
	}
	o.put(string(key), append([]byte(nil), value...))
}

// Delete removes key.
func (o *Overlay) Delete(key []byte) { o.put(string(key), nil) }

func (o *Overlay) put(k string, v []byte) {
	if _, ok := o.writes[k]; !ok {
		o.keys.add(k)
	}
	o.writes[k] = v
}

// Iterate visits the merged view of the parent and this overlay in key
// order: the parent's keys streamed as it reads them, interleaved with
// this overlay's own writes under the prefix, which shadow the parent's
// value of the same key or, when deleted, hide it. It stops as soon as
// fn returns an error, and returns that error.
//
// The view is the one at the call: writes that fn makes to this overlay
// are not visited. Values are copies, so fn may keep or edit them. An
// overlay must not be written while an overlay above it iterates (the
// executor only ever writes to the top one).
func (o *Overlay) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	return o.IterateFrom(prefix, prefix, fn)
}

// IterateFrom is Iterate over the keys with prefix that sort at or after
// start: this overlay's writes and the parent's keys are both entered at
// start (the parent's through chain.IterateFrom), so the keys before it
// cost nothing.
func (o *Overlay) IterateFrom(prefix, start []byte, fn func(key, value []byte) error) error {
	if bytes.Compare(start, prefix) < 0 {
		start = prefix
	}
	// This overlay's own writes under the prefix are listed first, since
	// fn may write here; those of the overlays below are read in place.
	var own []write
	next := o.keys.from(string(prefix), string(start))
	for k, ok := next(); ok; k, ok = next() {
		own = append(own, write{k, o.writes[k]})
	}
	i := 0
	ownNext := func() (write, bool) {
		if i == len(own) {
			return write{}, false
		}
		i++
		return own[i-1], true
	}
	return o.merge(prefix, start, ownNext, func(k, v []byte) error { return fn(k, append([]byte(nil), v...)) })
}

// iterateInPlace is Iterate for an overlay above this one: its writes
// are read where they are, as the merge reaches them, and values are
// passed uncopied (the caller's Iterate copies them).
func (o *Overlay) iterateInPlace(prefix, start []byte, fn func(key, value []byte) error) error {
	next := o.keys.from(string(prefix), string(start))
	return o.merge(prefix, start, func() (write, bool) {
		k, ok := next()
		return write{k, o.writes[k]}, ok
	}, fn)
}

// write is one key of an overlay and its value, nil when deleted.
type write struct {
	key   string
	value []byte
}

// merge streams the parent's keys with prefix from start merged with the
// overlay's own writes there, which own yields in order, and calls fn
// with each live key and its value.
func (o *Overlay) merge(prefix, start []byte, own func() (write, bool), fn func(key, value []byte) error) error {
	var stop error // fn's error, which is no read fault
	emit := func(w write) error {
		if w.value == nil {
			return nil // deleted here
		}
		if err := fn([]byte(w.key), w.value); err != nil {
			stop = err
			return err
		}
		return nil
	}
	w, more := own()
	visit := func(k, v []byte) error {
		for more && w.key < string(k) {
			if err := emit(w); err != nil {
				return err
			}
			w, more = own()
		}
		if more && w.key == string(k) {
			shadow := w
			w, more = own()
			return emit(shadow)
		}
		if err := fn(k, v); err != nil {
			stop = err
			return err
		}
		return nil
	}
	var err error
	if p, ok := o.parent.(*Overlay); ok {
		err = p.iterateInPlace(prefix, start, visit)
	} else {
		err = IterateFrom(o.parent, prefix, start, visit)
	}
	if err != nil {
		if stop == nil {
			o.fail(err)
		}
		return err
	}
	for ; more; w, more = own() {
		if err := emit(w); err != nil {
			return err
		}
	}
	return nil
}

// Flush merges this overlay's writes into its parent, which must be an
// Overlay.
func (o *Overlay) Flush() {
	p, ok := o.parent.(*Overlay)
	if !ok {
		panic("chain: Flush on an overlay whose parent is not an overlay")
	}
	for k, v := range o.writes {
		p.put(k, v)
	}
	if o.err != nil && p.err == nil {
		p.err = o.err
	}
	o.writes = make(map[string][]byte)
	o.keys = keyIndex{}
}

// Err returns the first read error seen through this overlay.
func (o *Overlay) Err() error { return o.err }

func (o *Overlay) fail(err error) {
	if o.err == nil {
		o.err = err
	}
	if p, ok := o.parent.(*Overlay); ok {
		p.fail(err)
	}
}

// Changes returns the writes in ascending key order; a nil Value is a
// delete.
func (o *Overlay) Changes() []KV {
	out := make([]KV, 0, len(o.writes))
	next := o.keys.from("", "")
	for k, ok := next(); ok; k, ok = next() {
		out = append(out, KV{Key: []byte(k), Value: o.writes[k]})
	}
	if len(out) != len(o.writes) {
		panic(fmt.Sprintf("chain: overlay index holds %d keys for %d writes", len(out), len(o.writes)))
	}
	return out
}

// keyIndex keeps a set of keys in ascending order in two sorted runs: a
// long one, and a short one that takes new keys by insertion and is
// merged into the long one once it holds more than about the square root
// of its length. Adding a key thus costs O(√n) amortized, and listing
// the keys with a prefix needs a binary search instead of a sort.
type keyIndex struct {
	long, short []string
}

// minShort is the length the short run may always reach before a merge.
const minShort = 64

// add inserts k, which must not be in the index yet.
func (x *keyIndex) add(k string) {
	i := sort.SearchStrings(x.short, k)
	x.short = slices.Insert(x.short, i, k)
	if n := len(x.short); n > minShort && n*n > len(x.long) {
		x.long = mergeRuns(x.long, x.short)
		x.short = nil
	}
}

// from returns a function that yields the keys with prefix that sort at
// or after start (which is not before prefix) in order, and false after
// the last one.
func (x *keyIndex) from(prefix, start string) func() (string, bool) {
	long, short := x.long, x.short
	i, j := sort.SearchStrings(long, start), sort.SearchStrings(short, start)
	return func() (string, bool) {
		var k string
		switch {
		case i < len(long) && (j == len(short) || long[i] < short[j]):
			k, i = long[i], i+1
		case j < len(short):
			k, j = short[j], j+1
		default:
			return "", false
		}
		if len(k) < len(prefix) || k[:len(prefix)] != prefix {
			i, j = len(long), len(short)
			return "", false
		}
		return k, true
	}
}

// mergeRuns returns a new sorted slice holding the keys of a and b.
func mergeRuns(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] < b[j] {
			out, i = append(out, a[i]), i+1
		} else {
			out, j = append(out, b[j]), j+1
		}
	}
	return append(append(out, a[i:]...), b[j:]...)
}
