package node

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/citychain/citychain/chain"
)

// hexUint decodes a hex state value holding an 8-byte big-endian integer,
// the form of balances and nonces; absent ("") is zero.
func hexUint(t *testing.T, s string) uint64 {
	t.Helper()
	if s == "" {
		return 0
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 8 {
		t.Fatalf("value %q is not an 8-byte integer", s)
	}
	return binary.BigEndian.Uint64(b)
}

// TestBlockChangesShowATransfer sends a transfer from A to B and reads
// the block's changes: A's and B's balances and A's nonce, nothing else.
func TestBlockChangesShowATransfer(t *testing.T) {
	n, api := testNode(t)
	alice, bob := chain.AddressOf(DevKey(0).PublicKey()), chain.AddressOf(DevKey(1).PublicKey())
	a := post(t, api+"/v1/txs?wait=commit", mustJSON(t, sendTx(t, DevKey(0), n.ChainID(), 0, bob, 10)))
	if a.status != http.StatusOK {
		t.Fatalf("submit: %d %s", a.status, a.body)
	}
	var sa SubmitAnswer
	if err := json.Unmarshal(a.body, &sa); err != nil || sa.Receipt == nil {
		t.Fatalf("submit answer %s: %v", a.body, err)
	}
	h := sa.Receipt.Height

	var v BlockChangesView
	if code := getJSON(t, fmt.Sprintf("%s/v1/blocks/%d/changes", api, h), &v); code != http.StatusOK {
		t.Fatalf("changes: status %d", code)
	}
	var block, parent BlockView
	getJSON(t, fmt.Sprintf("%s/v1/blocks/%d", api, h), &block)
	getJSON(t, fmt.Sprintf("%s/v1/blocks/%d", api, h-1), &parent)
	if v.Height != h || v.StateRoot != block.StateRoot || v.PrevStateRoot != parent.StateRoot || v.Truncated {
		t.Errorf("view = height %d, roots %s -> %s, truncated %v; want %d, %s -> %s, false",
			v.Height, v.PrevStateRoot, v.StateRoot, v.Truncated, h, parent.StateRoot, block.StateRoot)
	}

	want := []struct {
		name      string
		key       []byte
		app, path string
		old, new  uint64
	}{ // in key order: "a/..." before "c/..."
		{"A's balance", append([]byte("a/bank/bal/"), alice[:]...), "bank", "bal/0x" + hex.EncodeToString(alice[:]), DevBalance, DevBalance - 10},
		{"B's balance", append([]byte("a/bank/bal/"), bob[:]...), "bank", "bal/0x" + hex.EncodeToString(bob[:]), DevBalance, DevBalance + 10},
		{"A's nonce", append([]byte("c/nonce/"), alice[:]...), "chain", "nonce/0x" + hex.EncodeToString(alice[:]), 0, 1},
	}
	if alice[0] > bob[0] {
		want[0], want[1] = want[1], want[0]
	}
	if len(v.Changes) != len(want) {
		t.Fatalf("%d changes, want %d: %+v", len(v.Changes), len(want), v.Changes)
	}
	for i, w := range want {
		c := v.Changes[i]
		if c.Key != hex.EncodeToString(w.key) || c.App != w.app || c.Path != w.path {
			t.Errorf("%s: key %s (%s %s), want %x (%s %s)", w.name, c.Key, c.App, c.Path, w.key, w.app, w.path)
		}
		if got, want := hexUint(t, c.Old), w.old; got != want {
			t.Errorf("%s: old %d, want %d", w.name, got, want)
		}
		if got, want := hexUint(t, c.New), w.new; got != want {
			t.Errorf("%s: new %d, want %d", w.name, got, want)
		}
		if c.OldJSON != nil || c.NewJSON != nil {
			t.Errorf("%s: raw integers decoded as JSON: %s, %s", w.name, c.OldJSON, c.NewJSON)
		}
	}
	if v.Changes[2].Old != "" {
		t.Errorf("A's first nonce: old %q, want absent", v.Changes[2].Old)
	}

	var latest BlockChangesView
	if code := getJSON(t, api+"/v1/blocks/latest/changes", &latest); code != http.StatusOK {
		t.Fatalf("latest: status %d", code)
	}
	if latest.Height != n.store.Latest().Height || latest.StateRoot != n.store.Latest().StateRoot {
		t.Errorf("latest = height %d root %s, want %d %s", latest.Height, latest.StateRoot,
			n.store.Latest().Height, n.store.Latest().StateRoot)
	}
}

// TestBlockChangesOfGenesis reads height 0: the whole genesis state,
// from the empty tree, with the validator set decoded from CBOR.
func TestBlockChangesOfGenesis(t *testing.T) {
	_, api := testNode(t)
	var v BlockChangesView
	if code := getJSON(t, api+"/v1/blocks/0/changes", &v); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if v.PrevStateRoot != (chain.Hash{}) || len(v.Changes) == 0 {
		t.Fatalf("genesis: prev root %s, %d changes; want the empty root and some", v.PrevStateRoot, len(v.Changes))
	}
	var vals *ChangeView
	for i, c := range v.Changes {
		if c.Old != "" || c.New == "" {
			t.Errorf("genesis change %s: old %q new %q; want only new values", c.Key, c.Old, c.New)
		}
		if i > 0 && v.Changes[i-1].Key >= c.Key { // hex keeps the byte order
			t.Errorf("changes out of key order at %d", i)
		}
		if c.App == "chain" && c.Path == "validators" {
			vals = &v.Changes[i]
		}
	}
	if vals == nil {
		t.Fatal("no change of the validator set (chain validators)")
	}
	var set struct {
		Validators []map[string]any `json:"validators"`
	}
	if err := json.Unmarshal(vals.NewJSON, &set); err != nil || len(set.Validators) == 0 {
		t.Errorf("validator set new_json %s: %v; want its validators", vals.NewJSON, err)
	}
}

func TestBlockChangesErrors(t *testing.T) {
	_, api := testNode(t)
	tests := []struct {
		name, height string
		status       int
		code         string
	}{
		{"above the head", "999999", http.StatusNotFound, "not_found"},
		{"not a number", "abc", http.StatusBadRequest, "bad_height"},
		{"negative", "-1", http.StatusBadRequest, "bad_height"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e APIError
			if code := getJSON(t, api+"/v1/blocks/"+tc.height+"/changes", &e); code != tc.status || e.Error.Code != tc.code {
				t.Errorf("status %d code %q, want %d %q (%s)", code, e.Error.Code, tc.status, tc.code, e.Error.Message)
			}
		})
	}
}

