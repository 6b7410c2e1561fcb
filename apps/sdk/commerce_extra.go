package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/bits"

	"github.com/citychain/citychain/chain"
)

// Key joins the parts of a state key: a prefix and fields of fixed size
// (8-byte ids and heights, 20-byte addresses), which need no separator.
func Key(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
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

// Mul returns a*b or chain.ErrOverflow.
func Mul(a, b uint64) (uint64, error) {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return 0, fmt.Errorf("%d * %d: %w", a, b, chain.ErrOverflow)
	}
	return lo, nil
}

// DecodeGenesis decodes a module's section of the genesis file into g.
// Unknown fields are refused, so that a misspelt parameter is an error
// rather than a default; an absent or null section leaves g as it is,
// holding the defaults the caller put there.
func DecodeGenesis(raw json.RawMessage, g any) error {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(g)
}

// FirstError returns the first of errs that is not nil. A payload's
// Validate lists its field checks in the order of the fields:
//
//	return sdk.FirstError(checkID("order", m.Order), sdk.CheckText("note", m.Note, 500))
func FirstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
