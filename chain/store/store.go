package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/state"
	"github.com/dgraph-io/badger/v4"
)

var (
	keyLatest   = []byte("m/latest")
	prefixState = []byte("s/")
)

func heightKey(prefix string, h uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefix), h)
}

// Store is a node's Badger database. Its methods are safe for concurrent
// use; writes (Init, SaveBlock) must come from one goroutine at a time.
type Store struct {
	db   *badger.DB
	tree *state.Tree

	mu     sync.RWMutex
	latest chain.Header // header of the last committed block (or genesis)
	inited bool
	pruned uint64 // lowest height whose state is kept (PruneState); 0: all

	// commitMu is held by a commit from its first write to its last, and
	// by PruneState while it deletes.
	commitMu sync.Mutex
	// sweeps counts the deleting steps of PruneState (under commitMu).
	sweeps uint64

	// ahead holds the results whose tree nodes WriteTreeAhead stored, with
	// the sweep count read before it wrote them; a commit takes and clears
	// it. aheadUsed counts the commits that found their nodes stored.
	aheadMu   sync.Mutex
	ahead     map[*chain.Result]uint64
	aheadUsed atomic.Uint64

	// cache holds values of the latest state that Get has read.
	cache latestCache

	// fit bounds the blocks CheckFits lets through.
	fit fitLimits
}

// Config holds what Open needs.
type Config struct {
	// Dir is the Badger directory.
	Dir string
	// Logger receives Badger's warnings and errors; nil discards them.
	Logger *slog.Logger
	// TreeCacheNodes bounds the Merkle node cache (0: the default,
	// state.DefaultCacheNodes). A cached node costs 250 to 350 bytes.
	TreeCacheNodes int
	// InMemory keeps the whole database in memory, with small buffers, and
	// ignores Dir and the sizes below: for tests and the seeded
	// simulation, where many stores live at once. What it holds is gone
	// when it closes.
	InMemory bool

	// The sizes of Badger's buffers, in bytes; badgerOptions says what
	// each costs in memory.
	//
	// MemTableSize is one memtable, the write buffer (0:
	// DefaultMemTableSize, at least MinMemTableSize). It also bounds the
	// transaction that stores a block: Badger takes at most 15% of a
	// memtable in one transaction, counting each entry as its key, its
	// value (or a 12-byte pointer for values of ValueThreshold or more,
	// which go to the value log) and about 12 bytes, and at most one
	// entry per 96 bytes of that 15%. A block of the demo modules needs
	// about 80 bytes and 1.5 entries per transfer, 280 bytes and 3.5
	// entries per transaction of the mixed load, so 8 MiB memtables (1.2
	// MiB, 13,100 entries) hold about 9,000 transfers or 3,700 mixed
	// transactions. SaveBlock fails with ErrBlockTooLarge on a block
	// that does not fit; CheckFits tells a proposer beforehand whether
	// its block fits this memtable and one of DefaultMemTableSize.
	MemTableSize int64
	// BlockCacheSize caches table blocks (0: none, and tables are not
	// compressed).
	BlockCacheSize int64
	// IndexCacheSize caches table indexes and Bloom filters (0: none,
	// they stay with each table).
	IndexCacheSize int64
	// ValueLogFileSize is one value-log file (0: DefaultValueLogFileSize).
	ValueLogFileSize int64
}

