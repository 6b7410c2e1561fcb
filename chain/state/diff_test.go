package state

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// bruteDiff is the reference for Diff: the keys whose values differ
// between two full key/value maps, sorted by key.
func bruteDiff(a, b map[string][]byte) []Difference {
	var out []Difference
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			out = append(out, Difference{Path: PathOf([]byte(k)), Key: []byte(k), Old: v, New: b[k]})
		}
	}
	for k, w := range b {
		if _, ok := a[k]; !ok {
			out = append(out, Difference{Path: PathOf([]byte(k)), Key: []byte(k), New: w})
		}
	}
	slices.SortFunc(out, func(x, y Difference) int { return bytes.Compare(x.Key, y.Key) })
	return out
}

// diffsEqual reports the first mismatch between two lists, or "".
func diffsEqual(got, want []Difference) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d differences, want %d:\ngot  %s\nwant %s", len(got), len(want), showDiffs(got), showDiffs(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Path != w.Path || !bytes.Equal(g.Key, w.Key) || (g.Key == nil) != (w.Key == nil) ||
			!bytes.Equal(g.Old, w.Old) || (g.Old == nil) != (w.Old == nil) ||
			!bytes.Equal(g.New, w.New) || (g.New == nil) != (w.New == nil) {
			return fmt.Sprintf("difference %d is %s, want %s", i, showDiffs(got[i:i+1]), showDiffs(want[i:i+1]))
		}
	}
	return ""
}

func showDiffs(ds []Difference) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%q: %q -> %q", d.Key, d.Old, d.New))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// checkDiff compares Diff(ra, rb) with the brute-force diff of ma and mb,
// both ways round, without a limit.
func checkDiff(t *testing.T, tr *Tree, ra, rb Hash, ma, mb map[string][]byte) {
	t.Helper()
	for _, dir := range []struct {
		from, to Hash
		mf, mt   map[string][]byte
	}{{ra, rb, ma, mb}, {rb, ra, mb, ma}} {
		got, truncated, err := tr.Diff(dir.from, dir.to, 0)
		if err != nil {
			t.Fatalf("Diff: %v", err)
		}
		if truncated {
			t.Fatal("Diff without a limit says truncated")
		}
		if msg := diffsEqual(got, bruteDiff(dir.mf, dir.mt)); msg != "" {
			t.Fatalf("Diff %x to %x: %s", dir.from, dir.to, msg)
		}
	}
}

// keysSharingBits returns n keys of the form "k{i}" whose paths share
// their first bits bits, and one more key whose path differs at bit 0.
func keysSharingBits(n, bits int) (shared []string, other string) {
	var first Hash
	for i := 0; len(shared) < n || other == ""; i++ {
		k := fmt.Sprintf("k%d", i)
		p := PathOf([]byte(k))
		switch {
		case len(shared) == 0:
			first = p
			shared = append(shared, k)
		case len(shared) < n && samePrefix(&p, &first, bits):
			shared = append(shared, k)
		case other == "" && bit(&p, 0) != bit(&first, 0):
			other = k
		}
	}
	return shared, other
}

// TestDiffSmallTrees covers the shapes the walk must line up: empty
// trees, a lone leaf at the root, a leaf against a subtree, and deletes
// that make a leaf float up.
func TestDiffSmallTrees(t *testing.T) {
	deep, far := keysSharingBits(2, 6) // two keys that split below depth 6
	trio, _ := keysSharingBits(3, 4)
	tests := []struct {
		name          string
		before, after []Change
	}{
		{"both empty", nil, nil},
		{"empty to one key", nil, []Change{kv("a", "1")}},
		{"one key to empty", []Change{kv("a", "1")}, []Change{kv("a", "")}},
		{"one key, new value", []Change{kv("a", "1")}, []Change{kv("a", "2")}},
		{"one key swapped for another", []Change{kv("a", "1")}, []Change{kv("a", ""), kv("b", "1")}},
		{"a key joins a lone leaf", []Change{kv("a", "1")}, []Change{kv("b", "2")}},
		{"a key joins a lone leaf deep down", []Change{kv(deep[0], "1")}, []Change{kv(deep[1], "2")}},
		{"delete lets a deep leaf float to the top", []Change{kv(deep[0], "1"), kv(deep[1], "2")}, []Change{kv(deep[1], "")}},
		{"delete collapses a subtree beside another",
			[]Change{kv(deep[0], "1"), kv(deep[1], "2"), kv(far, "3")}, []Change{kv(deep[0], "")}},
		{"collapse and a new value at once",
			[]Change{kv(deep[0], "1"), kv(deep[1], "2"), kv(far, "3")}, []Change{kv(deep[0], ""), kv(deep[1], "9")}},
		{"the floated leaf replaced by another key",
			[]Change{kv(trio[0], "1"), kv(trio[1], "2")}, []Change{kv(trio[0], ""), kv(trio[2], "2")}},
		{"same value under another key", []Change{kv("a", "1"), kv("b", "1")}, []Change{kv("b", ""), kv("c", "1")}},
		{"a key equal to a value", []Change{kv("a", "b")}, []Change{kv("b", "a")}},
		{"the empty key", []Change{kv("a", "1")}, []Change{{Key: []byte{}, Value: []byte("e")}}},
		{"everything deleted", []Change{kv("a", "1"), kv("b", "2"), kv("c", "3")},
			[]Change{kv("a", ""), kv("b", ""), kv("c", "")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newMemStore()
			tr := NewTree(Config{Store: s})
			ma, mb := map[string][]byte{}, map[string][]byte{}
			ra := mustUpdate(t, tr, s, EmptyRoot, tc.before)
			applyModel(ma, tc.before)
			rb := mustUpdate(t, tr, s, ra, tc.after)
			applyModel(mb, tc.before)
			applyModel(mb, tc.after)
			// A fresh tree: everything must come from the store.
			checkDiff(t, NewTree(Config{Store: s, CacheNodes: 1}), ra, rb, ma, mb)
		})
	}
}

