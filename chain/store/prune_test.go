package store_test

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/state"
	"github.com/citychain/citychain/chain/store"
)

// putBlock saves the next block, which sets each key of kv to its value.
func (f *fixture) putBlock(t testing.TB, kv [][2]string) {
	t.Helper()
	txs := make([][]byte, len(kv))
	for i, p := range kv {
		pl, _ := chain.PayloadFromJSON([]byte(fmt.Sprintf(`{"k":%q,"v":%q}`, p[0], p[1])))
		tx := &chain.Tx{ChainID: f.g.ChainID, App: "kv", Action: "put", Payload: pl, Nonce: f.next}
		f.next++
		tx.Sign(f.key)
		txs[i] = tx.Encode()
	}
	if _, err := f.saveTxs(t, txs); err != nil {
		t.Fatal(err)
	}
}

// churn makes n blocks that overwrite ten keys; key k0 cycles through
// three values, so old leaves come back (content addressing shares them).
func churn(t testing.TB, f *fixture, n int, want map[uint64]map[string]string) {
	t.Helper()
	for range n {
		h := f.st.Latest().Height + 1
		kv := [][2]string{{"k0", fmt.Sprintf("cycle %d", h%3)}}
		for i := 1; i < 10; i++ {
			kv = append(kv, [2]string{fmt.Sprintf("k%d", i), fmt.Sprintf("value %d at %d", i, h)})
		}
		f.putBlock(t, kv)
		m := map[string]string{}
		for _, p := range kv {
			m[p[0]] = p[1]
		}
		want[h] = m
	}
}

func checkStates(t *testing.T, st *store.Store, want map[uint64]map[string]string, from, to uint64) {
	t.Helper()
	for h := from; h <= to; h++ {
		for k, v := range want[h] {
			got, ok, err := st.GetAt(h, append([]byte("a/kv/"), k...))
			if err != nil || !ok || string(got) != v {
				t.Fatalf("height %d key %s: %q %v %v, want %q", h, k, got, ok, err, v)
			}
		}
	}
}

// Pruning keeps the last states readable and provable, forgets the older
// ones with an error that says so, lets the chain go on, and is
// remembered across a reopen.
func TestPruneStateKeepsTheLastStates(t *testing.T) {
	dir := t.TempDir()
	f := open(t, dir)
	want := map[uint64]map[string]string{}
	churn(t, f, 30, want)
	checkStates(t, f.st, want, 1, 30)

	if _, err := f.st.PruneState(0); err == nil {
		t.Fatal("keep 0 accepted")
	}
	res, err := f.st.PruneState(5)
	if err != nil {
		t.Fatal(err)
	}
	if res.From != 26 || res.Deleted == 0 || res.Live == 0 {
		t.Fatalf("prune: %+v", res)
	}
	checkStates(t, f.st, want, 26, 30)
	if _, _, err := f.st.GetAt(25, []byte("a/kv/k1")); !errors.Is(err, store.ErrPruned) {
		t.Fatalf("height 25 after keeping 5 of 30: %v", err)
	}
	latest := f.st.Latest()
	if _, err := f.st.Prove(latest.StateRoot, []byte("a/kv/k0")); err != nil {
		t.Fatalf("proof at the latest root: %v", err)
	}
	// A second prune with nothing new deletes nothing.
	if again, err := f.st.PruneState(5); err != nil || again.Deleted != 0 {
		t.Fatalf("second prune: %+v %v", again, err)
	}
	// The chain goes on over the pruned store, bringing back old leaves.
	churn(t, f, 10, want)
	checkStates(t, f.st, want, 26, 40)
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}
	f = open(t, dir)
	defer f.st.Close()
	checkStates(t, f.st, want, 26, 40)
	if _, _, err := f.st.GetAt(3, []byte("a/kv/k1")); !errors.Is(err, store.ErrPruned) {
		t.Fatalf("after reopening, height 3: %v", err)
	}
	res, err = f.st.PruneState(1)
	if err != nil || res.From != 40 {
		t.Fatalf("keep 1: %+v %v", res, err)
	}
	checkStates(t, f.st, want, 40, 40)
	churn(t, f, 3, want)
	checkStates(t, f.st, want, 41, 43)
}

// Mark visits each distinct node once however many roots share it.
func TestMarkSharesSubtrees(t *testing.T) {
	f := open(t, t.TempDir())
	defer f.st.Close()
	want := map[uint64]map[string]string{}
	churn(t, f, 4, want)
	live := state.Live{}
	total := 0
	for h := uint64(1); h <= 4; h++ {
		b, err := f.st.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		n, err := f.st.Tree().Mark(state.Hash(b.Header.StateRoot), live)
		if err != nil {
			t.Fatal(err)
		}
		if h > 1 && n == 0 {
			t.Fatalf("height %d's root added nothing, though its block changed ten keys", h)
		}
		total += n
		again, err := f.st.Tree().Mark(state.Hash(b.Header.StateRoot), live)
		if err != nil {
			t.Fatalf("marking height %d twice: %v", h, err)
		}
		if again != 0 {
			t.Fatalf("marking height %d twice visited %d nodes again", h, again)
		}
	}
	if total == 0 || len(live) <= total {
		t.Fatalf("%d nodes visited, %d entries live (nodes plus values and keys)", total, len(live))
	}
}

// BenchmarkPruneState measures what pruning gives back: 2,000 blocks that
// each overwrite 50 of 1,000 keys, then a prune that keeps the last 100
// states, then a compaction. It reports the tree entries deleted and the
// store's size on disk before and after (MB).
func BenchmarkPruneState(b *testing.B) {
	for range b.N {
		dir := b.TempDir()
		f := openWith(b, store.Config{Dir: dir})
		for h := 0; h < 2000; h++ {
			kv := make([][2]string, 50)
			for i := range kv {
				kv[i] = [2]string{fmt.Sprintf("key %d", (h*50+i*7)%1000), fmt.Sprintf("value %d %d", h, i)}
			}
			f.putBlock(b, kv)
		}
		if err := f.st.Compact(); err != nil {
			b.Fatal(err)
		}
		before := dirMB(b, dir)
		res, err := f.st.PruneState(100)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.st.Compact(); err != nil {
			b.Fatal(err)
		}
		after := dirMB(b, dir)
		b.ReportMetric(float64(res.Deleted), "deleted")
		b.ReportMetric(float64(res.Live), "live-nodes")
		b.ReportMetric(before, "MB-before")
		b.ReportMetric(after, "MB-after")
		f.st.Close()
	}
}

func dirMB(b *testing.B, dir string) float64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return float64(n) / (1 << 20)
}
