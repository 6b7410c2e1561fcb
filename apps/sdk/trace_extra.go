package sdk

import (
	"bytes"
	"errors"

	"github.com/citychain/citychain/chain"
)

// EachBefore is Each over the keys under prefix that sort before the key
// before as well as after the key after: the walk ends at the first key
// at or past before, so a range of an ordered index (events by time, say)
// costs what it returns. A nil before bounds nothing, as a nil after does.
// truncated reports that the walk stopped at the limit with keys of the
// range left.
func EachBefore(st *chain.Store, prefix, after, before []byte, limit int, fn func(key, value []byte) (bool, error)) (truncated bool, err error) {
	taken := 0
	err = st.Iterate(prefix, func(k, v []byte) error {
		switch {
		case after != nil && bytes.Compare(k, after) <= 0:
			return nil
		case before != nil && bytes.Compare(k, before) >= 0:
			return errStop
		case limit > 0 && taken >= limit:
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
