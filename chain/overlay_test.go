package chain_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/citychain/citychain/chain"
)

// model is the reference for a stack of overlays: the base state and
// each overlay's writes (nil value: deleted), merged the obvious way.
type model struct{ layers []map[string][]byte }

func (m *model) iterate(prefix string) []chain.KV {
	view := map[string][]byte{}
	for _, l := range m.layers {
		for k, v := range l {
			if len(k) < len(prefix) || k[:len(prefix)] != prefix {
				continue
			}
			if v == nil {
				delete(view, k)
			} else {
				view[k] = v
			}
		}
	}
	out := make([]chain.KV, 0, len(view))
	for k, v := range view {
		out = append(out, chain.KV{Key: []byte(k), Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	return out
}

// randomKey draws from a small key space with shared prefixes, so that
// prefixes, shadowing and deletes meet often; with wide it reaches 2,000
// keys, enough for the overlay's key index to merge its runs.
func randomKey(r *rand.Rand, wide bool) string {
	n := 40
	if wide {
		n = 2000
	}
	return [...]string{"a/", "a/b/", "ab", "b/", ""}[r.Intn(5)] + fmt.Sprint(r.Intn(n))
}

var iterPrefixes = []string{"", "a", "a/", "a/b/", "a/1", "ab", "b/", "c/", "b/3"}

// TestOverlayIterateMatchesTheModel runs random writes, deletes, flushes
// and iterations (some stopped early, some writing while they iterate)
// on a base and two or three overlays, and compares every answer with
// the reference model.
func TestOverlayIterateMatchesTheModel(t *testing.T) {
	for seed := int64(1); seed <= 24; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewSource(seed))
			wide := seed%6 == 0
			base := chain.MemReader{}
			for range 60 {
				base[randomKey(r, wide)] = []byte(fmt.Sprint("base", r.Intn(100)))
			}
			m := &model{layers: []map[string][]byte{map[string][]byte(base)}}
			stack := []*chain.Overlay{chain.NewOverlay(base)}
			m.layers = append(m.layers, map[string][]byte{})
			depth := 2 + int(seed%2) // overlays over the base
			for len(stack) < depth {
				stack = append(stack, chain.NewOverlay(stack[len(stack)-1]))
				m.layers = append(m.layers, map[string][]byte{})
			}
			ops := 400
			if wide {
				ops = 1000
			}
			for op := range ops {
				top, layer := stack[len(stack)-1], m.layers[len(m.layers)-1]
				switch x := r.Intn(20); {
				case x < 9:
					k, v := randomKey(r, wide), []byte(fmt.Sprint("v", op))
					if r.Intn(8) == 0 {
						v = nil // an empty value deletes
					}
					top.Set([]byte(k), v)
					layer[k] = v
				case x < 12:
					k := randomKey(r, wide)
					top.Delete([]byte(k))
					layer[k] = nil
				case x == 12:
					top.Flush()
					below := m.layers[len(m.layers)-2]
					for k, v := range layer {
						below[k] = v
					}
					m.layers[len(m.layers)-1] = map[string][]byte{}
				default:
					checkIterate(t, r, top, m, wide)
				}
			}
			for _, p := range iterPrefixes {
				want := m.iterate(p)
				got := collect(t, stack[len(stack)-1], p)
				if !equalKVs(got, want) {
					t.Fatalf("final iterate %q: got %d keys, want %d", p, len(got), len(want))
				}
			}
		})
	}
}

