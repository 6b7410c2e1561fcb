package commerce_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/commerce"
	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// The module offers what the chain and the CLI look for.
var (
	_ chain.App                = (*commerce.App)(nil)
	_ chain.GenesisInitializer = (*commerce.App)(nil)
	_ chain.EndBlocker         = (*commerce.App)(nil)
	_ sdk.CLI                  = (*commerce.App)(nil)
)

func TestBadPayloadsAreRefusedBeforeState(t *testing.T) {
	app := commerce.New(nil)
	long := strings.Repeat("x", commerce.MaxItem+1)
	cases := []struct {
		name, action, json string
		want               error
	}{
		{"no item", "list_offer", `{"item":"","price":1,"stock":1}`, chain.ErrBadPayload},
		{"long item", "list_offer", `{"item":"` + long + `","price":1,"stock":1}`, chain.ErrBadPayload},
		{"item with a tab", "list_offer", `{"item":"a\tb","price":1,"stock":1}`, chain.ErrBadPayload},
		{"item with spaces around", "list_offer", `{"item":" tea ","price":1,"stock":1}`, chain.ErrBadPayload},
		{"zero price", "list_offer", `{"item":"tea","price":0,"stock":1}`, chain.ErrBadPayload},
		{"negative price", "list_offer", `{"item":"tea","price":-1,"stock":1}`, chain.ErrBadPayload},
		{"price as a string", "list_offer", `{"item":"tea","price":"1","stock":1}`, chain.ErrBadPayload},
		{"zero stock", "list_offer", `{"item":"tea","price":1,"stock":0}`, chain.ErrBadPayload},
		{"unknown field", "list_offer", `{"item":"tea","price":1,"stock":1,"colour":"red"}`, chain.ErrBadPayload},
		{"zero quantity", "place_order", `{"offer":1,"quantity":0}`, chain.ErrBadPayload},
		{"no offer", "place_order", `{"quantity":1}`, chain.ErrBadPayload},
		{"no tracking", "ship", `{"order":1}`, chain.ErrBadPayload},
		{"order 0", "confirm", `{"order":0}`, chain.ErrBadPayload},
		{"dispute without a reason", "dispute", `{"order":1}`, chain.ErrBadPayload},
		{"settle without an outcome", "settle", `{"order":1}`, chain.ErrBadPayload},
		{"settle by coin toss", "settle", `{"order":1,"outcome":"coin toss"}`, chain.ErrBadPayload},
		{"unknown action", "refund", `{"order":1}`, chain.ErrUnknownAction},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := chain.PayloadFromJSON([]byte(tc.json))
			if err != nil {
				if errors.Is(err, tc.want) {
					return // refused even earlier, when the JSON became a payload
				}
				t.Fatal(err)
			}
			if err := app.Check(tc.action, p); !errors.Is(err, tc.want) {
				t.Errorf("Check = %v, want %v", err, tc.want)
			}
		})
	}
	good := map[string]string{
		"list_offer":  `{"item":"Coffee beans 1 kg","price":12,"stock":40}`,
		"place_order": `{"offer":1,"quantity":2}`,
		"ship":        `{"order":1,"tracking":"PARCEL-0042"}`,
		"mark_pickup": `{"order":1}`,
		"confirm":     `{"order":1}`,
		"cancel":      `{"order":1,"reason":"ordered twice"}`,
		"dispute":     `{"order":1,"reason":"arrived empty"}`,
		"settle":      `{"order":1,"outcome":"refund","note":"carrier confirms loss"}`,
	}
	for action, js := range good {
		p, err := chain.PayloadFromJSON([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		if err := app.Check(action, p); err != nil {
			t.Errorf("Check(%s, %s) = %v", action, js, err)
		}
	}
}

func TestGenesis(t *testing.T) {
	start := func(g any) error {
		_, err := chaintest.New(withBank(), map[string]any{commerce.Name: g})
		return err
	}
	ok := []struct {
		name string
		g    any
	}{
		{"default", commerce.DefaultGenesis()},
		{"dev", commerce.DevGenesis(addr("judge"))},
		{"only the arbiter", json.RawMessage(`{"arbiter":"` + addr("judge").String() + `"}`)},
		{"empty", json.RawMessage(`{}`)},
		{"null", nil},
	}
	for _, tc := range ok {
		if err := start(tc.g); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	bad := []struct{ name, json, words string }{
		{"no timeout", `{"release_after_blocks":0}`, "release_after_blocks"},
		{"endless timeout", `{"release_after_blocks":1000001}`, "release_after_blocks"},
		{"free goods only", `{"max_price":0}`, "max_price"},
		{"no stock allowed", `{"max_stock":0}`, "max_stock"},
		{"bounds that overflow", `{"max_price":18446744073709551615,"max_stock":2}`, "overflow"},
		{"bad arbiter", `{"arbiter":"city1nope"}`, "arbiter"},
		{"the escrow as arbiter", `{"arbiter":"` + commerce.EscrowAddress.String() + `"}`, "escrow"},
		{"unknown field", `{"release_after":5}`, "release_after"},
	}
	for _, tc := range bad {
		if err := start(json.RawMessage(tc.json)); err == nil || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("%s: error %v, want one about %s", tc.name, err, tc.words)
		}
	}

	// The dev genesis names the arbiter and a short timeout; the default
	// leaves the arbiter out of the JSON altogether.
	dev := commerce.DevGenesis(addr("judge"))
	if dev.Arbiter != addr("judge") || dev.ReleaseAfterBlocks != commerce.DevReleaseAfterBlocks {
		t.Errorf("dev genesis %+v", dev)
	}
	raw, _ := json.Marshal(commerce.DefaultGenesis())
	if want := `{"release_after_blocks":100,"max_price":1000000000000,"max_stock":1000000}`; string(raw) != want {
		t.Errorf("default genesis JSON %s, want %s", raw, want)
	}
}
