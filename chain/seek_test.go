package chain_test

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
)

// seekingReader is a sorted reader that seeks, and counts the keys it
// hands out.
type seekingReader struct {
	*sortedReader
	visited int
}

func (r *seekingReader) Iterate(prefix []byte, fn func(k, v []byte) error) error {
	return r.IterateFrom(prefix, prefix, fn)
}

func (r *seekingReader) IterateFrom(prefix, start []byte, fn func(k, v []byte) error) error {
	return r.sortedReader.Iterate(prefix, func(k, v []byte) error {
		if bytes.Compare(k, start) < 0 {
			return nil // not handed out: a seek lands past these
		}
		r.visited++
		return fn(k, v)
	})
}

// keysOf lists what an iteration hands fn.
func keysOf(t *testing.T, iter func(fn func(k, v []byte) error) error) []string {
	t.Helper()
	var out []string
	if err := iter(func(k, v []byte) error {
		out = append(out, string(k)+"="+string(v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// IterateFrom over two overlays over a store gives what Iterate gives
// without the keys before start, wherever start falls: before the
// prefix, on a key, between keys, on a key one overlay deleted or
// added, past the prefix; over a store that seeks, and one that does not.
func TestIterateFromIsIterateFromStart(t *testing.T) {
	base := map[string][]byte{"j/9": []byte("b"), "l/0": []byte("b")}
	for i := range 300 {
		base[fmt.Sprintf("k/%03d", i)] = []byte("b")
	}
	seeker := &seekingReader{sortedReader: newSortedReader(base)}
	for _, below := range []chain.Reader{seeker, chain.MemReader(base)} {
		block := chain.NewOverlay(below)
		for i := 0; i < 300; i += 7 {
			block.Delete(fmt.Appendf(nil, "k/%03d", i))
		}
		block.Set([]byte("k/150x"), []byte("block"))
		tx := chain.NewOverlay(block)
		for i := 0; i < 300; i += 11 {
			tx.Set(fmt.Appendf(nil, "k/%03d", i), []byte("tx"))
		}
		tx.Delete([]byte("k/150x"))
		tx.Set([]byte("k/299/z"), []byte("tx"))
		prefix := []byte("k/")
		all := keysOf(t, func(fn func(k, v []byte) error) error { return tx.Iterate(prefix, fn) })
		if len(all) < 250 {
			t.Fatalf("the overlays show %d keys", len(all))
		}
		for _, start := range []string{"", "j/", "k/", "k/000", "k/007", "k/0075", "k/150", "k/150x", "k/154", "k/299", "k/299/z", "k/3", "l/", "z"} {
			var want []string
			for _, kv := range all {
				if k, _, _ := strings.Cut(kv, "="); k >= start {
					want = append(want, kv)
				}
			}
			got := keysOf(t, func(fn func(k, v []byte) error) error { return tx.IterateFrom(prefix, []byte(start), fn) })
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%T, from %q: %d keys %v\nwant %d %v", below, start, len(got), got, len(want), want)
			}
		}
	}
}

// Over a store that seeks, the keys before start are not read, and a
// transaction's work counts only the keys from start on; a query store
// seeks as well.
func TestIterateFromReadsNothingBeforeStart(t *testing.T) {
	base := map[string][]byte{}
	for i := range 1000 {
		base[fmt.Sprintf("a/app/k/%04d", i)] = []byte("v")
	}
	seeker := &seekingReader{sortedReader: newSortedReader(base)}
	ctx := chain.NewContext("app", chain.NewOverlay(seeker), chain.BlockInfo{}, chain.Address{}, chain.Hash{})
	var keys []string
	collect := func(k, _ []byte) error {
		keys = append(keys, string(k))
		if len(keys) == 3 {
			return errEnough
		}
		return nil
	}
	if err := ctx.Store().IterateFrom([]byte("k/"), []byte("k/0990"), collect); err != errEnough {
		t.Fatalf("IterateFrom: %v", err)
	}
	if seeker.visited > 4 || keys[0] != "k/0990" || ctx.Work().Steps != 3 {
		t.Errorf("from k/0990: %v; the store handed out %d keys and the work counts %d steps", keys, seeker.visited, ctx.Work().Steps)
	}
	seeker.visited, keys = 0, nil
	h := chain.Header{}
	q := chain.NewQueryContext("app", "c", &h, seeker, nil)
	if err := q.Store().IterateFrom([]byte("k/"), []byte("k/0500"), collect); err != errEnough {
		t.Fatalf("query IterateFrom: %v", err)
	}
	if seeker.visited > 4 || keys[0] != "k/0500" {
		t.Errorf("query from k/0500: %v after %d keys handed out", keys, seeker.visited)
	}
	if !sort.StringsAreSorted(keys) {
		t.Errorf("keys out of order: %v", keys)
	}
}