// Open opens or creates the database in cfg.Dir and reads the latest
// committed height. Badger replays its write-ahead log here, which is
// how a node killed mid-write comes back at its last complete block.
func Open(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	db, err := badger.Open(badgerOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", cfg.Dir, err)
	}
	opts := db.Opts()
	s := &Store{db: db, fit: limitsFor(min(opts.MemTableSize, DefaultMemTableSize), opts.ValueThreshold)}
	s.tree = state.NewTree(state.Config{Store: treeReader{db}, CacheNodes: cfg.TreeCacheNodes})
	if err := s.loadLatest(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadPruned(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close flushes and closes the database.
func (s *Store) Close() error { return s.db.Close() }

// CollectValueLog runs Badger's value-log garbage collection: a value-log
// file at least discardRatio stale is rewritten without its stale values
// and removed. It repeats while a pass finds a file to rewrite, at most
// maxFiles times, and returns how many it rewrote. A store in memory has
// no value log: nothing to do.
func (s *Store) CollectValueLog(discardRatio float64, maxFiles int) (int, error) {
	n := 0
	for n < maxFiles {
		err := s.db.RunValueLogGC(discardRatio)
		switch {
		case err == nil:
			n++
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrGCInMemoryMode):
			return n, nil
		default:
			return n, err
		}
	}
	return n, nil
}

// DiskSize returns the bytes of the store's tables (LSM) and value log,
// as Badger last measured them (it does so about once a minute).
func (s *Store) DiskSize() (lsm, vlog int64) { return s.db.Size() }

// Tree returns the state tree reading from this store.
func (s *Store) Tree() *state.Tree { return s.tree }

func (s *Store) loadLatest() error {
	return s.db.View(func(txn *badger.Txn) error {
		h, found, err := latestHeader(txn)
		if err != nil || !found {
			return err
		}
		s.latest, s.inited = h, true
		return nil
	})
}

// latestHeader reads the header of the last committed block inside txn,
// so that it always agrees with the state the same txn reads.
func latestHeader(txn *badger.Txn) (chain.Header, bool, error) {
	var h chain.Header
	v, err := get(txn, keyLatest)
	if err != nil || v == nil {
		return h, false, err
	}
	if err := chain.Decode(v, &h); err != nil {
		return h, false, fmt.Errorf("store: m/latest: %w", err)
	}
	return h, true, nil
}

// Initialized reports whether the genesis state has been stored.
func (s *Store) Initialized() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.inited
}

// Latest returns the header of the last committed block; at height 0 it
// is the genesis header.
func (s *Store) Latest() chain.Header {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.latest
}

// Init stores the genesis state and header (height 0).
func (s *Store) Init(genesis chain.Header, res *chain.Result) error {
	if s.Initialized() {
		return fmt.Errorf("store: genesis already stored")
	}
	return s.commit(&chain.Block{Header: genesis, Txs: [][]byte{}}, nil, res)
}

// SaveBlock stores a committed block with the commit that made it final
// and the result of executing it, all in one atomic transaction. The
// block must be the child of the latest one.
func (s *Store) SaveBlock(b *chain.Block, c *chain.Commit, res *chain.Result) error {
	latest := s.Latest()
	if !s.Initialized() {
		return ErrNotInitialized
	}
	if b.Header.Height != latest.Height+1 {
		return fmt.Errorf("%w: saving %d after %d", ErrHeight, b.Header.Height, latest.Height)
	}
	return s.commit(b, c, res)
}

func (s *Store) commit(b *chain.Block, c *chain.Commit, res *chain.Result) error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	h := b.Header.Height
	// The Merkle tree's new nodes go first, in batches of their own: they
	// are many (about log2(n) per changed key) and content-addressed, so a
	// crash that leaves some of them without their block leaves harmless
	// orphans, and keeping them out of the block's transaction keeps that
	// transaction well inside Badger's size limit however big the state.
	// WriteTreeAhead may have stored them already.
	if s.takeAhead(res) {
		s.aheadUsed.Add(1)
	} else if err := s.writeTree(res); err != nil {
		return fmt.Errorf("store tree nodes of block %d: %w", h, err)
	}
	// Then everything that says the block exists, in one transaction:
	// m/latest holds the header itself, written with the state, so a
	// snapshot reads a header that matches its state without any lock held
	// across the write (readers never wait for the fsync).
	err := s.db.Update(func(txn *badger.Txn) error { return putBlock(txn, b, c, res) })
	if err != nil {
		s.cache.reset() // whatever Badger kept of a failed write, read it again
	}
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("store block %d of %d txs: %w (raise the memtable size)", h, len(b.Txs), ErrBlockTooLarge)
	}
	if err != nil {
		return fmt.Errorf("store block %d: %w", h, err)
	}
	s.cache.update(res.Changes)
	s.mu.Lock()
	s.latest, s.inited = b.Header, true
	s.mu.Unlock()
	return nil
}