// TestDiffRandom applies random batches of inserts, updates and deletes
// and compares Diff of consecutive and of random earlier roots with the
// brute-force diff of the two full maps.
func TestDiffRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for trial := range 4 {
		s := newMemStore()
		tr := NewTree(Config{Store: s, CacheNodes: []int{1, 16, 0, 0}[trial]})
		roots := []Hash{EmptyRoot}
		models := []map[string][]byte{{}}
		model := map[string][]byte{}
		for range 40 {
			cs := randomChanges(rng, 1+rng.Intn(60), 400)
			root := mustUpdate(t, tr, s, roots[len(roots)-1], cs)
			applyModel(model, cs)
			roots, models = append(roots, root), append(models, cloneMap(model))
		}
		for i := 1; i < len(roots); i++ {
			checkDiff(t, tr, roots[i-1], roots[i], models[i-1], models[i])
			j := rng.Intn(len(roots))
			checkDiff(t, tr, roots[j], roots[i], models[j], models[i])
		}
	}
}

// TestDiffLimit checks that a limit returns the first differences by key
// and says whether there were more.
func TestDiffLimit(t *testing.T) {
	s := newMemStore()
	tr := NewTree(Config{Store: s})
	var before, after []Change
	for i := range 60 {
		before = append(before, kv(fmt.Sprintf("key-%02d", i), "old"))
	}
	for i := range 20 { // 20 differences: 10 updates, 5 deletes, 5 inserts
		switch {
		case i < 10:
			after = append(after, kv(fmt.Sprintf("key-%02d", 3*i), "new"))
		case i < 15:
			after = append(after, kv(fmt.Sprintf("key-%02d", 3*i), ""))
		default:
			after = append(after, kv(fmt.Sprintf("key-%02d", 100+i), "new"))
		}
	}
	ra := mustUpdate(t, tr, s, EmptyRoot, before)
	rb := mustUpdate(t, tr, s, ra, after)
	ma, mb := map[string][]byte{}, map[string][]byte{}
	applyModel(ma, before)
	applyModel(mb, before)
	applyModel(mb, after)
	all := bruteDiff(ma, mb)
	if len(all) != 20 {
		t.Fatalf("fixture has %d differences, want 20", len(all))
	}
	for _, limit := range []int{1, 2, 7, 19, 20, 21, 1000, 0, -1} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			got, truncated, err := tr.Diff(ra, rb, limit)
			if err != nil {
				t.Fatal(err)
			}
			want, more := all, false
			if limit > 0 && limit < len(all) {
				want, more = all[:limit], true
			}
			if msg := diffsEqual(got, want); msg != "" {
				t.Fatal(msg)
			}
			if truncated != more {
				t.Errorf("truncated = %v, want %v", truncated, more)
			}
		})
	}
}

