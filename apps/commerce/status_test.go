package commerce_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/commerce"
	"github.com/citychain/citychain/chain"
)

// legal is the status machine written out again, one line per legal
// (status, step, role), independently of the module's table: the tests
// compare the two.
var legal = map[string]commerce.Status{
	"OrderPaymentDue pay buyer":               commerce.OrderProcessing,
	"OrderProcessing ship seller":             commerce.OrderInTransit,
	"OrderProcessing cancel buyer":            commerce.OrderCancelled,
	"OrderProcessing cancel seller":           commerce.OrderCancelled,
	"OrderInTransit mark_pickup seller":       commerce.OrderPickupAvailable,
	"OrderInTransit confirm buyer":            commerce.OrderDelivered,
	"OrderPickupAvailable confirm buyer":      commerce.OrderDelivered,
	"OrderInTransit auto_release chain":       commerce.OrderDelivered,
	"OrderPickupAvailable auto_release chain": commerce.OrderDelivered,
	"OrderInTransit dispute buyer":            commerce.OrderProblem,
	"OrderInTransit dispute seller":           commerce.OrderProblem,
	"OrderPickupAvailable dispute buyer":      commerce.OrderProblem,
	"OrderPickupAvailable dispute seller":     commerce.OrderProblem,
	"OrderProblem settle_refund arbiter":      commerce.OrderRefunded,
	"OrderProblem settle_pay arbiter":         commerce.OrderDelivered,
}

// target is the status each step asks for, whatever the current one.
var target = map[commerce.Step]commerce.Status{
	commerce.StepPay: commerce.OrderProcessing, commerce.StepShip: commerce.OrderInTransit,
	commerce.StepMarkPickup: commerce.OrderPickupAvailable, commerce.StepConfirm: commerce.OrderDelivered,
	commerce.StepAutoRelease: commerce.OrderDelivered, commerce.StepCancel: commerce.OrderCancelled,
	commerce.StepDispute: commerce.OrderProblem, commerce.StepSettleRefund: commerce.OrderRefunded,
	commerce.StepSettlePay: commerce.OrderDelivered,
}

var roles = []commerce.Role{commerce.RoleBuyer, commerce.RoleSeller, commerce.RoleArbiter, commerce.RoleChain, commerce.RoleOther}

