package commerce

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/citychain/citychain/chain"
)

// Status is where an order stands in the status machine. Each status is
// named after the member of schema.org's OrderStatus enumeration
// (https://schema.org/OrderStatus) that it means, save one: OrderRefunded
// (see there). SchemaName gives the member, IRI its schema.org IRI, and
// the JSON answers write a status by its SchemaName; the state, its
// indexes and the receipts (events, error texts) keep the word as it is
// stored.
type Status string

// The statuses, in the order an order meets them.
const (
	// OrderPaymentDue is an order that exists but is not paid yet. Here
	// it lasts only inside place_order: the order is created in it and
	// paid into escrow in the same transaction, and if the payment fails
	// the transaction fails and leaves no order. No stored order is ever
	// OrderPaymentDue; the first entry of every history shows it.
	OrderPaymentDue Status = "OrderPaymentDue"
	// OrderProcessing is paid and waiting for the seller to ship.
	OrderProcessing Status = "OrderProcessing"
	// OrderInTransit is shipped, with a tracking reference.
	OrderInTransit Status = "OrderInTransit"
	// OrderPickupAvailable is waiting for the buyer at a pickup point.
	OrderPickupAvailable Status = "OrderPickupAvailable"
	// OrderDelivered is done: the escrow went to the seller.
	OrderDelivered Status = "OrderDelivered"
	// OrderCancelled was called off before shipping: the buyer got the
	// money back and the offer its stock.
	OrderCancelled Status = "OrderCancelled"
	// OrderRefunded was refunded by the arbiter after a dispute: the
	// buyer got the escrow back, and nothing says the goods came back to
	// the shop (the stock does not grow). schema.org's OrderReturned is
	// "an order that has been returned", which is not known here; the
	// deal was called off, so the answers say OrderCancelled, and the
	// dispute's outcome and the history's settle_refund tell it from a
	// cancellation before shipping. The state, the status index and the
	// receipts hold it under the word "OrderReturned": they are hashed
	// into blocks, and a chain that holds refunded orders must replay to
	// the same roots.
	OrderRefunded Status = "OrderReturned"
	// OrderProblem is under dispute, waiting for the arbiter.
	OrderProblem Status = "OrderProblem"
)

// Statuses lists every status, in the order of the README's table.
var Statuses = []Status{OrderPaymentDue, OrderProcessing, OrderInTransit, OrderPickupAvailable,
	OrderDelivered, OrderCancelled, OrderRefunded, OrderProblem}

// OrderStatuses lists the eight members of schema.org's OrderStatus
// enumeration by name. Every Status means one of them; none means
// OrderReturned, since no step here takes goods back.
var OrderStatuses = []string{"OrderPaymentDue", "OrderProcessing", "OrderInTransit", "OrderPickupAvailable",
	"OrderDelivered", "OrderCancelled", "OrderReturned", "OrderProblem"}

// SchemaOrg is the namespace of schema.org's terms, in the https form
// that schema.org prefers for IRIs (it treats http://schema.org/ as the
// same namespace).
const SchemaOrg = "https://schema.org/"

// SchemaName returns the member of schema.org's OrderStatus enumeration
// that s means: OrderCancelled for OrderRefunded, else its own name.
func (s Status) SchemaName() string {
	if s == OrderRefunded {
		return string(OrderCancelled)
	}
	return string(s)
}

// IRI returns the schema.org IRI of s, such as
// https://schema.org/OrderDelivered.
func (s Status) IRI() string { return SchemaOrg + s.SchemaName() }

// MarshalJSON writes s as its SchemaName, so that every JSON answer
// (an order's status and history, the moves open next) names statuses
// as the vocabulary means them. The state's encoding is CBOR, which
// does not call it: stored orders keep the stored word.
func (s Status) MarshalJSON() ([]byte, error) { return json.Marshal(s.SchemaName()) }

// ParseStatus reads a member of schema.org's OrderStatus enumeration
// given by name ("OrderInTransit"), as a compact IRI
// ("schema:OrderInTransit") or as an IRI
// ("https://schema.org/OrderInTransit", or with http), and returns its
// name. The orders it selects are those whose SchemaName it is:
// StatusesNamed.
func ParseStatus(s string) (string, error) {
	name := s
	for _, prefix := range []string{"schema:", SchemaOrg, "http://schema.org/"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			name = rest
			break
		}
	}
	if slices.Contains(OrderStatuses, name) {
		return name, nil
	}
	return "", fmt.Errorf("%w: status %q is not a schema.org OrderStatus: give one of %s, by name, as schema:NAME or as %sNAME",
		chain.ErrBadPayload, s, strings.Join(OrderStatuses, ", "), SchemaOrg)
}

// StatusesNamed returns the statuses whose SchemaName is name: none for
// OrderReturned, two for OrderCancelled, one for the others.
func StatusesNamed(name string) []Status {
	var out []Status
	for _, s := range Statuses {
		if s.SchemaName() == name {
			out = append(out, s)
		}
	}
	return out
}

// Role is who a sender is to an order.
type Role string

