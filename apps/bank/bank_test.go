package bank_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// newChain starts a chain where alice holds 100 and bob 50.
func newChain(t testing.TB) *chaintest.Chain {
	t.Helper()
	c, err := chaintest.New([]chain.App{bank.New()}, map[string]any{
		bank.Name: bank.GenesisState{Balances: []bank.GenesisBalance{
			{Address: chaintest.Addr("alice"), Amount: 100},
			{Address: chaintest.Addr("bob"), Amount: 50},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func balance(t testing.TB, c *chaintest.Chain, who string) uint64 {
	t.Helper()
	a, err := c.Query(bank.Name, "balance/"+chaintest.Addr(who).String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return a.(bank.BalanceAnswer).Balance
}

func TestAlicePaysBob(t *testing.T) {
	c := newChain(t)
	r, err := c.Do(chaintest.Key("alice"), bank.Name, bank.ActionSend, bank.Send{To: chaintest.Addr("bob"), Amount: 30})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := balance(t, c, "alice"), uint64(70); got != want {
		t.Errorf("alice has %d, want %d", got, want)
	}
	if got, want := balance(t, c, "bob"), uint64(80); got != want {
		t.Errorf("bob has %d, want %d", got, want)
	}
	if len(r.Events) != 1 || r.Events[0].Type != "transfer" || r.Events[0].Attrs[2].Value != "30" {
		t.Errorf("events = %+v", r.Events)
	}
}

func TestFailedTransfersChangeNothingButTheNonce(t *testing.T) {
	c := newChain(t)
	rootBefore := c.Root
	cases := []struct {
		name string
		from string
		msg  bank.Send
		want error
	}{
		{"more than the balance", "bob", bank.Send{To: chaintest.Addr("alice"), Amount: 51}, chain.ErrInsufficientFunds},
		{"from an empty account", "carol", bank.Send{To: chaintest.Addr("alice"), Amount: 1}, chain.ErrInsufficientFunds},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := c.Tx(chaintest.Key(tc.from), bank.Name, bank.ActionSend, tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := c.Block(raw)
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].Status != chain.StatusFailed || rs[0].Error == "" {
				t.Fatalf("receipt = %+v, want failed", rs[0])
			}
			n, _ := chain.Nonce(c.State(), chaintest.Addr(tc.from))
			if n != 1 {
				t.Errorf("nonce of %s = %d, want 1 (a failed tx still uses its nonce)", tc.from, n)
			}
		})
	}
	if balance(t, c, "alice") != 100 || balance(t, c, "bob") != 50 {
		t.Errorf("balances moved")
	}
	if c.Root == rootBefore {
		t.Errorf("state root unchanged although nonces changed")
	}
}

func TestBadPayloadsAreRefusedBeforeState(t *testing.T) {
	app := bank.New()
	cases := []struct {
		name, action, json string
		want               error
	}{
		{"zero amount", "send", `{"to":"` + chaintest.Addr("bob").String() + `","amount":0}`, chain.ErrBadPayload},
		{"bad address", "send", `{"to":"city1nope","amount":1}`, chain.ErrBadPayload},
		{"unknown field", "send", `{"to":"` + chaintest.Addr("bob").String() + `","amount":1,"x":1}`, chain.ErrBadPayload},
		{"amount as string", "send", `{"to":"` + chaintest.Addr("bob").String() + `","amount":"1"}`, chain.ErrBadPayload},
		{"unknown action", "mint", `{}`, chain.ErrUnknownAction},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := chain.PayloadFromJSON([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if err := app.Check(tc.action, p); !errors.Is(err, tc.want) {
				t.Errorf("Check = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSupplyIsConserved(t *testing.T) {
	c := newChain(t)
	people := []string{"alice", "bob", "carol", "dave"}
	var txs [][]byte
	for i := 0; i < 40; i++ {
		from, to := people[i%4], people[(i*7+1)%4]
		raw, err := c.Tx(chaintest.Key(from), bank.Name, bank.ActionSend, bank.Send{To: chaintest.Addr(to), Amount: uint64(i%13 + 1)})
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, raw)
	}
	if _, err := c.Block(txs...); err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for _, p := range people {
		sum += balance(t, c, p)
	}
	s, err := c.Query(bank.Name, "supply", nil)
	if err != nil {
		t.Fatal(err)
	}
	if supply := s.(bank.SupplyAnswer).Supply; sum != 150 || supply != 150 {
		t.Errorf("sum of balances %d, supply %d, want 150", sum, supply)
	}
}

func TestQueryErrors(t *testing.T) {
	c := newChain(t)
	if _, err := c.Query(bank.Name, "balance/city1bad", nil); !errors.Is(err, chain.ErrBadPayload) {
		t.Errorf("bad address: %v", err)
	}
	if _, err := c.Query(bank.Name, "nothing", nil); !errors.Is(err, chain.ErrNotFound) {
		t.Errorf("unknown query: %v", err)
	}
}

// BenchmarkApplyBlock1000Transfers executes a block of 1,000 signed
// transfers between 1,000 accounts: signature checks, nonces, balances
// and the state root. Signatures are verified inside the executor here,
// as for a block received from another validator.
func BenchmarkApplyBlock1000Transfers(b *testing.B) {
	const n = 1000
	var bals []bank.GenesisBalance
	for i := 0; i < n; i++ {
		bals = append(bals, bank.GenesisBalance{Address: chaintest.Addr(fmt.Sprint(i)), Amount: 1_000_000})
	}
	c, err := chaintest.New([]chain.App{bank.New()}, map[string]any{bank.Name: bank.GenesisState{Balances: bals}})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		txs := make([][]byte, n)
		for i := 0; i < n; i++ {
			raw, err := c.Tx(chaintest.Key(fmt.Sprint(i)), bank.Name, bank.ActionSend, bank.Send{To: chaintest.Addr(fmt.Sprint((i + 1) % n)), Amount: 1})
			if err != nil {
				b.Fatal(err)
			}
			txs[i] = raw
		}
		b.StartTimer()
		rs, err := c.Block(txs...)
		if err != nil || rs[n-1].Status != chain.StatusOK {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/tx")
}
