package chain

import (
	"bytes"
	"fmt"
	"sort"
)

// Reader reads committed or pending state. Get returns nil for an absent
// key. Iterate calls fn for every key with the prefix in ascending byte
// order and stops early when fn returns an error, which it passes on.
type Reader interface {
	Get(key []byte) ([]byte, error)
	Iterate(prefix []byte, fn func(key, value []byte) error) error
}

// Overlay is a write cache over a Reader. Executing a block stacks two
// of them: one for the block over the committed state, and one per
// transaction over the block's, so that a failed transaction's writes are
// simply thrown away and a successful one's are merged up (Flush).
//
// A read error from the layer below is sticky: the overlay remembers the
// first one and Err reports it, so the executor can abort the block
// instead of recording a storage fault as a failed transaction.
type Overlay struct {
	parent Reader
	writes map[string][]byte // nil value means deleted
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
		o.writes[string(key)] = nil
		return
	}
	o.writes[string(key)] = append([]byte(nil), value...)
}

// Delete removes key.
func (o *Overlay) Delete(key []byte) { o.writes[string(key)] = nil }

// Iterate visits the merged view of the parent and this overlay.
func (o *Overlay) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	merged := make(map[string][]byte)
	err := o.parent.Iterate(prefix, func(k, v []byte) error {
		merged[string(k)] = v
		return nil
	})
	if err != nil {
		o.fail(err)
		return err
	}
	for k, v := range o.writes {
		if bytes.HasPrefix([]byte(k), prefix) {
			merged[k] = v
		}
	}
	keys := make([]string, 0, len(merged))
	for k, v := range merged {
		if v != nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn([]byte(k), append([]byte(nil), merged[k]...)); err != nil {
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
		p.writes[k] = v
	}
	if o.err != nil && p.err == nil {
		p.err = o.err
	}
	o.writes = make(map[string][]byte)
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
	for k, v := range o.writes {
		out = append(out, KV{Key: []byte(k), Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	return out
}

// KV is a key and its value.
type KV struct{ Key, Value []byte }

// MemReader is an in-memory Reader, for tests and genesis.
type MemReader map[string][]byte

// Get returns the value of key or nil.
func (m MemReader) Get(key []byte) ([]byte, error) { return m[string(key)], nil }

// Iterate visits keys with prefix in order.
func (m MemReader) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		if bytes.HasPrefix([]byte(k), prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn([]byte(k), m[k]); err != nil {
			return err
		}
	}
	return nil
}

// Store is an app's view of the state: its own keys only. Reads of a
// missing key return nil. A read error from storage makes Get return nil
// as well; the executor sees the error on the overlay and aborts the
// block, so an app never has to handle storage faults.
type Store struct {
	kv     writer
	prefix []byte
}

type writer interface {
	Reader
	Set(key, value []byte)
	Delete(key []byte)
}

// Get returns the value under key, or nil.
func (s *Store) Get(key []byte) []byte {
	v, err := s.kv.Get(s.full(key))
	if err != nil {
		return nil
	}
	return v
}

// Has reports whether key holds a value.
func (s *Store) Has(key []byte) bool { return s.Get(key) != nil }

// Set writes value under key. It panics in a read-only store (a query),
// which is a bug in the app, not bad input.
func (s *Store) Set(key, value []byte) { s.kv.Set(s.full(key), value) }

// Delete removes key.
func (s *Store) Delete(key []byte) { s.kv.Delete(s.full(key)) }

// Iterate visits the app's keys with prefix in ascending order; the key
// passed to fn has the app's prefix removed.
func (s *Store) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	return s.kv.Iterate(s.full(prefix), func(k, v []byte) error {
		return fn(k[len(s.prefix):], v)
	})
}

// GetObject decodes the canonical value under key into v. It reports
// whether the key was present.
func (s *Store) GetObject(key []byte, v any) (bool, error) {
	b := s.Get(key)
	if b == nil {
		return false, nil
	}
	if err := Decode(b, v); err != nil {
		return true, fmt.Errorf("stored value %q: %w", key, err)
	}
	return true, nil
}

// SetObject stores the canonical encoding of v under key.
func (s *Store) SetObject(key []byte, v any) { s.Set(key, MustEncode(v)) }

func (s *Store) full(key []byte) []byte {
	out := make([]byte, 0, len(s.prefix)+len(key))
	return append(append(out, s.prefix...), key...)
}

// readOnly wraps a Reader for queries.
type readOnly struct{ Reader }

func (readOnly) Set(key, value []byte) { panic("chain: write in a read-only query store") }
func (readOnly) Delete(key []byte)     { panic("chain: delete in a read-only query store") }
