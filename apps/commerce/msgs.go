package commerce

import "github.com/citychain/citychain/apps/sdk"

// Name is the app's name in transactions and URLs.
const Name = "commerce"

// The actions of the module.
const (
	ActionListOffer  = "list_offer"  // a merchant offers an item
	ActionPlaceOrder = "place_order" // a buyer orders and pays into escrow
	ActionShip       = "ship"        // the seller ships
	ActionMarkPickup = "mark_pickup" // the seller says it waits at a pickup point
	ActionConfirm    = "confirm"     // the buyer confirms delivery
	ActionCancel     = "cancel"      // either party calls it off before shipping
	ActionDispute    = "dispute"     // either party asks the arbiter
	ActionSettle     = "settle"      // the arbiter decides a dispute
)

// Limits on free text, in bytes of UTF-8.
const (
	MaxItem     = 200
	MaxTracking = 100
	MaxNote     = 500
)

// The outcomes of a settlement.
const (
	OutcomeRefund = "refund" // the buyer gets the escrow back: OrderRefunded
	OutcomePay    = "pay"    // the seller gets the escrow: OrderDelivered
)

// ListOffer offers an item at a unit price in the native token, with a
// stock of units to sell. The offer gets the next offer id.
type ListOffer struct {
	Item  string `json:"item"`
	Price uint64 `json:"price"`
	Stock uint64 `json:"stock"`
}

// Validate checks the payload without state. The genesis bounds on price
// and stock are checked in Deliver, which can read them.
func (m *ListOffer) Validate() error {
	return sdk.FirstError(sdk.CheckText("item", m.Item, MaxItem), atLeast1("price", m.Price), atLeast1("stock", m.Stock))
}

// PlaceOrder orders Quantity units of an offer. The sender pays
// price*quantity into escrow in the same transaction.
type PlaceOrder struct {
	Offer    uint64 `json:"offer"`
	Quantity uint64 `json:"quantity"`
}

// Validate checks the payload without state.
func (m *PlaceOrder) Validate() error {
	return sdk.FirstError(checkID("offer", m.Offer), atLeast1("quantity", m.Quantity))
}

// Ship marks an order as shipped, with the carrier's tracking reference.
type Ship struct {
	Order    uint64 `json:"order"`
	Tracking string `json:"tracking"`
}

// Validate checks the payload without state.
func (m *Ship) Validate() error {
	return sdk.FirstError(checkID("order", m.Order), sdk.CheckText("tracking", m.Tracking, MaxTracking))
}

// MarkPickup says a shipped order waits for the buyer at a pickup point.
type MarkPickup struct {
	Order    uint64 `json:"order"`
	Location string `json:"location,omitempty"`
}

// Validate checks the payload without state.
func (m *MarkPickup) Validate() error {
	return sdk.FirstError(checkID("order", m.Order), sdk.CheckText("location", m.Location, MaxNote, sdk.Optional))
}

// Confirm says the buyer has the goods: the escrow goes to the seller.
type Confirm struct {
	Order uint64 `json:"order"`
}

// Validate checks the payload without state.
func (m *Confirm) Validate() error { return checkID("order", m.Order) }

// Cancel calls off an order before it ships.
type Cancel struct {
	Order  uint64 `json:"order"`
	Reason string `json:"reason,omitempty"`
}

// Validate checks the payload without state.
func (m *Cancel) Validate() error {
	return sdk.FirstError(checkID("order", m.Order), sdk.CheckText("reason", m.Reason, MaxNote, sdk.Optional))
}

// OpenDispute asks the arbiter to decide a shipped order.
type OpenDispute struct {
	Order  uint64 `json:"order"`
	Reason string `json:"reason"`
}

// Validate checks the payload without state.
func (m *OpenDispute) Validate() error {
	return sdk.FirstError(checkID("order", m.Order), sdk.CheckText("reason", m.Reason, MaxNote))
}

// Settle is the arbiter's decision on a disputed order: Outcome is
// OutcomeRefund or OutcomePay.
type Settle struct {
	Order   uint64 `json:"order"`
	Outcome string `json:"outcome"`
	Note    string `json:"note,omitempty"`
}

// Validate checks the payload without state.
func (m *Settle) Validate() error {
	return sdk.FirstError(checkID("order", m.Order),
		sdk.Check(m.Outcome == OutcomeRefund || m.Outcome == OutcomePay, "outcome: %q, want %q or %q", m.Outcome, OutcomeRefund, OutcomePay),
		sdk.CheckText("note", m.Note, MaxNote, sdk.Optional))
}

func atLeast1(field string, n uint64) error {
	return sdk.Check(n != 0, "%s: must be at least 1", field)
}

func checkID(field string, id uint64) error {
	return sdk.Check(id != 0, "%s: missing id (ids start at 1)", field)
}
