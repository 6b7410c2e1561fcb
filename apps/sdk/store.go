package sdk

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/citychain/citychain/chain"
)

// Load decodes the record stored under key. An absent key is an error
// that wraps chain.ErrNotFound and names the record: what is how a
// person would say it ("order 12", "device tl-7").
func Load[T any](st *chain.Store, key []byte, what string) (*T, error) {
	v := new(T)
	ok, err := st.GetObject(key, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", chain.ErrNotFound, what)
	}
	return v, nil
}

// Find is Load for a record that may be absent: nil without error when
// it is.
func Find[T any](st *chain.Store, key []byte) (*T, error) {
	v := new(T)
	ok, err := st.GetObject(key, v)
	if err != nil || !ok {
		return nil, err
	}
	return v, nil
}

// Save stores the canonical encoding of v under key.
func Save(st *chain.Store, key []byte, v any) { st.SetObject(key, v) }

// errStop ends an iteration of Each early.
var errStop = errors.New("sdk: stop")

// Each calls fn for the keys under prefix in key order, after the key
// after when it is not nil, until fn has taken limit of them (fn returns
// whether it took the entry: a filter returns false). It reports
// truncated when it stopped at the limit with keys left under the prefix:
// the caller answers what it took and says that more may follow. A
// limit of 0 or less takes everything. The walk starts past after
// (IterateAfter) rather than reading the keys before it.
func Each(st *chain.Store, prefix, after []byte, limit int, fn func(key, value []byte) (bool, error)) (truncated bool, err error) {
	taken := 0
	err = IterateAfter(st, prefix, after, func(k, v []byte) error {
		if limit > 0 && taken >= limit {
			truncated = true
			return errStop
		}
		ok, err := fn(k, v)
		if ok {
			taken++
		}
		return err
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return truncated, err
}

// IterateAfter calls fn for the keys under prefix that sort after the
// key after (every key when after is nil), in key order, and stops at
// the first error fn returns, which it returns. The walk starts at after
// (chain.Store.IterateFrom): over the node's store or an overlay the
// keys before it are neither read nor counted as work.
func IterateAfter(st *chain.Store, prefix, after []byte, fn func(key, value []byte) error) error {
	if after == nil {
		return st.Iterate(prefix, fn)
	}
	return st.IterateFrom(prefix, after, func(k, v []byte) error {
		if bytes.Equal(k, after) {
			return nil
		}
		return fn(k, v)
	})
}

// EachBefore is Each over the keys under prefix that sort before the key
// before (every key when before is nil): the walk ends at the first key
// at or past it, so a range of an ordered index, such as events by time,
// costs what it returns.
func EachBefore(st *chain.Store, prefix, after, before []byte, limit int, fn func(key, value []byte) (bool, error)) (truncated bool, err error) {
	return Each(st, prefix, after, limit, func(k, v []byte) (bool, error) {
		if before != nil && bytes.Compare(k, before) >= 0 {
			return false, errStop
		}
		return fn(k, v)
	})
}

// EachRecord is Each over stored records: it decodes the value of every
// key under prefix into a fresh T and hands it to fn with its key. A
// value that does not decode ends the iteration with an error naming
// its key.
func EachRecord[T any](st *chain.Store, prefix, after []byte, limit int, fn func(key []byte, r *T) (bool, error)) (truncated bool, err error) {
	return Each(st, prefix, after, limit, func(k, v []byte) (bool, error) {
		r := new(T)
		if err := chain.Decode(v, r); err != nil {
			return false, fmt.Errorf("record %x: %w", k, err)
		}
		return fn(k, r)
	})
}

// Any reports whether a key exists under prefix, reading at most one.
func Any(st *chain.Store, prefix []byte) (bool, error) {
	found := false
	err := st.Iterate(prefix, func(_, _ []byte) error { found = true; return errStop })
	if errors.Is(err, errStop) {
		err = nil
	}
	return found, err
}

// NextID increments the counter stored under key (8 bytes big-endian,
// absent is zero) and returns its new value, so that ids are 1, 2, 3, ...
// in the order transactions are applied.
func NextID(st *chain.Store, key []byte) (uint64, error) {
	n, err := BytesUint64(st.Get(key))
	if err != nil {
		return 0, err
	}
	if n, err = Add(n, 1); err != nil {
		return 0, err
	}
	st.Set(key, Uint64Bytes(n))
	return n, nil
}
