package bank_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// vault is a module that holds a bank module account, "{name}/pot", and
// moves funds only through it: "collect" takes from the sender into the
// pot, "pay" pays out of the pot.
type vault struct {
	*sdk.Module
	pot *bank.Account
}

// potMove is the payload of both vault actions.
type potMove struct {
	To     string `json:"to,omitempty"`
	Amount uint64 `json:"amount"`
}

func (*potMove) Validate() error { return nil }

func newVault(b *bank.App, name string) *vault {
	v := &vault{pot: b.ModuleAccount(name + "/pot")}
	v.Module = sdk.NewModule(name, []sdk.Handler{
		sdk.Action("collect", "take amount from the sender", func(ctx *chain.Context, m *potMove) error {
			return v.pot.Collect(ctx, m.Amount)
		}),
		sdk.Action("pay", "pay amount out of the pot", func(ctx *chain.Context, m *potMove) error {
			to, err := chain.ParseAddress(m.To)
			if err != nil {
				return err
			}
			return v.pot.Pay(ctx, to, m.Amount)
		}),
	}, nil)
	return v
}

// trial runs raw through the mempool's check (CheckTx) on the latest
// state, as the next block would see it, without applying it.
func trial(t *testing.T, c *chaintest.Chain, raw []byte) error {
	tx, err := chain.DecodeTx(raw)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := chain.Nonce(c.State(), tx.Sender())
	return c.Exec.CheckTx(c.State(), chain.BlockInfo{ChainID: chaintest.ChainID, Height: c.Height + 1, Time: c.Time}, tx, n)
}

