package commerce_test

import (
	"testing"

	"github.com/citychain/citychain/apps/commerce"
	"github.com/citychain/citychain/chain"
)

// Bob buys two bags of coffee from alice's shop; alice ships; bob
// confirms, and the money in escrow goes to alice.
func TestHappyPath(t *testing.T) {
	m := newMarket(t)
	m.shop()
	r := m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 2})
	if got := m.status(1); got != commerce.OrderProcessing {
		t.Fatalf("after place_order: %s", got)
	}
	m.wantBalances(map[string]uint64{"bob": startBalance - 24}, 24)
	if got := m.offer(1).Stock; got != 38 {
		t.Errorf("stock %d, want 38", got)
	}
	if !hasEvent(r, "order", "to", string(commerce.OrderProcessing)) || !hasEvent(r, "transfer", "amount", "24") {
		t.Errorf("events of place_order: %+v", r.Events)
	}

	m.do("alice", commerce.ActionShip, commerce.Ship{Order: 1, Tracking: "PARCEL-0042"})
	a := m.order(1)
	if a.Order.Status != commerce.OrderInTransit || a.Order.Tracking != "PARCEL-0042" ||
		a.Order.ReleaseHeight != m.c.Height+releaseAfter {
		t.Fatalf("after ship: %+v", a.Order)
	}
	m.do("bob", commerce.ActionConfirm, commerce.Confirm{Order: 1})

	a = m.order(1)
	o := a.Order
	if o.Status != commerce.OrderDelivered || o.Escrow != (commerce.Escrow{State: commerce.EscrowReleased}) || o.ReleaseHeight != 0 {
		t.Fatalf("after confirm: %+v", o)
	}
	m.wantBalances(map[string]uint64{"bob": startBalance - 24, "alice": startBalance + 24}, 0)
	if got := steps(&o); got != "place pay ship confirm" {
		t.Errorf("history %q", got)
	}
	if o.History[0].To != commerce.OrderPaymentDue || o.History[1].From != commerce.OrderPaymentDue {
		t.Errorf("the history does not pass through OrderPaymentDue: %+v", o.History[:2])
	}
	if len(a.Next) != 0 {
		t.Errorf("a delivered order still has moves: %+v", a.Next)
	}
}

// Alice ships to a pickup kiosk; bob collects and confirms.
func TestPickupThenConfirm(t *testing.T) {
	m := newMarket(t)
	m.shop()
	m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 1})
	m.do("alice", commerce.ActionShip, commerce.Ship{Order: 1, Tracking: "K-7"})
	m.do("alice", commerce.ActionMarkPickup, commerce.MarkPickup{Order: 1, Location: "Kiosk, Station Square"})
	if got := m.status(1); got != commerce.OrderPickupAvailable {
		t.Fatalf("after mark_pickup: %s", got)
	}
	m.do("bob", commerce.ActionConfirm, commerce.Confirm{Order: 1})
	o := m.order(1).Order
	if o.Status != commerce.OrderDelivered || steps(&o) != "place pay ship mark_pickup confirm" {
		t.Fatalf("%s after %q", o.Status, steps(&o))
	}
	m.wantBalances(map[string]uint64{"bob": startBalance - 12, "alice": startBalance + 12}, 0)
}

// Bob never confirms: releaseAfter blocks after shipping the chain pays
// alice by itself, also when the parcel waits at a pickup point.
func TestTimeoutReleasesTheEscrowToTheSeller(t *testing.T) {
	for _, pickup := range []bool{false, true} {
		name := "in transit"
		if pickup {
			name = "waiting for pickup"
		}
		t.Run(name, func(t *testing.T) {
			m := newMarket(t)
			m.shop()
			m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 3})
			m.do("alice", commerce.ActionShip, commerce.Ship{Order: 1, Tracking: "T-1"})
			due := m.c.Height + releaseAfter
			if pickup {
				m.do("alice", commerce.ActionMarkPickup, commerce.MarkPickup{Order: 1})
			}
			for m.c.Height < due-1 {
				m.wait(1)
			}
			if got := m.status(1); got == commerce.OrderDelivered {
				t.Fatalf("released at height %d, before the due height %d", m.c.Height, due)
			}
			m.wait(1) // the block at the due height
			o := m.order(1).Order
			last := o.History[len(o.History)-1]
			if o.Status != commerce.OrderDelivered || last.Step != commerce.StepAutoRelease ||
				last.By != commerce.RoleChain || !last.Actor.IsZero() || last.Height != due {
				t.Fatalf("at height %d: %s, last entry %+v", m.c.Height, o.Status, last)
			}
			m.wantBalances(map[string]uint64{"bob": startBalance - 36, "alice": startBalance + 36}, 0)
		})
	}
}

