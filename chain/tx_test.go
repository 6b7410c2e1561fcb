package chain_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// rawCBOR is an already encoded CBOR item that refEncode copies as is.
type rawCBOR []byte

// kv is one entry of an orderedMap.
type kv struct {
	key string
	val any
}

// orderedMap is a CBOR map that refEncode writes in the given key order,
// canonical or not.
type orderedMap []kv

// txFields lists a transaction's fields in canonical key order.
func txFields(tx *chain.Tx) orderedMap {
	return orderedMap{
		{"app", tx.App}, {"nonce", tx.Nonce}, {"action", tx.Action}, {"pubkey", tx.PubKey},
		{"payload", rawCBOR(tx.Payload)}, {"chain_id", tx.ChainID}, {"signature", tx.Signature},
	}
}

// with returns a copy of m with the value under key replaced.
func (m orderedMap) with(key string, val any) orderedMap {
	out := append(orderedMap(nil), m...)
	for i := range out {
		if out[i].key == key {
			out[i].val = val
			return out
		}
	}
	panic("no field " + key)
}

// without returns a copy of m without key.
func (m orderedMap) without(key string) orderedMap {
	var out orderedMap
	for _, e := range m {
		if e.key != key {
			out = append(out, e)
		}
	}
	return out
}

// swapped returns a copy of m with entries i and j exchanged.
func (m orderedMap) swapped(i, j int) orderedMap {
	out := append(orderedMap(nil), m...)
	out[i], out[j] = out[j], out[i]
	return out
}

// highS returns sig with s replaced by N - s: the same ECDSA signature in
// its other, non-canonical form.
func highS(sig []byte) []byte {
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(secp256k1.Params().N, s)
	out := append([]byte(nil), sig[:32]...)
	return append(out, s.FillBytes(make([]byte, 32))...)
}

