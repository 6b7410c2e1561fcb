package node

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/citychain/citychain/chain"
)

// getCBORBlock asks for GET /v1/blocks/{height} with the given Accept
// header and returns the status, content type and body.
func getCBORBlock(t *testing.T, url, accept string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

func TestBlockAnswersInCBORWhenAsked(t *testing.T) {
	n, api := testNode(t)
	to := chain.AddressOf(DevKey(1).PublicKey())
	tx := sendTx(t, DevKey(0), n.ChainID(), 0, to, 10)
	if a := post(t, api+"/v1/txs?wait=commit", mustJSON(t, tx)); a.status != http.StatusOK {
		t.Fatalf("submit: %d %s", a.status, a.body)
	}
	var view BlockView
	getJSON(t, api+"/v1/blocks/latest", &view)

	for _, accept := range []string{"application/cbor", "application/json;q=0.5, application/cbor"} {
		status, ctype, body := getCBORBlock(t, api+"/v1/blocks/latest", accept)
		if status != http.StatusOK || ctype != "application/cbor" {
			t.Fatalf("Accept %q: %d %q %s", accept, status, ctype, body)
		}
		b, c, err := DecodeBlockAnswer(body)
		if err != nil {
			t.Fatalf("Accept %q: %v", accept, err)
		}
		if b.Hash() != view.Hash || b.Header.Height != view.Height || len(b.Txs) != 1 || chain.Sum(b.Txs[0]) != tx.Hash() {
			t.Fatalf("Accept %q: block %d %s with %d txs, the JSON view shows %d %s", accept, b.Header.Height, b.Hash(), len(b.Txs), view.Height, view.Hash)
		}
		if c == nil || c.BlockHash != view.Hash || len(c.Signatures) != 1 {
			t.Fatalf("Accept %q: commit %+v", accept, c)
		}
		vals, err := n.validatorsFor(b.Header.Height)
		if err != nil {
			t.Fatal(err)
		}
		if err := vals.VerifyCommit(n.ChainID(), b.Header.Height, b.Hash(), c); err != nil {
			t.Fatalf("Accept %q: the served commit does not verify: %v", accept, err)
		}
	}

	// Genesis has no commit; JSON stays the default; a missing block is
	// still a JSON 404.
	status, _, body := getCBORBlock(t, api+"/v1/blocks/0", "application/cbor")
	if b, c, err := DecodeBlockAnswer(body); status != http.StatusOK || err != nil || b.Header.Height != 0 || c != nil {
		t.Fatalf("genesis: %d %v, commit %v", status, err, c)
	}
	if status, ctype, _ := getCBORBlock(t, api+"/v1/blocks/latest", "application/json"); status != http.StatusOK || ctype != "application/json" {
		t.Fatalf("JSON asked: %d %q", status, ctype)
	}
	if status, ctype, _ := getCBORBlock(t, api+"/v1/blocks/999999", "application/cbor"); status != http.StatusNotFound || ctype != "application/json" {
		t.Fatalf("missing block: %d %q, want a JSON 404", status, ctype)
	}
}

func TestDecodeBlockAnswerRefusesWhatDoesNotBelongTogether(t *testing.T) {
	n, api := testNode(t)
	tx := sendTx(t, DevKey(0), n.ChainID(), 0, chain.AddressOf(DevKey(1).PublicKey()), 1)
	if a := post(t, api+"/v1/txs?wait=commit", mustJSON(t, tx)); a.status != http.StatusOK {
		t.Fatalf("submit: %d %s", a.status, a.body)
	}
	h := n.store.Latest().Height
	raw, rawCommit, err := n.store.EncodedBlock(h)
	if err != nil {
		t.Fatal(err)
	}
	gen, _, err := n.store.EncodedBlock(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := DecodeBlockAnswer(EncodeBlockAnswer(raw, rawCommit)); err != nil {
		t.Fatalf("the stored block and its commit: %v", err)
	}
	for name, data := range map[string][]byte{
		"not CBOR":                 []byte("{}"),
		"one part":                 chain.MustEncode([][]byte{raw}),
		"three parts":              chain.MustEncode([][]byte{raw, rawCommit, rawCommit}),
		"no commit":                EncodeBlockAnswer(raw, nil),
		"another block's commit":   EncodeBlockAnswer(gen, rawCommit),
		"a commit that is no CBOR": EncodeBlockAnswer(raw, []byte{0xff}),
		"a block that is no block": EncodeBlockAnswer([]byte{0xa0}, rawCommit),
		"a truncated answer":       EncodeBlockAnswer(raw, rawCommit)[:len(raw)/2],
	} {
		if b, c, err := DecodeBlockAnswer(data); err == nil || b != nil || c != nil {
			t.Errorf("%s: decoded (%v, %v) with error %v", name, b != nil, c != nil, err)
		}
	}
}

// FuzzDecodeBlockAnswer fuzzes what a client reads from a node in the
// CBOR answer of GET /v1/blocks/{height}. The properties: no input
// panics; an answer either decodes to a block (with a commit of that very
// block, or none at height 0) or is an error with nothing else; and what
// decodes writes back to the same bytes.
//
//	go test ./node/ -run '^$' -fuzz FuzzDecodeBlockAnswer -fuzztime 30s
func FuzzDecodeBlockAnswer(f *testing.F) {
	n := fuzzNode(f) // holds block 1 with one transfer
	raw, rawCommit, err := n.store.EncodedBlock(1)
	if err != nil {
		f.Fatal(err)
	}
	gen, _, err := n.store.EncodedBlock(0)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{
		EncodeBlockAnswer(raw, rawCommit),
		EncodeBlockAnswer(gen, nil),
		EncodeBlockAnswer(gen, rawCommit),
		EncodeBlockAnswer(raw, nil),
		chain.MustEncode([][]byte{raw}),
		{0x80}, {0x82, 0x40, 0x40}, {},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, c, err := DecodeBlockAnswer(data)
		if err != nil {
			if b != nil || c != nil {
				t.Fatalf("an error (%v) with a block or commit", err)
			}
			return
		}
		if b == nil || (c == nil) != (b.Header.Height == 0) {
			t.Fatalf("block %v, commit %v: want a block, and a commit unless at height 0", b != nil, c != nil)
		}
		var commit []byte
		if c != nil {
			if c.BlockHash != b.Hash() || c.Height != b.Header.Height {
				t.Fatalf("the commit of block %d %s came with block %d %s", c.Height, c.BlockHash, b.Header.Height, b.Hash())
			}
			commit = c.Encode()
		}
		if again := EncodeBlockAnswer(b.Encode(), commit); !bytes.Equal(again, data) {
			t.Fatalf("decoded answer writes back to other bytes")
		}
	})
}
