package chain

import (
	"sync"
	"sync/atomic"
)

// Formatting an address in bech32 and parsing one back each take a few
// microseconds (a checksum over every character), and executing a
// transfer does both: the recipient is parsed from the payload and the
// events name sender and recipient as text. A chain under load sees the
// same few thousand accounts again and again, so both directions are
// remembered. The caches change no result: String and ParseAddress return
// what they computed the first time, and a failed parse is not kept.

// addrCacheSize bounds each direction's cache: about 120 bytes an entry,
// so at most some 2 MB each. A full cache is emptied and fills again.
const addrCacheSize = 16384

// boundedCache is a map safe for concurrent use that forgets everything
// once it has taken max entries. Reads take no lock: every transfer's
// execution and admission read it several times from many goroutines,
// where the LRU that crypto.KeyCache uses (hashicorp/golang-lru) would
// take its lock on every read to move the entry to the front.
type boundedCache[K comparable, V any] struct {
	m   sync.Map
	n   atomic.Int64
	max int64
}

func (c *boundedCache[K, V]) get(k K) (V, bool) {
	v, ok := c.m.Load(k)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (c *boundedCache[K, V]) put(k K, v V) {
	if c.n.Add(1) > c.max {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(k, v)
}

var (
	addrText   = &boundedCache[Address, string]{max: addrCacheSize}
	addrParsed = &boundedCache[string, Address]{max: addrCacheSize}
)
