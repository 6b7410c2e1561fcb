package chain_test

import (
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// vault keeps one counter and offers other apps a keeper method that
// adds to it: the only way in.
type vault struct{ key *chain.StoreKey }

func (*vault) Name() string                                                        { return "vault" }
func (*vault) Check(string, []byte) error                                          { return nil }
func (*vault) Deliver(*chain.Context, string, []byte) error                        { return nil }
func (*vault) Query(*chain.QueryContext, []string, map[string]string) (any, error) { return nil, nil }
func (v *vault) UseKey(k *chain.StoreKey)                                          { v.key = k }

// Deposit is the keeper method: it writes the vault's key in the
// caller's transaction, with the vault's own store key.
func (v *vault) Deposit(ctx *chain.Context) {
	st := ctx.With(v.key).Store()
	st.Set([]byte("count"), append(st.Get([]byte("count")), 'x'))
	ctx.With(v.key).Emit("deposit")
}

// rogue tries to reach the vault's keys by every path a module has:
// its own store with a key that climbs out of its prefix, a store key it
// made itself, and its own key.
type rogue struct {
	vault *vault
	own   *chain.StoreKey
}

func (*rogue) Name() string                                                        { return "rogue" }
func (*rogue) Check(string, []byte) error                                          { return nil }
func (*rogue) Query(*chain.QueryContext, []string, map[string]string) (any, error) { return nil, nil }
func (r *rogue) UseKey(k *chain.StoreKey)                                          { r.own = k }

func (r *rogue) Deliver(ctx *chain.Context, action string, _ []byte) error {
	switch action {
	case "climb":
		ctx.Store().Set([]byte("../vault/count"), []byte("stolen"))
	case "forge":
		ctx.With(&chain.StoreKey{}).Store().Set([]byte("count"), []byte("stolen"))
	case "own":
		ctx.With(r.own).Store().Set([]byte("count"), []byte("mine"))
	case "deposit":
		r.vault.Deposit(ctx)
	}
	return nil
}

func vaultCount(t *testing.T, c *chaintest.Chain, app string) string {
	t.Helper()
	v, err := c.State().Get(chain.AppKey(app, []byte("count")))
	if err != nil {
		t.Fatal(err)
	}
	return string(v)
}

// A module cannot write another module's keys: neither through its own
// store nor with a store key it made; only through the keeper method the
// other module offers, which the executor's key makes work.
func TestAModuleCannotWriteAnotherModulesKeys(t *testing.T) {
	v := &vault{}
	r := &rogue{vault: v}
	c, err := chaintest.New([]chain.App{v, r}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.key.App() != "vault" || r.own.App() != "rogue" {
		t.Fatalf("keys issued: vault %q, rogue %q", v.key.App(), r.own.App())
	}
	k := chaintest.Key("mallory")
	if r, err := c.Do(k, "rogue", "climb", struct{}{}); err != nil || r.Status != chain.StatusOK {
		t.Fatalf("climb: %+v %v", r, err)
	}
	if got := vaultCount(t, c, "vault"); got != "" {
		t.Fatalf("a key that climbs out of the prefix wrote the vault's count: %q", got)
	}
	rc, err := c.Do(k, "rogue", "forge", struct{}{})
	if err == nil || rc.Status != chain.StatusFailed || !strings.Contains(rc.Error, "did not issue") {
		t.Fatalf("forged key: %+v %v, want a failed transaction", rc, err)
	}
	if _, err := c.Do(k, "rogue", "own", struct{}{}); err != nil {
		t.Fatal(err)
	}
	if got, own := vaultCount(t, c, "vault"), vaultCount(t, c, "rogue"); got != "" || own != "mine" {
		t.Fatalf("own key: vault %q, rogue %q; want nothing in the vault", got, own)
	}
	rd, err := c.Do(k, "rogue", "deposit", struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if got := vaultCount(t, c, "vault"); got != "x" {
		t.Fatalf("the keeper method did not write: %q", got)
	}
	if len(rd.Events) != 1 || rd.Events[0].App != "vault" || rd.Events[0].Type != "deposit" {
		t.Errorf("the keeper's event: %+v, want one deposit event under vault", rd.Events)
	}
}
