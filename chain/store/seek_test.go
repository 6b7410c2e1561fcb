package store_test

import (
	"bytes"
	"strings"
	"testing"
)

// The store and its snapshot start a walk at any key of a prefix and
// give what a whole walk gives from there on.
func TestStoreIterateFromSeeks(t *testing.T) {
	f := open(t, t.TempDir())
	for range 3 {
		if _, err := f.saveTxs(t, f.putTxs(40)); err != nil {
			t.Fatal(err)
		}
	}
	prefix := []byte("a/kv/key-")
	var all [][]byte
	if err := f.st.Iterate(prefix, func(k, _ []byte) error { all = append(all, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(all) != 120 {
		t.Fatalf("%d keys under %s, want 120", len(all), prefix)
	}
	snap := f.st.Snapshot()
	defer snap.Discard()
	for _, start := range []string{"", "a/kv/", "a/kv/key-", "a/kv/key-2-17", "a/kv/key-2-17x", "a/kv/key-4-9", "a/kv/key-9", "b/"} {
		var want []string
		for _, k := range all {
			if bytes.Compare(k, []byte(start)) >= 0 {
				want = append(want, string(k))
			}
		}
		for name, iter := range map[string]func([]byte, []byte, func(k, v []byte) error) error{
			"store": f.st.IterateFrom, "snapshot": snap.IterateFrom,
		} {
			var got []string
			if err := iter(prefix, []byte(start), func(k, _ []byte) error { got = append(got, string(k)); return nil }); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s from %q: %d keys, want %d", name, start, len(got), len(want))
			}
		}
	}
}
