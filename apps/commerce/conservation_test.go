package commerce_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/apps/commerce"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// TestMoneyAndStockAreConserved drives the market with random blocks of
// random actions by random people, most of which fail (wrong sender,
// wrong status, no such order, out of stock, not enough money), and
// checks every invariant of doc.go after every block. Each seed runs
// twice and must end at the same state root: the module is deterministic
// even though the test that feeds it is random.
func TestMoneyAndStockAreConserved(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	var mu sync.Mutex
	taken := map[commerce.Step]bool{}
	t.Run("seeds", func(t *testing.T) { // returns when every parallel seed is done
		for seed := 1; seed <= seeds; seed++ {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				m, ok, failed := simulate(t, uint64(seed))
				again, _, _ := simulate(t, uint64(seed))
				if m.c.Root != again.c.Root {
					t.Fatalf("the same blocks gave state roots %s and %s", m.c.Root, again.c.Root)
				}
				if ok < 20 || failed < 20 {
					t.Errorf("%d transactions succeeded and %d failed: the mix tests too little", ok, failed)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, o := range storedOrders(t, m) {
					for _, e := range o.History {
						taken[e.Step] = true
					}
				}
			})
		}
	})
	for _, s := range commerce.Steps() {
		if !taken[s] && !testing.Short() {
			t.Errorf("no order took step %s: the random mix misses a path", s)
		}
	}
}

// simulate runs 80 random blocks and returns the market and how many
// transactions succeeded and failed.
func simulate(t *testing.T, seed uint64) (m *market, ok, failed int) {
	g := commerce.DevGenesis(addr("judge"))
	g.ReleaseAfterBlocks = 8
	m = newMarketWith(t, g)
	rng := rand.New(rand.NewPCG(seed, 0))
	w := &world{listed: map[uint64]uint64{}}
	total := uint64(len(people)) * startBalance

	for _, shop := range []string{"alice", "alice", "bob", "carol"} {
		w.learn(m.do(shop, commerce.ActionListOffer, randomOffer(rng)))
	}
	for range 80 {
		var txs [][]byte
		for n := rng.IntN(6); n > 0; n-- {
			who, action, payload := w.next(rng, m)
			raw, err := m.c.Tx(chaintest.Key(who), commerce.Name, action, payload)
			if err != nil {
				t.Fatal(err)
			}
			txs = append(txs, raw)
		}
		rs, err := m.c.Block(txs...)
		if err != nil {
			t.Fatalf("block %d: %v", m.c.Height, err)
		}
		for _, r := range rs {
			if r.Status == chain.StatusOK {
				ok++
				w.learn(r)
			} else {
				failed++
			}
		}
		checkInvariants(t, m, w, total)
		if t.Failed() {
			t.FailNow()
		}
	}
	return m, ok, failed
}

// world is what the test driver knows: the stock each offer was listed
// with (for the stock invariant) and how many orders exist (to pick ids).
type world struct {
	listed map[uint64]uint64
	orders uint64
}

// learn reads new offers and orders from a successful receipt's events.
func (w *world) learn(r chain.Receipt) {
	for _, e := range r.Events {
		attrs := map[string]string{}
		for _, a := range e.Attrs {
			attrs[a.Key] = a.Value
		}
		switch {
		case e.Type == "offer_listed":
			id, _ := strconv.ParseUint(attrs["offer"], 10, 64)
			w.listed[id], _ = strconv.ParseUint(attrs["stock"], 10, 64)
		case e.Type == "order" && attrs["step"] == "place":
			w.orders++
		}
	}
}

func randomOffer(rng *rand.Rand) commerce.ListOffer {
	return commerce.ListOffer{Item: fmt.Sprintf("item %d", rng.IntN(100)), Price: 1 + rng.Uint64N(60), Stock: 5 + rng.Uint64N(30)}
}

// next picks the next transaction: half the time a move that the
// status of a recent order allows, sent by someone who may make it (so
// that orders travel every path), else any action by anyone, with ids
// that may not exist and quantities that may exceed the stock.
func (w *world) next(rng *rand.Rand, m *market) (who, action string, payload any) {
	if w.orders > 0 && rng.IntN(2) == 0 {
		id := w.orders - rng.Uint64N(min(w.orders, 6))
		a := m.order(id)
		var moves []commerce.Move
		for _, mv := range a.Next {
			if mv.By != commerce.RoleChain {
				moves = append(moves, mv)
			}
		}
		if len(moves) > 0 {
			mv := moves[rng.IntN(len(moves))]
			action, payload := stepAction(rng, mv.Step, id)
			return nameOf(a.Order, mv.By), action, payload
		}
	}
	id := 1 + rng.Uint64N(w.orders+1)
	switch n := rng.IntN(100); {
	case n < 8:
		return anyone(rng), commerce.ActionListOffer, randomOffer(rng)
	case n < 40:
		qty := 1 + rng.Uint64N(3)
		if rng.IntN(20) == 0 {
			qty = 50
		}
		offer := 1 + rng.Uint64N(uint64(len(w.listed))+1)
		return anyone(rng), commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: offer, Quantity: qty}
	}
	steps := commerce.Steps()
	action, payload = stepAction(rng, steps[1+rng.IntN(len(steps)-1)], id) // any step but pay
	return anyone(rng), action, payload
}

