package commerce_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/sdk/sdktest"

	"github.com/citychain/citychain/apps/commerce"
	"github.com/citychain/citychain/chain/chaintest"
)

// cli runs "citychain tx|query commerce ..." as who.
func (m *market) cli(who string, query bool, args ...string) (string, error) {
	m.t.Helper()
	client := sdktest.Client{Chain: m.c, Key: chaintest.Key(who)}
	cmds := commerce.New(nil).TxCommands(client)
	if query {
		cmds = commerce.New(nil).QueryCommands(client)
	}
	for _, cmd := range cmds {
		if cmd.Name() == args[0] {
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(io.Discard)
			cmd.SetArgs(args[1:])
			err := cmd.Execute()
			return out.String(), err
		}
	}
	m.t.Fatalf("no command %q", args[0])
	return "", nil
}

// The whole story through the CLI: a shop, an order, a shipment, a
// dispute and the arbiter's refund.
func TestCLIStory(t *testing.T) {
	m := newMarket(t)
	steps := []struct {
		who  string
		args []string
	}{
		{"alice", []string{"list-offer", "--item", "Coffee beans 1 kg", "--price", "12", "--stock", "40"}},
		{"bob", []string{"place-order", "--offer", "1", "--qty", "2"}},
		{"alice", []string{"ship", "--order", "1", "--tracking", "PARCEL-0042"}},
		{"alice", []string{"mark-pickup", "--order", "1", "--location", "Kiosk, Station Square"}},
		{"bob", []string{"dispute", "--order", "1", "--reason", "the bag is torn"}},
		{"judge", []string{"settle", "--order", "1", "--refund", "--note", "photos checked"}},
	}
	for _, s := range steps {
		if _, err := m.cli(s.who, false, s.args...); err != nil {
			t.Fatalf("%s %v: %v", s.who, s.args, err)
		}
	}
	out, err := m.cli("eve", true, "order", "1")
	if err != nil {
		t.Fatal(err)
	}
	// A refund with nothing sent back is, in schema.org's words, an
	// order called off: OrderCancelled, not OrderReturned.
	for _, want := range []string{"order 1: OrderCancelled", "PARCEL-0042", "dispute opened by the buyer", "settled at height",
		"refund photos checked", "mark_pickup", "settle_refund arbiter  OrderProblem -> OrderCancelled",
		"final: nothing more can happen"} {
		if !strings.Contains(out, want) {
			t.Errorf("query order 1 lacks %q:\n%s", want, out)
		}
	}
	out, err = m.cli("eve", true, "orders", "--seller", addr("alice").String(), "--status", "schema:OrderCancelled")
	if err != nil || !strings.Contains(out, "order 1  OrderCancelled") {
		t.Errorf("orders --seller --status: %v\n%s", err, out)
	}
	out, err = m.cli("eve", true, "orders", "--status", "OrderReturned")
	if err != nil || strings.TrimSpace(out) != "no orders" {
		t.Errorf("orders --status OrderReturned: %v\n%s", err, out)
	}
	out, err = m.cli("eve", true, "orders", "--status", "OrderInTransit")
	if err != nil || strings.TrimSpace(out) != "no orders" {
		t.Errorf("orders --status OrderInTransit: %v\n%s", err, out)
	}
	out, err = m.cli("eve", true, "offers")
	if err != nil || !strings.Contains(out, `"Coffee beans 1 kg"  price 12  stock 38`) {
		t.Errorf("offers: %v\n%s", err, out)
	}
	out, err = m.cli("eve", true, "params")
	if err != nil || !strings.Contains(out, addr("judge").String()) || !strings.Contains(out, commerce.EscrowAddress.String()) {
		t.Errorf("params: %v\n%s", err, out)
	}
}

// Mistakes are caught before anything is signed.
func TestCLIRefusesBeforeSigning(t *testing.T) {
	m := newMarket(t)
	cases := []struct {
		args  []string
		words string
	}{
		{[]string{"settle", "--order", "1", "--refund", "--pay"}, "exactly one"},
		{[]string{"settle", "--order", "1"}, "exactly one"},
		{[]string{"list-offer", "--item", "tea", "--price", "0", "--stock", "1"}, "price"},
		{[]string{"ship", "--order", "1"}, "tracking"},
	}
	for _, tc := range cases {
		if _, err := m.cli("alice", false, tc.args...); err == nil || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("%v: error %v, want one about %s", tc.args, err, tc.words)
		}
	}
	if _, err := m.cli("eve", true, "orders", "--status", "Lost"); err == nil {
		t.Error("orders --status Lost was accepted")
	}
	if m.c.Height != 0 {
		t.Errorf("height %d: something was sent", m.c.Height)
	}
}