func TestTxValidateBasic(t *testing.T) {
	signed := func(edit func(tx *chain.Tx)) *chain.Tx {
		tx := goldenTransfer(0, 1, 10, 0)
		edit(tx)
		return tx
	}
	// resigned edits a field and signs again, so only the edit is wrong.
	resigned := func(edit func(tx *chain.Tx)) *chain.Tx {
		tx := goldenTransfer(0, 1, 10, 0)
		edit(tx)
		tx.Sign(goldenKey(0))
		return tx
	}
	notOnCurve := append([]byte{0x02}, bytes.Repeat([]byte{0}, 31)...)
	notOnCurve = append(notOnCurve, 5)

	tests := []struct {
		name  string
		tx    *chain.Tx
		want  error // nil for a valid transaction
		want2 error // a second kind the error must also wrap
	}{
		{"valid", goldenTransfer(0, 1, 10, 0), nil, nil},
		{"wrong chain", resigned(func(tx *chain.Tx) { tx.ChainID = "other-chain" }), chain.ErrWrongChain, nil},
		{"app name upper case", resigned(func(tx *chain.Tx) { tx.App = "Bank" }), chain.ErrInvalidTx, nil},
		{"app name empty", resigned(func(tx *chain.Tx) { tx.App = "" }), chain.ErrInvalidTx, nil},
		{"app name starts with digit", resigned(func(tx *chain.Tx) { tx.App = "1bank" }), chain.ErrInvalidTx, nil},
		{"app name with slash", resigned(func(tx *chain.Tx) { tx.App = "bank/x" }), chain.ErrInvalidTx, nil},
		{"app name too long", resigned(func(tx *chain.Tx) { tx.App = strings.Repeat("a", chain.MaxNameLen+1) }), chain.ErrInvalidTx, nil},
		{"action with space", resigned(func(tx *chain.Tx) { tx.Action = "send all" }), chain.ErrInvalidTx, nil},
		{"payload missing", resigned(func(tx *chain.Tx) { tx.Payload = nil }), chain.ErrInvalidTx, nil},
		{"short pubkey", signed(func(tx *chain.Tx) { tx.PubKey = tx.PubKey[:32] }), chain.ErrInvalidTx, nil},
		{"uncompressed pubkey", signed(func(tx *chain.Tx) {
			tx.PubKey = append([]byte{0x04}, make([]byte, 64)...)
		}), chain.ErrInvalidTx, nil},
		{"pubkey not on curve", signed(func(tx *chain.Tx) { tx.PubKey = notOnCurve }), chain.ErrInvalidTx, crypto.ErrMalformedPublicKey},
		{"pubkey of someone else", signed(func(tx *chain.Tx) { tx.PubKey = goldenKey(3).PublicKey().Bytes() }),
			chain.ErrInvalidTx, crypto.ErrBadSignature},
		{"signature missing", signed(func(tx *chain.Tx) { tx.Signature = nil }), chain.ErrInvalidTx, nil},
		{"signature in DER length", signed(func(tx *chain.Tx) { tx.Signature = append(tx.Signature, 0) }), chain.ErrInvalidTx, nil},
		{"flipped signature byte", signed(func(tx *chain.Tx) { tx.Signature[10] ^= 0x80 }), chain.ErrInvalidTx, crypto.ErrBadSignature},
		{"high-S signature", signed(func(tx *chain.Tx) { tx.Signature = highS(tx.Signature) }), chain.ErrInvalidTx, crypto.ErrHighS},
		{"r = 0", signed(func(tx *chain.Tx) { copy(tx.Signature[:32], make([]byte, 32)) }), chain.ErrInvalidTx, crypto.ErrMalformedSignature},
		{"nonce changed after signing", signed(func(tx *chain.Tx) { tx.Nonce++ }), chain.ErrInvalidTx, crypto.ErrBadSignature},
		{"payload changed after signing", signed(func(tx *chain.Tx) {
			tx.Payload = goldenTransfer(0, 1, 11, 0).Payload
		}), chain.ErrInvalidTx, crypto.ErrBadSignature},
		{"signed for another chain id", signed(func(tx *chain.Tx) {
			other := goldenTransfer(0, 1, 10, 0)
			other.ChainID = "other-chain"
			other.Sign(goldenKey(0))
			tx.Signature = other.Signature
		}), chain.ErrInvalidTx, crypto.ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.tx.ValidateBasic(goldenChainID)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("ValidateBasic = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("ValidateBasic = %v, want %v", err, tc.want)
			}
			if tc.want2 != nil && !errors.Is(err, tc.want2) {
				t.Fatalf("ValidateBasic = %v, want it to wrap %v too", err, tc.want2)
			}
		})
	}
}

func TestTxSignBytesLeaveOutSignature(t *testing.T) {
	tx := goldenTransfer(0, 1, 10, 0)
	unsigned := *tx
	unsigned.Signature = nil
	if !bytes.Equal(tx.SignBytes(), unsigned.Encode()) {
		t.Fatal("SignBytes is not the encoding without the signature")
	}
	if !bytes.Equal(tx.SignBytes(), goldenTransfer(0, 1, 10, 0).SignBytes()) {
		t.Fatal("SignBytes is not stable")
	}
	if tx.Hash() != chain.Sum(tx.Encode()) {
		t.Fatal("Hash is not SHA-256 of the encoding")
	}
	if tx.Sender() != goldenAddr(0) {
		t.Fatal("Sender is not the signer's address")
	}
}

