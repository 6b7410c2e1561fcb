package commerce

import (
	"fmt"
	"strconv"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// MaxList bounds every list in an answer. When more match, Truncated is
// set and the client asks again with after= the last id it got.
const MaxList = 100

// OrderAnswer is the answer to order/{id}: the order with its history,
// and the moves open from its status.
type OrderAnswer struct {
	Order       Order  `json:"order"`
	Next        []Move `json:"next"` // empty once the status is final
	QueryHeight uint64 `json:"query_height"`
}

// OrdersAnswer is the answer to orders.
type OrdersAnswer struct {
	Orders      []Order `json:"orders"`
	Truncated   bool    `json:"truncated,omitempty"`
	QueryHeight uint64  `json:"query_height"`
}

// OfferAnswer is the answer to offer/{id}.
type OfferAnswer struct {
	Offer       Offer  `json:"offer"`
	QueryHeight uint64 `json:"query_height"`
}

// OffersAnswer is the answer to offers.
type OffersAnswer struct {
	Offers      []Offer `json:"offers"`
	Truncated   bool    `json:"truncated,omitempty"`
	QueryHeight uint64  `json:"query_height"`
}

// ParamsAnswer is the answer to params: the genesis parameters and the
// escrow account, whose balance is what the module holds.
type ParamsAnswer struct {
	Params
	Escrow      chain.Address `json:"escrow"`
	QueryHeight uint64        `json:"query_height"`
}

func queryOrder(q *chain.QueryContext, p sdk.Params) (any, error) {
	o, err := byID(q, p, "order", loadOrder)
	if err != nil {
		return nil, err
	}
	return &OrderAnswer{Order: *o, Next: MovesFrom(o.Status), QueryHeight: q.Height}, nil
}

func queryOffer(q *chain.QueryContext, p sdk.Params) (any, error) {
	o, err := byID(q, p, "offer", loadOffer)
	if err != nil {
		return nil, err
	}
	return &OfferAnswer{Offer: *o, QueryHeight: q.Height}, nil
}

func queryParams(q *chain.QueryContext, _ sdk.Params) (any, error) {
	p, err := loadParams(q.Store())
	if err != nil {
		return nil, err
	}
	return &ParamsAnswer{Params: p, Escrow: EscrowAddress, QueryHeight: q.Height}, nil
}

// queryOrders walks the narrowest index the filters allow (buyer, then
// seller, then status, else all orders) and checks the other filters on
// each order it loads.
func queryOrders(q *chain.QueryContext, p sdk.Params) (any, error) {
	buyer, err := p.Address("buyer")
	if err != nil {
		return nil, err
	}
	seller, err := p.Address("seller")
	if err != nil {
		return nil, err
	}
	var status Status
	if p.Has("status") {
		if status, err = ParseStatus(p.Arg("status")); err != nil {
			return nil, err
		}
	}
	prefix := prefixOrder
	switch {
	case !buyer.IsZero():
		prefix = sdk.Key(prefixBuyer, buyer[:])
	case !seller.IsZero():
		prefix = sdk.Key(prefixSeller, seller[:])
	case status != "":
		prefix = prefixStatusOf(status)
	}
	orders, truncated, err := list(q.Store(), prefix, p, loadOrder, func(o *Order) bool {
		return (buyer.IsZero() || o.Buyer == buyer) && (seller.IsZero() || o.Seller == seller) &&
			(status == "" || o.Status == status)
	})
	return &OrdersAnswer{Orders: orders, Truncated: truncated, QueryHeight: q.Height}, err
}

func queryOffers(q *chain.QueryContext, p sdk.Params) (any, error) {
	seller, err := p.Address("seller")
	if err != nil {
		return nil, err
	}
	prefix := prefixOffer
	if !seller.IsZero() {
		prefix = sdk.Key(prefixOfferBy, seller[:])
	}
	offers, truncated, err := list(q.Store(), prefix, p, loadOffer, func(*Offer) bool { return true })
	return &OffersAnswer{Offers: offers, Truncated: truncated, QueryHeight: q.Height}, err
}

// list loads the records whose ids end the keys under prefix, in id
// order from the first id above the query's after= argument, and keeps
// those that pass keep, up to MaxList of them. It reports truncated when
// it stopped there with keys left (sdk.Each).
func list[T any](st *chain.Store, prefix []byte, p sdk.Params,
	load func(*chain.Store, uint64) (*T, error), keep func(*T) bool) ([]T, bool, error) {
	after, err := p.Uint("after", 0)
	if err != nil {
		return nil, false, err
	}
	out := []T{}
	truncated, err := sdk.Each(st, prefix, sdk.Key(prefix, u64(after)), MaxList, func(k, _ []byte) (bool, error) {
		id, err := idAtEnd(k)
		if err != nil {
			return false, err
		}
		r, err := load(st, id)
		if err != nil || !keep(r) {
			return false, err
		}
		out = append(out, *r)
		return true, nil
	})
	return out, truncated, err
}

// byID loads the record named by the path's {id}; what names the record
// in errors ("order").
func byID[T any](q *chain.QueryContext, p sdk.Params, what string,
	load func(*chain.Store, uint64) (*T, error)) (*T, error) {
	s := p.Path("id")
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return nil, fmt.Errorf("%w: %s: %q is not an id (1, 2, 3, ...)", chain.ErrBadPayload, what, s)
	}
	return load(q.Store(), id)
}
