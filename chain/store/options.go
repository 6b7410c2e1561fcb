package store

import (
	"fmt"
	"log/slog"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Defaults of the memory settings in Config, for a laptop that runs
// several nodes at once. Badger's own defaults are tuned for servers:
// five 64 MiB memtables, a 256 MiB block cache and 1 GiB value-log files.
const (
	DefaultMemTableSize     = 8 << 20
	DefaultValueLogFileSize = 16 << 20
	// MinMemTableSize keeps room for the transaction of a small block
	// (see Config.MemTableSize).
	MinMemTableSize = 4 << 20
	// ValueThreshold: values this long or longer go to the value log,
	// shorter ones stay in the LSM tree (badgerOptions says why 128).
	ValueThreshold = 128
	// numMemtables is the memtable being written plus the one being
	// flushed to disk. Fewer is not possible; more only buffers bursts
	// that the flush cannot keep up with anyway.
	numMemtables = 2
)

// badgerOptions returns Badger settings bounded by cfg. What each costs:
//
//   - Memtables: each is an arena of about 1.3 x MemTableSize on the Go
//     heap (the memtable plus room for one full transaction), and a
//     write-ahead file of 2 x MemTableSize mapped into memory, of which
//     the pages written so far count in the resident size. At most two
//     exist, one written while the other is flushed. The arena is live
//     heap, so the garbage collector lets the heap grow by as much again
//     before it collects: a 64 MiB memtable costs some 170 MiB of
//     resident memory under load. Flushing a memtable builds its whole
//     table on the heap first, in buffers that double from 4 MiB (12 MiB
//     for a table under 12 MiB, 28 MiB for one under 28): hence 8 MiB by
//     default, whose tables take the smaller step. The memtable also
//     bounds one transaction (see Config.MemTableSize).
//   - Block cache (BlockCacheSize): decompressed table blocks. With none,
//     tables are written uncompressed and read straight from their memory
//     map, which is what a store of hashes and small values wants anyway:
//     Merkle nodes and balances do not compress. With a cache, tables are
//     compressed with Snappy and the cache holds what was read.
//   - Index cache (IndexCacheSize): table indexes and Bloom filters. With
//     none they stay in each table's memory map and on the heap.
//   - Value-log files (ValueLogFileSize): written through a memory map,
//     so the current file's written pages count in the resident size.
//   - ValueThreshold 128 bytes: tree nodes (65 bytes) and balances stay
//     in the LSM tree; receipts (about 250 bytes for a transfer), blocks,
//     commits and the modules' larger records go to the value log, and
//     the tree keeps a 12-byte pointer to each. A receipt is written once
//     and read rarely; out of the tree, a transfer's share of its block's
//     transaction falls from about 330 bytes to about 80, the memtable
//     fills more slowly and its tables are smaller, and 8 MiB memtables
//     hold the largest blocks.
//   - SyncWrites: each block's one transaction is fsynced before the node
//     reports it committed; there is one sync per block, never per
//     transaction.
//   - NumCompactors 2 and a small L0 budget: compaction keeps up without
//     starving the node on a 2-core machine.
func badgerOptions(cfg Config) badger.Options {
	if cfg.InMemory {
		// In memory there is no value log: every value must stay under
		// ValueThreshold (at most 1 MiB in Badger), which must stay under
		// the largest batch (15% of a memtable, so 8 MiB memtables). Blocks
		// above 1 MiB cannot be stored in memory; tests keep theirs small.
		return badger.DefaultOptions("").WithInMemory(true).
			WithMemTableSize(8 << 20).WithNumMemtables(numMemtables).WithValueThreshold(1 << 20).
			WithBlockCacheSize(1 << 20).WithIndexCacheSize(1 << 20).
			WithNumCompactors(2).WithMetricsEnabled(false).WithLogger(badgerLogger{cfg.Logger})
	}
	compression := options.None
	if cfg.BlockCacheSize > 0 {
		compression = options.Snappy
	}
	return badger.DefaultOptions(cfg.Dir).
		WithMemTableSize(cfg.MemTableSize).
		WithNumMemtables(numMemtables).
		WithBlockCacheSize(cfg.BlockCacheSize).
		WithIndexCacheSize(cfg.IndexCacheSize).
		WithCompression(compression).
		WithValueLogFileSize(cfg.ValueLogFileSize).
		WithValueThreshold(ValueThreshold).
		WithSyncWrites(true).
		WithNumCompactors(2).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(8).
		WithMetricsEnabled(false).
		WithLogger(badgerLogger{cfg.Logger})
}

// withDefaults fills the zero sizes of cfg and checks the others.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.MemTableSize == 0 {
		cfg.MemTableSize = DefaultMemTableSize
	}
	if cfg.ValueLogFileSize == 0 {
		cfg.ValueLogFileSize = DefaultValueLogFileSize
	}
	switch {
	case cfg.MemTableSize < MinMemTableSize:
		return cfg, fmt.Errorf("%w: memtable of %d bytes, at least %d", ErrConfig, cfg.MemTableSize, MinMemTableSize)
	case cfg.BlockCacheSize < 0 || cfg.IndexCacheSize < 0:
		return cfg, fmt.Errorf("%w: negative cache size", ErrConfig)
	case cfg.ValueLogFileSize < 1<<20 || cfg.ValueLogFileSize >= 1<<30:
		// Badger's own bounds on a value-log file.
		return cfg, fmt.Errorf("%w: value-log file of %d bytes, want 1 MiB to 1 GiB", ErrConfig, cfg.ValueLogFileSize)
	}
	return cfg, nil
}

// badgerLogger sends Badger's own messages to slog, warnings and errors
// only: its info lines are too chatty for a terminal running four nodes.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	if b.l != nil {
		b.l.Error("badger", "msg", sprintf(f, a...))
	}
}
func (b badgerLogger) Warningf(f string, a ...any) {
	if b.l != nil {
		b.l.Warn("badger", "msg", sprintf(f, a...))
	}
}
func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