// writeTree stores the new Merkle nodes of res in batches of their own.
func (s *Store) writeTree(res *chain.Result) error {
	if len(res.TreeWrites) == 0 {
		return nil
	}
	wb := s.db.NewWriteBatch()
	for _, w := range res.TreeWrites {
		if err := wb.Set(w.Key, w.Value); err != nil {
			wb.Cancel()
			return err
		}
	}
	return wb.Flush()
}

// WriteTreeAhead stores the new Merkle nodes of res, the result of a
// block that is not decided yet, so that SaveBlock of that block with
// this same res (the same pointer) has only the block's own transaction
// left to write. A node calls it while the votes on a block it found
// valid are gathered, taking the larger part of a block's writes off the
// time between deciding a block and starting the next height.
//
// The nodes are content-addressed: if the block is never decided they
// are orphans, as after a crash between the two writes of SaveBlock, and
// the next PruneState deletes them. A PruneState that deletes after
// WriteTreeAhead began may delete some of them too; SaveBlock then writes
// them again. Safe for concurrent use with every other method.
func (s *Store) WriteTreeAhead(res *chain.Result) error {
	s.commitMu.Lock()
	sweeps := s.sweeps
	s.commitMu.Unlock()
	if err := s.writeTree(res); err != nil {
		return fmt.Errorf("store tree nodes ahead: %w", err)
	}
	s.aheadMu.Lock()
	defer s.aheadMu.Unlock()
	if s.ahead == nil {
		s.ahead = map[*chain.Result]uint64{}
	}
	s.ahead[res] = sweeps
	return nil
}

// takeAhead reports whether res's tree nodes are stored by WriteTreeAhead
// and no prune has deleted since, and forgets every result written ahead:
// those of other blocks of this height will not be committed. It runs
// under commitMu.
func (s *Store) takeAhead(res *chain.Result) bool {
	s.aheadMu.Lock()
	defer s.aheadMu.Unlock()
	sweeps, ok := s.ahead[res]
	s.ahead = nil
	return ok && sweeps == s.sweeps
}

// TreeWrittenAhead counts the blocks SaveBlock stored without writing
// their tree nodes, because WriteTreeAhead had.
func (s *Store) TreeWrittenAhead() uint64 { return s.aheadUsed.Load() }

// putBlock sets, in txn, everything that says block b exists: the block,
// its commit, its hash's height, its receipts, the state it changed and,
// last, the latest header.
func putBlock(txn blockWriter, b *chain.Block, c *chain.Commit, res *chain.Result) error {
	h, hash := b.Header.Height, b.Hash()
	set := txn.Set
	if err := set(heightKey("b/", h), b.Encode()); err != nil {
		return err
	}
	if c != nil {
		if err := set(heightKey("c/", h), c.Encode()); err != nil {
			return err
		}
	}
	if err := set(append([]byte("h/"), hash[:]...), binary.BigEndian.AppendUint64(nil, h)); err != nil {
		return err
	}
	for i := range res.Receipts {
		r := &res.Receipts[i]
		if err := set(append([]byte("t/"), r.TxHash[:]...), chain.MustEncode(r)); err != nil {
			return err
		}
	}
	for _, ch := range res.Changes {
		k := append(append([]byte(nil), prefixState...), ch.Key...)
		var err error
		if ch.Value == nil {
			err = txn.Delete(k)
		} else {
			err = txn.Set(k, ch.Value)
		}
		if err != nil {
			return err
		}
	}
	return set(keyLatest, chain.MustEncode(&b.Header))
}

