package store

import (
	"bytes"
	"sync"
	"sync/atomic"

	"github.com/citychain/citychain/chain"
)

// latestCacheBytes bounds the latest-state cache: the bytes of its keys
// and values, with entryOverhead each for the map's share. An account
// takes about 170 bytes, so the bound holds some 24,000 of them. A full
// cache is emptied and fills again.
const (
	latestCacheBytes = 4 << 20
	entryOverhead    = 64
)

// latestCache keeps values of the latest committed state that Store.Get
// has read. A node's admission of a transaction executes it on trial
// against the latest state, reading the chain's parameters, the sender's
// account and the recipient's; under load the same senders come again
// and again, and each read through Badger opens a read transaction and
// searches every memtable and table level for the key (a key that is
// absent, such as parameters never changed from their defaults, is the
// dearest: it is searched for everywhere).
//
// A commit keeps the cache right: once its transaction is stored, and
// before the store's latest header moves, it replaces the cached value
// of every key the block changed (update). A read that missed fills the
// cache only if no commit came between the moment it looked and the
// moment it fills (the generation, gen), since what it read from Badger
// may be the value from before that commit. So a Get that returns after
// a commit returned sees that commit's values, as without the cache.
// Keys the cache does not hold are not added by a commit: most of a
// block's writes are never read back through Get.
type latestCache struct {
	m   sync.Map     // string(key) -> []byte; a nil value: the key is absent
	n   atomic.Int64 // bytes taken, as latestCacheBytes counts them
	gen atomic.Uint64
	mu  sync.Mutex // held by fill and update, so a fill cannot straddle a commit
}

// get returns the cached value and the generation to pass to fill after
// a miss. Values are copied in and out (bytes.Clone keeps nil, an absent
// key, apart from an empty value, as Badger does).
func (c *latestCache) get(key []byte) (v []byte, ok bool, gen uint64) {
	gen = c.gen.Load()
	x, ok := c.m.Load(string(key))
	if !ok {
		return nil, false, gen
	}
	return bytes.Clone(x.([]byte)), true, gen
}

// fill keeps v, read from Badger after get returned gen, unless a commit
// has updated the cache since.
func (c *latestCache) fill(key, v []byte, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	size := int64(len(key) + len(v) + entryOverhead)
	if c.n.Add(size) > latestCacheBytes {
		c.m.Clear()
		c.n.Store(size)
	}
	c.m.Store(string(key), bytes.Clone(v))
}

// update gives the cached keys among a committed block's changes their
// new values. The commit calls it after its transaction is stored.
func (c *latestCache) update(changes []chain.KV) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	for _, ch := range changes {
		if old, ok := c.m.Load(string(ch.Key)); ok {
			c.n.Add(int64(len(ch.Value) - len(old.([]byte))))
			c.m.Store(string(ch.Key), bytes.Clone(ch.Value))
		}
	}
	if c.n.Load() > latestCacheBytes {
		c.m.Clear()
		c.n.Store(0)
	}
}

// reset forgets every value, for a commit that failed: what part of it
// Badger kept is not known.
func (c *latestCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.m.Clear()
	c.n.Store(0)
}