func TestDecodeTx(t *testing.T) {
	tx := goldenTransfer(0, 1, 10, 0)
	fields := txFields(tx)
	if got := refEncode(fields); !bytes.Equal(got, tx.Encode()) {
		t.Fatalf("test helper out of step with the encoder:\n got %x\nwant %x", got, tx.Encode())
	}
	payload := orderedMap{{"to", goldenAddr(1).String()}, {"amount", uint64(10)}}
	if got := refEncode(payload); !bytes.Equal(got, tx.Payload) {
		t.Fatalf("payload helper out of step: %x vs %x", got, tx.Payload)
	}

	tests := []struct {
		name string
		b    []byte
		want error // nil: decodes
	}{
		{"canonical", refEncode(fields), nil},
		{"unsigned", refEncode(fields.without("signature")), nil},
		{"keys out of order", refEncode(fields.swapped(0, 1)), chain.ErrNonCanonical},
		{"signature key first", refEncode(fields.swapped(0, 6)), chain.ErrNonCanonical},
		{"nonce not in shortest form", refEncode(fields.with("nonce", rawCBOR{0x18, 0x00})), chain.ErrNonCanonical},
		{"nonce as 8-byte integer", refEncode(fields.with("nonce", rawCBOR{0x1b, 0, 0, 0, 0, 0, 0, 0, 0})), chain.ErrNonCanonical},
		{"nonce missing", refEncode(fields.without("nonce")), chain.ErrNonCanonical},
		{"empty signature present", refEncode(fields.with("signature", []byte{})), chain.ErrNonCanonical},
		{"payload keys out of order", refEncode(fields.with("payload", payload.swapped(0, 1))), chain.ErrNonCanonical},
		{"payload integer not shortest", refEncode(fields.with("payload",
			payload.with("amount", rawCBOR{0x19, 0x00, 0x0a}))), chain.ErrNonCanonical},
		{"payload float past the integers", refEncode(fields.with("payload",
			payload.with("amount", rawCBOR{0xfb, 0x43, 0xe1, 0x58, 0xe4, 0x60, 0x91, 0x3d, 0x00}))), chain.ErrDecode},
		{"payload half float in an array", refEncode(fields.with("payload",
			payload.with("to", rawCBOR{0x81, 0xf9, 0x3c, 0x00}))), chain.ErrDecode},
		{"payload is an integer", refEncode(fields.with("payload", uint64(7))), chain.ErrDecode},
		{"payload is null", refEncode(fields.with("payload", nil)), chain.ErrDecode},
		{"payload map with integer key", refEncode(fields.with("payload", rawCBOR{0xa1, 0x01, 0x02})), chain.ErrDecode},
		{"payload with duplicate key", refEncode(fields.with("payload",
			orderedMap{{"to", "x"}, {"to", "y"}})), chain.ErrDecode},
		{"duplicate key", refEncode(append(fields, kv{"app", "bank"})), chain.ErrDecode},
		{"unknown field", refEncode(append(fields, kv{"zzzzzzzzzzzz", uint64(1)})), chain.ErrDecode},
		{"pubkey as text", refEncode(fields.with("pubkey", hex.EncodeToString(tx.PubKey))), chain.ErrDecode},
		{"nonce negative", refEncode(fields.with("nonce", int64(-1))), chain.ErrDecode},
		{"indefinite-length map", append(append([]byte{0xbf}, refEncode(fields)[1:]...), 0xff), chain.ErrDecode},
		{"tagged", append([]byte{0xd8, 0x18}, refEncode(fields)...), chain.ErrDecode},
		{"trailing byte", append(refEncode(fields), 0x00), chain.ErrDecode},
		{"truncated", refEncode(fields)[:50], chain.ErrDecode},
		{"array instead of map", refEncode([]any{tx.App}), chain.ErrDecode},
		{"empty", nil, chain.ErrDecode},
		{"over the size limit", bytes.Repeat([]byte{0}, chain.MaxTxSize+1), chain.ErrInvalidTx},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chain.DecodeTx(tc.b)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("DecodeTx = %v", err)
				}
				if !bytes.Equal(got.Encode(), tc.b) {
					t.Fatal("re-encoding differs")
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("DecodeTx = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestTxJSONRoundTrip(t *testing.T) {
	tx := goldenTransfer(0, 1, 10, 0)
	j, err := json.Marshal(tx)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(j, &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"chain_id", "app", "action", "payload", "nonce", "pubkey", "signature"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("JSON lacks %q: %s", f, j)
		}
	}
	if p, ok := fields["payload"].(map[string]any); !ok || p["amount"] != float64(10) {
		t.Errorf("payload is not the object: %s", j)
	}
	var back chain.Tx
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Encode(), tx.Encode()) {
		t.Fatalf("JSON round trip changed the bytes:\n%x\n%x", back.Encode(), tx.Encode())
	}
	if err := back.ValidateBasic(goldenChainID); err != nil {
		t.Fatal(err)
	}
	// Key order and spacing in the JSON do not matter; the bytes do not change.
	reordered := fmt.Sprintf(`{"signature":%q,"pubkey":%q,"nonce":0,"payload":{ "amount" : 10, "to": %q },
		"action":"send","app":"bank","chain_id":%q}`,
		hex.EncodeToString(tx.Signature), hex.EncodeToString(tx.PubKey), goldenAddr(1), goldenChainID)
	var again chain.Tx
	if err := json.Unmarshal([]byte(reordered), &again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Encode(), tx.Encode()) {
		t.Fatal("reordered JSON gives other bytes")
	}
}