// TestNextFollowsTheTable asks Next about every (status, step, role):
// the legal ones lead where the list above says, and every other one is
// an illegal transition whose error names the current and the requested
// status.
func TestNextFollowsTheTable(t *testing.T) {
	if got := len(commerce.Steps()); got != len(target) {
		t.Fatalf("the module has %d steps, the test knows %d", got, len(target))
	}
	seen := 0
	for _, from := range commerce.Statuses {
		for _, step := range commerce.Steps() {
			for _, role := range roles {
				key := fmt.Sprintf("%s %s %s", from, step, role)
				to, err := commerce.Next(from, step, role)
				if want, ok := legal[key]; ok {
					seen++
					if err != nil || to != want {
						t.Errorf("%s: got %s, %v; want %s", key, to, err, want)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s: allowed (-> %s), want refused", key, to)
					continue
				}
				if !errors.Is(err, commerce.ErrIllegalTransition) {
					t.Errorf("%s: error %q is not an illegal transition", key, err)
				}
				msg := err.Error()
				if !strings.Contains(msg, string(from)) || !strings.Contains(msg, string(target[step])) {
					t.Errorf("%s: error %q does not name %s and %s", key, msg, from, target[step])
				}
				// A step that is legal from here but not for this role is
				// also a matter of permission.
				if legalFromHereForSomeone(from, step) != errors.Is(err, chain.ErrUnauthorized) {
					t.Errorf("%s: error %q: unauthorized is %v", key, msg, errors.Is(err, chain.ErrUnauthorized))
				}
			}
		}
	}
	if seen != len(legal) {
		t.Errorf("%d legal moves found, the list has %d", seen, len(legal))
	}
}

func legalFromHereForSomeone(from commerce.Status, step commerce.Step) bool {
	for _, r := range roles {
		if _, ok := legal[fmt.Sprintf("%s %s %s", from, step, r)]; ok {
			return true
		}
	}
	return false
}

func TestFinalStatuses(t *testing.T) {
	for _, s := range commerce.Statuses {
		want := s == commerce.OrderDelivered || s == commerce.OrderCancelled || s == commerce.OrderRefunded
		if s.Final() != want {
			t.Errorf("%s.Final() = %v", s, s.Final())
		}
	}
}

// An action a user can send, with the payload it takes for order 1.
type userAction struct {
	name    string
	action  string
	payload any
	step    commerce.Step
}

var userActions = []userAction{
	{"ship", commerce.ActionShip, commerce.Ship{Order: 1, Tracking: "T-9"}, commerce.StepShip},
	{"mark_pickup", commerce.ActionMarkPickup, commerce.MarkPickup{Order: 1}, commerce.StepMarkPickup},
	{"confirm", commerce.ActionConfirm, commerce.Confirm{Order: 1}, commerce.StepConfirm},
	{"cancel", commerce.ActionCancel, commerce.Cancel{Order: 1}, commerce.StepCancel},
	{"dispute", commerce.ActionDispute, commerce.OpenDispute{Order: 1, Reason: "late"}, commerce.StepDispute},
	{"settle refund", commerce.ActionSettle, commerce.Settle{Order: 1, Outcome: commerce.OutcomeRefund}, commerce.StepSettleRefund},
	{"settle pay", commerce.ActionSettle, commerce.Settle{Order: 1, Outcome: commerce.OutcomePay}, commerce.StepSettlePay},
}

// actors maps each role to a person of the cast.
var actors = []struct {
	who  string
	role commerce.Role
}{{"bob", commerce.RoleBuyer}, {"alice", commerce.RoleSeller}, {"judge", commerce.RoleArbiter}, {"eve", commerce.RoleOther}}

// reach builds order 1 (bob buys from alice) and takes it to status s
// along the shortest path.
func reach(m *market, s commerce.Status) {
	m.t.Helper()
	m.shop()
	m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 2})
	path := map[commerce.Status][]userAction{
		commerce.OrderProcessing:      nil,
		commerce.OrderInTransit:       {userActions[0]},
		commerce.OrderPickupAvailable: {userActions[0], userActions[1]},
		commerce.OrderDelivered:       {userActions[0], userActions[2]},
		commerce.OrderCancelled:       {userActions[3]},
		commerce.OrderProblem:         {userActions[0], userActions[4]},
		commerce.OrderRefunded:        {userActions[0], userActions[4], userActions[5]},
	}[s]
	who := map[string]string{"ship": "alice", "mark_pickup": "alice", "confirm": "bob", "cancel": "bob",
		"dispute": "bob", "settle refund": "judge"}
	for _, a := range path {
		m.do(who[a.name], a.action, a.payload)
	}
	if got := m.status(1); got != s {
		m.t.Fatalf("reached %s, want %s", got, s)
	}
}

// TestEveryIllegalActionIsRefusedOnChain sends every action by every
// kind of sender to an order in every status a stored order can have.
// What the table allows succeeds and lands where it says; everything
// else fails with an error that names the current and the requested
// status, and leaves the order and every balance as they were.
// (OrderPaymentDue never outlives place_order, so no stored order has
// it; TestNextFollowsTheTable covers it.)
func TestEveryIllegalActionIsRefusedOnChain(t *testing.T) {
	stored := []commerce.Status{commerce.OrderProcessing, commerce.OrderInTransit, commerce.OrderPickupAvailable,
		commerce.OrderDelivered, commerce.OrderCancelled, commerce.OrderProblem, commerce.OrderRefunded}
	for _, from := range stored {
		for _, a := range userActions {
			for _, actor := range actors {
				key := fmt.Sprintf("%s %s %s", from, a.step, actor.role)
				t.Run(fmt.Sprintf("%s/%s/%s", from, a.name, actor.who), func(t *testing.T) {
					m := newMarket(t)
					reach(m, from)
					before := m.order(1).Order
					balances := map[string]uint64{}
					for _, p := range people {
						balances[p] = m.balance(p)
					}
					escrow := m.escrow()

					err := m.try(actor.who, a.action, a.payload)
					if want, ok := legal[key]; ok {
						if err != nil {
							t.Fatalf("legal move refused: %v", err)
						}
						if got := m.status(1); got != want {
							t.Fatalf("legal move led to %s, want %s", got, want)
						}
						return
					}
					wantErr(t, err, commerce.ErrIllegalTransition, string(from), string(target[a.step]))
					if after := m.order(1).Order; !reflect.DeepEqual(before, after) {
						t.Errorf("a refused action changed the order:\n%+v\n%+v", before, after)
					}
					m.wantBalances(balances, escrow)
				})
			}
		}
	}
}

func TestUnknownOrder(t *testing.T) {
	m := newMarket(t)
	wantErr(t, m.try("bob", commerce.ActionConfirm, commerce.Confirm{Order: 7}), chain.ErrNotFound, "order 7")
}
