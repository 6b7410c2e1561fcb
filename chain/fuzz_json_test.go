package chain_test

// The fuzz target of the JSON form of a transaction, as POST /v1/txs and
// `citychain tx submit` read it from a client: no panic, errors of the
// package's kinds (or the JSON package's own, for text that is not one
// JSON value), and what is taken writes back to a JSON form that reads
// back to the same transaction.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
)

// txJSONSeeds are JSON bodies a client sends: a transfer as `citychain tx
// --offline` prints it, and near misses of each rule of the form.
func txJSONSeeds() []string {
	valid, err := json.Marshal(goldenTransfer(0, 1, 10, 0))
	if err != nil {
		panic(err)
	}
	v := string(valid)
	field := func(name, value string) string {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(valid, &m); err != nil {
			panic(err)
		}
		if value == "" {
			delete(m, name)
		} else {
			m[name] = json.RawMessage(value)
		}
		b, err := json.Marshal(m)
		if err != nil {
			panic(err)
		}
		return string(b)
	}
	return []string{
		v,
		strings.ReplaceAll(v, `"nonce":0`, `"nonce":18446744073709551615`),
		strings.ReplaceAll(v, `"nonce":0`, `"nonce":18446744073709551616`),
		strings.ReplaceAll(v, `"nonce":0`, `"nonce":-1`),
		strings.ReplaceAll(v, `"nonce":0`, `"nonce":1.5`),
		field("payload", ""),
		field("payload", `null`),
		field("payload", `[1,2]`),
		field("payload", `{"a":1.5}`),
		field("payload", `{"a":{"b":{"c":[true,null,"s",-3]}}}`),
		field("pubkey", `"zz"`),
		field("pubkey", `"abc"`),
		field("pubkey", `"ABCDEF"`),
		field("signature", `""`),
		field("signature", ""),
		field("extra", `1`),
		field("chain_id", `"\ud800"`),
		field("app", `7`),
		v + " ",
		v + "{}",
		`{}`, `null`, `[]`, `""`, `{"payload":{}}`,
		`{"chain_id":"a","chain_id":"b","payload":{}}`,
		fmt.Sprintf(`{"payload":%s1%s}`, strings.Repeat(`{"a":`, 20), strings.Repeat("}", 20)),
	}
}

func FuzzTxFromJSON(f *testing.F) {
	for _, s := range txJSONSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var tx chain.Tx
		if err := json.Unmarshal(b, &tx); err != nil {
			var syntax *json.SyntaxError
			if !errors.As(err, &syntax) {
				checkErrKind(t, err, chain.ErrInvalidTx, chain.ErrBadPayload)
			}
			return
		}
		_ = tx.ValidateBasic(goldenChainID)
		_ = tx.Sender()
		j, err := json.Marshal(&tx)
		if err != nil {
			t.Fatalf("a transaction read from %q does not write back as JSON: %v", b, err)
		}
		var back chain.Tx
		if err := json.Unmarshal(j, &back); err != nil {
			t.Fatalf("the JSON written for %q does not read back: %v\n%s", b, err, j)
		}
		if !bytes.Equal(back.Encode(), tx.Encode()) {
			t.Fatalf("the transaction changed on the JSON round trip:\n in %s\nout %s", b, j)
		}
		if again, err := json.Marshal(&back); err != nil || !bytes.Equal(again, j) {
			t.Fatalf("the JSON form is not stable: %v\n%s\n%s", err, j, again)
		}
		// The canonical bytes either decode to the same transaction or
		// are refused, by DecodeTx's own rules, with its error kinds.
		enc := tx.Encode()
		if dec, err := chain.DecodeTx(enc); err != nil {
			checkErrKind(t, err, chain.ErrDecode, chain.ErrNonCanonical, chain.ErrInvalidTx)
		} else if !bytes.Equal(dec.Encode(), enc) {
			t.Fatalf("DecodeTx(Encode()) re-encodes differently for %q", b)
		}
	})
}
