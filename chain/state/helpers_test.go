package state

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// memStore is an in-memory Reader. It counts reads so tests can see what
// the cache saves.
type memStore struct {
	kv    map[string][]byte
	reads int
}

func newMemStore() *memStore { return &memStore{kv: make(map[string][]byte)} }

func (s *memStore) Get(key []byte) ([]byte, error) {
	s.reads++
	return s.kv[string(key)], nil
}

// save persists the writes of one Update, as the chain does per block.
func (s *memStore) save(ws []Write) {
	for _, w := range ws {
		s.kv[string(w.Key)] = bytes.Clone(w.Value)
	}
}

// refRoot is the reference: it rebuilds the canonical tree of m from
// scratch, straight from the definition, sharing no code with the tree
// except the bit numbering, which it states again below.
func refRoot(m map[string][]byte) Hash {
	type leaf struct{ path, vh [32]byte }
	var leaves []leaf
	for k, v := range m {
		if len(v) == 0 {
			continue
		}
		leaves = append(leaves, leaf{sha256.Sum256([]byte(k)), sha256.Sum256(v)})
	}
	var rec func(ls []leaf, depth int) [32]byte
	rec = func(ls []leaf, depth int) [32]byte {
		switch len(ls) {
		case 0:
			return [32]byte{}
		case 1:
			return sha256.Sum256(slices.Concat([]byte{0}, ls[0].path[:], ls[0].vh[:]))
		}
		var left, right []leaf
		for _, l := range ls {
			if l.path[depth/8]&(0x80>>(depth%8)) == 0 {
				left = append(left, l)
			} else {
				right = append(right, l)
			}
		}
		lh, rh := rec(left, depth+1), rec(right, depth+1)
		return sha256.Sum256(slices.Concat([]byte{1}, lh[:], rh[:]))
	}
	return rec(leaves, 0)
}

// randomChanges returns n distinct-key changes over a key space of size
// space: roughly 70% sets (new or existing keys), 30% deletes.
func randomChanges(rng *rand.Rand, n, space int) []Change {
	picked := make(map[int]bool)
	var cs []Change
	for len(cs) < n && len(picked) < space {
		k := rng.Intn(space)
		if picked[k] {
			continue
		}
		picked[k] = true
		c := Change{Key: fmt.Appendf(nil, "key-%d", k)}
		if rng.Intn(10) < 7 {
			c.Value = fmt.Appendf(nil, "value-%d", rng.Intn(50)) // repeats on purpose
		}
		cs = append(cs, c)
	}
	return cs
}

// applyModel applies changes to the model map.
func applyModel(m map[string][]byte, cs []Change) {
	for _, c := range cs {
		if len(c.Value) == 0 {
			delete(m, string(c.Key))
		} else {
			m[string(c.Key)] = bytes.Clone(c.Value)
		}
	}
}

// mustUpdate runs Update, persists the writes in s and returns the root.
func mustUpdate(t testing.TB, tr *Tree, s *memStore, root Hash, cs []Change) Hash {
	t.Helper()
	nr, ws, err := tr.Update(root, cs)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	s.save(ws)
	return nr
}

// kv makes a change from strings; an empty value deletes.
func kv(k, v string) Change {
	c := Change{Key: []byte(k)}
	if v != "" {
		c.Value = []byte(v)
	}
	return c
}
