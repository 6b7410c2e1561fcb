package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

// postAs posts body with a content type.
func postAs(t *testing.T, url, ctype string, body []byte) answer {
	t.Helper()
	resp, err := http.Post(url, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, b}
}

// A batch is answered per transaction, in order: dev0's three transfers
// with consecutive nonces enter the pool together, a forged one and one
// that is not a transaction are refused with the codes a single
// submission would get, and the good ones commit.
func TestBatchIsAnsweredPerTransaction(t *testing.T) {
	n, url := testNode(t)
	to := DevAccounts()[1].Address
	good := []*chain.Tx{
		sendTx(t, DevKey(0), n.ChainID(), 0, to, 1),
		sendTx(t, DevKey(0), n.ChainID(), 1, to, 2),
		sendTx(t, DevKey(0), n.ChainID(), 2, to, 3),
	}
	forged := sendTx(t, DevKey(2), n.ChainID(), 0, to, 4)
	forged.Signature[3] ^= 1
	items := []json.RawMessage{mustJSON(t, good[0]), mustJSON(t, good[1]), mustJSON(t, forged),
		json.RawMessage(`{"app": 7}`), mustJSON(t, good[2])}
	a := post(t, url+"/v1/txs", mustJSON(t, items))
	if a.status != http.StatusOK {
		t.Fatalf("batch: %d %s", a.status, a.body)
	}
	var res []BatchResult
	if err := json.Unmarshal(a.body, &res); err != nil {
		t.Fatal(err)
	}
	want := []string{"", "", "bad_signature", "invalid_tx", ""}
	if len(res) != len(want) {
		t.Fatalf("%d results for 5 transactions: %s", len(res), a.body)
	}
	for i, w := range want {
		got := ""
		if res[i].Error != nil {
			got = res[i].Error.Code
		}
		if got != w {
			t.Errorf("transaction %d: error %q, want %q (%s)", i, got, w, a.body)
		}
	}
	if res[4].Hash != good[2].Hash() || res[0].Hash != good[0].Hash() {
		t.Error("results are not in the order sent")
	}
	for _, tx := range good {
		var v TxView
		waitFor(t, 10*time.Second, "the batch's transfers commit", func() bool {
			return getJSON(t, url+"/v1/txs/"+tx.Hash().String(), &v) == http.StatusOK
		})
	}
}

// The same batch in CBOR: an array of canonical transaction encodings.
func TestBatchInCBOR(t *testing.T) {
	n, url := testNode(t)
	to := DevAccounts()[1].Address
	var items [][]byte
	for i := range 20 {
		items = append(items, sendTx(t, DevKey(3), n.ChainID(), uint64(i), to, 1).Encode())
	}
	a := postAs(t, url+"/v1/txs", "application/cbor", chain.MustEncode(items))
	if a.status != http.StatusOK {
		t.Fatalf("CBOR batch: %d %s", a.status, a.body)
	}
	var res []BatchResult
	if err := json.Unmarshal(a.body, &res); err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Error != nil || r.Hash != chain.Sum(items[i]) {
			t.Fatalf("transaction %d: %+v", i, r)
		}
	}
	if len(res) != 20 {
		t.Fatalf("%d results for 20", len(res))
	}
}

// What is refused as a whole, with the reason named.
func TestBatchRefusals(t *testing.T) {
	n, url := testNode(t)
	tx := sendTx(t, DevKey(0), n.ChainID(), 0, DevAccounts()[1].Address, 1)
	one := mustJSON(t, []*chain.Tx{tx})
	cases := []struct {
		name, path, ctype string
		body              []byte
		status            int
		code, says        string
	}{
		{"wait=commit on a batch", "/v1/txs?wait=commit", "application/json", one, 400, "bad_wait", "one transaction"},
		{"an array of something else", "/v1/txs", "application/json", []byte(`[1, 2`), 400, "bad_batch", "JSON array"},
		{"CBOR that is not an array", "/v1/txs", "application/cbor", []byte{0x01}, 400, "bad_batch", "CBOR array"},
		{"too many transactions", "/v1/txs", "application/json",
			[]byte("[" + strings.Repeat("{},", MaxBatchTxs) + "{}]"), 413, "too_large", "limit is"},
		{"too many transactions in CBOR", "/v1/txs", "application/cbor",
			tinyCBORBatch(MaxBatchTxs + 1), 413, "too_large", "limit is"},
		{"data after the array", "/v1/txs", "application/json",
			append(append([]byte(nil), one...), " {}"...), 400, "bad_batch", "after the array"},
		{"one transaction over its own limit", "/v1/txs", "application/json",
			append([]byte(`{"memo": "`), append(bytes.Repeat([]byte("x"), MaxBodyBytes), '"', '}')...), 413, "too_large", "one transaction"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := postAs(t, url+c.path, c.ctype, c.body)
			if a.status != c.status || a.code() != c.code || !strings.Contains(string(a.body), c.says) {
				t.Fatalf("got %d %s, want %d %s saying %q", a.status, a.body, c.status, c.code, c.says)
			}
		})
	}
}

// A body of millions of tiny elements is refused at the first element
// past the limit, before any is decoded as a transaction: its cost stays
// near the body's own size, not a copy and an error per element.
func TestBatchOfTinyElementsCostsLittle(t *testing.T) {
	body := append([]byte("["), bytes.Repeat([]byte("0,"), MaxBatchBytes/2-2)...)
	body = append(body, "0]"...)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	items, err := decodeBatch(body, false)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, errBatchTooLong) || items != nil {
		t.Fatalf("got %d items and %v; want errBatchTooLong", len(items), err)
	}
	if used := after.TotalAlloc - before.TotalAlloc; used > 4<<20 {
		t.Fatalf("refusing a batch of %d elements allocated %d bytes; want under 4 MiB", MaxBatchBytes/2, used)
	}
}

// tinyCBORBatch is a CBOR batch of n one-byte strings.
func tinyCBORBatch(n int) []byte {
	raws := make([][]byte, n)
	for i := range raws {
		raws[i] = []byte{0}
	}
	return chain.EncodeTxBatch(raws)
}