func TestTxJSONRejects(t *testing.T) {
	good, err := json.Marshal(goldenTransfer(0, 1, 10, 0))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name string
		json string
		want error
	}{
		{"unknown field", edit(func(m map[string]any) { m["fee"] = 1 }), chain.ErrInvalidTx},
		{"payload missing", edit(func(m map[string]any) { delete(m, "payload") }), chain.ErrInvalidTx},
		{"payload null", edit(func(m map[string]any) { m["payload"] = nil }), chain.ErrBadPayload},
		{"payload array", edit(func(m map[string]any) { m["payload"] = []int{1} }), chain.ErrBadPayload},
		{"payload with float", edit(func(m map[string]any) { m["payload"] = map[string]any{"amount": 1.5} }), chain.ErrBadPayload},
		{"pubkey not hex", edit(func(m map[string]any) { m["pubkey"] = "zz" }), chain.ErrInvalidTx},
		{"signature not hex", edit(func(m map[string]any) { m["signature"] = "0x12" }), chain.ErrInvalidTx},
		{"nonce negative", edit(func(m map[string]any) { m["nonce"] = -1 }), chain.ErrInvalidTx},
		{"not an object", `[1,2]`, chain.ErrInvalidTx},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tx chain.Tx
			if err := json.Unmarshal([]byte(tc.json), &tx); !errors.Is(err, tc.want) {
				t.Fatalf("Unmarshal = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPayloadFromJSON(t *testing.T) {
	nest := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	tests := []struct {
		name string
		json string
		want string // hex of the canonical payload; "" means an error
	}{
		{"empty object", `{}`, "a0"},
		{"keys sorted by encoded form", `{"bb": 1, "a": 2, "c": 3}`, "a3" + "616102" + "616303" + "62626201"},
		{"negative integer", `{"n": -1}`, "a1616e20"},
		{"largest uint64", `{"n": 18446744073709551615}`, "a1616e1bffffffffffffffff"},
		{"smallest int64", `{"n": -9223372036854775808}`, "a1616e3b7fffffffffffffff"},
		{"shortest integer", `{"n": 1000}`, "a1616e1903e8"},
		{"nested values", `{"a": [true, null, "x", {}]}`, "a1616184f5f66178a0"},
		{"15 levels deep", nest(15), "?"},
		{"float", `{"amount": 1.5}`, ""},
		{"integral float", `{"amount": 10.0}`, ""},
		{"exponent", `{"amount": 1e3}`, ""},
		{"beyond uint64", `{"n": 18446744073709551616}`, ""},
		{"below int64", `{"n": -9223372036854775809}`, ""},
		{"16 levels deep", nest(16), ""},
		{"array at top", `[{"a": 1}]`, ""},
		{"string at top", `"x"`, ""},
		{"null at top", `null`, ""},
		{"number at top", `1`, ""},
		{"trailing object", `{} {}`, ""},
		{"trailing garbage", `{"a": 1} x`, ""},
		{"trailing comma", `{"a": 1,}`, ""},
		{"unterminated", `{"a": 1`, ""},
		{"empty input", ``, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := chain.PayloadFromJSON([]byte(tc.json))
			if tc.want == "" {
				if !errors.Is(err, chain.ErrBadPayload) {
					t.Fatalf("PayloadFromJSON = %x, %v; want ErrBadPayload", []byte(p), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("PayloadFromJSON = %v", err)
			}
			if tc.want != "?" && hex.EncodeToString(p) != tc.want {
				t.Fatalf("PayloadFromJSON = %x, want %s", []byte(p), tc.want)
			}
			// Whatever PayloadFromJSON accepts must survive the trip to
			// bytes inside a transaction and back to JSON.
			tx := &chain.Tx{ChainID: goldenChainID, App: "bank", Action: "send", Payload: p}
			tx.Sign(goldenKey(0))
			if _, err := chain.DecodeTx(tx.Encode()); err != nil {
				t.Fatalf("a transaction carrying the payload does not decode: %v", err)
			}
			j, err := chain.PayloadToJSON(p)
			if err != nil {
				t.Fatal(err)
			}
			again, err := chain.PayloadFromJSON(j)
			if err != nil || !bytes.Equal(again, p) {
				t.Fatalf("JSON round trip: %s -> %x, %v", j, []byte(again), err)
			}
		})
	}
}

func TestEncodePayload(t *testing.T) {
	type send struct {
		To     chain.Address `json:"to"`
		Amount uint64        `json:"amount"`
	}
	p, err := chain.EncodePayload(send{To: goldenAddr(1), Amount: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p, goldenTransfer(0, 1, 10, 0).Payload) {
		t.Fatalf("EncodePayload = %x, want the golden payload", []byte(p))
	}
}

// ExampleTx_Sign builds the golden transfer, signs it and shows its hash.
func ExampleTx_Sign() {
	key := goldenKey(0) // secret SHA-256("citychain golden key 0"), see testdata/golden
	payload, err := chain.PayloadFromJSON([]byte(`{"to": "city1cvr85x40gsn92emyy63z5p0hw876aqfhrtznwu", "amount": 10}`))
	if err != nil {
		panic(err)
	}
	tx := &chain.Tx{ChainID: "citychain-golden", App: "bank", Action: "send", Payload: payload, Nonce: 0}
	tx.Sign(key)

	fmt.Println("sender:", tx.Sender())
	fmt.Println("valid: ", tx.ValidateBasic("citychain-golden") == nil)
	fmt.Println("hash:  ", tx.Hash())
	// Output:
	// sender: city18ytlpf5e2487cypdyhfvaa52am9uxv3cpv6sl5
	// valid:  true
	// hash:   e58a361114d65eb98dcad8aaf98d79495679997079fa009a04dc5e0f5e473f83
}

// A float is refused wherever it sits in a payload, and the error names
// where, the first in key order when there are several.
func TestPayloadFloatIsNamed(t *testing.T) {
	fields := txFields(goldenTransfer(0, 1, 10, 0))
	for _, c := range []struct {
		payload orderedMap
		path    string
	}{
		{orderedMap{{"a", rawCBOR{0xfb, 0x43, 0xe1, 0x58, 0xe4, 0x60, 0x91, 0x3d, 0x00}}}, "payload.a"},
		{orderedMap{{"b", rawCBOR{0x82, 0x01, 0xfa, 0x3f, 0x80, 0x00, 0x00}}, {"c", rawCBOR{0xf9, 0x3c, 0x00}}}, "payload.b[1]"},
		{orderedMap{{"d", orderedMap{{"e", rawCBOR{0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}}}}}, "payload.d.e"},
	} {
		_, err := chain.DecodeTx(refEncode(fields.with("payload", c.payload)))
		if !errors.Is(err, chain.ErrDecode) || !strings.Contains(err.Error(), c.path+" is a floating-point number") {
			t.Errorf("payload %x: %v; want ErrDecode naming %s", refEncode(c.payload), err, c.path)
		}
	}
}
