package node

// The fuzz target of the bytes a client posts to POST /v1/txs as a
// batch: a JSON array of signed transactions, or a CBOR array of their
// encodings. The properties: no input panics, in decoding or in the
// checks and mempool behind it; a body that is not an array is an error;
// every item of an array either is a transaction or has an error of the
// chain's kinds, never both and never neither; and a transaction taken
// from a batch writes back to the same bytes (CBOR) or the same
// transaction (its JSON form). Run it for a while with
//
//	go test ./node/ -run '^$' -fuzz FuzzDecodeBatch -fuzztime 30s

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/citychain/citychain/chain"
)

func FuzzDecodeBatch(f *testing.F) {
	n := fuzzNode(f)
	to := DevAccounts()[9].Address
	one := sendTx(f, DevKey(1), n.ChainID(), 0, to, 1)
	two := sendTx(f, DevKey(1), n.ChainID(), 1, to, 1)
	forged := sendTx(f, DevKey(2), n.ChainID(), 0, to, 1)
	forged.Signature[3] ^= 1
	other := sendTx(f, DevKey(3), "elsewhere", 0, to, 1)
	jsonOf := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	for _, s := range []struct {
		body []byte
		cbor bool
	}{
		{jsonOf([]*chain.Tx{one, two}), false},
		{jsonOf([]*chain.Tx{one, forged, other}), false},
		{append(append([]byte("[{}, 1, null, "), jsonOf(one)...), ']'), false},
		{[]byte(`[]`), false},
		{[]byte(`  [ `), false},
		{[]byte(`{"txs": []}`), false},
		{chain.EncodeTxBatch([][]byte{one.Encode(), two.Encode()}), true},
		{chain.EncodeTxBatch([][]byte{one.Encode(), forged.Encode(), other.Encode(), {0xa0}, {}}), true},
		{chain.EncodeTxBatch([][]byte{one.Encode()[:30]}), true},
		{[]byte{0x80}, true},
		{[]byte{0x9f, 0x41, 0x00, 0xff}, true}, // an indefinite-length array
		{[]byte{0x81, 0x01}, true},             // an array of a number
		{jsonOf([]*chain.Tx{one}), true},       // JSON sent as CBOR
		{one.Encode(), true},
		{[]byte{}, true},
	} {
		f.Add(s.body, s.cbor)
	}
	f.Fuzz(func(t *testing.T, body []byte, cbor bool) {
		items, err := decodeBatch(body, cbor)
		if err != nil {
			if items != nil {
				t.Fatalf("an error (%v) with %d items", err, len(items))
			}
			return
		}
		for i, it := range items {
			if (it.tx == nil) == (it.err == nil) {
				t.Fatalf("item %d: transaction %v and error %v; want exactly one", i, it.tx != nil, it.err)
			}
			if it.err != nil {
				if !errors.Is(it.err, chain.ErrDecode) && !errors.Is(it.err, chain.ErrNonCanonical) &&
					!errors.Is(it.err, chain.ErrInvalidTx) && !errors.Is(it.err, chain.ErrBadPayload) {
					t.Fatalf("item %d: an error of no kind of the chain: %v", i, it.err)
				}
				continue
			}
			if cbor {
				if !bytes.Equal(it.raw, it.tx.Encode()) {
					t.Fatalf("item %d: decoded from %x, re-encodes to %x", i, it.raw, it.tx.Encode())
				}
				continue
			}
			j, err := json.Marshal(it.tx)
			if err != nil {
				t.Fatalf("item %d does not write back as JSON: %v", i, err)
			}
			var back chain.Tx
			if err := json.Unmarshal(j, &back); err != nil || !bytes.Equal(back.Encode(), it.tx.Encode()) {
				t.Fatalf("item %d changed on the JSON round trip (%v): %s", i, err, j)
			}
		}
		if len(items) > MaxBatchTxs {
			t.Fatalf("%d items decoded; a batch holds at most %d", len(items), MaxBatchTxs)
		}
		for i, c := range n.submitItems(items) {
			if items[i].err != nil && !errors.Is(c.err, items[i].err) {
				t.Fatalf("item %d: its decoding error %v was answered with %v", i, items[i].err, c.err)
			}
		}
	})
}
