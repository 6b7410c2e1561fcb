package store

import (
	"log/slog"

	"github.com/dgraph-io/badger/v4"
)

// badgerOptions returns Badger settings for a laptop that runs several
// nodes at once. Badger's defaults are tuned for servers: 64 MiB memtables
// times five, a 256 MiB block cache and 1 GiB value-log files. Here:
//
//   - MemTableSize 32 MiB, NumMemtables 2: a memtable is both the write
//     buffer and the bound on one transaction (Badger refuses a
//     transaction larger than about 15% of it, 4.8 MiB here). A block's
//     own transaction (block, receipts, index, state changes) stays far
//     below that; its Merkle tree nodes, which grow with the state, are
//     written in separate batches first (see SaveBlock).
//   - BlockCacheSize 16 MiB, IndexCacheSize 8 MiB: enough for the hot
//     top of the state tree and recent blocks.
//   - ValueLogFileSize 64 MiB: small files, so disk use follows the data.
//   - ValueThreshold 1 KiB: tree nodes (65 bytes) and balances stay in
//     the LSM tree; only large values such as blocks go to the value log.
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
			WithMemTableSize(8 << 20).WithNumMemtables(2).WithValueThreshold(1 << 20).
			WithBlockCacheSize(1 << 20).WithIndexCacheSize(1 << 20).
			WithNumCompactors(2).WithLogger(badgerLogger{cfg.Logger})
	}
	log := cfg.Logger
	o := badger.DefaultOptions(cfg.Dir).
		WithMemTableSize(32 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(8 << 20).
		WithValueLogFileSize(64 << 20).
		WithValueThreshold(1 << 10).
		WithSyncWrites(true).
		WithNumCompactors(2).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(8).
		WithLogger(badgerLogger{log})
	return o
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
