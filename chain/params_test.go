package chain_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
	"github.com/citychain/citychain/chain/state"
)

// genesisJSON is a valid genesis file with params (a JSON fragment with
// its leading comma, or "") added.
func genesisJSON(params string) string {
	pub := chaintest.Key("validator").PublicKey()
	return fmt.Sprintf(`{"chain_id":"citychain-test","genesis_time":"2026-01-01T08:00:00Z",
		"validators":[{"address":"%s","pubkey":"%x","power":1}]%s,"app_state":{}}`,
		chain.AddressOf(pub), pub.Bytes(), params)
}

func TestGenesisParams(t *testing.T) {
	for _, tc := range []struct {
		name, params string
		want         *chain.ExecParams // nil: absent
		err          string            // part of the error, "" for none
	}{
		{"absent", ``, nil, ""},
		{"null", `,"params":null`, nil, ""},
		{"set", `,"params":{"max_tx_work":5000}`, &chain.ExecParams{MaxTxWork: 5000}, ""},
		{"zero", `,"params":{"max_tx_work":0}`, nil, "params.max_tx_work must be at least 1"},
		{"empty", `,"params":{}`, nil, "params.max_tx_work must be at least 1"},
		{"negative", `,"params":{"max_tx_work":-1}`, nil, "max_tx_work"},
		{"fraction", `,"params":{"max_tx_work":1.5}`, nil, "max_tx_work"},
		{"text", `,"params":{"max_tx_work":"many"}`, nil, "max_tx_work"},
		{"unknown field", `,"params":{"max_tx_work":5,"max_block_work":9}`, nil, `unknown field "max_block_work"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "genesis.json")
			if err := os.WriteFile(path, []byte(genesisJSON(tc.params)), 0o644); err != nil {
				t.Fatal(err)
			}
			g, err := chain.LoadGenesis(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (g.Params == nil) != (tc.want == nil) || (g.Params != nil && *g.Params != *tc.want) {
				t.Fatalf("params %+v, want %+v", g.Params, tc.want)
			}
		})
	}
}

// TestGenesisWithoutParamsStoresNothing: a genesis file without params
// saves without a "params" key and adds no state key, so existing files
// and state roots stay as they were; one with params stores them where
// the executor reads them.
func TestGenesisWithoutParamsStoresNothing(t *testing.T) {
	g := &chain.Genesis{ChainID: "citychain-test", GenesisTime: time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)}
	pub := chaintest.Key("validator").PublicKey()
	g.Validators = []chain.GenesisValidator{{Address: chain.AddressOf(pub), PubKey: fmt.Sprintf("%x", pub.Bytes()), Power: 1}}
	path := filepath.Join(t.TempDir(), "genesis.json")
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "params") {
		t.Fatalf("a genesis without params saved as:\n%s", b)
	}
	init := func(g *chain.Genesis) (*chain.Result, error) {
		exec, err := chain.NewExecutor(chain.ExecConfig{ChainID: g.ChainID, Tree: state.NewTree(state.Config{Store: memTree{}})})
		if err != nil {
			t.Fatal(err)
		}
		return exec.InitChain(g)
	}
	plain, err := init(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain.Changes) != 1 || string(plain.Changes[0].Key) != "c/validators" {
		t.Fatalf("genesis without params wrote %d keys, want only c/validators", len(plain.Changes))
	}
	if p, err := chain.LoadExecParams(changesReader(plain)); err != nil || p != chain.DefaultExecParams() {
		t.Fatalf("params of a chain without them: %+v, %v; want the defaults", p, err)
	}

	g.Params = &chain.ExecParams{MaxTxWork: 5000}
	withParams, err := init(g)
	if err != nil {
		t.Fatal(err)
	}
	if withParams.StateRoot == plain.StateRoot {
		t.Fatal("params did not change the genesis state")
	}
	if p, err := chain.LoadExecParams(changesReader(withParams)); err != nil || p.MaxTxWork != 5000 {
		t.Fatalf("stored params %+v, %v; want max_tx_work 5000", p, err)
	}

	g.Params = &chain.ExecParams{}
	if _, err := init(g); err == nil || !strings.Contains(err.Error(), "params.max_tx_work") {
		t.Fatalf("InitChain with a zero limit: %v", err)
	}
}

type memTree map[string][]byte

func (m memTree) Get(k []byte) ([]byte, error) { return m[string(k)], nil }

func changesReader(res *chain.Result) chain.MemReader {
	m := chain.MemReader{}
	for _, c := range res.Changes {
		m[string(c.Key)] = c.Value
	}
	return m
}
