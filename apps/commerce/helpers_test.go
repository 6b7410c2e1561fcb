package commerce_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/apps/commerce"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// The cast of the tests: alice keeps a shop, bob and carol buy, judge is
// the arbiter named in genesis, and eve has nothing to do with any order.
var people = []string{"alice", "bob", "carol", "judge", "eve"}

// addrs holds the cast's addresses, computed once: deriving a public key
// costs as much as checking a signature.
var addrs = func() map[string]chain.Address {
	m := map[string]chain.Address{}
	for _, p := range people {
		m[p] = chaintest.Addr(p)
	}
	return m
}()

// addr returns a person's address.
func addr(name string) chain.Address {
	if a, ok := addrs[name]; ok {
		return a
	}
	return chaintest.Addr(name)
}

// releaseAfter is the test chains' timeout: short, so tests can wait it out.
const releaseAfter = 3

// startBalance is what everyone holds at genesis.
const startBalance = 1000

// market is a test chain with the bank and the commerce module.
type market struct {
	t testing.TB
	c *chaintest.Chain
}

// newMarket starts a chain where everyone holds startBalance and judge
// is the arbiter.
func newMarket(t testing.TB) *market {
	t.Helper()
	g := commerce.DevGenesis(addr("judge"))
	g.ReleaseAfterBlocks = releaseAfter
	return newMarketWith(t, g)
}

func newMarketWith(t testing.TB, g commerce.GenesisState) *market {
	t.Helper()
	var bals []bank.GenesisBalance
	for _, p := range people {
		bals = append(bals, bank.GenesisBalance{Address: addr(p), Amount: startBalance})
	}
	c, err := chaintest.New(withBank(), map[string]any{
		bank.Name:     bank.GenesisState{Balances: bals},
		commerce.Name: g,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &market{t: t, c: c}
}

// do sends an action that must succeed.
func (m *market) do(who, action string, payload any) chain.Receipt {
	m.t.Helper()
	r, err := m.c.Do(chaintest.Key(who), commerce.Name, action, payload)
	if err != nil {
		m.t.Fatalf("%s %s: %v", who, action, err)
	}
	return r
}

// try sends an action and returns the receipt's error, if any. A
// refusal by Check (a bad payload) never reaches a block, so it is
// returned as it is.
func (m *market) try(who, action string, payload any) error {
	m.t.Helper()
	p, err := chain.EncodePayload(payload)
	if err != nil {
		return err
	}
	if err := commerce.New(nil).Check(action, p); err != nil {
		return err
	}
	_, err = m.c.Do(chaintest.Key(who), commerce.Name, action, payload)
	return err
}

// wait makes n empty blocks.
func (m *market) wait(n int) {
	m.t.Helper()
	for range n {
		if _, err := m.c.Block(); err != nil {
			m.t.Fatal(err)
		}
	}
}

func (m *market) order(id uint64) *commerce.OrderAnswer {
	m.t.Helper()
	a, err := m.c.Query(commerce.Name, fmt.Sprintf("order/%d", id), nil)
	if err != nil {
		m.t.Fatal(err)
	}
	return a.(*commerce.OrderAnswer)
}

func (m *market) status(id uint64) commerce.Status { return m.order(id).Order.Status }

func (m *market) offer(id uint64) commerce.Offer {
	m.t.Helper()
	a, err := m.c.Query(commerce.Name, fmt.Sprintf("offer/%d", id), nil)
	if err != nil {
		m.t.Fatal(err)
	}
	return a.(*commerce.OfferAnswer).Offer
}

func (m *market) balanceOf(a chain.Address) uint64 {
	m.t.Helper()
	ans, err := m.c.Query(bank.Name, "balance/"+a.String(), nil)
	if err != nil {
		m.t.Fatal(err)
	}
	return ans.(bank.BalanceAnswer).Balance
}

func (m *market) balance(who string) uint64 { return m.balanceOf(addr(who)) }

func (m *market) escrow() uint64 { return m.balanceOf(commerce.EscrowAddress) }

// wantBalances checks the named accounts and the escrow.
func (m *market) wantBalances(want map[string]uint64, escrow uint64) {
	m.t.Helper()
	for _, p := range people {
		w, ok := want[p]
		if !ok {
			w = startBalance
		}
		if got := m.balance(p); got != w {
			m.t.Errorf("%s holds %d, want %d", p, got, w)
		}
	}
	if got := m.escrow(); got != escrow {
		m.t.Errorf("escrow holds %d, want %d", got, escrow)
	}
}

// shop lists alice's coffee beans at 12 a unit, 40 in stock: offer 1.
func (m *market) shop() {
	m.t.Helper()
	m.do("alice", commerce.ActionListOffer, commerce.ListOffer{Item: "Coffee beans 1 kg", Price: 12, Stock: 40})
}

// steps returns the steps of an order's history.
func steps(o *commerce.Order) string {
	var s []string
	for _, e := range o.History {
		s = append(s, string(e.Step))
	}
	return strings.Join(s, " ")
}

// wantErr checks that err is of kind and mentions every word. A failed
// receipt carries only the error's text, so the kind is found by
// errors.Is or, for receipts, by its message.
func wantErr(t testing.TB, err, kind error, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("succeeded, want an error of kind %q", kind)
	}
	if !errors.Is(err, kind) && !strings.Contains(err.Error(), kind.Error()) {
		t.Errorf("error %q is not of kind %q", err, kind)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// withBank returns the bank and commerce, wired as in apps/apps.go.
func withBank() []chain.App {
	b := bank.New()
	return []chain.App{b, commerce.New(b.ModuleAccount("commerce/escrow"))}
}