// CheckFits reports whether b, with c and res, fits the transaction of
// SaveBlock in a memtable of DefaultMemTableSize, or of this store's own
// if that is smaller (fit.go says why): it counts what SaveBlock would
// write as Badger counts a transaction, and writes nothing. It returns an
// error wrapping ErrBlockTooLarge when the block does not fit. A proposer
// checks the block it built, since a decided block that a node cannot
// store stops that node.
func (s *Store) CheckFits(b *chain.Block, c *chain.Commit, res *chain.Result) error {
	z := newSizer(s.fit)
	err := putBlock(z, b, c, res)
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("block %d of %d txs: %w", b.Header.Height, len(b.Txs), ErrBlockTooLarge)
	}
	return err
}

// Block returns the block at height h.
func (s *Store) Block(h uint64) (*chain.Block, error) {
	var b *chain.Block
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		b, err = loadBlock(txn, h)
		return err
	})
	return b, err
}

// Commit returns the commit certificate of the block at height h.
func (s *Store) Commit(h uint64) (*chain.Commit, error) {
	var c chain.Commit
	err := s.db.View(func(txn *badger.Txn) error {
		v, err := get(txn, heightKey("c/", h))
		if err != nil {
			return err
		}
		if v == nil {
			return fmt.Errorf("commit %d: %w", h, ErrNotFound)
		}
		return chain.Decode(v, &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// EncodedBlock returns the block at height h and its commit certificate
// in their canonical encodings, the bytes as stored, without decoding
// them: what block sync and the API's CBOR answer pass on as they are.
// The commit is nil at height 0 (genesis has none).
func (s *Store) EncodedBlock(h uint64) (block, commit []byte, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		if block, err = get(txn, heightKey("b/", h)); err != nil {
			return err
		}
		if block == nil {
			return fmt.Errorf("block %d: %w", h, ErrNotFound)
		}
		if h == 0 {
			return nil
		}
		if commit, err = get(txn, heightKey("c/", h)); err != nil {
			return err
		}
		if commit == nil {
			return fmt.Errorf("commit %d: %w", h, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return block, commit, nil
}

// HeightOf returns the height of the block with the given hash.
func (s *Store) HeightOf(hash chain.Hash) (uint64, error) {
	var h uint64
	err := s.db.View(func(txn *badger.Txn) error {
		v, err := get(txn, append([]byte("h/"), hash[:]...))
		if err != nil {
			return err
		}
		if len(v) != 8 {
			return fmt.Errorf("block %s: %w", hash, ErrNotFound)
		}
		h = binary.BigEndian.Uint64(v)
		return nil
	})
	return h, err
}

// Receipt returns the receipt of a committed transaction.
func (s *Store) Receipt(txHash chain.Hash) (*chain.Receipt, error) {
	var r chain.Receipt
	err := s.db.View(func(txn *badger.Txn) error {
		v, err := get(txn, append([]byte("t/"), txHash[:]...))
		if err != nil {
			return err
		}
		if v == nil {
			return fmt.Errorf("tx %s: %w", txHash, ErrNotFound)
		}
		return chain.Decode(v, &r)
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// Tx returns a committed transaction's bytes and its receipt.
func (s *Store) Tx(txHash chain.Hash) ([]byte, *chain.Receipt, error) {
	r, err := s.Receipt(txHash)
	if err != nil {
		return nil, nil, err
	}
	b, err := s.Block(r.Height)
	if err != nil {
		return nil, nil, err
	}
	if int(r.Index) >= len(b.Txs) {
		return nil, nil, fmt.Errorf("tx %s: index %d beyond block %d", txHash, r.Index, r.Height)
	}
	return b.Txs[r.Index], r, nil
}

// Get reads a state key from the latest committed state, through a cache
// of the values it has read that every commit keeps right (latestCache).
func (s *Store) Get(key []byte) ([]byte, error) {
	v, ok, gen := s.cache.get(key)
	if ok {
		return v, nil
	}
	v, err := s.getUncached(key)
	if err == nil {
		s.cache.fill(key, v, gen)
	}
	return v, err
}

// getUncached reads a state key of the latest state from Badger in a read
// transaction of its own.
func (s *Store) getUncached(key []byte) ([]byte, error) {
	var v []byte
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		v, err = get(txn, append(append([]byte(nil), prefixState...), key...))
		return err
	})
	return v, err
}

// Iterate visits the latest state's keys with prefix in ascending order.
func (s *Store) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	return s.IterateFrom(prefix, prefix, fn)
}

// IterateFrom visits the latest state's keys with prefix that sort at or
// after start, in ascending order, seeking to start (chain.Seeker).
func (s *Store) IterateFrom(prefix, start []byte, fn func(key, value []byte) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		return iterate(txn, prefix, start, fn)
	})
}

// Snapshot is a consistent read-only view of the latest state, for
// executing a block or answering a query. Release it with Discard.
type Snapshot struct {
	txn    *badger.Txn
	header chain.Header
}

// Snapshot opens a view of the latest committed state.
func (s *Store) Snapshot() *Snapshot {
	txn := s.db.NewTransaction(false)
	h, _, err := latestHeader(txn)
	if err != nil {
		h = s.Latest() // unreadable m/latest was caught at Open; keep serving
	}
	return &Snapshot{txn: txn, header: h}
}

// Header returns the header of the block whose state the view shows.
func (v *Snapshot) Header() chain.Header { return v.header }

// Get reads a state key.
func (v *Snapshot) Get(key []byte) ([]byte, error) {
	return get(v.txn, append(append([]byte(nil), prefixState...), key...))
}

// Iterate visits state keys with prefix in ascending order.
func (v *Snapshot) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	return iterate(v.txn, prefix, prefix, fn)
}

// IterateFrom visits state keys with prefix that sort at or after start,
// in ascending order, seeking to start (chain.Seeker).
func (v *Snapshot) IterateFrom(prefix, start []byte, fn func(key, value []byte) error) error {
	return iterate(v.txn, prefix, start, fn)
}

// Discard releases the view.
func (v *Snapshot) Discard() { v.txn.Discard() }

// Prove returns a Merkle proof of a state key under a state root. Every
// root ever committed can be proven against.
func (s *Store) Prove(root chain.Hash, key []byte) (*state.Proof, error) {
	return s.tree.Prove(state.Hash(root), key)
}

// GetAt reads a state key as it was after block height, through the
// Merkle tree of that height's state root.
func (s *Store) GetAt(height uint64, key []byte) ([]byte, bool, error) {
	if err := s.checkKept(height); err != nil {
		return nil, false, err
	}
	b, err := s.Block(height)
	if err != nil {
		return nil, false, err
	}
	return s.tree.Get(state.Hash(b.Header.StateRoot), key)
}

func iterate(txn *badger.Txn, prefix, start []byte, fn func(key, value []byte) error) error {
	if bytes.Compare(start, prefix) < 0 {
		start = prefix
	}
	full := append(append([]byte(nil), prefixState...), prefix...)
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64, Prefix: full})
	defer it.Close()
	for it.Seek(append(append([]byte(nil), prefixState...), start...)); it.ValidForPrefix(full); it.Next() {
		item := it.Item()
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		k := item.KeyCopy(nil)[len(prefixState):]
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func loadBlock(txn *badger.Txn, h uint64) (*chain.Block, error) {
	v, err := get(txn, heightKey("b/", h))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("block %d: %w", h, ErrNotFound)
	}
	b, err := chain.DecodeBlock(v)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", h, err)
	}
	return b, nil
}

// get returns a copy of the value under key, or nil when absent.
func get(txn *badger.Txn, key []byte) ([]byte, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// treeReader lets the state tree read its nodes from Badger.
type treeReader struct{ db *badger.DB }

func (r treeReader) Get(key []byte) ([]byte, error) {
	var v []byte
	err := r.db.View(func(txn *badger.Txn) error {
		var err error
		v, err = get(txn, key)
		return err
	})
	return v, err
}

func sprintf(f string, a ...any) string {
	return strings.TrimSpace(fmt.Sprintf(f, a...))
}

// The store and its views seek (chain.IterateFrom).
var (
	_ chain.Seeker = (*Store)(nil)
	_ chain.Seeker = (*Snapshot)(nil)
)
