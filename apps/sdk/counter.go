package sdk

import "github.com/citychain/citychain/chain"

// Amounts and counts kept as a bare number under a key: 8 bytes
// big-endian (Uint64Bytes), an absent key being zero.

// GetUint reads the number stored under key; zero when it is absent.
func GetUint(st *chain.Store, key []byte) (uint64, error) { return BytesUint64(st.Get(key)) }

// AddUint adds n to the number stored under key and returns the sum. On
// overflow (chain.ErrOverflow) it writes nothing.
func AddUint(st *chain.Store, key []byte, n uint64) (uint64, error) {
	v, err := GetUint(st, key)
	if err != nil {
		return 0, err
	}
	if v, err = Add(v, n); err != nil {
		return 0, err
	}
	st.Set(key, Uint64Bytes(v))
	return v, nil
}
