package crypto

import (
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
)

// DefaultKeyCacheSize is how many public keys a KeyCache keeps when its
// size is not given: the senders of a busy chain's last few blocks, in
// at most about 8 MB with their tables.
const DefaultKeyCacheSize = 4096

// KeyCache remembers parsed public keys, so that checking the next
// signature of a sender seen recently costs less:
//
//   - the key is not parsed again (a compressed key carries only x and
//     the parity of y; parsing finds y with a square root in the field,
//     about a tenth of a signature check);
//   - from the key's second signature on, the key carries tables of its
//     multiples (multiples.go), made once, which make each check of its
//     signatures about a third cheaper. A key seen once is not worth
//     them.
//
// The cache never changes a result. It is keyed by the exact 33 bytes of
// the compressed key (never by an address, which only hashes them);
// only keys that parsed are kept, a parsed key and its tables are never
// modified, and a key with tables verifies exactly the signatures the
// key without them does. So the deterministic parts of the chain may use
// it. When full it forgets the key used least recently. It is safe for
// concurrent use.
type KeyCache struct {
	keys *lru.Cache[[PublicKeySize]byte, *cachedKey]
}

// cachedKey is a key as parsed and, once the key is seen again, the same
// key with its tables.
type cachedKey struct {
	parsed *PublicKey
	tabled atomic.Pointer[PublicKey]
}

// NewKeyCache returns a cache of size keys; size 0 or less means
// DefaultKeyCacheSize.
func NewKeyCache(size int) *KeyCache {
	if size <= 0 {
		size = DefaultKeyCacheSize
	}
	keys, err := lru.New[[PublicKeySize]byte, *cachedKey](size)
	if err != nil {
		panic(err) // only for a size below 1, excluded above
	}
	return &KeyCache{keys: keys}
}

// ParseCompressed is ParseCompressedPublicKey through the cache: a key
// seen before comes back without parsing, with its tables from its
// second time on; a new one is parsed and kept if valid. A nil cache
// parses every time.
func (c *KeyCache) ParseCompressed(b []byte) (*PublicKey, error) {
	if c == nil || len(b) != PublicKeySize {
		return ParseCompressedPublicKey(b)
	}
	id := [PublicKeySize]byte(b)
	if e, ok := c.keys.Get(id); ok {
		if k := e.tabled.Load(); k != nil {
			return k, nil
		}
		// Two goroutines may both make the tables; one set is kept.
		e.tabled.CompareAndSwap(nil, e.parsed.withTable())
		return e.tabled.Load(), nil
	}
	k, err := ParseCompressedPublicKey(b)
	if err != nil {
		return nil, err
	}
	c.keys.Add(id, &cachedKey{parsed: k})
	return k, nil
}

// Len returns how many keys the cache holds.
func (c *KeyCache) Len() int {
	if c == nil {
		return 0
	}
	return c.keys.Len()
}
