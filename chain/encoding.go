package chain

import (
	"bytes"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// The canonical encoding of every chain object is deterministic CBOR
// (RFC 8949 section 4.2.1, "core deterministic encoding"): shortest integer
// forms, definite lengths, map keys sorted bytewise. Struct fields are map
// entries keyed by their snake_case names, so a client in another language
// can build the same bytes from a plain map. Floats never appear.
//
// Decoding is strict: duplicate map keys, unknown fields, indefinite
// lengths and tags are rejected, and Decode re-encodes what it read and
// compares, so only the one canonical byte string of a value is accepted.
// That is what makes "the hash of these bytes" a well-defined identity.
var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

// MaxDecodeDepth bounds the nesting of any decoded object.
const MaxDecodeDepth = 16

func init() {
	var err error
	opts := cbor.CoreDetEncOptions()
	// A nil slice or map encodes as an empty one, so "no transactions" has
	// one encoding ([]) and not two ([] and null).
	opts.NilContainers = cbor.NilContainerAsEmpty
	encMode, err = opts.EncMode()
	if err != nil {
		panic(err) // static options; cannot fail
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   MaxDecodeDepth,
		MaxArrayElements:  1 << 16,
		MaxMapPairs:       1 << 12,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Encode returns the canonical encoding of v.
func Encode(v any) ([]byte, error) { return encMode.Marshal(v) }

// MustEncode is Encode for values built by the program itself, whose
// encoding cannot fail (fixed struct types without channels or funcs).
func MustEncode(v any) []byte {
	b, err := encMode.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err))
	}
	return b
}

// Decode parses data into v and checks that data is the canonical
// encoding of the result. It fails with ErrDecode on malformed input and
// ErrNonCanonical when the bytes decode but are not canonical.
func Decode(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrDecode, err)
	}
	again, err := encMode.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDecode, err)
	}
	if !bytes.Equal(again, data) {
		return ErrNonCanonical
	}
	return nil
}

// DecodePayload decodes an application payload into v without the
// canonical re-encoding check, which is already done once for the whole
// transaction. Unknown fields and duplicate keys are still rejected.
func DecodePayload(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	return nil
}
