package state

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"sync"
	"testing"
)

// TestKnownRoots pins the encoding against roots written out by hand from
// the definition in doc.go.
func TestKnownRoots(t *testing.T) {
	leafHash := func(k, v string) Hash {
		p, vh := sha256.Sum256([]byte(k)), sha256.Sum256([]byte(v))
		return sha256.Sum256(slices.Concat([]byte{0x00}, p[:], vh[:]))
	}
	// "a" and "b" differ in the first path bit: SHA-256("a") starts
	// 0xca (bit 1), SHA-256("b") starts 0x3e (bit 0).
	a, b := leafHash("a", "1"), leafHash("b", "2")
	ab := sha256.Sum256(slices.Concat([]byte{0x01}, b[:], a[:]))

	tests := []struct {
		name    string
		changes []Change
		want    Hash
	}{
		{"no keys", nil, EmptyRoot},
		{"only deletes", []Change{kv("a", "")}, EmptyRoot},
		{"one key is its leaf", []Change{kv("a", "1")}, a},
		{"two keys split at bit 0", []Change{kv("a", "1"), kv("b", "2")}, ab},
		{"empty value deletes", []Change{kv("a", "1"), {Key: []byte("b"), Value: []byte{}}}, a},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTree(Config{Store: newMemStore()})
			got, _, err := tr.Update(EmptyRoot, tc.changes)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("root %x, want %x", got, tc.want)
			}
		})
	}
}

// TestOrderIndependence inserts the same keys in random orders and
// batchings: the root must always be the same.
func TestOrderIndependence(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var all []Change
	for i := range 200 {
		all = append(all, Change{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)})
	}
	want := refRoot(func() map[string][]byte {
		m := map[string][]byte{}
		applyModel(m, all)
		return m
	}())
	for trial := range 20 {
		s := newMemStore()
		tr := NewTree(Config{Store: s, CacheNodes: 1 + trial})
		perm := slices.Clone(all)
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		root := EmptyRoot
		for len(perm) > 0 {
			n := 1 + rng.Intn(min(40, len(perm)))
			root = mustUpdate(t, tr, s, root, perm[:n])
			perm = perm[n:]
		}
		if root != want {
			t.Fatalf("trial %d: root %x, want %x", trial, root, want)
		}
		// Deleting everything, again in random batches, empties the tree.
		dels := make([]Change, len(all))
		for i, c := range all {
			dels[i] = Change{Key: c.Key}
		}
		rng.Shuffle(len(dels), func(i, j int) { dels[i], dels[j] = dels[j], dels[i] })
		for len(dels) > 0 {
			n := 1 + rng.Intn(min(40, len(dels)))
			root = mustUpdate(t, tr, s, root, dels[:n])
			dels = dels[n:]
		}
		if root != EmptyRoot {
			t.Fatalf("trial %d: root after deleting all is %x, want empty", trial, root)
		}
	}
}

// TestNoOps checks that updates that change nothing keep the root and
// write nothing.
func TestNoOps(t *testing.T) {
	s := newMemStore()
	tr := NewTree(Config{Store: s})
	root := mustUpdate(t, tr, s, EmptyRoot, []Change{kv("alice", "10"), kv("bob", "20"), kv("carol", "30")})

	tests := []struct {
		name    string
		changes []Change
	}{
		{"empty batch", nil},
		{"delete absent key", []Change{kv("dave", "")}},
		{"delete several absent keys", []Change{kv("dave", ""), kv("erin", ""), kv("frank", "")}},
		{"set same value", []Change{kv("bob", "20")}},
		{"set all same values", []Change{kv("carol", "30"), kv("alice", "10"), kv("bob", "20")}},
		{"same values and absent deletes", []Change{kv("alice", "10"), kv("zed", "")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ws, err := tr.Update(root, tc.changes)
			if err != nil {
				t.Fatal(err)
			}
			if got != root {
				t.Errorf("root changed to %x", got)
			}
			if len(ws) != 0 {
				t.Errorf("%d writes, want none", len(ws))
			}
		})
	}
}

// TestAgainstReference runs hundreds of random batches and compares every
// root with the reference rebuilt from scratch, for a tiny cache (nearly
// every read goes to the store) and the default one.
func TestAgainstReference(t *testing.T) {
	for _, cacheNodes := range []int{1, 0} {
		t.Run(fmt.Sprintf("cache=%d", cacheNodes), func(t *testing.T) {
			rng := rand.New(rand.NewSource(7))
			s := newMemStore()
			tr := NewTree(Config{Store: s, CacheNodes: cacheNodes})
			model := map[string][]byte{}
			root := EmptyRoot
			for round := range 400 {
				cs := randomChanges(rng, 1+rng.Intn(25), 150)
				nr, ws, err := tr.Update(root, cs)
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				checkWrites(t, ws)
				s.save(ws)
				applyModel(model, cs)
				if want := refRoot(model); nr != want {
					t.Fatalf("round %d: root %x, want %x", round, nr, want)
				}
				root = nr
				if round%50 == 49 {
					checkContents(t, s, root, model, 150)
				}
			}
		})
	}
}