// TestDiffReadsFewNodes checks that a few changes in a big tree cost a
// few paths of reads, not a walk of the whole tree.
func TestDiffReadsFewNodes(t *testing.T) {
	const keys, changed = 20_000, 5
	s := newMemStore()
	var cs []Change
	for i := range keys {
		cs = append(cs, Change{Key: fmt.Appendf(nil, "key-%d", i), Value: fmt.Appendf(nil, "v%d", i)})
	}
	root := mustUpdate(t, NewTree(Config{Store: s}), s, EmptyRoot, cs)
	next := mustUpdate(t, NewTree(Config{Store: s}), s, root, []Change{
		kv("key-1", "new"), kv("key-2", ""), kv("key-3000", "new"), kv("fresh-1", "x"), kv("fresh-2", "y"),
	})

	s.reads = 0
	if _, _, err := NewTree(Config{Store: s}).Diff(EmptyRoot, root, 1); err != nil {
		t.Fatal(err)
	}
	full := s.reads

	s.reads = 0
	got, _, err := NewTree(Config{Store: s}).Diff(root, next, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != changed {
		t.Fatalf("%d differences, want %d", len(got), changed)
	}
	// Each difference costs at most a path on each side (about 15 levels
	// here), its key and two values.
	t.Logf("diff of %d changes read %d entries; a full walk reads %d", changed, s.reads, full)
	if limit := changed * (2*30 + 3); s.reads > limit {
		t.Errorf("diff read %d entries, want at most %d", s.reads, limit)
	}
	if s.reads*50 > full {
		t.Errorf("diff read %d entries, a full walk %d: not far fewer", s.reads, full)
	}

	s.reads = 0
	if got, _, err := NewTree(Config{Store: s}).Diff(next, next, 0); err != nil || len(got) != 0 || s.reads != 0 {
		t.Errorf("Diff of a root with itself: %d differences, %d reads, err %v; want none", len(got), s.reads, err)
	}
}

// TestDiffStoreFaults checks that a missing or corrupt node is an error
// naming the hash, and that keys without a stored copy come out nameless.
func TestDiffStoreFaults(t *testing.T) {
	s := newMemStore()
	tr := NewTree(Config{Store: s})
	ra := mustUpdate(t, tr, s, EmptyRoot, []Change{kv("a", "1"), kv("b", "2"), kv("c", "3")})
	rb := mustUpdate(t, tr, s, ra, []Change{kv("a", "10"), kv("d", "4")})

	t.Run("unknown root", func(t *testing.T) {
		unknown := PathOf([]byte("no such root"))
		_, _, err := NewTree(Config{Store: s}).Diff(ra, unknown, 0)
		if !errors.Is(err, ErrMissingNode) || !strings.Contains(err.Error(), fmt.Sprintf("%x", unknown)) {
			t.Errorf("err = %v, want ErrMissingNode naming %x", err, unknown)
		}
	})
	t.Run("corrupt node", func(t *testing.T) {
		bad := newMemStore()
		for k, v := range s.kv {
			bad.kv[k] = bytes.Clone(v)
		}
		bad.kv[string(nodeKey(rb))][7] ^= 1
		if _, _, err := NewTree(Config{Store: bad}).Diff(ra, rb, 0); !errors.Is(err, ErrCorruptNode) {
			t.Errorf("err = %v, want ErrCorruptNode", err)
		}
	})
	t.Run("lost value", func(t *testing.T) {
		lost := newMemStore()
		for k, v := range s.kv {
			lost.kv[k] = v
		}
		vh := PathOf([]byte("10"))
		delete(lost.kv, string(valueKey(vh)))
		_, _, err := NewTree(Config{Store: lost}).Diff(ra, rb, 0)
		if !errors.Is(err, ErrMissingNode) || !strings.Contains(err.Error(), fmt.Sprintf("%x", vh)) {
			t.Errorf("err = %v, want ErrMissingNode naming %x", err, vh)
		}
	})
	t.Run("keys not stored", func(t *testing.T) {
		// A store written before Update kept keys: the differences come
		// with their paths, after the named ones.
		old := newMemStore()
		for k, v := range s.kv {
			old.kv[k] = v
		}
		delete(old.kv, string(valueKey(PathOf([]byte("d")))))
		got, _, err := NewTree(Config{Store: old}).Diff(ra, rb, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []Difference{
			{Path: PathOf([]byte("a")), Key: []byte("a"), Old: []byte("1"), New: []byte("10")},
			{Path: PathOf([]byte("d")), New: []byte("4")},
		}
		if msg := diffsEqual(got, want); msg != "" {
			t.Error(msg)
		}
	})
}

// TestUpdateStoresKeys checks the writes carry each new leaf's key under
// its path, and only once per batch.
func TestUpdateStoresKeys(t *testing.T) {
	tr := NewTree(Config{Store: newMemStore()})
	_, ws, err := tr.Update(EmptyRoot, []Change{kv("alice", "10"), kv("bob", "10"), kv("carol", "")})
	if err != nil {
		t.Fatal(err)
	}
	checkWrites(t, ws)
	stored := map[string]bool{}
	for _, w := range ws {
		stored[string(w.Key)] = true
	}
	for _, k := range []string{"alice", "bob"} {
		if !stored[string(valueKey(PathOf([]byte(k))))] {
			t.Errorf("no write of key %q", k)
		}
	}
	if stored[string(valueKey(PathOf([]byte("carol"))))] {
		t.Error("a deleted key was written")
	}
}

// BenchmarkDiff diffs two roots 10 changes apart in a 100k-key tree held
// in memory, as the explorer does for one block.
func BenchmarkDiff(b *testing.B) {
	tr, root := proofFixture(b)
	var cs []Change
	for i := range 10 {
		switch {
		case i < 6:
			cs = append(cs, Change{Key: benchKey(i * 9973), Value: []byte("changed")})
		case i < 8:
			cs = append(cs, Change{Key: benchKey(i * 9973)})
		default:
			cs = append(cs, Change{Key: fmt.Appendf(nil, "new/%d", i), Value: []byte("new")})
		}
	}
	// The new root is served from the tree's memory of its last Update.
	next, _, err := tr.Update(root, cs)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		ds, _, err := tr.Diff(root, next, 200)
		if err != nil {
			b.Fatal(err)
		}
		if len(ds) != 10 {
			b.Fatalf("%d differences, want 10", len(ds))
		}
	}
}
