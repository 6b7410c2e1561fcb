package store

import "errors"

// Error kinds of package store.
var (
	// ErrNotFound means the block, commit or receipt does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNotInitialized means the store has no genesis yet.
	ErrNotInitialized = errors.New("store has no genesis")
	// ErrHeight means a block is saved out of order.
	ErrHeight = errors.New("block height out of order")
	// ErrConfig means a setting of Config is out of range.
	ErrConfig = errors.New("store config")
	// ErrBlockTooLarge means a block's transaction does not fit in a
	// memtable (see Config.MemTableSize): a larger memtable stores it.
	ErrBlockTooLarge = errors.New("block too large for the memtable")
)
