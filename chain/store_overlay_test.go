package chain_test

import (
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// panicApp panics on "boom" and writes through a value it read on "edit".
type panicApp struct{}

func (panicApp) Name() string                                                        { return "boom" }
func (panicApp) Check(string, []byte) error                                          { return nil }
func (panicApp) Query(*chain.QueryContext, []string, map[string]string) (any, error) { return nil, nil }
func (panicApp) Deliver(ctx *chain.Context, action string, _ []byte) error {
	switch action {
	case "boom":
		panic("the app has a bug")
	case "seed":
		ctx.Store().Set([]byte("k"), []byte("aaaa"))
		return nil
	case "edit":
		v := ctx.Store().Get([]byte("k"))
		v[0] = 'Z' // edits the slice it read, then fails
		return chain.ErrUnauthorized
	}
	return nil
}

func TestAPanickingAppFailsTheTransactionNotTheNode(t *testing.T) {
	c, err := chaintest.New([]chain.App{panicApp{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Do(chaintest.Key("alice"), "boom", "boom", map[string]any{})
	if err == nil || r.Status != chain.StatusFailed {
		t.Fatalf("receipt %+v, err %v", r, err)
	}
}

func TestAFailedTransactionCannotLeakEditsOfWhatItRead(t *testing.T) {
	c, err := chaintest.New([]chain.App{panicApp{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := c.Tx(chaintest.Key("alice"), "boom", "seed", map[string]any{})
	edit, _ := c.Tx(chaintest.Key("alice"), "boom", "edit", map[string]any{})
	if _, err := c.Block(seed, edit); err != nil {
		t.Fatal(err)
	}
	v, _ := c.State().Get(chain.AppKey("boom", []byte("k")))
	if string(v) != "aaaa" {
		t.Fatalf("value after a failed edit = %q, want aaaa", v)
	}
}
