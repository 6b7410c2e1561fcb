package chain_test

// Fuzz targets for everything that turns outside bytes into chain values.
// The properties: decoding never panics and fails only with the
// package's error kinds; what decodes re-encodes to exactly the input
// (one value, one encoding); the stateless checks never panic.
//
// Run one for a while with, for example,
//
//	go test ./chain/ -run '^$' -fuzz FuzzDecodeTx -fuzztime 60s
//
// The seeds in testdata/fuzz/ run as ordinary tests on every `go test`.
// They are written by TestFuzzSeedCorpus with -update; inputs the fuzzer
// finds to fail are added there by the go tool and should be kept.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
)

// txSeeds are encodings a fuzzer can start from: valid transactions and
// near misses of each decoding rule.
func txSeeds() map[string][]byte {
	tx := goldenTransfer(0, 1, 10, 0)
	f := txFields(tx)
	payload := orderedMap{{"to", goldenAddr(1).String()}, {"amount", uint64(10)}}
	deep, err := chain.PayloadFromJSON([]byte(strings.Repeat(`{"a":[`, 7) + "1" + strings.Repeat("]}", 7)))
	if err != nil {
		panic(err)
	}
	return map[string][]byte{
		"valid_transfer":        tx.Encode(),
		"valid_second_transfer": goldenTransfer(0, 2, 25, 1).Encode(),
		"unsigned":              refEncode(f.without("signature")),
		"deep_payload":          refEncode(f.with("payload", rawCBOR(deep))),
		"empty_payload":         refEncode(f.with("payload", orderedMap{})),
		"keys_out_of_order":     refEncode(f.swapped(0, 1)),
		"long_nonce":            refEncode(f.with("nonce", rawCBOR{0x1b, 0, 0, 0, 0, 0, 0, 0, 9})),
		"payload_out_of_order":  refEncode(f.with("payload", payload.swapped(0, 1))),
		"payload_not_map":       refEncode(f.with("payload", uint64(1))),
		"duplicate_key":         refEncode(append(f, kv{"app", "bank"})),
		"indefinite_map":        append(append([]byte{0xbf}, refEncode(f)[1:]...), 0xff),
		"truncated":             tx.Encode()[:40],
		"empty_map":             {0xa0},
		"empty_input":           {},
		"high_s":                refEncode(f.with("signature", highS(tx.Signature))),
		"float_in_payload":      refEncode(f.with("payload", rawCBOR{0xa1, 0x61, 'a', 0xf9, 0x3e, 0x00})),
		"bytes_in_payload":      refEncode(f.with("payload", orderedMap{{"b", []byte{1, 2}}})),
		"negative_in_payload":   refEncode(f.with("payload", orderedMap{{"n", int64(-5)}})),
		"big_negative_payload":  refEncode(f.with("payload", rawCBOR{0xa1, 0x61, 'n', 0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})),
		"undefined_in_payload":  refEncode(f.with("payload", rawCBOR{0xa1, 0x61, 'u', 0xf7})),
		"pubkey_40_bytes":       refEncode(f.with("pubkey", make([]byte, 40))),
	}
}

// blockSeeds are block encodings to start from.
func blockSeeds() map[string][]byte {
	h1, _, b2 := goldenChain()
	first := &chain.Block{Header: h1}
	noTxs := *b2
	noTxs.Txs = [][]byte{}
	return map[string][]byte{
		"valid_block_2":      b2.Encode(),
		"valid_block_1":      first.Encode(),
		"empty_txs_array":    noTxs.Encode(),
		"truncated":          b2.Encode()[:100],
		"header_only":        chain.MustEncode(&b2.Header),
		"commit_only":        b2.LastCommit.Encode(),
		"empty_map":          {0xa0},
		"txs_not_bytes":      refEncode(orderedMap{{"txs", []any{uint64(1)}}}),
		"zero_length_tx":     refEncode(orderedMap{{"txs", []any{[]byte{}}}, {"header", rawCBOR(chain.MustEncode(&b2.Header))}, {"last_commit", nil}}),
		"short_hash_in_head": refEncode(orderedMap{{"txs", []any{}}, {"header", orderedMap{{"time", uint64(0)}, {"tx_root", []byte{1}}}}, {"last_commit", nil}}),
	}
}

