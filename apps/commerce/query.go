package commerce

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

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

// Query serves, under /v1/apps/commerce/:
//
//	order/{id}                               one order, its history and next moves
//	orders?buyer=&seller=&status=&after=     orders in id order; every filter optional
//	offer/{id}                               one offer
//	offers?seller=&after=                    offers in id order
//	params                                   genesis parameters and the escrow address
func (*App) Query(q *chain.QueryContext, path []string, args map[string]string) (any, error) {
	st := q.Store()
	switch {
	case len(path) == 2 && path[0] == "order":
		id, err := parseID("order", path[1])
		if err != nil {
			return nil, err
		}
		o, err := loadOrder(st, id)
		if err != nil {
			return nil, err
		}
		return &OrderAnswer{Order: *o, Next: MovesFrom(o.Status), QueryHeight: q.Height}, nil
	case len(path) == 1 && path[0] == "orders":
		return listOrders(q, args)
	case len(path) == 2 && path[0] == "offer":
		id, err := parseID("offer", path[1])
		if err != nil {
			return nil, err
		}
		o, err := loadOffer(st, id)
		if err != nil {
			return nil, err
		}
		return &OfferAnswer{Offer: *o, QueryHeight: q.Height}, nil
	case len(path) == 1 && path[0] == "offers":
		return listOffers(q, args)
	case len(path) == 1 && path[0] == "params":
		p, err := loadParams(st)
		if err != nil {
			return nil, err
		}
		return &ParamsAnswer{Params: p, Escrow: EscrowAddress, QueryHeight: q.Height}, nil
	}
	return nil, fmt.Errorf("%w: commerce has queries order/{id}, orders, offer/{id}, offers and params", chain.ErrNotFound)
}

// listOrders walks the narrowest index the filters allow (buyer, then
// seller, then status, else all orders) and checks the other filters on
// each order it loads.
func listOrders(q *chain.QueryContext, args map[string]string) (*OrdersAnswer, error) {
	if err := onlyArgs(args, "buyer", "seller", "status", "after"); err != nil {
		return nil, err
	}
	var buyer, seller chain.Address
	var status Status
	var err error
	if buyer, err = addressArg(args, "buyer"); err != nil {
		return nil, err
	}
	if seller, err = addressArg(args, "seller"); err != nil {
		return nil, err
	}
	if s, ok := args["status"]; ok {
		if status, err = ParseStatus(s); err != nil {
			return nil, err
		}
	}
	after, err := afterArg(args)
	if err != nil {
		return nil, err
	}
	prefix := prefixOrder
	switch {
	case !buyer.IsZero():
		prefix = cat(prefixBuyer, buyer[:])
	case !seller.IsZero():
		prefix = cat(prefixSeller, seller[:])
	case status != "":
		prefix = prefixStatusOf(status)
	}
	st := q.Store()
	ans := &OrdersAnswer{Orders: []Order{}, QueryHeight: q.Height}
	ans.Truncated, err = walk(st, prefix, after, func(id uint64) (bool, error) {
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

func listOffers(q *chain.QueryContext, args map[string]string) (*OffersAnswer, error) {
	if err := onlyArgs(args, "seller", "after"); err != nil {
		return nil, err
	}
	seller, err := addressArg(args, "seller")
	if err != nil {
		return nil, err
	}
	after, err := afterArg(args)
	if err != nil {
		return nil, err
	}
	prefix := prefixOffer
	if !seller.IsZero() {
		prefix = cat(prefixOfferBy, seller[:])
	}
	st := q.Store()
	ans := &OffersAnswer{Offers: []Offer{}, QueryHeight: q.Height}
	ans.Truncated, err = walk(st, prefix, after, func(id uint64) (bool, error) {
		o, err := loadOffer(st, id)
		if err != nil {
			return false, err
		}
		ans.Offers = append(ans.Offers, *o)
		return true, nil
	})
	return ans, err
}

// errFull stops a walk once an answer holds MaxList items.
var errFull = errors.New("list full")

// walk visits the ids that end the keys under prefix, in ascending
// order, from the first id above after. keep says whether it took the
// item; after MaxList items walk stops and reports whether any key was
// left unvisited.
func walk(st *chain.Store, prefix []byte, after uint64, keep func(id uint64) (bool, error)) (bool, error) {
	kept := 0
	err := st.Iterate(prefix, func(k, _ []byte) error {
		id, err := idAtEnd(k)
		if err != nil || id <= after {
			return err
		}
		if kept == MaxList {
			return errFull
		}
		ok, err := keep(id)
		if ok {
			kept++
		}
		return err
	})
	if errors.Is(err, errFull) {
		return true, nil
	}
	return false, err
}

func parseID(field, s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("%w: %s: %q is not an id (1, 2, 3, ...)", chain.ErrBadPayload, field, s)
	}
	return id, nil
}

func addressArg(args map[string]string, name string) (chain.Address, error) {
	s, ok := args[name]
	if !ok {
		return chain.Address{}, nil
	}
	a, err := chain.ParseAddress(s)
	if err != nil {
		return a, fmt.Errorf("%w: %s: %w", chain.ErrBadPayload, name, err)
	}
	return a, nil
}

func afterArg(args map[string]string) (uint64, error) {
	s, ok := args["after"]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: after: %q is not an id", chain.ErrBadPayload, s)
	}
	return n, nil
}

// onlyArgs refuses query arguments other than the allowed ones, so that
// a misspelt filter is an error instead of being ignored.
func onlyArgs(args map[string]string, allowed ...string) error {
	for _, k := range slices.Sorted(maps.Keys(args)) {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("%w: unknown argument %q (allowed: %v)", chain.ErrBadPayload, k, allowed)
		}
	}
	return nil
}
