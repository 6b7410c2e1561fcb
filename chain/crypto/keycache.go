package crypto

import (
	lru "github.com/hashicorp/golang-lru/v2"
)

// DefaultKeyCacheSize is how many parsed public keys a KeyCache keeps
// when its size is not given: the senders of a busy chain's last few
// blocks, in about 2.5 MB, and about 42 MB more when every one of them
// has been verified twice and has built its table (keytable.go, about
// 4 KB a key).
const DefaultKeyCacheSize = 10_000

// KeyCache remembers parsed public keys, so that checking the next
// signature of a sender seen recently does not parse its key again. A
// compressed key carries only x and the parity of y; parsing computes y
// with a square root in the field, about a twentieth of a verification.
// A kept key also keeps its table once verified a second time, which
// makes each later check of that sender about a fifth as costly.
//
// The cache never changes a result. It is keyed by the exact 33 bytes of
// the compressed key (never by an address, which only hashes them);
// only keys that parsed are kept, and a parsed key never changes the
// point it holds (its table only adds multiples of that point).
// So ParseCompressed returns what ParseCompressedPublicKey returns for
// the same bytes, and the deterministic parts of the chain may use it.
// When full it forgets the key used least recently. It is safe for
// concurrent use.
type KeyCache struct {
	keys *lru.Cache[[PublicKeySize]byte, *PublicKey]
}

// NewKeyCache returns a cache of size keys; size 0 or less means
// DefaultKeyCacheSize.
func NewKeyCache(size int) *KeyCache {
	if size <= 0 {
		size = DefaultKeyCacheSize
	}
	keys, err := lru.New[[PublicKeySize]byte, *PublicKey](size)
	if err != nil {
		panic(err) // only for a size below 1, excluded above
	}
	return &KeyCache{keys: keys}
}

// ParseCompressed is ParseCompressedPublicKey through the cache: a key
// seen before is returned as parsed then, a new one is parsed and kept
// if valid. A nil cache parses every time.
func (c *KeyCache) ParseCompressed(b []byte) (*PublicKey, error) {
	if c == nil || len(b) != PublicKeySize {
		return ParseCompressedPublicKey(b)
	}
	id := [PublicKeySize]byte(b)
	if k, ok := c.keys.Get(id); ok {
		return k, nil
	}
	k, err := ParseCompressedPublicKey(b)
	if err != nil {
		return nil, err
	}
	c.keys.Add(id, k)
	return k, nil
}

// Len returns how many keys the cache holds.
func (c *KeyCache) Len() int {
	if c == nil {
		return 0
	}
	return c.keys.Len()
}
