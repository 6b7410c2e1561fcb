package sdk

import "github.com/citychain/citychain/chain"

// Many queries are about one thing named by the last segment of their
// path: a record by its number ("grant/{id}") or an account by its
// address ("balance/{address}"). ByNumber and ByAddress parse that
// capture, answer a malformed one with the error of Params.Uint or
// Params.Address, and hand the parsed value to the answer function.

// ByNumber is a route function for a pattern with the numeric capture
// name: fn answers with the number parsed.
//
//	sdk.Query("grant/{id}", "one grant", sdk.ByNumber("id", queryGrant))
func ByNumber(name string, fn func(q *chain.QueryContext, n uint64) (any, error)) func(*chain.QueryContext, Params) (any, error) {
	return func(q *chain.QueryContext, p Params) (any, error) {
		n, err := p.Uint(name, 0)
		if err != nil {
			return nil, err
		}
		return fn(q, n)
	}
}

// ByAddress is a route function for a pattern with the address capture
// name: fn answers with the address parsed.
//
//	sdk.Query("balance/{address}", "an account's balance", sdk.ByAddress("address", queryBalance))
func ByAddress(name string, fn func(q *chain.QueryContext, a chain.Address) (any, error)) func(*chain.QueryContext, Params) (any, error) {
	return func(q *chain.QueryContext, p Params) (any, error) {
		a, err := p.Address(name)
		if err != nil {
			return nil, err
		}
		return fn(q, a)
	}
}
