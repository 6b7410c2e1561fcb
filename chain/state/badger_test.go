package state

import (
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// badgerStore adapts a Badger DB to Reader, the way a node would. reads
// counts Gets, when not nil, for the benchmark's reads/op.
type badgerStore struct {
	db    *badger.DB
	reads *int64
}

// Get copies the value out: Badger's item bytes are valid only inside the
// transaction, and Reader promises bytes that outlive the call.
func (s badgerStore) Get(key []byte) ([]byte, error) {
	if s.reads != nil {
		*s.reads++
	}
	var v []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	return v, err
}

// save persists one Update's writes in a single transaction, the way a
// block's state changes are committed together.
func (s badgerStore) save(ws []Write) error {
	return s.db.Update(func(txn *badger.Txn) error {
		for _, w := range ws {
			if err := txn.Set(w.Key, w.Value); err != nil {
				return err
			}
		}
		return nil
	})
}

// saveBulk persists writes too large for one transaction, for preloading.
func (s badgerStore) saveBulk(ws []Write) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, w := range ws {
		if err := wb.Set(w.Key, w.Value); err != nil {
			return err
		}
	}
	return wb.Flush()
}

func openBadger(tb testing.TB, dir string) *badger.DB {
	tb.Helper()
	opts := badger.DefaultOptions(dir).
		WithLogger(nil).
		WithMemTableSize(32 << 20).
		WithValueLogFileSize(64 << 20).
		WithBlockCacheSize(64 << 20).
		WithNumCompactors(2)
	db, err := badger.Open(opts)
	if err != nil {
		tb.Fatalf("open badger: %v", err)
	}
	return db
}

// TestBadgerStore runs updates against a real Badger DB, one transaction
// per update, then reopens the DB with a fresh tree and reads the latest
// and an older root back.
func TestBadgerStore(t *testing.T) {
	dir := t.TempDir()
	db := openBadger(t, dir)
	store := badgerStore{db: db}
	tr := NewTree(Config{Store: store, CacheNodes: 64})
	rng := rand.New(rand.NewSource(11))
	model := map[string][]byte{}
	root := EmptyRoot
	var midRoot Hash
	var midModel map[string][]byte
	for round := range 20 {
		cs := randomChanges(rng, 40, 200)
		nr, ws, err := tr.Update(root, cs)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := store.save(ws); err != nil {
			t.Fatalf("round %d: save: %v", round, err)
		}
		applyModel(model, cs)
		root = nr
		if round == 9 {
			midRoot, midModel = root, cloneMap(model)
		}
	}
	if want := refRoot(model); root != want {
		t.Fatalf("root %x, want %x", root, want)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openBadger(t, dir)
	defer db.Close()
	fresh := NewTree(Config{Store: badgerStore{db: db}})
	for _, tc := range []struct {
		root  Hash
		model map[string][]byte
	}{{root, model}, {midRoot, midModel}} {
		for k := range 200 {
			key := fmt.Appendf(nil, "key-%d", k)
			v, found, err := fresh.Get(tc.root, key)
			if err != nil {
				t.Fatal(err)
			}
			want, ok := tc.model[string(key)]
			if found != ok || string(v) != string(want) {
				t.Fatalf("root %x: Get %s = %q, %v; want %q, %v", tc.root[:4], key, v, found, want, ok)
			}
			p, err := fresh.Prove(tc.root, key)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyProof(tc.root, key, want, p); err != nil {
				t.Fatalf("proof of %s: %v", key, err)
			}
		}
	}
}

// benchKeys is the number of keys preloaded for benchmarks.
const benchKeys = 100_000

func benchKey(i int) []byte { return fmt.Appendf(nil, "account/%08d", i) }

// preload writes benchKeys keys into tr with one Update and returns the
// root; save persists the writes.
func preload(b *testing.B, tr *Tree, save func([]Write) error) Hash {
	b.Helper()
	start := time.Now()
	cs := make([]Change, benchKeys)
	for i := range cs {
		cs[i] = Change{Key: benchKey(i), Value: fmt.Appendf(nil, "balance=%d", i)}
	}
	root, ws, err := tr.Update(EmptyRoot, cs)
	if err != nil {
		b.Fatal(err)
	}
	if err := save(ws); err != nil {
		b.Fatal(err)
	}
	b.Logf("preloaded %d keys (%d writes) in %v", benchKeys, len(ws), time.Since(start).Round(time.Millisecond))
	return root
}

// BenchmarkUpdate1000Keys measures one block's state update on a Badger
// store that holds 100k keys: 1,000 random existing keys get new values,
// and the writes are committed in one transaction. ns/op covers both;
// update-ns/op and commit-ns/op split them, reads/op counts store reads
// (cache misses). The cache starts empty and warms over the iterations.
func BenchmarkUpdate1000Keys(b *testing.B) {
	db := openBadger(b, b.TempDir())
	defer db.Close()
	var reads int64
	store := badgerStore{db: db, reads: &reads}
	tr := NewTree(Config{Store: store})
	root := preload(b, tr, store.saveBulk)
	// Start from what a restarted node has: the tree in the store and an
	// empty cache, rather than the preload's nodes in memory.
	tr = NewTree(Config{Store: store})
	rng := rand.New(rand.NewSource(1))

	var updateNs, commitNs, writes int64
	iters := 0
	reads = 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		cs := make([]Change, 0, 1000)
		picked := make(map[int]bool, 1000)
		for len(cs) < 1000 {
			k := rng.Intn(benchKeys)
			if !picked[k] {
				picked[k] = true
				cs = append(cs, Change{Key: benchKey(k), Value: fmt.Appendf(nil, "balance=%d", rng.Int63())})
			}
		}
		b.StartTimer()

		t0 := time.Now()
		nr, ws, err := tr.Update(root, cs)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := store.save(ws); err != nil {
			b.Fatal(err)
		}
		commitNs += int64(time.Since(t1))
		updateNs += int64(t1.Sub(t0))
		writes += int64(len(ws))
		iters++
		root = nr
	}
	b.ReportMetric(float64(updateNs)/float64(iters), "update-ns/op")
	b.ReportMetric(float64(commitNs)/float64(iters), "commit-ns/op")
	b.ReportMetric(float64(writes)/float64(iters), "writes/op")
	b.ReportMetric(float64(reads)/float64(iters), "reads/op")
}

