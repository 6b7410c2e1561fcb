package node

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

// openDevHome builds a node over home and closes it again, returning the
// error of New.
func openDevHome(t *testing.T, home string) error {
	t.Helper()
	cfg, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.API.Listen = "127.0.0.1:0"
	n, err := New(Options{Home: home, Config: cfg, Logger: discardLogger()})
	if err != nil {
		return err
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	return nil
}

func TestGenesisEditedAfterFirstStartIsRefused(t *testing.T) {
	home := t.TempDir()
	if _, err := InitDevHome(home, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, GenesisFile)
	orig, err := chain.LoadGenesis(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := openDevHome(t, home); err != nil {
		t.Fatalf("first start: %v", err)
	}
	if err := openDevHome(t, home); err != nil {
		t.Fatalf("second start with the same genesis.json: %v", err)
	}

	edits := []struct {
		name string
		edit func(g *chain.Genesis)
		says string
	}{
		{"validator added", func(g *chain.Genesis) {
			pub := DevValidatorKey(1).PublicKey()
			g.Validators = append(g.Validators, chain.GenesisValidator{Name: "validator1",
				Address: chain.AddressOf(pub), PubKey: fmt.Sprintf("%x", pub.Bytes()), Power: 1})
		}, "validators differ"},
		{"validator power", func(g *chain.Genesis) { g.Validators[0].Power = 5 }, "validators differ"},
		{"time", func(g *chain.Genesis) { g.GenesisTime = g.GenesisTime.Add(time.Second) }, "genesis_time"},
		{"params", func(g *chain.Genesis) { p := chain.DefaultExecParams(); g.Params = &p }, "state root"},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			g, err := chain.LoadGenesis(path)
			if err != nil {
				t.Fatal(err)
			}
			e.edit(g)
			if err := g.Save(path); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := orig.Save(path); err != nil {
					t.Fatal(err)
				}
			})
			err = openDevHome(t, home)
			if err == nil {
				t.Fatal("a node started over data made with another genesis.json")
			}
			for _, want := range []string{"genesis.json differs from", "data folder", e.says} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
	if err := openDevHome(t, home); err != nil {
		t.Fatalf("start with genesis.json put back: %v", err)
	}
}

func TestSameGenesisNamesChainID(t *testing.T) {
	a := chain.Header{ChainID: "one", Time: 5}
	b := a
	if err := sameGenesis(a, b); err != nil {
		t.Fatalf("equal headers: %v", err)
	}
	b.ChainID = "two"
	err := sameGenesis(a, b)
	if err == nil || !strings.Contains(err.Error(), `chain_id "one" in the data, "two" in genesis.json`) {
		t.Fatalf("got %v", err)
	}
}
