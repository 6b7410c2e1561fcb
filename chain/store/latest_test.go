package store_test

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/store"
)

// saveChanges stores an empty next block whose result also writes
// changes, for tests of what reads see after a commit.
func (f *fixture) saveChanges(t *testing.T, changes ...chain.KV) {
	t.Helper()
	b, c, res := f.buildTxs(t, nil)
	res.Changes = append(res.Changes, changes...)
	if err := f.st.SaveBlock(b, c, res); err != nil {
		t.Fatal(err)
	}
}

// uncached reads key through a snapshot, which never uses the cache.
func (f *fixture) uncached(t *testing.T, key string) []byte {
	t.Helper()
	snap := f.st.Snapshot()
	defer snap.Discard()
	v, err := snap.Get([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Get gives what Badger holds for every kind of change a commit makes to
// a key the cache holds: a new value, a deletion, an empty value, a value
// for a key that was absent; and for keys it does not hold.
func TestGetSeesEveryCommit(t *testing.T) {
	f := open(t, t.TempDir())
	defer f.st.Close()
	keys := []string{"set", "deleted", "emptied", "was-absent", "untouched", "never-read"}
	f.saveChanges(t, chain.KV{Key: []byte("set"), Value: []byte("one")},
		chain.KV{Key: []byte("deleted"), Value: []byte("here")},
		chain.KV{Key: []byte("emptied"), Value: []byte("full")},
		chain.KV{Key: []byte("untouched"), Value: []byte("same")},
		chain.KV{Key: []byte("never-read"), Value: []byte("old")})
	check := func(when string) {
		t.Helper()
		for _, k := range keys[:5] {
			for range 2 { // a miss, then a hit
				got, err := f.st.Get([]byte(k))
				if err != nil {
					t.Fatal(err)
				}
				if want := f.uncached(t, k); !bytes.Equal(got, want) || (got == nil) != (want == nil) {
					t.Fatalf("%s: Get(%s) = %q (nil %v), Badger holds %q (nil %v)", when, k, got, got == nil, want, want == nil)
				}
			}
		}
	}
	check("before")
	// An absent key reads as nil without an error, as chain.Reader says.
	if v, err := f.st.Get([]byte("was-absent")); err != nil || v != nil {
		t.Fatalf("an absent key read %q, %v; want nil and no error", v, err)
	}
	f.saveChanges(t, chain.KV{Key: []byte("set"), Value: []byte("two")},
		chain.KV{Key: []byte("deleted"), Value: nil},
		chain.KV{Key: []byte("emptied"), Value: []byte{}},
		chain.KV{Key: []byte("was-absent"), Value: []byte("now here")},
		chain.KV{Key: []byte("never-read"), Value: []byte("new")})
	check("after")
	for k, want := range map[string]string{"set": "two", "was-absent": "now here", "never-read": "new", "untouched": "same"} {
		if got, err := f.st.Get([]byte(k)); err != nil || string(got) != want {
			t.Fatalf("after the commit Get(%s) = %q, %v; want %q", k, got, err, want)
		}
	}
	// A caller that changes what Get returned changes nothing stored.
	got, err := f.st.Get([]byte("set"))
	if err != nil || len(got) == 0 {
		t.Fatalf("Get(set) = %q, %v", got, err)
	}
	got[0] = 'X'
	if again, err := f.st.Get([]byte("set")); err != nil || string(again) != "two" {
		t.Fatalf("Get after a caller wrote into its result: %q, %v", again, err)
	}
}

// Reads racing commits never see a value older than the latest header
// they saw before reading: a read that missed the cache and read Badger
// before a commit must not keep that value once the commit is stored.
func TestGetNeverGoesBackAcrossCommits(t *testing.T) {
	f := open(t, t.TempDir())
	defer f.st.Close()
	const blocks = 300
	keys := []string{"a", "b", "c"}
	var stop atomic.Bool
	var stale atomic.Value
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				if r == 0 && i%4 == 0 {
					f.st.ForgetLatest()
				}
				k := keys[i%len(keys)]
				h := f.st.Latest().Height
				v, err := f.st.Get([]byte(k))
				if err != nil {
					stale.Store(err.Error())
					return
				}
				got := uint64(0)
				if v != nil {
					got, _ = strconv.ParseUint(string(v), 10, 64)
				}
				if got < h {
					stale.Store(fmt.Sprintf("Get(%s) read the value of height %d after the latest header was %d", k, got, h))
					return
				}
			}
		}()
	}
	for range blocks {
		h := f.st.Latest().Height + 1
		var ch []chain.KV
		for _, k := range keys {
			ch = append(ch, chain.KV{Key: []byte(k), Value: []byte(strconv.FormatUint(h, 10))})
		}
		f.saveChanges(t, ch...)
	}
	stop.Store(true)
	wg.Wait()
	if msg := stale.Load(); msg != nil {
		t.Fatal(msg)
	}
	for _, k := range keys {
		if v, _ := f.st.Get([]byte(k)); string(v) != strconv.Itoa(blocks) {
			t.Fatalf("Get(%s) = %q after %d blocks", k, v, blocks)
		}
	}
}

// The cache holds at most LatestCacheBytes of keys and values, however
// many are read, and what it forgets reads back from Badger.
func TestLatestCacheIsBounded(t *testing.T) {
	f := open(t, t.TempDir())
	defer f.st.Close()
	const keys, size = 400, 16 << 10 // 6.4 MB of values in all
	value := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, size) }
	for block := range 4 {
		var ch []chain.KV
		for i := block * keys / 4; i < (block+1)*keys/4; i++ {
			ch = append(ch, chain.KV{Key: []byte("big" + strconv.Itoa(i)), Value: value(i)})
		}
		f.saveChanges(t, ch...)
	}
	for round := range 2 {
		for i := range keys {
			v, err := f.st.Get([]byte("big" + strconv.Itoa(i)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(v, value(i)) {
				t.Fatalf("round %d: big%d read %d bytes, not its value", round, i, len(v))
			}
			if n, b := f.st.LatestCached(); b > store.LatestCacheBytes {
				t.Fatalf("%d keys of %d bytes cached, bound %d", n, b, store.LatestCacheBytes)
			}
		}
	}
	if n, _ := f.st.LatestCached(); n == 0 {
		t.Fatal("nothing cached after reads")
	}
}

// benchAccounts stores n keys of 40-byte values and returns their names.
func benchAccounts(b *testing.B, n int) (*fixture, [][]byte) {
	f := open(b, b.TempDir())
	b.Cleanup(func() { f.st.Close() })
	keys := make([][]byte, n)
	var ch []chain.KV
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("a/bank/balance/%040d", i))
		ch = append(ch, chain.KV{Key: keys[i], Value: bytes.Repeat([]byte{byte(i)}, 40)})
	}
	bb, c, res := f.buildTxs(b, nil)
	res.Changes = append(res.Changes, ch...)
	if err := f.st.SaveBlock(bb, c, res); err != nil {
		b.Fatal(err)
	}
	return f, keys
}

// BenchmarkGetLatest reads 400 keys of the latest state in turn, as a
// node's admission reads its busy senders.
func BenchmarkGetLatest(b *testing.B) {
	f, keys := benchAccounts(b, 400)
	b.ResetTimer()
	for i := range b.N {
		if _, err := f.st.Get(keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetLatestFromBadger reads the same keys through a read
// transaction each, as Get did before the cache.
func BenchmarkGetLatestFromBadger(b *testing.B) {
	f, keys := benchAccounts(b, 400)
	b.ResetTimer()
	for i := range b.N {
		if _, err := f.st.GetFromBadger(keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
}