// Once an order leaves transit its release is off the schedule: the due
// height passes without a second payment or a failed block.
func TestLeavingTransitCancelsTheTimer(t *testing.T) {
	m := newMarket(t)
	m.shop()
	m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 1})
	m.do("carol", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 1})
	m.do("alice", commerce.ActionShip, commerce.Ship{Order: 1, Tracking: "A"})
	m.do("alice", commerce.ActionShip, commerce.Ship{Order: 2, Tracking: "B"})
	m.do("bob", commerce.ActionConfirm, commerce.Confirm{Order: 1})
	m.do("carol", commerce.ActionDispute, commerce.OpenDispute{Order: 2, Reason: "the bag is torn"})
	m.wait(2 * releaseAfter)
	if s1, s2 := m.status(1), m.status(2); s1 != commerce.OrderDelivered || s2 != commerce.OrderProblem {
		t.Fatalf("statuses %s, %s", s1, s2)
	}
	m.wantBalances(map[string]uint64{"bob": startBalance - 12, "carol": startBalance - 12, "alice": startBalance + 12}, 12)
}

// Either party may call an order off before it ships: the buyer gets
// the money back and the offer its stock.
func TestCancelBeforeShipping(t *testing.T) {
	for _, who := range []string{"bob", "alice"} {
		t.Run("by "+who, func(t *testing.T) {
			m := newMarket(t)
			m.shop()
			m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 5})
			m.do(who, commerce.ActionCancel, commerce.Cancel{Order: 1, Reason: "changed plans"})
			o := m.order(1).Order
			if o.Status != commerce.OrderCancelled || o.Escrow != (commerce.Escrow{State: commerce.EscrowRefunded}) {
				t.Fatalf("after cancel: %+v", o)
			}
			if last := o.History[len(o.History)-1]; last.Actor != addr(who) || last.Note != "changed plans" {
				t.Errorf("last entry %+v", last)
			}
			if got := m.offer(1).Stock; got != 40 {
				t.Errorf("stock %d, want 40 again", got)
			}
			m.wantBalances(nil, 0)
		})
	}
}

// A dispute stops the clock; the arbiter decides it either way.
func TestDisputeSettledBothWays(t *testing.T) {
	cases := []struct {
		name, opener, outcome string
		pickup                bool
		want                  commerce.Status
		bob, alice            uint64
	}{
		{"buyer disputes, refunded", "bob", commerce.OutcomeRefund, false, commerce.OrderRefunded, startBalance, startBalance},
		{"seller disputes at pickup, paid", "alice", commerce.OutcomePay, true, commerce.OrderDelivered, startBalance - 24, startBalance + 24},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMarket(t)
			m.shop()
			m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 2})
			m.do("alice", commerce.ActionShip, commerce.Ship{Order: 1, Tracking: "D-1"})
			if tc.pickup {
				m.do("alice", commerce.ActionMarkPickup, commerce.MarkPickup{Order: 1})
			}
			m.do(tc.opener, commerce.ActionDispute, commerce.OpenDispute{Order: 1, Reason: "not as described"})
			a := m.order(1)
			if a.Order.Status != commerce.OrderProblem || a.Order.Dispute == nil || a.Order.Escrow.State != commerce.EscrowHeld {
				t.Fatalf("after dispute: %+v", a.Order)
			}
			if len(a.Next) != 2 || a.Next[0].By != commerce.RoleArbiter {
				t.Errorf("next moves %+v, want the arbiter's two", a.Next)
			}
			m.wait(releaseAfter) // the timer is off: nothing happens
			m.do("judge", commerce.ActionSettle, commerce.Settle{Order: 1, Outcome: tc.outcome, Note: "photos checked"})
			o := m.order(1).Order
			d := o.Dispute
			if o.Status != tc.want || d.Outcome != tc.outcome || d.SettledHeight != m.c.Height ||
				d.OpenedBy != addr(tc.opener) || d.Note != "photos checked" {
				t.Fatalf("after settle: %+v, dispute %+v", o, d)
			}
			m.wantBalances(map[string]uint64{"bob": tc.bob, "alice": tc.alice}, 0)
			if got := m.offer(1).Stock; got != 38 {
				t.Errorf("stock %d: a disputed order's goods left the shop, want 38", got)
			}
		})
	}
}

