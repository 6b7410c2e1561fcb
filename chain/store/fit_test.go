package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// fitEntry is one write of a block's transaction: a set, or a deletion
// when value is nil.
type fitEntry struct{ key, value []byte }

// fitEntries makes writes of the lengths a block writes (keys of 10 to
// 70 bytes; values from none to past the value-log threshold), enough to
// overflow a transaction of a 6 MiB memtable: 2 MiB as Badger counts
// them, values in the value log as their pointer. Odd seeds make tiny
// writes only, which reach Badger's bound on the count of entries before
// its bound on their size.
func fitEntries(seed uint64) []fitEntry {
	r := rand.New(rand.NewPCG(seed, 1))
	var out []fitEntry
	for size := 0; size < 2<<20; {
		e := fitEntry{key: []byte(fmt.Sprintf("k/%d/%0*d", len(out), r.IntN(60), 0))}
		if seed%2 == 1 {
			e = fitEntry{key: []byte(fmt.Sprintf("t/%d", len(out))), value: make([]byte, r.IntN(8))}
			out = append(out, e)
			size += 100
			continue
		}
		switch r.IntN(10) {
		case 0: // a deletion
		case 1:
			e.value = make([]byte, ValueThreshold-20+r.IntN(40)) // around the threshold
		case 2:
			e.value = make([]byte, ValueThreshold+r.IntN(3000)) // to the value log
		default:
			e.value = make([]byte, 1+r.IntN(ValueThreshold-1))
		}
		out = append(out, e)
		v := len(e.value)
		if v >= ValueThreshold {
			v = 12
		}
		size += len(e.key) + v + 12
	}
	return out
}

// firstRefused writes entries to w until one is refused and returns its
// index, or len(entries) if none was.
func firstRefused(t *testing.T, w blockWriter, entries []fitEntry) int {
	t.Helper()
	for i, e := range entries {
		var err error
		if e.value == nil {
			err = w.Delete(e.key)
		} else {
			err = w.Set(e.key, e.value)
		}
		if errors.Is(err, badger.ErrTxnTooBig) {
			return i
		}
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	return len(entries)
}

// The sizer refuses at the very entry where Badger's own transaction does,
// by the size of the entries or by their count, for a memtable at or
// under the default, where the two bounds are one.
func TestSizerCountsAsBadgerDoes(t *testing.T) {
	for _, mem := range []int64{MinMemTableSize, 6 << 20} {
		s, err := Open(Config{Dir: t.TempDir(), MemTableSize: mem})
		if err != nil {
			t.Fatal(err)
		}
		for seed := uint64(1); seed <= 6; seed++ {
			entries := fitEntries(seed)
			txn := s.db.NewTransaction(true)
			want := firstRefused(t, txn, entries)
			txn.Discard()
			if want == len(entries) {
				t.Fatalf("memtable %d MiB, seed %d: Badger took all %d entries; the test wants an overflow", mem>>20, seed, want)
			}
			if got := firstRefused(t, newSizer(s.fit), entries); got != want {
				t.Errorf("memtable %d MiB, seed %d: the sizer refuses entry %d, Badger entry %d", mem>>20, seed, got, want)
			}
		}
		s.Close()
	}
}

// A store whose memtable is larger than the default fits blocks to the
// default: what it lets through, a store at the default can store.
func TestFitIsBoundedByTheDefaultMemtable(t *testing.T) {
	big, err := Open(Config{Dir: t.TempDir(), MemTableSize: DefaultMemTableSize + 6<<20})
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	def, err := Open(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer def.Close()
	if big.fit != def.fit {
		t.Fatalf("a store of %d MiB fits to %+v, one of %d MiB to %+v", (DefaultMemTableSize+6<<20)>>20, big.fit, DefaultMemTableSize>>20, def.fit)
	}
	// Enough writes to overflow the default's transaction but not the
	// big store's own: the big store's Badger takes more than its fit.
	var entries []fitEntry
	for i := 0; i < 40000; i++ {
		entries = append(entries, fitEntry{key: []byte(fmt.Sprintf("s/%030d", i)), value: make([]byte, 40)})
	}
	txn := big.db.NewTransaction(true)
	own := firstRefused(t, txn, entries)
	txn.Discard()
	fit := firstRefused(t, newSizer(big.fit), entries)
	txn = def.db.NewTransaction(true)
	atDefault := firstRefused(t, txn, entries)
	txn.Discard()
	if fit != atDefault || own <= fit {
		t.Fatalf("the larger store fits %d writes and its Badger takes %d; a Badger at the default takes %d", fit, own, atDefault)
	}
}