// The roles. Exactly one applies to any sender (doc.go explains why).
const (
	RoleBuyer   Role = "buyer"
	RoleSeller  Role = "seller"
	RoleArbiter Role = "arbiter" // named in genesis
	RoleChain   Role = "chain"   // the chain itself, at the end of a block
	RoleOther   Role = "other"   // anyone else
)

// Step is one kind of move in the status machine. Most steps are named
// after the action that makes them; settle makes one of two steps, and
// the chain makes auto_release.
type Step string

// The steps. StepPlace only names the first entry of every history, the
// order's creation; it is not a transition, since nothing leads into
// OrderPaymentDue, and Steps leaves it out.
const (
	StepPlace        Step = "place"         // place_order creates the order
	StepPay          Step = "pay"           // part of place_order: the buyer pays into escrow
	StepShip         Step = "ship"          // the seller ships, with a tracking reference
	StepMarkPickup   Step = "mark_pickup"   // the seller says it waits at a pickup point
	StepConfirm      Step = "confirm"       // the buyer confirms delivery: escrow to the seller
	StepAutoRelease  Step = "auto_release"  // the timeout ran out: escrow to the seller
	StepCancel       Step = "cancel"        // before shipping: escrow back to the buyer, stock back to the offer
	StepDispute      Step = "dispute"       // either party asks the arbiter
	StepSettleRefund Step = "settle_refund" // the arbiter refunds the buyer
	StepSettlePay    Step = "settle_pay"    // the arbiter pays the seller
)

// Transition is one row of the status table: Step, made by one of By,
// moves an order from any of From to To.
type Transition struct {
	Step Step
	From []Status
	By   []Role
	To   Status
}

// machine is the status table, the one place that says which moves are
// legal. Every move in orders.go goes through Next, which reads it; the
// README prints the same table. Anything not listed is illegal.
var machine = []Transition{
	{StepPay, []Status{OrderPaymentDue}, []Role{RoleBuyer}, OrderProcessing},
	{StepShip, []Status{OrderProcessing}, []Role{RoleSeller}, OrderInTransit},
	{StepCancel, []Status{OrderProcessing}, []Role{RoleBuyer, RoleSeller}, OrderCancelled},
	{StepMarkPickup, []Status{OrderInTransit}, []Role{RoleSeller}, OrderPickupAvailable},
	{StepConfirm, []Status{OrderInTransit, OrderPickupAvailable}, []Role{RoleBuyer}, OrderDelivered},
	{StepAutoRelease, []Status{OrderInTransit, OrderPickupAvailable}, []Role{RoleChain}, OrderDelivered},
	{StepDispute, []Status{OrderInTransit, OrderPickupAvailable}, []Role{RoleBuyer, RoleSeller}, OrderProblem},
	{StepSettleRefund, []Status{OrderProblem}, []Role{RoleArbiter}, OrderRefunded},
	{StepSettlePay, []Status{OrderProblem}, []Role{RoleArbiter}, OrderDelivered},
}

// Steps lists every step, in table order.
func Steps() []Step {
	out := make([]Step, len(machine))
	for i, t := range machine {
		out[i] = t.Step
	}
	return out
}

// Next returns the status that step, made by role, leads to from status
// from. It fails with ErrIllegalTransition when the step does not leave
// from, and with both ErrIllegalTransition and chain.ErrUnauthorized when
// it does but role may not make it. Either message names the current and
// the requested status.
func Next(from Status, step Step, role Role) (Status, error) {
	i := slices.IndexFunc(machine, func(t Transition) bool { return t.Step == step })
	if i < 0 {
		return "", fmt.Errorf("%w: %s has no step %q", ErrIllegalTransition, from, step)
	}
	t := machine[i]
	if !slices.Contains(t.From, from) {
		return "", fmt.Errorf("%w: %s -> %s by %s: %s is allowed only from %s",
			ErrIllegalTransition, from, t.To, step, step, join(t.From, " or "))
	}
	if !slices.Contains(t.By, role) {
		return "", fmt.Errorf("%w: %w: %s -> %s by %s: only the %s may do it, and the sender is %s",
			ErrIllegalTransition, chain.ErrUnauthorized, from, t.To, step, join(t.By, " or "), describe(role))
	}
	return t.To, nil
}

// Move is a step that is open to a role from some status, for answers
// that tell a client what can happen next.
type Move struct {
	Step Step   `json:"step"`
	By   Role   `json:"by"`
	To   Status `json:"to"`
}

// MovesFrom lists the moves open from status s, in table order.
func MovesFrom(s Status) []Move {
	out := []Move{}
	for _, t := range machine {
		if slices.Contains(t.From, s) {
			for _, r := range t.By {
				out = append(out, Move{Step: t.Step, By: r, To: t.To})
			}
		}
	}
	return out
}

// Final reports whether no step leads out of s.
func (s Status) Final() bool { return len(MovesFrom(s)) == 0 }

func describe(r Role) string {
	if r == RoleOther {
		return "not a party to the order"
	}
	return "the " + string(r)
}

// join joins statuses or roles with sep.
func join[T ~string](xs []T, sep string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = string(x)
	}
	return strings.Join(parts, sep)
}
