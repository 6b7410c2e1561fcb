package store

import (
	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/skl"
)

// The blocks a proposer builds must fit the memtable of every node that
// will store them, not only its own: a decided block that a node cannot
// store stops that node. The nodes' memtables are their own settings, so
// a block is built to fit a memtable of DefaultMemTableSize, or of the
// proposer's own if that is smaller: a node whose memtable is the default
// or larger stores whatever such a proposer builds, and a node that
// raised its memtable proposes no block that a node at the default cannot
// store. (`citychain devnet` gives its nodes memtables of different sizes
// from the default up, so that they do not all flush at once on the one
// machine they share.)

// fitLimits are Badger's bounds on one transaction, worked out as Badger
// works them out for a memtable of a given size (badger.Options: 15% of
// the memtable, and one entry per skiplist node of that).
type fitLimits struct {
	maxSize, maxCount int64
	threshold         int64 // values this long or longer go to the value log
}

func limitsFor(memTable, threshold int64) fitLimits {
	size := 15 * memTable / 100
	return fitLimits{maxSize: size, maxCount: size / int64(skl.MaxNodeSize), threshold: threshold}
}

// txnSizer counts what a Badger transaction of these limits would hold,
// entry by entry as Badger's Txn counts it, and fails as it would. It
// writes nothing.
type txnSizer struct {
	fitLimits
	count, size int64
}

// newSizer starts a count as Badger starts a transaction: with room for
// the entry that marks its end.
func newSizer(l fitLimits) *txnSizer {
	return &txnSizer{fitLimits: l, count: 1, size: int64(len(badgerTxnKey)) + 10}
}

// badgerTxnKey is the key of the entry that ends a Badger transaction.
const badgerTxnKey = "!badger!txn"

// Set counts an entry of key and value.
func (z *txnSizer) Set(key, value []byte) error {
	v := int64(len(value))
	if v >= z.threshold {
		v = 12 // a pointer into the value log
	}
	// Two bytes of metadata and ten for the key's version, as Badger
	// reckons them.
	count, size := z.count+1, z.size+int64(len(key))+v+2+10
	if count >= z.maxCount || size >= z.maxSize {
		return badger.ErrTxnTooBig
	}
	z.count, z.size = count, size
	return nil
}

// Delete counts a deletion of key.
func (z *txnSizer) Delete(key []byte) error { return z.Set(key, nil) }

// blockWriter is what putBlock writes to: a Badger transaction, or a
// txnSizer that only counts.
type blockWriter interface {
	Set(key, value []byte) error
	Delete(key []byte) error
}
