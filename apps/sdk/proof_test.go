package sdk_test

import (
	"testing"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// proveApp is bank with one more query that returns a proof.
type proveApp struct{ *bank.App }

func (a proveApp) Query(q *chain.QueryContext, path []string, args map[string]string) (any, error) {
	if len(path) == 2 && path[0] == "proof" {
		addr, err := chain.ParseAddress(path[1])
		if err != nil {
			return nil, err
		}
		return sdk.Prove(q, append([]byte("bal/"), addr[:]...))
	}
	return a.App.Query(q, path, args)
}

func TestProvenVerifiesOnlyAgainstItsRoot(t *testing.T) {
	c, err := chaintest.New([]chain.App{proveApp{bank.New()}}, map[string]any{
		bank.Name: bank.GenesisState{Balances: []bank.GenesisBalance{{Address: chaintest.Addr("alice"), Amount: 42}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Query(bank.Name, "proof/"+chaintest.Addr("alice").String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := got.(*sdk.Proven)
	if err := p.Verify(c.Root); err != nil {
		t.Fatalf("honest proof refused: %v", err)
	}
	if err := p.Verify(chain.Hash{1}); err == nil {
		t.Fatal("proof accepted against another root")
	}
	p.Value = p.Value[:len(p.Value)-2] + "00"
	if err := p.Verify(c.Root); err == nil {
		t.Fatal("proof accepted for a changed value")
	}
	absent, err := c.Query(bank.Name, "proof/"+chaintest.Addr("nobody").String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ap := absent.(*sdk.Proven); ap.Value != "" || ap.Verify(c.Root) != nil {
		t.Fatalf("absence proof: %+v", ap)
	}
}