// checkErrKind fails unless err is one of the decoding error kinds.
func checkErrKind(t *testing.T, err error, kinds ...error) {
	t.Helper()
	for _, k := range kinds {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("error of an unexpected kind: %v", err)
}

func FuzzDecodeTx(f *testing.F) {
	for _, s := range txSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := chain.DecodeTx(b)
		if err != nil {
			checkErrKind(t, err, chain.ErrDecode, chain.ErrNonCanonical, chain.ErrInvalidTx)
			return
		}
		if again := tx.Encode(); !bytes.Equal(again, b) {
			t.Fatalf("decoded, but re-encodes differently:\n in %x\nout %x", b, again)
		}
		if tx.Hash() != chain.Sum(b) {
			t.Fatal("hash is not over the input bytes")
		}
		if err := tx.ValidateBasic(goldenChainID); err != nil {
			checkErrKind(t, err, chain.ErrWrongChain, chain.ErrInvalidTx)
		}
		_ = tx.SignBytes()
		_ = tx.Sender()
		// The JSON form need not exist for every decodable payload (CBOR
		// byte strings, for one, have no JSON twin), but producing it must
		// not panic, and when it reads back to the same payload the
		// transaction must come back byte for byte.
		j, err := json.Marshal(tx)
		if err != nil {
			return
		}
		var back chain.Tx
		if err := json.Unmarshal(j, &back); err != nil {
			return
		}
		if bytes.Equal(back.Payload, tx.Payload) && !bytes.Equal(back.Encode(), b) {
			t.Fatalf("JSON round trip changed the transaction: %s", j)
		}
	})
}

func FuzzDecodeBlock(f *testing.F) {
	for _, s := range blockSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := chain.DecodeBlock(b)
		if err != nil {
			checkErrKind(t, err, chain.ErrDecode, chain.ErrNonCanonical, chain.ErrInvalidBlock)
			return
		}
		if again := blk.Encode(); !bytes.Equal(again, b) {
			t.Fatalf("decoded, but re-encodes differently:\n in %x\nout %x", b, again)
		}
		if err := blk.ValidateBasic(goldenChainID); err != nil {
			checkErrKind(t, err, chain.ErrInvalidBlock)
		}
		_ = blk.Hash()
		_ = blk.TxHashes()
		_ = blk.LastCommit.Hash()
		for _, raw := range blk.Txs {
			if tx, err := chain.DecodeTx(raw); err == nil {
				_ = tx.ValidateBasic(goldenChainID)
			}
		}
		if blk.LastCommit != nil {
			_ = goldenValidators().VerifyCommit(goldenChainID, blk.Header.Height-1, blk.Header.PrevHash, blk.LastCommit)
		}
	})
}

func FuzzPayloadFromJSON(f *testing.F) {
	seeds := []string{
		fmt.Sprintf(`{"to": %q, "amount": 10}`, goldenAddr(1)),
		`{}`, `[]`, `null`, `"x"`, `1`, `{"a": 1.5}`, `{"a": 1e2}`, `{"a": -0}`,
		`{"a": [1, {"b": null}, true, "s"]}`, `{"a": 1} x`, `{"a": 1}{}`,
		`{"n": 18446744073709551615}`, `{"n": 18446744073709551616}`,
		`{"n": -9223372036854775808}`, `{"n": -9223372036854775809}`,
		`{"a": 1, "a": 2}`, `{"é": "\u00e9", "\ud800": "\udc00"}`, "{\"a\": \"\xff\"}",
		strings.Repeat(`{"a":`, 15) + "1" + strings.Repeat("}", 15),
		strings.Repeat(`{"a":[`, 8) + "1" + strings.Repeat("]}", 8),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := chain.PayloadFromJSON(b)
		if err != nil {
			checkErrKind(t, err, chain.ErrBadPayload)
			return
		}
		// What the JSON side accepts, a transaction must be able to carry.
		tx := &chain.Tx{ChainID: goldenChainID, App: "bank", Action: "send", Payload: p,
			PubKey: goldenKey(0).PublicKey().Bytes(), Signature: make([]byte, 64)}
		if enc := tx.Encode(); len(enc) <= chain.MaxTxSize {
			if _, err := chain.DecodeTx(enc); err != nil {
				t.Fatalf("payload from %q does not decode inside a transaction: %v", b, err)
			}
		}
		// And it converts back to JSON and again to the same bytes.
		j, err := chain.PayloadToJSON(p)
		if err != nil {
			t.Fatalf("PayloadToJSON: %v", err)
		}
		again, err := chain.PayloadFromJSON(j)
		if err != nil {
			t.Fatalf("PayloadFromJSON(PayloadToJSON(p)) = %v for %s", err, j)
		}
		if !bytes.Equal(again, p) {
			t.Fatalf("payload changed on the JSON round trip:\n%x\n%x", []byte(p), []byte(again))
		}
	})
}

// TestFuzzSeedCorpus writes the seeds above into testdata/fuzz in the go
// tool's corpus format when run with -update, and otherwise checks that
// every seed is there, so the files and the code cannot drift apart.
func TestFuzzSeedCorpus(t *testing.T) {
	for target, seeds := range map[string]map[string][]byte{
		"FuzzDecodeTx":    txSeeds(),
		"FuzzDecodeBlock": blockSeeds(),
	} {
		dir := filepath.Join("testdata", "fuzz", target)
		for name, b := range seeds {
			path := filepath.Join(dir, "seed_"+name)
			content := []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%+q)\n", b)) // ASCII-only quoting
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, content, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%v (run with -update)", err)
				continue
			}
			if !bytes.Equal(got, content) {
				t.Errorf("%s is out of date (run with -update)", path)
			}
		}
	}
}
