package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/citychain/citychain/chain"
)

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

// DecodeGenesis decodes module's part of the genesis file into v,
// refusing unknown fields. An absent part leaves v as it is.
func DecodeGenesis(module string, raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s genesis: %w", module, err)
	}
	return nil
}