// checkWrites asserts a batch has no duplicate keys and only well-formed
// entries.
func checkWrites(t *testing.T, ws []Write) {
	t.Helper()
	seen := map[string]bool{}
	for _, w := range ws {
		if seen[string(w.Key)] {
			t.Fatalf("duplicate write %x", w.Key)
		}
		seen[string(w.Key)] = true
		switch {
		case bytes.HasPrefix(w.Key, []byte(nodePrefix)):
			if _, err := decodeNode(Hash(w.Key[len(nodePrefix):]), w.Value); err != nil {
				t.Fatalf("bad node write: %v", err)
			}
		case bytes.HasPrefix(w.Key, []byte(valuePrefix)):
			if sha256.Sum256(w.Value) != Hash(w.Key[len(valuePrefix):]) {
				t.Fatalf("value write %x does not hash to its key", w.Key)
			}
		default:
			t.Fatalf("write key %q has no known prefix", w.Key)
		}
	}
}

// checkContents reads every key of the space through a fresh tree (empty
// cache), so it also proves the persisted writes are complete.
func checkContents(t *testing.T, s *memStore, root Hash, model map[string][]byte, space int) {
	t.Helper()
	tr := NewTree(Config{Store: s})
	for k := range space {
		key := fmt.Appendf(nil, "key-%d", k)
		v, found, err := tr.Get(root, key)
		if err != nil {
			t.Fatalf("Get %s: %v", key, err)
		}
		want, ok := model[string(key)]
		if found != ok || !bytes.Equal(v, want) {
			t.Fatalf("Get %s = %q, %v; want %q, %v", key, v, found, want, ok)
		}
	}
}

// TestHistoricalReads keeps the root of every height and reads each one
// after later heights have changed and deleted its keys.
func TestHistoricalReads(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	s := newMemStore()
	tr := NewTree(Config{Store: s})
	model := map[string][]byte{}
	var roots []Hash
	var snapshots []map[string][]byte
	root := EmptyRoot
	for range 30 {
		cs := randomChanges(rng, 20, 60)
		root = mustUpdate(t, tr, s, root, cs)
		applyModel(model, cs)
		roots = append(roots, root)
		snapshots = append(snapshots, cloneMap(model))
	}
	for h, r := range roots {
		checkContents(t, s, r, snapshots[h], 60)
	}
}

