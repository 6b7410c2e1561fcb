package commerce_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/commerce"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// Alice and carol keep shops; bob buys from both, carol from alice.
func TestOrdersByBuyerSellerAndStatus(t *testing.T) {
	m := newMarket(t)
	m.shop()                                                                                            // offer 1, alice
	m.do("carol", commerce.ActionListOffer, commerce.ListOffer{Item: "Tea 250 g", Price: 7, Stock: 10}) // offer 2, carol
	m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 1})                  // order 1
	m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 2, Quantity: 1})                  // order 2
	m.do("carol", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 2})                // order 3
	m.do("alice", commerce.ActionShip, commerce.Ship{Order: 3, Tracking: "C-3"})

	ids := func(args map[string]string) string {
		var s []string
		for _, o := range queryOrders(t, m, args) {
			s = append(s, fmt.Sprint(o.ID))
		}
		return strings.Join(s, ",")
	}
	cases := []struct {
		name string
		args map[string]string
		want string
	}{
		{"all", nil, "1,2,3"},
		{"by buyer", map[string]string{"buyer": addr("bob").String()}, "1,2"},
		{"by seller", map[string]string{"seller": addr("alice").String()}, "1,3"},
		{"by status", map[string]string{"status": "OrderProcessing"}, "1,2"},
		{"by status as a schema.org IRI", map[string]string{"status": "https://schema.org/OrderInTransit"}, "3"},
		{"by status as an http IRI", map[string]string{"status": "http://schema.org/OrderInTransit"}, "3"},
		{"by status as a compact IRI", map[string]string{"status": "schema:OrderInTransit"}, "3"},
		{"by a status no order is in", map[string]string{"status": "schema:OrderReturned"}, ""},
		{"seller and status", map[string]string{"seller": addr("alice").String(), "status": "OrderProcessing"}, "1"},
		{"buyer and seller", map[string]string{"buyer": addr("carol").String(), "seller": addr("alice").String()}, "3"},
		{"after", map[string]string{"after": "1"}, "2,3"},
		{"nobody's", map[string]string{"buyer": addr("eve").String()}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(tc.args); got != tc.want {
				t.Errorf("orders %v = %q, want %q", tc.args, got, tc.want)
			}
		})
	}

	a, err := m.c.Query(commerce.Name, "offers", map[string]string{"seller": addr("carol").String()})
	if err != nil {
		t.Fatal(err)
	}
	if offers := a.(*commerce.OffersAnswer).Offers; len(offers) != 1 || offers[0].Item != "Tea 250 g" || offers[0].Stock != 9 {
		t.Errorf("carol's offers: %+v", offers)
	}
}

// A long list comes in pages of commerce.MaxList.
func TestOrdersArePaged(t *testing.T) {
	m := newMarket(t)
	m.do("alice", commerce.ActionListOffer, commerce.ListOffer{Item: "Pencil", Price: 1, Stock: 500})
	var txs [][]byte
	for range commerce.MaxList + 5 {
		raw, err := m.c.Tx(chaintest.Key("bob"), commerce.Name, commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, raw)
	}
	if _, err := m.c.Block(txs...); err != nil {
		t.Fatal(err)
	}
	a, err := m.c.Query(commerce.Name, "orders", map[string]string{"buyer": addr("bob").String()})
	if err != nil {
		t.Fatal(err)
	}
	page := a.(*commerce.OrdersAnswer)
	if len(page.Orders) != commerce.MaxList || !page.Truncated {
		t.Fatalf("first page: %d orders, truncated %v", len(page.Orders), page.Truncated)
	}
	if all := queryOrders(t, m, map[string]string{"buyer": addr("bob").String()}); len(all) != commerce.MaxList+5 || all[len(all)-1].ID != commerce.MaxList+5 {
		t.Errorf("all pages: %d orders", len(all))
	}
}

