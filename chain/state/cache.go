package state

import (
	"container/list"
	"sync"
)

// DefaultCacheNodes is the cache size used when Config.CacheNodes is zero
// or negative. At 65,536 nodes the top 16 levels of a tree of a million
// keys stay in memory, which is where every update walks.
const DefaultCacheNodes = 1 << 16

// cache keeps recently read or written nodes in memory. It has two parts:
//
//   - an LRU of bounded size, so the top of the tree, which every update
//     walks, is not read from the store again for each block;
//   - the pending set: every node and value written by the latest Update.
//     It is not bounded and not evicted until the next Update replaces it,
//     so a following Update, Get or Prove on the new root works even
//     before the caller has persisted the writes. It costs memory in
//     proportion to one batch (about 100 bytes a node, plus the values).
//
// A mutex guards both, so reads from an API may run beside block
// execution. No goroutine is started.
type cache struct {
	mu     sync.Mutex
	max    int
	order  *list.List // front = most recently used; elements hold *entry
	byHash map[Hash]*list.Element

	// The writes of the latest Update, decoded.
	pendingNodes  map[Hash]node
	pendingValues map[Hash][]byte
}

type entry struct {
	h Hash
	n node
}

func newCache(max int) *cache {
	if max <= 0 {
		max = DefaultCacheNodes
	}
	return &cache{max: max, order: list.New(), byHash: make(map[Hash]*list.Element)}
}

// node returns the cached node with hash h and marks it recently used.
func (c *cache) node(h Hash) (node, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byHash[h]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*entry).n, true
	}
	n, ok := c.pendingNodes[h]
	return n, ok
}

// value returns a value written by the latest Update, if it is one.
func (c *cache) value(h Hash) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.pendingValues[h]
	return v, ok
}

// add puts n in the LRU, evicting the least recently used node if full.
func (c *cache) add(h Hash, n node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addLocked(h, n)
}

func (c *cache) addLocked(h Hash, n node) {
	if el, ok := c.byHash[h]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.byHash[h] = c.order.PushFront(&entry{h: h, n: n})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byHash, last.Value.(*entry).h)
	}
}

// setPending replaces the pending set with the new nodes and values of one
// Update and adds the nodes to the LRU in creation order, so the new root,
// created last, ends up the most recently used.
func (c *cache) setPending(nodes []newNode, values []newValue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pendingNodes = make(map[Hash]node, len(nodes))
	c.pendingValues = make(map[Hash][]byte, len(values))
	for _, nn := range nodes {
		c.pendingNodes[nn.h] = nn.n
		c.addLocked(nn.h, nn.n)
	}
	for _, nv := range values {
		c.pendingValues[nv.h] = nv.v
	}
}
