package commerce_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/apps/commerce"
	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// The escrow capability is all that commerce gets of the bank: no method
// names an account to take from.
func TestEscrowAccountIsAllCommerceAsksFor(t *testing.T) {
	var got []string
	for m := range reflect.TypeFor[commerce.EscrowAccount]().Methods() {
		got = append(got, m.Name+strings.TrimPrefix(m.Type.String(), "func"))
	}
	want := []string{
		"Address() chain.Address",
		"Collect(*chain.Context, uint64) error",            // from the sender of the transaction
		"Pay(*chain.Context, chain.Address, uint64) error", // out of the escrow, to the address
	}
	if !slices.Equal(got, want) {
		t.Errorf("EscrowAccount is\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Every path that moves money, and every transfer it makes, goes either
// from the signer of the commerce action into the escrow or out of the
// escrow: commerce touches no one else's funds.
func TestCommerceMovesOnlyTheSignersAndTheEscrowsFunds(t *testing.T) {
	m := newMarket(t)
	escrow := commerce.EscrowAddress.String()
	moved := 0
	check := func(signer string, events []chain.Event) {
		t.Helper()
		for _, e := range events {
			if e.Type != "transfer" {
				continue
			}
			attr := map[string]string{}
			for _, a := range e.Attrs {
				attr[a.Key] = a.Value
			}
			collect := signer != "" && attr["from"] == addr(signer).String() && attr["to"] == escrow
			if !collect && attr["from"] != escrow {
				t.Errorf("a transfer of %s from %s to %s, signed by %q", attr["amount"], attr["from"], attr["to"], signer)
			}
			moved++
		}
	}
	act := func(who, action string, payload any) {
		t.Helper()
		check(who, m.do(who, action, payload).Events)
	}
	blocks := func(n int) {
		t.Helper()
		for range n {
			if _, err := m.c.Block(); err != nil {
				t.Fatal(err)
			}
			check("", m.c.BlockEvents) // EndBlock has no signer
		}
	}
	m.shop()
	for range 6 {
		act("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 1})
	}
	act("bob", commerce.ActionCancel, commerce.Cancel{Order: 1})
	act("alice", commerce.ActionShip, commerce.Ship{Order: 2, Tracking: "T2"})
	act("bob", commerce.ActionConfirm, commerce.Confirm{Order: 2})
	act("alice", commerce.ActionShip, commerce.Ship{Order: 3, Tracking: "T3"})
	act("bob", commerce.ActionDispute, commerce.OpenDispute{Order: 3, Reason: "torn"})
	act("alice", commerce.ActionShip, commerce.Ship{Order: 4, Tracking: "T4"})
	act("alice", commerce.ActionDispute, commerce.OpenDispute{Order: 4, Reason: "unpaid"})
	act("judge", commerce.ActionSettle, commerce.Settle{Order: 3, Outcome: commerce.OutcomeRefund})
	act("judge", commerce.ActionSettle, commerce.Settle{Order: 4, Outcome: commerce.OutcomePay})
	act("alice", commerce.ActionShip, commerce.Ship{Order: 5, Tracking: "T5"})
	act("alice", commerce.ActionShip, commerce.Ship{Order: 6, Tracking: "T6"})
	blocks(releaseAfter) // orders 5 and 6 pay out by themselves

	// 6 payments in, 1 refund, 1 confirmation, 2 settlements, 2 releases.
	if moved != 12 {
		t.Errorf("%d transfers, want 12: a path was missed", moved)
	}
	m.wantBalances(map[string]uint64{"alice": startBalance + 4*12, "bob": startBalance - 4*12}, 0) // orders 2, 4, 5, 6
}

// trial runs raw through the mempool's check (CheckTx) on the latest
// state, without applying it.
func (m *market) trial(raw []byte) error {
	tx, err := chain.DecodeTx(raw)
	if err != nil {
		m.t.Fatal(err)
	}
	n, _ := chain.Nonce(m.c.State(), tx.Sender())
	return m.c.Exec.CheckTx(m.c.State(), chain.BlockInfo{ChainID: chaintest.ChainID, Height: m.c.Height + 1, Time: m.c.Time}, tx, n)
}

// refused sends raw through the mempool's check and then in a block, and
// returns the failed receipt's error text and the check's error.
func (m *market) refused(raw []byte) (string, error) {
	m.t.Helper()
	checkErr := m.trial(raw)
	rs, err := m.c.Block(raw)
	if err != nil {
		m.t.Fatal(err)
	}
	if rs[0].Status != chain.StatusFailed {
		m.t.Errorf("the transaction went through in a block: %+v", rs[0])
	}
	return rs[0].Error, checkErr
}

// take is the payload of the thief's one action.
type take struct {
	Amount uint64 `json:"amount"`
}

func (*take) Validate() error { return nil }

// A module wired like commerce, with a bank module account of its own,
// tries to pay bob's escrowed money to eve. It can pay only out of its
// own account, which is empty, so the escrow keeps the money and the
// order still pays the seller.
func TestAnotherModuleCannotPayOutOfTheEscrow(t *testing.T) {
	b := bank.New()
	pot := b.ModuleAccount("thief/pot")
	thief := sdk.NewModule("thief", []sdk.Handler{sdk.Action("take", "pay amount out of the pot to the sender",
		func(ctx *chain.Context, m *take) error { return pot.Pay(ctx, ctx.Sender, m.Amount) })}, nil)
	var bals []bank.GenesisBalance
	for _, p := range people {
		bals = append(bals, bank.GenesisBalance{Address: addr(p), Amount: startBalance})
	}
	c, err := chaintest.New([]chain.App{b, commerce.New(b.ModuleAccount("commerce/escrow")), thief},
		map[string]any{bank.Name: bank.GenesisState{Balances: bals}, commerce.Name: commerce.DevGenesis(addr("judge"))})
	if err != nil {
		t.Fatal(err)
	}
	m := &market{t: t, c: c}
	m.shop()
	m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 2})

	raw, err := c.Tx(chaintest.Key("eve"), "thief", "take", take{Amount: 24})
	if err != nil {
		t.Fatal(err)
	}
	receipt, checkErr := m.refused(raw)
	if !errors.Is(checkErr, chain.ErrInsufficientFunds) || !strings.Contains(receipt, chain.ErrInsufficientFunds.Error()) {
		t.Errorf("CheckTx %v, receipt %q: want both to fail for insufficient funds", checkErr, receipt)
	}
	m.wantBalances(map[string]uint64{"bob": startBalance - 24}, 24)

	m.do("alice", commerce.ActionShip, commerce.Ship{Order: 1, Tracking: "T"})
	m.do("bob", commerce.ActionConfirm, commerce.Confirm{Order: 1})
	m.wantBalances(map[string]uint64{"alice": startBalance + 24, "bob": startBalance - 24}, 0)
}

// A plain bank send cannot put money into the escrow, where no order
// accounts for it: the mempool's check and a block both refuse it and
// name the module account.
func TestBankSendToTheEscrowIsRefused(t *testing.T) {
	m := newMarket(t)
	m.shop()
	m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 2})
	raw, err := m.c.Tx(chaintest.Key("eve"), bank.Name, bank.ActionSend, bank.Send{To: commerce.EscrowAddress, Amount: 10})
	if err != nil {
		t.Fatal(err)
	}
	receipt, checkErr := m.refused(raw)
	if !errors.Is(checkErr, chain.ErrRejected) || !strings.Contains(checkErr.Error(), `"commerce/escrow"`) {
		t.Errorf("CheckTx = %v, want a refusal naming the module account", checkErr)
	}
	if !strings.Contains(receipt, `"commerce/escrow"`) {
		t.Errorf("receipt error %q does not name the module account", receipt)
	}
	m.wantBalances(map[string]uint64{"bob": startBalance - 24}, 24)
}
