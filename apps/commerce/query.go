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

// The queries under /v1/apps/commerce/ (the routes are in New):
//
//	order/{id}                               one order, its history and next moves
//	orders?buyer=&seller=&status=&after=     orders in id order; every filter optional
//	offer/{id}                               one offer
//	offers?seller=&after=                    offers in id order
//	params                                   genesis parameters and the escrow address

func queryOrder(q *chain.QueryContext, p sdk.Params) (any, error) {
	id, err := parseID("order", p.Path("id"))
	if err != nil {
		return nil, err
	}
	o, err := loadOrder(q.Store(), id)
	if err != nil {
		return nil, err
	}
	return &OrderAnswer{Order: *o, Next: MovesFrom(o.Status), QueryHeight: q.Height}, nil
}

func queryOffer(q *chain.QueryContext, p sdk.Params) (any, error) {
	id, err := parseID("offer", p.Path("id"))
	if err != nil {
		return nil, err
	}
	o, err := loadOffer(q.Store(), id)
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
	st := q.Store()
	ans := &OrdersAnswer{Orders: []Order{}, QueryHeight: q.Height}
	ans.Truncated, err = eachID(st, prefix, p, func(id uint64) (bool, error) {
		o, err := loadOrder(st, id)
		if err != nil {
			return false, err
		}
		if (!buyer.IsZero() && o.Buyer != buyer) || (!seller.IsZero() && o.Seller != seller) ||
			(status != "" && o.Status != status) {
			return false, nil
		}
		ans.Orders = append(ans.Orders, *o)
		return true, nil
	})
	return ans, err
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
	st := q.Store()
	ans := &OffersAnswer{Offers: []Offer{}, QueryHeight: q.Height}
	ans.Truncated, err = eachID(st, prefix, p, func(id uint64) (bool, error) {
		o, err := loadOffer(st, id)
		if err != nil {
			return false, err
		}
		ans.Offers = append(ans.Offers, *o)
		return true, nil
	})
	return ans, err
}

// eachID hands keep the ids that end the keys under prefix, in ascending
// order, from the first id above the query's after= argument, until it
// took MaxList of them (sdk.Each).
func eachID(st *chain.Store, prefix []byte, p sdk.Params, keep func(id uint64) (bool, error)) (bool, error) {
	after, err := p.Uint("after", 0)
	if err != nil {
		return false, err
	}
	return sdk.Each(st, prefix, sdk.Key(prefix, u64(after)), MaxList, func(k, _ []byte) (bool, error) {
		id, err := idAtEnd(k)
		if err != nil {
			return false, err
		}
		return keep(id)
	})
}

func parseID(field, s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("%w: %s: %q is not an id (1, 2, 3, ...)", chain.ErrBadPayload, field, s)
	}
	return id, nil
}
