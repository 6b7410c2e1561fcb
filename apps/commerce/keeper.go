package commerce

import (
	"fmt"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// EscrowAddress is the account that holds the buyers' payments until an
// order is settled. It is derived from a name, so nobody has its key:
// only this module's code moves its funds.
var EscrowAddress = sdk.ModuleAddress("commerce/escrow")

// Params are fixed at genesis.
type Params struct {
	// Arbiter settles disputes. Zero means none: disputes are refused.
	Arbiter chain.Address `json:"arbiter,omitzero"`
	// ReleaseAfterBlocks is how many blocks after shipping the escrow goes
	// to the seller by itself, unless the buyer confirmed or someone
	// opened a dispute first.
	ReleaseAfterBlocks uint64 `json:"release_after_blocks"`
	// MaxPrice bounds an offer's unit price and MaxStock its stock.
	// Genesis refuses bounds whose product overflows, so price*quantity
	// always fits in 64 bits.
	MaxPrice uint64 `json:"max_price"`
	MaxStock uint64 `json:"max_stock"`
}

// Offer is a merchant's listing, stored under offer/{id}.
type Offer struct {
	ID     uint64        `json:"id"`
	Seller chain.Address `json:"seller"`
	Item   string        `json:"item"`
	Price  uint64        `json:"price"`  // per unit, in the native token
	Stock  uint64        `json:"stock"`  // units left to order
	Height uint64        `json:"height"` // block it was listed in
}

// Order is one purchase, stored under order/{id} with its whole history.
type Order struct {
	ID       uint64        `json:"id"`
	Offer    uint64        `json:"offer"`
	Item     string        `json:"item"`
	Seller   chain.Address `json:"seller"`
	Buyer    chain.Address `json:"buyer"`
	Quantity uint64        `json:"quantity"`
	Price    uint64        `json:"price"` // per unit, as the offer said when ordered
	Total    uint64        `json:"total"` // price * quantity, what the buyer paid
	Status   Status        `json:"status"`
	Escrow   Escrow        `json:"escrow"`
	Tracking string        `json:"tracking,omitempty"`
	// ReleaseHeight is the block at whose end an unconfirmed shipment is
	// paid out; set by ship and kept while the order is in transit or
	// waits for pickup.
	ReleaseHeight uint64   `json:"release_height,omitempty"`
	Dispute       *Dispute `json:"dispute,omitempty"`
	History       []Entry  `json:"history"`
}

// Escrow says where an order's money is.
type Escrow struct {
	Amount uint64 `json:"amount"` // held for this order now
	State  string `json:"state"`  // EscrowHeld, EscrowReleased or EscrowRefunded
}

// The escrow states.
const (
	EscrowHeld     = "held"     // in the escrow account
	EscrowReleased = "released" // paid to the seller
	EscrowRefunded = "refunded" // paid back to the buyer
)

// Dispute is a disagreement put before the arbiter.
type Dispute struct {
	OpenedBy      chain.Address `json:"opened_by"`
	Role          Role          `json:"role"` // buyer or seller
	Reason        string        `json:"reason"`
	Height        uint64        `json:"height"`
	Outcome       string        `json:"outcome,omitempty"` // OutcomeRefund or OutcomePay once settled
	Note          string        `json:"note,omitempty"`    // the arbiter's words
	SettledHeight uint64        `json:"settled_height,omitempty"`
}

// Entry is one line of an order's history: a step, who made it, and the
// status before and after.
type Entry struct {
	Step   Step          `json:"step"` // "place" for the first entry
	From   Status        `json:"from,omitempty"`
	To     Status        `json:"to"`
	By     Role          `json:"by"`
	Actor  chain.Address `json:"actor,omitzero"` // zero when the chain made the step
	Note   string        `json:"note,omitempty"` // tracking reference, reason, amount
	Height uint64        `json:"height"`
	Time   string        `json:"time"` // block time, UTC with milliseconds
}

// State keys, relative to the app's prefix "a/commerce/" (doc.go).
var (
	keyParams     = []byte("params")
	keyOfferSeq   = []byte("seq/offer")
	keyOrderSeq   = []byte("seq/order")
	prefixOffer   = []byte("offer/")
	prefixOfferBy = []byte("offerby/")
	prefixOrder   = []byte("order/")
	prefixBuyer   = []byte("buyer/")
	prefixSeller  = []byte("seller/")
	prefixStatus  = []byte("status/")
	prefixRelease = []byte("release/")
)

// u64 is the form of ids and heights in keys: 8 bytes big-endian, which
// sort like the numbers.
func u64(n uint64) []byte { return sdk.Uint64Bytes(n) }

func keyOffer(id uint64) []byte                    { return sdk.Key(prefixOffer, u64(id)) }
func keyOfferBy(a chain.Address, id uint64) []byte { return sdk.Key(prefixOfferBy, a[:], u64(id)) }
func keyOrder(id uint64) []byte                    { return sdk.Key(prefixOrder, u64(id)) }
func keyBuyer(a chain.Address, id uint64) []byte   { return sdk.Key(prefixBuyer, a[:], u64(id)) }
func keySeller(a chain.Address, id uint64) []byte  { return sdk.Key(prefixSeller, a[:], u64(id)) }
func prefixStatusOf(s Status) []byte               { return sdk.Key(prefixStatus, []byte(s), []byte("/")) }
func keyStatus(s Status, id uint64) []byte         { return sdk.Key(prefixStatusOf(s), u64(id)) }
func prefixReleaseAt(h uint64) []byte              { return sdk.Key(prefixRelease, u64(h)) }
func keyRelease(h, id uint64) []byte               { return sdk.Key(prefixReleaseAt(h), u64(id)) }

func loadParams(st *chain.Store) (Params, error) { return sdk.LoadOr(st, keyParams, DefaultGenesis()) }

func loadOffer(st *chain.Store, id uint64) (*Offer, error) {
	return sdk.Load[Offer](st, keyOffer(id), fmt.Sprint("offer ", id))
}

func loadOrder(st *chain.Store, id uint64) (*Order, error) {
	return sdk.Load[Order](st, keyOrder(id), fmt.Sprint("order ", id))
}

// saveOrder stores o and keeps the status index in step with it: was is
// the status o had when it was loaded, empty for a new order.
func saveOrder(st *chain.Store, o *Order, was Status) {
	if was != o.Status {
		if was != "" {
			st.Delete(keyStatus(was, o.ID))
		}
		st.Set(keyStatus(o.Status, o.ID), sdk.Present)
	}
	sdk.Save(st, keyOrder(o.ID), o)
}

// roleOf returns who sender is to o.
func roleOf(o *Order, p *Params, sender chain.Address) Role {
	switch {
	case sender == o.Buyer:
		return RoleBuyer
	case sender == o.Seller:
		return RoleSeller
	case isArbiter(p, sender):
		return RoleArbiter
	}
	return RoleOther
}

// payOut moves the whole escrow of o to the seller (EscrowReleased) or
// back to the buyer (EscrowRefunded).
func (a *App) payOut(ctx *chain.Context, o *Order, state string) error {
	to := o.Seller
	if state == EscrowRefunded {
		to = o.Buyer
	}
	if o.Escrow.State != EscrowHeld {
		return fmt.Errorf("order %d: escrow is %s, not held", o.ID, o.Escrow.State) // a broken invariant
	}
	if err := a.escrow.Pay(ctx, to, o.Escrow.Amount); err != nil {
		return fmt.Errorf("order %d: pay out escrow: %w", o.ID, err)
	}
	o.Escrow = Escrow{Amount: 0, State: state}
	return nil
}