func TestDescribeKey(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		app, path string
	}{
		{"app key with text", "a/city/dev/lamp-7", "city", "dev/lamp-7"},
		{"app key with binary tail", "a/bank/bal/\x01\xff", "bank", "bal/0x01ff"},
		{"app key, only binary", "a/trace/\x00\x01", "trace", "0x0001"},
		{"chain key", "c/validators", "chain", "validators"},
		{"binary part starting with printable bytes", "a/bank/bal/s,\x91", "bank", "bal/0x732c91"},
		{"text, then a binary part", "a/city/hist/lamp-7/\x00\x01", "city", "hist/lamp-7/0x0001"},
		{"a key of no known layout", "zz\x7f", "", "0x7a7a7f"},
		{"a/ without an app", "a/noslash", "", "a/noslash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app, path := describeKey([]byte(tc.key))
			if app != tc.app || path != tc.path {
				t.Errorf("describeKey(%q) = %q, %q; want %q, %q", tc.key, app, path, tc.app, tc.path)
			}
		})
	}
}

func TestValueJSON(t *testing.T) {
	tests := []struct {
		name  string
		value []byte
		want  string
	}{
		{"a map", chain.MustEncode(map[string]any{"b": 2, "a": "x"}), `{"a":"x","b":2}`},
		{"a list with bytes", chain.MustEncode([]any{[]byte{1, 2}, 3}), `["0102",3]`},
		{"an 8-byte integer", binary.BigEndian.AppendUint64(nil, 1000), ""},
		{"a small CBOR integer", []byte{0x05}, ""},
		{"a map, not canonical", []byte{0xa2, 0x61, 'b', 0x01, 0x61, 'a', 0x02}, ""},
		{"a map and trailing bytes", append(chain.MustEncode(map[string]int{"a": 1}), 0), ""},
		{"text", []byte("hello"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(valueJSON(tc.value)); got != tc.want {
				t.Errorf("valueJSON(%x) = %s, want %q", tc.value, got, tc.want)
			}
		})
	}
}
