package chain_test

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/citychain/citychain/chain"
)

// sortedReader is a Reader over keys kept in order, which it visits
// without copying them first, the way the node's store streams a Badger
// iterator. MemReader sorts its keys on every call, which would hide the
// cost of the overlays above it.
type sortedReader struct{ kvs []chain.KV }

func newSortedReader(m map[string][]byte) *sortedReader {
	r := &sortedReader{}
	for k, v := range m {
		r.kvs = append(r.kvs, chain.KV{Key: []byte(k), Value: v})
	}
	sort.Slice(r.kvs, func(i, j int) bool { return bytes.Compare(r.kvs[i].Key, r.kvs[j].Key) < 0 })
	return r
}

func (r *sortedReader) Get(key []byte) ([]byte, error) {
	i := sort.Search(len(r.kvs), func(i int) bool { return bytes.Compare(r.kvs[i].Key, key) >= 0 })
	if i < len(r.kvs) && bytes.Equal(r.kvs[i].Key, key) {
		return r.kvs[i].Value, nil
	}
	return nil, nil
}

func (r *sortedReader) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	i := sort.Search(len(r.kvs), func(i int) bool { return bytes.Compare(r.kvs[i].Key, prefix) >= 0 })
	for ; i < len(r.kvs) && bytes.HasPrefix(r.kvs[i].Key, prefix); i++ {
		if err := fn(r.kvs[i].Key, r.kvs[i].Value); err != nil {
			return err
		}
	}
	return nil
}

var errEnough = errors.New("enough")

// benchKey is key number i of a prefix of 100,000 keys.
func benchKey(i int) []byte { return fmt.Appendf(nil, "a/bench/item/%08d", i) }

// BenchmarkOverlayIterateFirst10 reads the first 10 keys of a prefix of
// 100,000 keys through the two overlays of a transaction (the block's
// and the transaction's, each with a few writes of its own under the
// prefix), the way an app pages through a large index. "committed" has
// the keys in the state below the block; "pending" has them among the
// block's own writes.
func BenchmarkOverlayIterateFirst10(b *testing.B) {
	const n = 100_000
	committed := map[string][]byte{}
	for i := range n {
		committed[string(benchKey(i))] = []byte("value")
	}
	for _, where := range []string{"committed", "pending"} {
		b.Run(where, func(b *testing.B) {
			var block *chain.Overlay
			if where == "committed" {
				block = chain.NewOverlay(newSortedReader(committed))
			} else {
				block = chain.NewOverlay(newSortedReader(nil))
				for i := range n {
					block.Set(benchKey(i), []byte("value"))
				}
			}
			for i := 0; i < n; i += 1000 {
				block.Set(benchKey(i+1), []byte("changed"))
				block.Delete(benchKey(i + 2))
			}
			tx := chain.NewOverlay(block)
			for i := range 10 {
				tx.Set(benchKey(i*3), []byte("tx"))
			}
			prefix := []byte("a/bench/item/")
			for b.Loop() {
				seen := 0
				err := tx.Iterate(prefix, func(k, v []byte) error {
					if seen++; seen == 10 {
						return errEnough
					}
					return nil
				})
				if !errors.Is(err, errEnough) || seen != 10 {
					b.Fatalf("visited %d keys: %v", seen, err)
				}
			}
		})
	}
}

// BenchmarkOverlayIterateAll visits every key of a prefix of 10,000 keys
// through the two overlays of a transaction: the cost of a full scan.
func BenchmarkOverlayIterateAll(b *testing.B) {
	const n = 10_000
	committed := map[string][]byte{}
	for i := range n {
		committed[string(benchKey(i))] = []byte("value")
	}
	block := chain.NewOverlay(newSortedReader(committed))
	for i := 0; i < n; i += 100 {
		block.Set(benchKey(i+1), []byte("changed"))
		block.Delete(benchKey(i + 2))
	}
	tx := chain.NewOverlay(block)
	for i := range 10 {
		tx.Set(benchKey(i*3), []byte("tx"))
	}
	prefix := []byte("a/bench/item/")
	want := n - n/100
	for b.Loop() {
		seen := 0
		err := tx.Iterate(prefix, func(k, v []byte) error { seen++; return nil })
		if err != nil || seen != want {
			b.Fatalf("visited %d keys, want %d: %v", seen, want, err)
		}
	}
}