// memFixture is a 100k-key tree in memory, shared by the proof benchmarks.
var memFixture struct {
	once sync.Once
	tree *Tree
	root Hash
}

func proofFixture(b *testing.B) (*Tree, Hash) {
	memFixture.once.Do(func() {
		s := newMemStore()
		memFixture.tree = NewTree(Config{Store: s})
		memFixture.root = preload(b, memFixture.tree, func(ws []Write) error { s.save(ws); return nil })
	})
	return memFixture.tree, memFixture.root
}

// BenchmarkProve proves random present keys in a 100k-key tree held in
// memory (so it measures the walk, not a disk).
func BenchmarkProve(b *testing.B) {
	tr, root := proofFixture(b)
	rng := rand.New(rand.NewSource(2))
	b.ResetTimer()
	for b.Loop() {
		if _, err := tr.Prove(root, benchKey(rng.Intn(benchKeys))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyProof verifies inclusion proofs from a 100k-key tree.
func BenchmarkVerifyProof(b *testing.B) {
	tr, root := proofFixture(b)
	type claim struct {
		key, value []byte
		p          *Proof
	}
	claims := make([]claim, 256)
	for i := range claims {
		k := i * (benchKeys / len(claims))
		p, err := tr.Prove(root, benchKey(k))
		if err != nil {
			b.Fatal(err)
		}
		claims[i] = claim{benchKey(k), fmt.Appendf(nil, "balance=%d", k), p}
	}
	siblings := 0
	for _, c := range claims {
		siblings += len(c.p.Siblings)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		c := claims[i%len(claims)]
		if err := VerifyProof(root, c.key, c.value, c.p); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(siblings)/float64(len(claims)), "siblings/proof")
}