// stepAction returns the action that makes step on order id.
func stepAction(rng *rand.Rand, step commerce.Step, id uint64) (string, any) {
	switch step {
	case commerce.StepShip:
		return commerce.ActionShip, commerce.Ship{Order: id, Tracking: fmt.Sprint("T-", rng.IntN(1000))}
	case commerce.StepMarkPickup:
		return commerce.ActionMarkPickup, commerce.MarkPickup{Order: id}
	case commerce.StepCancel:
		return commerce.ActionCancel, commerce.Cancel{Order: id}
	case commerce.StepDispute:
		return commerce.ActionDispute, commerce.OpenDispute{Order: id, Reason: "not as described"}
	case commerce.StepSettleRefund:
		return commerce.ActionSettle, commerce.Settle{Order: id, Outcome: commerce.OutcomeRefund}
	case commerce.StepSettlePay:
		return commerce.ActionSettle, commerce.Settle{Order: id, Outcome: commerce.OutcomePay}
	}
	return commerce.ActionConfirm, commerce.Confirm{Order: id} // confirm, and auto_release tried by hand
}

func anyone(rng *rand.Rand) string { return people[rng.IntN(len(people))] }

// nameOf returns the person who plays role in order o.
func nameOf(o commerce.Order, role commerce.Role) string {
	for _, p := range people {
		if a := addr(p); (role == commerce.RoleBuyer && a == o.Buyer) || (role == commerce.RoleSeller && a == o.Seller) {
			return p
		}
	}
	return "judge"
}

// checkInvariants checks doc.go's invariants against the stored state
// and the queries.
func checkInvariants(t *testing.T, m *market, w *world, total uint64) {
	t.Helper()
	// Money: nothing created or destroyed, the bank agrees.
	escrow := m.escrow()
	sum := escrow
	for _, p := range people {
		sum += m.balance(p)
	}
	s, err := m.c.Query(bank.Name, "supply", nil)
	if err != nil {
		t.Fatal(err)
	}
	if supply := s.(bank.SupplyAnswer).Supply; sum != total || supply != total {
		t.Errorf("height %d: balances and escrow add up to %d, supply %d, want %d", m.c.Height, sum, supply, total)
	}

	orders := storedOrders(t, m)
	var held uint64
	ordered := map[uint64]uint64{}
	awaiting := 0
	for _, o := range orders {
		held += o.Escrow.Amount
		if o.Status != commerce.OrderCancelled {
			ordered[o.Offer] += o.Quantity
		}
		checkOrder(t, m, &o)
		if o.Status == commerce.OrderInTransit || o.Status == commerce.OrderPickupAvailable {
			awaiting++
		}
	}
	if held != escrow {
		t.Errorf("height %d: orders hold %d in escrow, the escrow account %d", m.c.Height, held, escrow)
	}
	if uint64(len(orders)) != w.orders {
		t.Errorf("%d orders stored, %d placed", len(orders), w.orders)
	}

	// Stock: what is left plus what is ordered is what was listed.
	for id, listed := range w.listed {
		if left := m.offer(id).Stock; left+ordered[id] != listed {
			t.Errorf("offer %d: %d left + %d ordered, listed %d", id, left, ordered[id], listed)
		}
	}

	// The status index holds each order once, under its stored status,
	// and the status filter lists it once, under the schema.org
	// OrderStatus its status means.
	index := statusIndex(t, m)
	if len(index) != len(orders) {
		t.Errorf("status index holds %d orders, %d exist", len(index), len(orders))
	}
	for _, o := range orders {
		if index[o.ID] != o.Status {
			t.Errorf("order %d is %s but indexed under %q", o.ID, o.Status, index[o.ID])
		}
	}
	listed := 0
	for _, name := range commerce.OrderStatuses {
		for _, o := range queryOrders(t, m, map[string]string{"status": name}) {
			listed++
			if o.Status.SchemaName() != name {
				t.Errorf("order %d is %s but listed under %s", o.ID, o.Status, name)
			}
		}
	}
	if listed != len(orders) {
		t.Errorf("the status filter lists %d orders, %d exist", listed, len(orders))
	}

	// The release index holds exactly the orders waiting for their timer.
	due := releaseIndex(t, m)
	if len(due) != awaiting {
		t.Errorf("release index has %d entries, %d orders await release", len(due), awaiting)
	}
	for id, h := range due {
		o := orders[id-1]
		if o.ReleaseHeight != h || h <= m.c.Height {
			t.Errorf("release index: order %d due at %d (order says %d, now %d)", id, h, o.ReleaseHeight, m.c.Height)
		}
	}
}

