package sdk

import "github.com/citychain/citychain/chain"

// Two more ways to read one record beside Load and Find: with a default,
// and with the proof that the chain holds it.

// LoadOr returns the record stored under key, or def when there is none:
// parameters that a chain's genesis never stored read as their
// defaults.
func LoadOr[T any](st *chain.Store, key []byte, def T) (T, error) {
	_, err := st.GetObject(key, &def)
	return def, err
}

// LoadProven is Load (what names the record in the not-found error) with
// the Merkle proof of the record's stored bytes at the query's height
// (Prove), for an answer that a client checks against a header it trusts.
func LoadProven[T any](q *chain.QueryContext, key []byte, what string) (*T, *Proven, error) {
	v, err := Load[T](q.Store(), key, what)
	if err != nil {
		return nil, nil, err
	}
	p, err := Prove(q, key)
	if err != nil {
		return nil, nil, err
	}
	return v, p, nil
}
