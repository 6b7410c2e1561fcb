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

// Seeker is a Reader that can start a walk of a prefix at a key inside
// it without reading the keys before: the store on disk and its views,
// and overlays. IterateFrom calls fn for every key with the prefix that
// sorts at or after start, in ascending order, as Iterate does.
type Seeker interface {
	IterateFrom(prefix, start []byte, fn func(key, value []byte) error) error
}

// IterateFrom calls fn for r's keys with prefix that sort at or after
// start, in ascending order, and stops at the first error fn returns.
// It seeks when r is a Seeker, and otherwise walks the prefix from its
// start and leaves out the keys before start.
func IterateFrom(r Reader, prefix, start []byte, fn func(key, value []byte) error) error {
	switch {
	case bytes.Compare(start, prefix) <= 0:
		return r.Iterate(prefix, fn)
	case !bytes.HasPrefix(start, prefix):
		return nil // start sorts after every key with prefix
	}
	if s, ok := r.(Seeker); ok {
		return s.IterateFrom(prefix, start, fn)
	}
	return r.Iterate(prefix, func(k, v []byte) error {
		if bytes.Compare(k, start) < 0 {
			return nil
		}
		return fn(k, v)
	})
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
//
// In a transaction every call is counted by the work meter (see Work).
// Once the transaction's work passes the limit, Iterate stops and
// returns an error wrapping ErrWorkLimit, and Get, Has, Set and Delete
// (which have no error result) panic; the executor recovers and fails
// the transaction with the work-limit error, whatever the app returned.
type Store struct {
	kv     writer
	prefix []byte
	meter  *meter // nil: not metered (queries)
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
		v = nil
	}
	s.meter.mustCharge(Work{Reads: 1, BytesRead: uint64(len(v))})
	return v
}

// Has reports whether key holds a value.
func (s *Store) Has(key []byte) bool { return s.Get(key) != nil }

// Set writes value under key. It panics in a read-only store (a query),
// which is a bug in the app, not bad input.
func (s *Store) Set(key, value []byte) {
	s.meter.mustCharge(Work{Writes: 1, BytesWritten: uint64(len(key) + len(value))})
	s.kv.Set(s.full(key), value)
}

// Delete removes key.
func (s *Store) Delete(key []byte) {
	s.meter.mustCharge(Work{Writes: 1, BytesWritten: uint64(len(key))})
	s.kv.Delete(s.full(key))
}

// Iterate visits the app's keys with prefix in ascending order; the key
// passed to fn has the app's prefix removed. It stops, and returns the
// error, as soon as fn returns one or the transaction's work passes its
// limit.
func (s *Store) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	if err := s.meter.charge(Work{Reads: 1}); err != nil {
		return err
	}
	return s.kv.Iterate(s.full(prefix), func(k, v []byte) error {
		k = k[len(s.prefix):]
		if err := s.meter.charge(Work{Steps: 1, BytesRead: uint64(len(k) + len(v))}); err != nil {
			return err
		}
		return fn(k, v)
	})
}

// IterateFrom is Iterate over the app's keys with prefix that sort at or
// after start (both without the app's prefix). Over a store that seeks
// (chain.Seeker), the keys before start are neither read nor counted.
func (s *Store) IterateFrom(prefix, start []byte, fn func(key, value []byte) error) error {
	if err := s.meter.charge(Work{Reads: 1}); err != nil {
		return err
	}
	return IterateFrom(s.kv, s.full(prefix), s.full(start), func(k, v []byte) error {
		k = k[len(s.prefix):]
		if err := s.meter.charge(Work{Steps: 1, BytesRead: uint64(len(k) + len(v))}); err != nil {
			return err
		}
		return fn(k, v)
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

// IterateFrom seeks in the wrapped Reader when it can.
func (r readOnly) IterateFrom(prefix, start []byte, fn func(key, value []byte) error) error {
	return IterateFrom(r.Reader, prefix, start, fn)
}

func (readOnly) Set(key, value []byte) { panic("chain: write in a read-only query store") }
func (readOnly) Delete(key []byte)     { panic("chain: delete in a read-only query store") }