// checkOrder checks one order's escrow against its status and its
// history against itself.
func checkOrder(t *testing.T, m *market, o *commerce.Order) {
	t.Helper()
	want := commerce.Escrow{Amount: o.Total, State: commerce.EscrowHeld}
	switch o.Status {
	case commerce.OrderDelivered:
		want = commerce.Escrow{State: commerce.EscrowReleased}
	case commerce.OrderCancelled, commerce.OrderRefunded:
		want = commerce.Escrow{State: commerce.EscrowRefunded}
	}
	if o.Escrow != want {
		t.Errorf("order %d is %s with escrow %+v, want %+v", o.ID, o.Status, o.Escrow, want)
	}
	if (o.Status == commerce.OrderInTransit || o.Status == commerce.OrderPickupAvailable) != (o.ReleaseHeight != 0) {
		t.Errorf("order %d is %s with release height %d", o.ID, o.Status, o.ReleaseHeight)
	}
	if (o.Status == commerce.OrderProblem) && o.Dispute == nil {
		t.Errorf("order %d is %s without a dispute", o.ID, o.Status)
	}
	if len(o.History) < 2 || len(o.History) > 6 || o.History[len(o.History)-1].To != o.Status {
		t.Fatalf("order %d: history %+v does not end in %s", o.ID, o.History, o.Status)
	}
	for i := 1; i < len(o.History); i++ {
		if o.History[i].From != o.History[i-1].To || o.History[i].Height < o.History[i-1].Height {
			t.Errorf("order %d: history entries %d and %d do not join: %+v", o.ID, i-1, i, o.History)
		}
	}
}

// storedOrders decodes every order in the state, in id order.
func storedOrders(t *testing.T, m *market) []commerce.Order {
	t.Helper()
	var out []commerce.Order
	err := m.c.State().Iterate(chain.AppKey(commerce.Name, []byte("order/")), func(_, v []byte) error {
		var o commerce.Order
		if err := chain.Decode(v, &o); err != nil {
			return err
		}
		if o.ID != uint64(len(out)+1) {
			return fmt.Errorf("order %d stored after %d orders: ids must run 1, 2, 3, ...", o.ID, len(out))
		}
		out = append(out, o)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// releaseIndex reads release/{height}{id} into id -> height.
func releaseIndex(t *testing.T, m *market) map[uint64]uint64 {
	t.Helper()
	prefix := chain.AppKey(commerce.Name, []byte("release/"))
	out := map[uint64]uint64{}
	err := m.c.State().Iterate(prefix, func(k, _ []byte) error {
		rest := k[len(prefix):]
		if len(rest) != 16 {
			return fmt.Errorf("release key %x", k)
		}
		out[binary.BigEndian.Uint64(rest[8:])] = binary.BigEndian.Uint64(rest[:8])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// statusIndex reads status/{Status}/{id} into id -> status; it fails
// the test on an order indexed twice.
func statusIndex(t *testing.T, m *market) map[uint64]commerce.Status {
	t.Helper()
	prefix := chain.AppKey(commerce.Name, []byte("status/"))
	out := map[uint64]commerce.Status{}
	err := m.c.State().Iterate(prefix, func(k, _ []byte) error {
		rest := k[len(prefix):]
		if len(rest) < 10 || rest[len(rest)-9] != '/' {
			return fmt.Errorf("status key %x", k)
		}
		id := binary.BigEndian.Uint64(rest[len(rest)-8:])
		if was, ok := out[id]; ok {
			return fmt.Errorf("order %d indexed under %s and %s", id, was, rest[:len(rest)-9])
		}
		out[id] = commerce.Status(rest[:len(rest)-9])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// queryOrders follows the orders query page by page.
func queryOrders(t testing.TB, m *market, args map[string]string) []commerce.Order {
	t.Helper()
	var out []commerce.Order
	for {
		a, err := m.c.Query(commerce.Name, "orders", args)
		if err != nil {
			t.Fatal(err)
		}
		page := a.(*commerce.OrdersAnswer)
		out = append(out, page.Orders...)
		if !page.Truncated {
			return out
		}
		next := map[string]string{"after": fmt.Sprint(page.Orders[len(page.Orders)-1].ID)}
		for k, v := range args {
			if k != "after" {
				next[k] = v
			}
		}
		args = next
	}
}