// Orders that cannot be placed leave no order, no payment and no change
// of stock: the next good order still gets id 1.
func TestRefusedOrdersChangeNothing(t *testing.T) {
	m := newMarket(t)
	m.shop()
	m.do("alice", commerce.ActionListOffer, commerce.ListOffer{Item: "Espresso machine", Price: 900, Stock: 2})
	cases := []struct {
		name, who string
		order     commerce.PlaceOrder
		kind      error
		words     []string
	}{
		{"own offer", "alice", commerce.PlaceOrder{Offer: 1, Quantity: 1}, chain.ErrUnauthorized, []string{"own"}},
		{"the arbiter", "judge", commerce.PlaceOrder{Offer: 1, Quantity: 1}, chain.ErrUnauthorized, []string{"arbiter"}},
		{"more than the stock", "bob", commerce.PlaceOrder{Offer: 1, Quantity: 41}, commerce.ErrOutOfStock, []string{"40 left", "41"}},
		{"more than the buyer has", "bob", commerce.PlaceOrder{Offer: 2, Quantity: 2}, chain.ErrInsufficientFunds, []string{"1800"}},
		{"no such offer", "bob", commerce.PlaceOrder{Offer: 9, Quantity: 1}, chain.ErrNotFound, []string{"offer 9"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, m.try(tc.who, commerce.ActionPlaceOrder, tc.order), tc.kind, tc.words...)
		})
	}
	m.wantBalances(nil, 0)
	if s1, s2 := m.offer(1).Stock, m.offer(2).Stock; s1 != 40 || s2 != 2 {
		t.Errorf("stock %d, %d", s1, s2)
	}
	m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 2, Quantity: 1})
	if o := m.order(1).Order; o.Buyer != addr("bob") || o.Total != 900 {
		t.Errorf("order 1 = %+v", o)
	}
}

func TestListOfferRefusals(t *testing.T) {
	m := newMarket(t)
	wantErr(t, m.try("judge", commerce.ActionListOffer, commerce.ListOffer{Item: "Gavel", Price: 1, Stock: 1}),
		chain.ErrUnauthorized, "arbiter")
	wantErr(t, m.try("alice", commerce.ActionListOffer, commerce.ListOffer{Item: "Gold", Price: commerce.DefaultMaxPrice + 1, Stock: 1}),
		chain.ErrBadPayload, "max_price")
	wantErr(t, m.try("alice", commerce.ActionListOffer, commerce.ListOffer{Item: "Sand", Price: 1, Stock: commerce.DefaultMaxStock + 1}),
		chain.ErrBadPayload, "max_stock")
}

// Without an arbiter in genesis nobody could settle a dispute, so none
// can be opened; the error names both statuses like any other refusal.
func TestNoArbiterNoDispute(t *testing.T) {
	g := commerce.DefaultGenesis()
	g.ReleaseAfterBlocks = releaseAfter
	m := newMarketWith(t, g)
	m.shop()
	m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 1})
	m.do("alice", commerce.ActionShip, commerce.Ship{Order: 1, Tracking: "X"})
	wantErr(t, m.try("bob", commerce.ActionDispute, commerce.OpenDispute{Order: 1, Reason: "late"}),
		commerce.ErrNoArbiter, "OrderInTransit", "OrderProblem")
	m.wait(releaseAfter)
	if got := m.status(1); got != commerce.OrderDelivered {
		t.Errorf("status %s, want released on time", got)
	}
}

func hasEvent(r chain.Receipt, typ, key, value string) bool {
	for _, e := range r.Events {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attrs {
			if a.Key == key && a.Value == value {
				return true
			}
		}
	}
	return false
}
