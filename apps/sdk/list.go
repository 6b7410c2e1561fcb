package sdk

import "github.com/citychain/citychain/chain"

// Lists in answers. A query that lists what lies under a key prefix
// gathers its items with List or Records, at most a limit of them, and
// says in Listed whether more follow, so that a client can ask again.

// List makes an item with fn from each key under prefix and its value,
// in key order after the key after (nil for the first), until it holds
// limit items (0 or less: all of them). fn gets the key without the
// prefix, such as the id or address that ends an index key; it returns
// nil to leave an entry out, which then does not count toward limit.
// truncated says that entries are left under the prefix (Each). The
// list is never nil, so that JSON shows an empty one as [].
func List[T any](st *chain.Store, prefix, after []byte, limit int, fn func(rest, value []byte) (*T, error)) (list []T, truncated bool, err error) {
	list = []T{}
	truncated, err = Each(st, prefix, after, limit, func(k, v []byte) (bool, error) {
		x, err := fn(k[len(prefix):], v)
		if x == nil || err != nil {
			return false, err
		}
		list = append(list, *x)
		return true, nil
	})
	return list, truncated, err
}

// Records is List over stored records: it decodes the value of each key
// under prefix into a T (EachRecord) and lists the records that keep
// returns true for, or all of them when keep is nil. keep may also
// complete the record it is handed, such as a field that older records
// lack.
func Records[T any](st *chain.Store, prefix, after []byte, limit int, keep func(r *T) bool) (list []T, truncated bool, err error) {
	list = []T{}
	truncated, err = EachRecord(st, prefix, after, limit, func(_ []byte, r *T) (bool, error) {
		if keep != nil && !keep(r) {
			return false, nil
		}
		list = append(list, *r)
		return true, nil
	})
	return list, truncated, err
}

// Listed ends an answer that holds lists: whether any of them stopped at
// its limit with more left, and the height the answer reads. Embedded
// as the last field of an answer, it gives the answer's JSON its
// "truncated" (left out when false) and "query_height" fields.
type Listed struct {
	Truncated   bool   `json:"truncated,omitempty"`
	QueryHeight uint64 `json:"query_height"`
}

// ListedAt is the Listed of an answer read at the query's height, before
// its lists are gathered.
func ListedAt(q *chain.QueryContext) Listed { return Listed{QueryHeight: q.Height} }