// checkIterate iterates the top overlay under a random prefix: in full,
// stopped early, or writing to the top overlay while iterating.
func checkIterate(t *testing.T, r *rand.Rand, top *chain.Overlay, m *model, wide bool) {
	t.Helper()
	p := iterPrefixes[r.Intn(len(iterPrefixes))]
	want := m.iterate(p)
	stopAt := -1
	if r.Intn(3) == 0 {
		stopAt = r.Intn(len(want) + 1)
	}
	write := r.Intn(4) == 0
	var got []chain.KV
	stop := errors.New("stop")
	err := top.Iterate([]byte(p), func(k, v []byte) error {
		if len(got) == stopAt {
			return stop
		}
		got = append(got, chain.KV{Key: append([]byte(nil), k...), Value: append([]byte(nil), v...)})
		v[0] ^= 0xff // the value is a copy: editing it changes nothing
		if write {
			// Writes made while iterating are not part of the view.
			k2 := randomKey(r, wide)
			top.Set([]byte(k2), []byte("during"))
			m.layers[len(m.layers)-1][k2] = []byte("during")
			if r.Intn(2) == 0 {
				top.Delete(k)
				m.layers[len(m.layers)-1][string(k)] = nil
			}
		}
		return nil
	})
	if stopAt >= 0 && stopAt < len(want) {
		if !errors.Is(err, stop) {
			t.Fatalf("iterate %q stopped at %d: err %v, want the stop error", p, stopAt, err)
		}
		want = want[:stopAt]
	} else if err != nil {
		t.Fatalf("iterate %q: %v", p, err)
	}
	if !equalKVs(got, want) {
		t.Fatalf("iterate %q (stop at %d, write %v):\n got %s\nwant %s", p, stopAt, write, kvString(got), kvString(want))
	}
	if top.Err() != nil {
		t.Fatalf("a stop by fn was taken for a read fault: %v", top.Err())
	}
}

func collect(t *testing.T, o *chain.Overlay, prefix string) []chain.KV {
	t.Helper()
	var out []chain.KV
	if err := o.Iterate([]byte(prefix), func(k, v []byte) error {
		out = append(out, chain.KV{Key: k, Value: v})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func equalKVs(a, b []chain.KV) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Key, b[i].Key) || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func kvString(kvs []chain.KV) string {
	var b bytes.Buffer
	for _, kv := range kvs {
		fmt.Fprintf(&b, "%s=%s ", kv.Key, kv.Value)
	}
	return b.String()
}

// countingReader counts the keys its Iterate hands out.
type countingReader struct {
	chain.Reader
	visited int
}

func (c *countingReader) Iterate(prefix []byte, fn func(k, v []byte) error) error {
	return c.Reader.Iterate(prefix, func(k, v []byte) error {
		c.visited++
		return fn(k, v)
	})
}

// TestOverlayIterateStopsReadingWhenFnStops checks that an iteration
// that stops after three keys reads about three keys of the state
// below, and as few of the block's own pending writes, instead of the
// whole prefix.
func TestOverlayIterateStopsReadingWhenFnStops(t *testing.T) {
	base := map[string][]byte{}
	for i := range 1000 {
		base[fmt.Sprintf("k/%04d", i)] = []byte("base")
	}
	state := &countingReader{Reader: newSortedReader(base)}
	block := chain.NewOverlay(state)
	for i := 0; i < 1000; i += 2 {
		block.Set(fmt.Appendf(nil, "k/%04d", i), []byte("block"))
	}
	block.Delete([]byte("k/0001"))
	tx := chain.NewOverlay(block)
	tx.Set([]byte("k/0000"), []byte("tx"))
	var got []string
	stop := errors.New("stop")
	err := tx.Iterate([]byte("k/"), func(k, v []byte) error {
		got = append(got, fmt.Sprintf("%s=%s", k, v))
		if len(got) == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the stop error", err)
	}
	want := "[k/0000=tx k/0002=block k/0003=base]"
	if fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	if state.visited > 4 {
		t.Fatalf("the state below was read for %d keys to hand out 3", state.visited)
	}
	if tx.Err() != nil || block.Err() != nil {
		t.Fatalf("a stop by fn was recorded as a read fault: %v / %v", tx.Err(), block.Err())
	}
}

// failingReader fails every read.
type failingReader struct{}

func (failingReader) Get([]byte) ([]byte, error) { return nil, errors.New("disk on fire") }
func (failingReader) Iterate([]byte, func(k, v []byte) error) error {
	return errors.New("disk on fire")
}

func TestOverlayIterateRecordsAReadFaultOnEveryLayer(t *testing.T) {
	block := chain.NewOverlay(failingReader{})
	block.Set([]byte("k/1"), []byte("v"))
	tx := chain.NewOverlay(block)
	err := tx.Iterate([]byte("k/"), func(k, v []byte) error { return nil })
	if err == nil || tx.Err() == nil || block.Err() == nil {
		t.Fatalf("err %v, tx.Err %v, block.Err %v: want the read fault everywhere", err, tx.Err(), block.Err())
	}
}