// bankState is every key and value the bank holds, for "nothing changed".
func bankState(t *testing.T, c *chaintest.Chain) string {
	var out strings.Builder
	err := c.State().Iterate(chain.AppKey(bank.Name, nil), func(k, v []byte) error {
		fmt.Fprintf(&out, "%x=%x\n", k, v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// A module account offers no way to name the account that pays: Collect
// takes from the transaction's sender, Pay from the account itself.
func TestModuleAccountHasNoOtherWayToMoveFunds(t *testing.T) {
	typ := reflect.TypeFor[*bank.Account]()
	var names []string
	for m := range typ.Methods() {
		names = append(names, m.Name)
	}
	if want := []string{"Address", "Balance", "Collect", "Pay"}; !slices.Equal(names, want) {
		t.Errorf("bank.Account has methods %v, want %v: a new one must not let a module debit an account it does not own", names, want)
	}
	addr := reflect.TypeFor[chain.Address]()
	for _, name := range []string{"Collect", "Pay"} {
		m, _ := typ.MethodByName(name)
		from := 0
		for i := range m.Type.NumIn() {
			if m.Type.In(i) == addr {
				from++
			}
		}
		if want := map[string]int{"Collect": 0, "Pay": 1}[name]; from != want {
			t.Errorf("%s takes %d addresses, want %d (Pay: the recipient only)", name, from, want)
		}
	}
}

// Two modules each hold an account. The shop collects from alice; the
// thief, whose own account is empty, can neither pay out of the shop's
// account nor out of bob's, and can collect only from whoever signs its
// action.
func TestAModuleMovesOnlyItsOwnAccountAndItsSender(t *testing.T) {
	b := bank.New()
	shop, thief := newVault(b, "shop"), newVault(b, "thief")
	c, err := chaintest.New([]chain.App{b, shop, thief}, map[string]any{
		bank.Name: bank.GenesisState{Balances: []bank.GenesisBalance{
			{Address: chaintest.Addr("alice"), Amount: 100},
			{Address: chaintest.Addr("bob"), Amount: 50},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bal := func(a chain.Address) uint64 {
		ans, err := c.Query(bank.Name, "balance/"+a.String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return ans.(bank.BalanceAnswer).Balance
	}
	do := func(who, app, action string, m potMove) error {
		_, err := c.Do(chaintest.Key(who), app, action, m)
		return err
	}
	if err := do("alice", "shop", "collect", potMove{Amount: 40}); err != nil {
		t.Fatal(err)
	}
	if bal(chaintest.Addr("alice")) != 60 || bal(shop.pot.Address()) != 40 || bal(chaintest.Addr("bob")) != 50 {
		t.Fatalf("collect took from someone other than its sender")
	}

	// The thief pays out of its empty pot, in transactions that alice
	// signs: neither the shop's 40, nor bob's 50, nor the signer's own 60
	// are within its reach.
	carol := chaintest.Addr("carol").String()
	refused := []struct {
		name string
		who  string
		m    potMove
		act  string
	}{
		{"pay out as much as the shop holds", "alice", potMove{To: carol, Amount: 40}, "pay"},
		{"pay anything out of an empty pot", "alice", potMove{To: carol, Amount: 1}, "pay"},
		{"collect from carol, who has nothing", "carol", potMove{Amount: 10}, "collect"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := bankState(t, c)
			raw, err := c.Tx(chaintest.Key(tc.who), "thief", tc.act, tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if err := trial(t, c, raw); !errors.Is(err, chain.ErrInsufficientFunds) {
				t.Errorf("CheckTx = %v, want %v", err, chain.ErrInsufficientFunds)
			}
			rs, err := c.Block(raw)
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].Status != chain.StatusFailed || !strings.Contains(rs[0].Error, chain.ErrInsufficientFunds.Error()) {
				t.Errorf("receipt %s %q, want failed for insufficient funds", rs[0].Status, rs[0].Error)
			}
			if after := bankState(t, c); after != before {
				t.Errorf("the bank's state changed:\nbefore\n%safter\n%s", before, after)
			}
		})
	}

	// What bob signs, the thief may collect, and then pay out exactly
	// that: one more is refused.
	if err := do("bob", "thief", "collect", potMove{Amount: 5}); err != nil {
		t.Fatal(err)
	}
	if err := do("carol", "thief", "pay", potMove{To: carol, Amount: 6}); err == nil {
		t.Error("the thief paid 6 out of a pot of 5")
	}
	if err := do("carol", "thief", "pay", potMove{To: carol, Amount: 5}); err != nil {
		t.Fatal(err)
	}
	want := map[chain.Address]uint64{chaintest.Addr("alice"): 60, chaintest.Addr("bob"): 45, chaintest.Addr("carol"): 5,
		shop.pot.Address(): 40, thief.pot.Address(): 0}
	for a, w := range want {
		if got := bal(a); got != w {
			t.Errorf("%s holds %d, want %d", a, got, w)
		}
	}
}

// Outside a transaction (EndBlock, genesis) there is no sender, so
// Collect has nobody to take from.
func TestCollectNeedsASender(t *testing.T) {
	b := bank.New()
	v := newVault(b, "shop")
	c, err := chaintest.New([]chain.App{b, v}, map[string]any{
		bank.Name: bank.GenesisState{Balances: []bank.GenesisBalance{{Address: chain.Address{}, Amount: 10}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := chain.NewOverlay(c.State())
	ctx := chain.NewContext("shop", o, chain.BlockInfo{ChainID: chaintest.ChainID, Height: 1, Time: c.Time}, chain.Address{}, chain.Hash{})
	if err := v.pot.Collect(ctx, 1); err == nil {
		t.Error("Collect without a sender succeeded")
	}
	if ch := o.Changes(); len(ch) != 0 {
		t.Errorf("Collect without a sender wrote %d keys", len(ch))
	}
}

// A plain transfer to a module account is refused, in the mempool's
// check and in a block, with an error that names the account; a
// transfer to anyone else in the same block goes through.
func TestPlainSendToAModuleAccountIsRefused(t *testing.T) {
	b := bank.New()
	escrow := b.ModuleAccount("commerce/escrow")
	c, err := chaintest.New([]chain.App{b}, map[string]any{
		bank.Name: bank.GenesisState{Balances: []bank.GenesisBalance{{Address: chaintest.Addr("alice"), Amount: 100}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	before := bankState(t, c)
	toEscrow, err := c.Tx(chaintest.Key("alice"), bank.Name, bank.ActionSend, bank.Send{To: escrow.Address(), Amount: 10})
	if err != nil {
		t.Fatal(err)
	}
	err = trial(t, c, toEscrow)
	if !errors.Is(err, chain.ErrRejected) || !errors.Is(err, chain.ErrBadPayload) || !strings.Contains(err.Error(), `"commerce/escrow"`) {
		t.Errorf("CheckTx = %v, want a refusal naming the module account", err)
	}
	rs, err := c.Block(toEscrow)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != chain.StatusFailed || !strings.Contains(rs[0].Error, `"commerce/escrow"`) {
		t.Errorf("receipt %s %q, want failed naming the module account", rs[0].Status, rs[0].Error)
	}
	if after := bankState(t, c); after != before {
		t.Errorf("the bank's state changed:\nbefore\n%safter\n%s", before, after)
	}

	toBob, err := c.Tx(chaintest.Key("alice"), bank.Name, bank.ActionSend, bank.Send{To: chaintest.Addr("bob"), Amount: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := trial(t, c, toBob); err != nil {
		t.Errorf("CheckTx of a send to bob: %v", err)
	}
	if rs, err := c.Block(toBob); err != nil || rs[0].Status != chain.StatusOK {
		t.Errorf("send to bob: %v %+v", err, rs)
	}
	if bankState(t, c) == before {
		t.Error("a send to bob changed nothing")
	}
}

func TestAModuleAccountIsHandedOutOnce(t *testing.T) {
	b := bank.New()
	b.ModuleAccount("parking/fees")
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "parking/fees") {
			t.Errorf("a second ModuleAccount for the same name: recover() = %v, want a panic naming it", r)
		}
	}()
	b.ModuleAccount("parking/fees")
}
