package chain

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"

	"github.com/fxamacker/cbor/v2"
)

// A payload is JSON on the outside and canonical CBOR on the inside. The
// mapping is one to one for the values a payload may hold: objects with
// string keys, arrays, strings, booleans, null and integers that fit in
// 64 bits. Floats are refused, because the apply path never uses them.

var payloadDecMode cbor.DecMode

func init() {
	var err error
	payloadDecMode, err = cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  MaxDecodeDepth,
		DefaultMapType:   reflect.TypeOf(map[string]any(nil)),
		UTF8:             cbor.UTF8RejectInvalid,
		MaxArrayElements: 1 << 16,
		MaxMapPairs:      1 << 12,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// PayloadFromJSON converts a JSON object to the canonical CBOR payload.
// It fails with ErrBadPayload on anything that is not an object, on
// fractional or out-of-range numbers, and on trailing data.
func PayloadFromJSON(b []byte) (cbor.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the payload object", ErrBadPayload)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("%w: payload must be a JSON object", ErrBadPayload)
	}
	c, err := jsonToCBORValue(v, "payload", 1)
	if err != nil {
		return nil, err
	}
	out, err := Encode(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	return out, nil
}

// EncodePayload encodes an app's message struct as a canonical payload.
// Struct fields are keyed by their json tag names, so the payload has the
// same shape as the message's JSON. It goes through JSON so that the CBOR
// is exactly what PayloadFromJSON would make of the same message.
func EncodePayload(msg any) (cbor.RawMessage, error) {
	j, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	return PayloadFromJSON(j)
}

// maxPayloadDepth bounds the nesting of objects and arrays in a payload,
// the payload object itself counting as one. The transaction map around
// it takes one more level of MaxDecodeDepth, so anything deeper would
// make a signed transaction that DecodeTx refuses.
const maxPayloadDepth = MaxDecodeDepth - 1

func jsonToCBORValue(v any, path string, depth int) (any, error) {
	switch v.(type) {
	case []any, map[string]any:
		if depth > maxPayloadDepth {
			return nil, fmt.Errorf("%w: %s: nested deeper than %d levels", ErrBadPayload, path, maxPayloadDepth)
		}
	}
	switch t := v.(type) {
	case nil, bool, string:
		return t, nil
	case json.Number:
		s := string(t)
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u, nil
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		return nil, fmt.Errorf("%w: %s: %s is not an integer in the 64-bit range (write large or fractional values as strings)", ErrBadPayload, path, s)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			c, err := jsonToCBORValue(e, fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			c, err := jsonToCBORValue(e, path+"."+k, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s: unsupported value %T", ErrBadPayload, path, v)
}

// checkCanonicalPayload checks that p is a map with text keys in its
// canonical encoding. Decode's canonical check of a whole transaction
// cannot do it: Payload is a raw message, copied back verbatim when the
// transaction is re-encoded, so keys out of order or a long-form integer
// inside it would pass unseen.
func checkCanonicalPayload(p []byte) error {
	var v any
	if err := payloadDecMode.Unmarshal(p, &v); err != nil {
		return fmt.Errorf("%w: payload: %v", ErrDecode, err)
	}
	if _, ok := v.(map[string]any); !ok {
		return fmt.Errorf("%w: payload is not a map", ErrDecode)
	}
	if hasFloat(v) {
		path := floatIn(v, "payload")
		return fmt.Errorf("%w: %s is a floating-point number; a payload holds integers, and fractions as strings", ErrDecode, path)
	}
	again, err := encMode.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: payload: %v", ErrDecode, err)
	}
	if !bytes.Equal(again, p) {
		return fmt.Errorf("%w: payload", ErrNonCanonical)
	}
	return nil
}

// hasFloat reports whether v, a decoded payload, holds a floating-point
// number anywhere. It reads v in any order and allocates nothing: it runs
// for every transaction decoded, floatIn only for one refused.
func hasFloat(v any) bool {
	switch t := v.(type) {
	case float32, float64:
		return true
	case []any:
		for _, e := range t {
			if hasFloat(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range t {
			if hasFloat(e) {
				return true
			}
		}
	}
	return false
}

// floatIn returns the path of the first floating-point number in v, a
// decoded payload (map keys in sorted order), or "" if it holds none. A
// float's conversion to an integer is not defined by Go for every value,
// and its text is not the one JSON would give, so none may enter a block.
func floatIn(v any, path string) string {
	switch t := v.(type) {
	case float32, float64:
		return path
	case []any:
		for i, e := range t {
			if p := floatIn(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			if p := floatIn(t[k], path+"."+k); p != "" {
				return p
			}
		}
	}
	return ""
}

// PayloadToJSON converts a CBOR payload back to its JSON object.
func PayloadToJSON(p []byte) (json.RawMessage, error) {
	var v any
	if err := payloadDecMode.Unmarshal(p, &v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	j, err := json.Marshal(cborToJSONValue(v))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	return j, nil
}

func cborToJSONValue(v any) any {
	switch t := v.(type) {
	case []byte:
		return hex.EncodeToString(t)
	case []any:
		for i := range t {
			t[i] = cborToJSONValue(t[i])
		}
		return t
	case map[string]any:
		for k := range t {
			t[k] = cborToJSONValue(t[k])
		}
		return t
	}
	return v
}

// txJSON is the JSON form of a signed transaction (DESIGN.md).
type txJSON struct {
	ChainID   string          `json:"chain_id"`
	App       string          `json:"app"`
	Action    string          `json:"action"`
	Payload   json.RawMessage `json:"payload"`
	Nonce     uint64          `json:"nonce"`
	PubKey    string          `json:"pubkey"`
	Signature string          `json:"signature"`
}

// MarshalJSON writes the DESIGN.md JSON form: payload as an object, pubkey
// and signature as hex.
func (tx Tx) MarshalJSON() ([]byte, error) {
	p, err := PayloadToJSON(tx.Payload)
	if err != nil {
		return nil, err
	}
	return json.Marshal(txJSON{
		ChainID: tx.ChainID, App: tx.App, Action: tx.Action, Payload: p,
		Nonce: tx.Nonce, PubKey: hex.EncodeToString(tx.PubKey),
		Signature: hex.EncodeToString(tx.Signature),
	})
}

// UnmarshalJSON reads the JSON form. Unknown top-level fields are an
// error, so a typo is not silently signed away.
func (tx *Tx) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j txJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidTx, err)
	}
	if len(j.Payload) == 0 {
		return fmt.Errorf("%w: payload is missing", ErrInvalidTx)
	}
	p, err := PayloadFromJSON(j.Payload)
	if err != nil {
		return err
	}
	pub, err := hex.DecodeString(j.PubKey)
	if err != nil {
		return fmt.Errorf("%w: pubkey is not hex: %v", ErrInvalidTx, err)
	}
	sig, err := hex.DecodeString(j.Signature)
	if err != nil {
		return fmt.Errorf("%w: signature is not hex: %v", ErrInvalidTx, err)
	}
	*tx = Tx{ChainID: j.ChainID, App: j.App, Action: j.Action, Payload: p,
		Nonce: j.Nonce, PubKey: pub, Signature: sig}
	return nil
}