func TestOrderAnswer(t *testing.T) {
	m := newMarket(t)
	m.shop()
	m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 2})
	a := m.order(1)
	want := []commerce.Move{
		{Step: commerce.StepShip, By: commerce.RoleSeller, To: commerce.OrderInTransit},
		{Step: commerce.StepCancel, By: commerce.RoleBuyer, To: commerce.OrderCancelled},
		{Step: commerce.StepCancel, By: commerce.RoleSeller, To: commerce.OrderCancelled},
	}
	if fmt.Sprint(a.Next) != fmt.Sprint(want) {
		t.Errorf("next = %+v, want %+v", a.Next, want)
	}
	// The JSON a client sees: schema.org words, bech32 addresses, no
	// zero actor on entries the buyer made.
	raw, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"status":"OrderProcessing"`, `"buyer":"` + addr("bob").String() + `"`,
		`"escrow":{"amount":24,"state":"held"}`, `"step":"place","to":"OrderPaymentDue","by":"buyer"`} {
		if !strings.Contains(string(raw), s) {
			t.Errorf("answer JSON lacks %s:\n%s", s, raw)
		}
	}
}

func TestQueryErrors(t *testing.T) {
	m := newMarket(t)
	cases := []struct {
		path string
		args map[string]string
		want error
	}{
		{"order/1", nil, chain.ErrNotFound},
		{"order/first", nil, chain.ErrBadPayload},
		{"order/0", nil, chain.ErrBadPayload},
		{"offer/3", nil, chain.ErrNotFound},
		{"orders", map[string]string{"status": "Shipped"}, chain.ErrBadPayload},
		{"orders", map[string]string{"status": "schema:Shipped"}, chain.ErrBadPayload},
		{"orders", map[string]string{"status": "https://example.org/OrderInTransit"}, chain.ErrBadPayload},
		{"orders", map[string]string{"status": "orderintransit"}, chain.ErrBadPayload},
		{"orders", map[string]string{"status": "schema:"}, chain.ErrBadPayload},
		{"orders", map[string]string{"buyer": "city1nope"}, chain.ErrBadPayload},
		{"orders", map[string]string{"byer": addr("bob").String()}, chain.ErrBadPayload},
		{"orders", map[string]string{"after": "-1"}, chain.ErrBadPayload},
		{"nothing", nil, chain.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.path+fmt.Sprint(tc.args), func(t *testing.T) {
			if _, err := m.c.Query(commerce.Name, tc.path, tc.args); !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParams(t *testing.T) {
	m := newMarket(t)
	a, err := m.c.Query(commerce.Name, "params", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := a.(*commerce.ParamsAnswer)
	if p.Arbiter != addr("judge") || p.ReleaseAfterBlocks != releaseAfter || p.Escrow != commerce.EscrowAddress {
		t.Errorf("params %+v", p)
	}
}

// OrderCancelled stands for two statuses, cancelled before shipping and
// refunded after a dispute, each with its own index: the list merges
// them in id order, page by page.
func TestCancelledListsBothIndexesInIDOrder(t *testing.T) {
	m := newMarket(t)
	m.do("alice", commerce.ActionListOffer, commerce.ListOffer{Item: "Pencil", Price: 1, Stock: 500})
	const n = commerce.MaxList + 20
	block := func(who string, action string, payload func(id uint64) any, ids func(id uint64) bool) {
		t.Helper()
		var txs [][]byte
		for id := uint64(1); id <= n; id++ {
			if !ids(id) {
				continue
			}
			raw, err := m.c.Tx(chaintest.Key(who), commerce.Name, action, payload(id))
			if err != nil {
				t.Fatal(err)
			}
			txs = append(txs, raw)
		}
		if _, err := m.c.Block(txs...); err != nil {
			t.Fatal(err)
		}
	}
	all := func(uint64) bool { return true }
	even := func(id uint64) bool { return id%2 == 0 }
	odd := func(id uint64) bool { return id%2 == 1 }
	block("bob", commerce.ActionPlaceOrder, func(uint64) any { return commerce.PlaceOrder{Offer: 1, Quantity: 1} }, all)
	block("bob", commerce.ActionCancel, func(id uint64) any { return commerce.Cancel{Order: id} }, odd)
	block("alice", commerce.ActionShip, func(id uint64) any { return commerce.Ship{Order: id, Tracking: "P"} }, even)
	block("bob", commerce.ActionDispute, func(id uint64) any { return commerce.OpenDispute{Order: id, Reason: "empty"} }, even)
	block("judge", commerce.ActionSettle, func(id uint64) any { return commerce.Settle{Order: id, Outcome: commerce.OutcomeRefund} }, even)

	a, err := m.c.Query(commerce.Name, "orders", map[string]string{"status": "OrderCancelled"})
	if err != nil {
		t.Fatal(err)
	}
	if page := a.(*commerce.OrdersAnswer); len(page.Orders) != commerce.MaxList || !page.Truncated ||
		page.Orders[commerce.MaxList-1].ID != commerce.MaxList || len(page.Graph) != commerce.MaxList {
		t.Fatalf("first page: %d orders up to %d, truncated %v", len(page.Orders), page.Orders[len(page.Orders)-1].ID, page.Truncated)
	}
	got := queryOrders(t, m, map[string]string{"status": "https://schema.org/OrderCancelled"})
	for i, o := range got {
		if o.ID != uint64(i+1) {
			t.Fatalf("entry %d is order %d: %v", i, o.ID, got)
		}
		if want := map[bool]commerce.Status{true: commerce.OrderRefunded, false: commerce.OrderCancelled}[o.ID%2 == 0]; o.Status != want {
			t.Errorf("order %d is %s, want %s", o.ID, o.Status, want)
		}
	}
	if len(got) != n {
		t.Errorf("%d orders listed as OrderCancelled, want %d", len(got), n)
	}
}
