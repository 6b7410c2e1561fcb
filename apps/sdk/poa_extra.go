package sdk

import (
	"fmt"

	"github.com/citychain/citychain/chain"
)

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
