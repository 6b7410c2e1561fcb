package node

import (
	"encoding/binary"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/store"
)

// A proposer never builds a block its store cannot hold in one write:
// with the smallest memtable (about 600 KB and 6,500 entries for a
// block's write), a pool of 4,000 transfers to as many new accounts
// (each writes its receipt's pointer and the new balance: more entries
// than fit) gives a smaller block that stores, and the rest wait in the
// pool for the next.
func TestBuildBlockFitsTheStore(t *testing.T) {
	if testing.Short() {
		t.Skip("signs and executes thousands of transfers")
	}
	g := newChainGenWith(t, store.Config{MemTableSize: store.MinMemTableSize})
	const pooled = chain.MaxBlockTxs
	for i := range pooled {
		var to chain.Address
		binary.BigEndian.PutUint32(to[chain.AddressSize-4:], uint32(i+1))
		g.transferTo(1, to, 1)
	}
	before, inPool := g.n.store.Latest().Height, g.n.pool.Size()
	g.extend() // fails the test if the block cannot be stored
	b, err := g.n.store.Block(before + 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Txs) == 0 || len(b.Txs) >= pooled {
		t.Fatalf("built a block of %d of %d pooled transfers, want fewer that fit", len(b.Txs), pooled)
	}
	if left := g.n.pool.Size(); left != inPool-len(b.Txs) {
		t.Fatalf("%d transactions left in the pool, want %d", left, inPool-len(b.Txs))
	}
	t.Logf("a block of %d transfers to new accounts fits a %d MiB memtable", len(b.Txs), store.MinMemTableSize>>20)
}
