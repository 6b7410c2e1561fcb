package commerce

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// MaxList bounds every list in an answer. When more match, Truncated is
// set and the client asks again with after= the last id it got.
const MaxList = 100

// OrderAnswer is the answer to order/{id}, a JSON-LD document (see
// schema.go): the order as a schema.org Order, and beside it the
// module's own fields, which the Context leaves out of the JSON-LD:
// the plain record with its history, the moves open from its status, and
// the height of the state that answered.
type OrderAnswer struct {
	Context json.RawMessage `json:"@context"`
	SchemaOrder
	Order       Order  `json:"order"`
	Next        []Move `json:"next"` // empty once the status is final
	QueryHeight uint64 `json:"query_height"`
}

// OrdersAnswer is the answer to orders, a JSON-LD document like
// OrderAnswer: the orders as schema.org Orders in @graph, and the same
// orders as plain records in Orders, in the same order.
type OrdersAnswer struct {
	Context json.RawMessage `json:"@context"`
	Graph   []SchemaOrder   `json:"@graph"`
	Orders  []Order         `json:"orders"`
	sdk.Listed
}

// OfferAnswer is the answer to offer/{id}.
type OfferAnswer struct {
	Offer       Offer  `json:"offer"`
	QueryHeight uint64 `json:"query_height"`
}

// OffersAnswer is the answer to offers.
type OffersAnswer struct {
	Offers []Offer `json:"offers"`
	sdk.Listed
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
	return &OrderAnswer{Context: Context, SchemaOrder: o.Schema(), Order: *o, Next: MovesFrom(o.Status), QueryHeight: q.Height}, nil
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
// each order it loads. A status filter names a schema.org OrderStatus,
// which may stand for two statuses (StatusesNamed): their index entries
// are merged in id order.
func queryOrders(q *chain.QueryContext, p sdk.Params) (any, error) {
	buyer, err := p.Address("buyer")
	if err != nil {
		return nil, err
	}
	seller, err := p.Address("seller")
	if err != nil {
		return nil, err
	}
	var status string
	if p.Has("status") {
		if status, err = ParseStatus(p.Arg("status")); err != nil {
			return nil, err
		}
	}
	prefixes := [][]byte{prefixOrder}
	switch {
	case !buyer.IsZero():
		prefixes = [][]byte{sdk.Key(prefixBuyer, buyer[:])}
	case !seller.IsZero():
		prefixes = [][]byte{sdk.Key(prefixSeller, seller[:])}
	case status != "":
		prefixes = nil
		for _, s := range StatusesNamed(status) {
			prefixes = append(prefixes, prefixStatusOf(s))
		}
	}
	a := &OrdersAnswer{Context: Context, Listed: sdk.ListedAt(q)}
	a.Orders, a.Truncated, err = list(q.Store(), prefixes, p, loadOrder, func(o *Order) uint64 { return o.ID }, func(o *Order) bool {
		return (buyer.IsZero() || o.Buyer == buyer) && (seller.IsZero() || o.Seller == seller) &&
			(status == "" || o.Status.SchemaName() == status)
	})
	if err != nil {
		return nil, err
	}
	a.Graph = make([]SchemaOrder, len(a.Orders))
	for i := range a.Orders {
		a.Graph[i] = a.Orders[i].Schema()
	}
	return a, nil
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
	a := &OffersAnswer{Listed: sdk.ListedAt(q)}
	a.Offers, a.Truncated, err = list(q.Store(), [][]byte{prefix}, p, loadOffer, func(o *Offer) uint64 { return o.ID }, func(*Offer) bool { return true })
	return a, err
}

// list loads the records whose ids end the keys under prefixes, in id
// order from the first id above the query's after= argument, and keeps
// those that pass keep, up to MaxList of them. It reports truncated when
// it stopped there with records left (sdk.Each). The prefixes hold
// different ids; with more than one, each is walked up to MaxList and
// the records are merged by id, which id reads from a record.
func list[T any](st *chain.Store, prefixes [][]byte, p sdk.Params, load func(*chain.Store, uint64) (*T, error),
	id func(*T) uint64, keep func(*T) bool) ([]T, bool, error) {
	after, err := p.Uint("after", 0)
	if err != nil {
		return nil, false, err
	}
	all, truncated := []T{}, false
	for _, prefix := range prefixes {
		some, more, err := sdk.List(st, prefix, sdk.Key(prefix, u64(after)), MaxList, func(k, _ []byte) (*T, error) {
			n, err := sdk.IDAtEnd(k)
			if err != nil {
				return nil, err
			}
			r, err := load(st, n)
			if err != nil || !keep(r) {
				return nil, err
			}
			return r, nil
		})
		if err != nil {
			return nil, false, err
		}
		all, truncated = append(all, some...), truncated || more
	}
	if len(prefixes) > 1 {
		slices.SortFunc(all, func(a, b T) int { return cmp.Compare(id(&a), id(&b)) })
	}
	if len(all) > MaxList {
		all, truncated = all[:MaxList], true
	}
	return all, truncated, nil
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
