package node

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps"
	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// TestAPIListsEveryModule checks GET /v1/apps, from which the explorer
// links every module: all of apps.All() in their order, each link an
// explorer page or one of the module's own queries; and that a module's
// index answers at GET /v1/apps/{module}/.
func TestAPIListsEveryModule(t *testing.T) {
	_, api := testNode(t)
	var v AppsView
	if code := getJSON(t, api+"/v1/apps", &v); code != http.StatusOK {
		t.Fatalf("GET /v1/apps: %d", code)
	}
	var names, want []string
	for _, a := range v.Apps {
		names = append(names, a.Name)
		if a.Title == "" || len(a.Links) == 0 { // every module of this tree describes itself
			t.Errorf("%s: no title or no links (sdk.Explorer): %+v", a.Name, a)
		}
		for _, l := range a.Links {
			if l.Title == "" || !(strings.HasPrefix(l.Href, "#/") || strings.HasPrefix(l.Href, "/v1/apps/"+a.Name+"/")) {
				t.Errorf("%s: link %+v is neither an explorer page nor one of its queries", a.Name, l)
			}
		}
	}
	for _, a := range apps.All() {
		want = append(want, a.Name())
	}
	if !slices.Equal(names, want) {
		t.Fatalf("GET /v1/apps lists %v, want %v", names, want)
	}
	if b := v.Apps[0]; !slices.Contains(b.Links, sdk.Link{Title: "Total supply", Href: "/v1/apps/bank/supply"}) {
		t.Errorf("bank = %+v, want its supply link", b)
	}

	var ix sdk.Index
	if code := getJSON(t, api+"/v1/apps/bank/", &ix); code != http.StatusOK || ix.Module != "bank" || len(ix.Actions) == 0 || len(ix.Queries) == 0 {
		t.Errorf("GET /v1/apps/bank/: %d %+v", code, ix)
	}
}

// TestBlockViewIsTheHeaderJSON checks that GET /v1/blocks/{h} shows the
// header as chain.HeaderJSON under the field names the API has always
// used, and that the header it describes hashes to the block hash.
func TestBlockViewIsTheHeaderJSON(t *testing.T) {
	n, api := testNode(t)
	tx := sendTx(t, DevKey(0), n.ChainID(), 0, chain.AddressOf(DevKey(1).PublicKey()), 1)
	if a := post(t, api+"/v1/txs?wait=commit", mustJSON(t, tx)); a.status != http.StatusOK {
		t.Fatalf("submit: %d %s", a.status, a.body)
	}
	var raw map[string]json.RawMessage
	if code := getJSON(t, api+"/v1/blocks/latest", &raw); code != http.StatusOK {
		t.Fatalf("GET /v1/blocks/latest: %d", code)
	}
	for _, k := range []string{"hash", "chain_id", "height", "time", "time_ms", "prev_hash", "tx_root", "state_root",
		"receipts_root", "proposer", "validators_hash", "last_commit_hash", "evidence_hash", "txs", "evidence", "commit", "last_commit"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("block JSON has no %q", k)
		}
	}
	var b BlockView
	getJSON(t, api+"/v1/blocks/latest", &b)
	h, err := b.Header()
	if err != nil {
		t.Fatal(err)
	}
	if h.Hash() != b.Hash || b.Hash.IsZero() || h.Time != b.Time.UnixMilli() {
		t.Errorf("header %+v does not hash to the block hash %s", h, b.Hash)
	}
	stored, err := n.store.Block(b.Height)
	if err != nil {
		t.Fatal(err)
	}
	if *h != stored.Header {
		t.Errorf("header from JSON %+v, stored %+v", h, stored.Header)
	}
}