func cloneMap(m map[string][]byte) map[string][]byte {
	c := make(map[string][]byte, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func TestDuplicateKey(t *testing.T) {
	tests := []struct {
		name    string
		changes []Change
	}{
		{"set twice", []Change{kv("a", "1"), kv("a", "2")}},
		{"set then delete", []Change{kv("a", "1"), kv("b", "2"), kv("a", "")}},
		{"delete twice", []Change{kv("x", ""), kv("x", "")}},
		{"same value twice", []Change{kv("a", "1"), kv("a", "1")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTree(Config{Store: newMemStore()})
			_, ws, err := tr.Update(EmptyRoot, tc.changes)
			if !errors.Is(err, ErrDuplicateKey) {
				t.Fatalf("err = %v, want ErrDuplicateKey", err)
			}
			if ws != nil {
				t.Fatal("writes returned with an error")
			}
		})
	}
}

// TestStoreFaults checks unknown roots and corrupt bytes are errors.
func TestStoreFaults(t *testing.T) {
	s := newMemStore()
	root := mustUpdate(t, NewTree(Config{Store: s}), s, EmptyRoot,
		[]Change{kv("a", "1"), kv("b", "2"), kv("c", "3")})
	unknown := sha256.Sum256([]byte("no such root"))

	corrupt := newMemStore()
	for k, v := range s.kv {
		corrupt.kv[k] = bytes.Clone(v)
	}
	rootNode := corrupt.kv[string(nodeKey(root))]
	rootNode[40] ^= 1 // a flipped bit in the stored root

	truncated := newMemStore()
	truncated.kv[string(nodeKey(root))] = s.kv[string(nodeKey(root))][:64]

	// A store that lost a value: the nodes are all there.
	lostValue := newMemStore()
	for k, v := range s.kv {
		if !bytes.HasPrefix([]byte(k), []byte(valuePrefix)) {
			lostValue.kv[k] = v
		}
	}

	tests := []struct {
		name  string
		store Reader
		root  Hash
		want  error
	}{
		{"unknown root", s, unknown, ErrMissingNode},
		{"nil store", nil, root, ErrMissingNode},
		{"flipped bit", corrupt, root, ErrCorruptNode},
		{"short node", truncated, root, ErrCorruptNode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTree(Config{Store: tc.store})
			if _, _, err := tr.Get(tc.root, []byte("a")); !errors.Is(err, tc.want) {
				t.Errorf("Get: err = %v, want %v", err, tc.want)
			}
			if _, err := tr.Prove(tc.root, []byte("a")); !errors.Is(err, tc.want) {
				t.Errorf("Prove: err = %v, want %v", err, tc.want)
			}
			nr, ws, err := tr.Update(tc.root, []Change{kv("d", "4")})
			if !errors.Is(err, tc.want) || ws != nil || nr != tc.root {
				t.Errorf("Update: root %x, %d writes, err = %v; want old root, none, %v", nr, len(ws), err, tc.want)
			}
		})
	}
	t.Run("lost value", func(t *testing.T) {
		tr := NewTree(Config{Store: lostValue})
		if _, _, err := tr.Get(root, []byte("a")); !errors.Is(err, ErrMissingNode) {
			t.Errorf("Get: err = %v, want ErrMissingNode", err)
		}
		// Proofs and updates need no values, only nodes.
		if _, err := tr.Prove(root, []byte("a")); err != nil {
			t.Errorf("Prove: %v", err)
		}
	})
}

// TestUnpersistedUpdate follows an Update with another Update, a Get and
// a Prove on the new root before any write reaches the store, with a
// cache of one node: the pending set alone must carry them.
func TestUnpersistedUpdate(t *testing.T) {
	s := newMemStore() // stays empty throughout
	tr := NewTree(Config{Store: s, CacheNodes: 1})
	var first []Change
	for i := range 50 {
		first = append(first, Change{Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")})
	}
	r1, ws1, err := tr.Update(EmptyRoot, first)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := tr.Get(r1, []byte("k7")); err != nil || !ok || string(v) != "v" {
		t.Fatalf("Get on unpersisted root: %q, %v, %v", v, ok, err)
	}
	p, err := tr.Prove(r1, []byte("k7"))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyProof(r1, []byte("k7"), []byte("v"), p); err != nil {
		t.Fatal(err)
	}
	r2, ws2, err := tr.Update(r1, []Change{kv("k3", ""), kv("k60", "w")})
	if err != nil {
		t.Fatalf("second Update before persisting: %v", err)
	}
	s.save(ws1)
	s.save(ws2)
	model := map[string][]byte{}
	applyModel(model, first)
	applyModel(model, []Change{kv("k3", ""), kv("k60", "w")})
	if want := refRoot(model); r2 != want {
		t.Fatalf("root %x, want %x", r2, want)
	}
}

// TestCacheSavesReads checks that a second block's update finds the top
// of the tree in memory rather than in the store.
func TestCacheSavesReads(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	var cs []Change
	for i := range 2000 {
		cs = append(cs, Change{Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")})
	}
	run := func(cacheNodes int) int {
		s := newMemStore()
		tr := NewTree(Config{Store: s, CacheNodes: cacheNodes})
		root := mustUpdate(t, tr, s, EmptyRoot, cs)
		s.reads = 0
		for range 5 {
			root = mustUpdate(t, tr, s, root, randomChanges(rng, 10, 2000))
		}
		return s.reads
	}
	big, small := run(10000), run(1)
	if big != 0 {
		t.Errorf("store reads with a cache that holds the tree: %d, want 0", big)
	}
	if small == 0 {
		t.Error("store reads with a one-node cache: 0, want some")
	}
}

// TestUpdateCopiesValues checks the tree does not alias the caller's
// value buffers: the writes must not change when the caller reuses them.
func TestUpdateCopiesValues(t *testing.T) {
	buf := []byte("original")
	tr := NewTree(Config{Store: newMemStore()})
	root, ws, err := tr.Update(EmptyRoot, []Change{{Key: []byte("k"), Value: buf}})
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXX")
	v, _, err := tr.Get(root, []byte("k"))
	if err != nil || string(v) != "original" {
		t.Fatalf("Get = %q, %v after caller reused its buffer", v, err)
	}
	checkWrites(t, ws)
}

// lockedStore is a memStore safe for concurrent use, for the race test.
type lockedStore struct {
	mu sync.Mutex
	s  *memStore
}

func (l *lockedStore) Get(key []byte) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Get(key)
}

func (l *lockedStore) save(ws []Write) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.s.save(ws)
}

// TestConcurrentReads reads and proves an old root from other goroutines
// while blocks are applied, as an API server does; run it with -race.
func TestConcurrentReads(t *testing.T) {
	store := &lockedStore{s: newMemStore()}
	tr := NewTree(Config{Store: store, CacheNodes: 32})
	var cs []Change
	for i := range 100 {
		cs = append(cs, Change{Key: fmt.Appendf(nil, "key-%d", i), Value: []byte("old")})
	}
	old, ws, err := tr.Update(EmptyRoot, cs)
	if err != nil {
		t.Fatal(err)
	}
	store.save(ws)

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				key := fmt.Appendf(nil, "key-%d", (i*7+g)%100)
				v, ok, err := tr.Get(old, key)
				if err == nil && (!ok || string(v) != "old") {
					err = fmt.Errorf("Get %s at old root = %q, %v", key, v, ok)
				}
				if err == nil {
					var p *Proof
					if p, err = tr.Prove(old, key); err == nil {
						err = VerifyProof(old, key, []byte("old"), p)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	rng := rand.New(rand.NewSource(9))
	root := old
	for range 20 {
		nr, ws, err := tr.Update(root, randomChanges(rng, 10, 100))
		if err != nil {
			t.Fatal(err)
		}
		store.save(ws)
		root = nr
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
