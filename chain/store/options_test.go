package store_test

import (
	"errors"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/store"
)

func TestOpenChecksBufferSizes(t *testing.T) {
	cases := []struct {
		name string
		cfg  store.Config
		ok   bool
	}{
		{"zero sizes take the defaults", store.Config{}, true},
		{"the smallest memtable", store.Config{MemTableSize: store.MinMemTableSize}, true},
		{"caches on", store.Config{BlockCacheSize: 1 << 20, IndexCacheSize: 1 << 20}, true},
		{"memtable below the minimum", store.Config{MemTableSize: store.MinMemTableSize - 1}, false},
		{"negative block cache", store.Config{BlockCacheSize: -1}, false},
		{"negative index cache", store.Config{IndexCacheSize: -1}, false},
		{"value-log file below 1 MiB", store.Config{ValueLogFileSize: 1 << 19}, false},
		{"value-log file of 1 GiB", store.Config{ValueLogFileSize: 1 << 30}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Dir = t.TempDir()
			st, err := store.Open(c.cfg)
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				st.Close()
				return
			}
			if !errors.Is(err, store.ErrConfig) {
				t.Fatalf("Open = %v, want ErrConfig", err)
			}
		})
	}
}

// Tables written compressed, with a block cache, stay readable by a store
// opened without one (which writes its own tables uncompressed): a node
// can change store.block_cache_mb between runs.
func TestTablesReadableAfterTheBlockCacheGoes(t *testing.T) {
	dir := t.TempDir()
	f := openWith(t, store.Config{Dir: dir, BlockCacheSize: 1 << 20})
	var blocks []uint64
	for i := 0; i < 3; i++ {
		blocks = append(blocks, f.block(t, 20).Header.Height)
	}
	if err := f.st.Close(); err != nil { // flushes the memtable to a table
		t.Fatal(err)
	}
	f = openWith(t, store.Config{Dir: dir})
	defer f.st.Close()
	for _, h := range blocks {
		b, err := f.st.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.st.Tx(chain.Sum(b.Txs[7])); err != nil {
			t.Fatalf("tx of block %d: %v", h, err)
		}
	}
	f.block(t, 5)
}

// A block whose transaction does not fit in the memtable is refused with
// ErrBlockTooLarge, and the store stays at its last block; a store with
// the default memtable takes the same block.
func TestBlockTooLargeForTheMemtable(t *testing.T) {
	if testing.Short() {
		t.Skip("signs and executes 8,000 transactions")
	}
	small := openWith(t, store.Config{Dir: t.TempDir(), MemTableSize: store.MinMemTableSize})
	defer small.st.Close()
	before := small.st.Latest()
	txs := small.putTxs(4000)
	b, c, res := small.buildTxs(t, txs)
	// CheckFits foresees the refusal and writes nothing.
	if err := small.st.CheckFits(b, c, res); !errors.Is(err, store.ErrBlockTooLarge) {
		t.Fatalf("CheckFits of 4,000 puts in a 4 MiB memtable = %v, want ErrBlockTooLarge", err)
	}
	if small.st.Latest() != before {
		t.Fatal("CheckFits moved the latest header")
	}
	if _, err := small.st.Block(before.Height + 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CheckFits wrote the block: %v", err)
	}
	if err := small.st.SaveBlock(b, c, res); !errors.Is(err, store.ErrBlockTooLarge) {
		t.Fatalf("SaveBlock of 4,000 puts in a 4 MiB memtable = %v, want ErrBlockTooLarge", err)
	}
	// A block of the first thousand fits, as CheckFits says.
	b, c, res = small.buildTxs(t, txs[:1000])
	if err := small.st.CheckFits(b, c, res); err != nil {
		t.Fatalf("CheckFits of 1,000 puts in a 4 MiB memtable = %v", err)
	}
	if err := small.st.SaveBlock(b, c, res); err != nil {
		t.Fatalf("SaveBlock of 1,000 puts after CheckFits: %v", err)
	}
	before = small.st.Latest()
	if small.st.Latest() != before {
		t.Fatal("a refused block moved the latest header")
	}
	if _, err := small.st.Block(before.Height + 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused block readable: %v", err)
	}
	def := open(t, t.TempDir())
	defer def.st.Close()
	def.block(t, 4000)
}
