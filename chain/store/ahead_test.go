package store_test

import (
	"fmt"
	"testing"

	"github.com/citychain/citychain/chain"
)

// kvTxs signs the next transactions of f that set each key of kv.
func (f *fixture) kvTxs(kv map[string]string) [][]byte {
	var txs [][]byte
	for k, v := range kv {
		pl, _ := chain.PayloadFromJSON([]byte(fmt.Sprintf(`{"k":%q,"v":%q}`, k, v)))
		tx := &chain.Tx{ChainID: f.g.ChainID, App: "kv", Action: "put", Payload: pl, Nonce: f.next}
		f.next++
		tx.Sign(f.key)
		txs = append(txs, tx.Encode())
	}
	return txs
}

// readsBack reopens the store in dir (a fresh tree cache, so every node
// comes from Badger) and requires the state after height h to hold kv,
// read through that height's tree and proven.
func readsBack(t *testing.T, dir string, h uint64, kv map[string]string) {
	t.Helper()
	f := open(t, dir)
	defer f.st.Close()
	b, err := f.st.Block(h)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range kv {
		key := []byte("a/kv/" + k)
		got, ok, err := f.st.GetAt(h, key)
		if err != nil || !ok || string(got) != v {
			t.Fatalf("height %d key %s: %q %v %v, want %q", h, k, got, ok, err, v)
		}
		if _, err := f.st.Prove(b.Header.StateRoot, key); err != nil {
			t.Fatalf("prove %s at height %d: %v", k, h, err)
		}
	}
}

// saveCounting stores b and requires the count of blocks stored with
// their tree nodes written ahead to be want afterwards.
func saveCounting(t *testing.T, f *fixture, b *chain.Block, c *chain.Commit, res *chain.Result, want uint64) {
	t.Helper()
	if err := f.st.SaveBlock(b, c, res); err != nil {
		t.Fatal(err)
	}
	if got := f.st.TreeWrittenAhead(); got != want {
		t.Fatalf("blocks stored with their nodes written ahead = %d, want %d", got, want)
	}
}

// closeAndReadBack closes f's store and requires what readsBack does.
func closeAndReadBack(t *testing.T, f *fixture, dir string, h uint64, kv map[string]string) {
	t.Helper()
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}
	readsBack(t, dir, h, kv)
}

func newValues(tag string, n int) map[string]string {
	kv := map[string]string{}
	for i := range n {
		kv[fmt.Sprintf("k%d", i)] = fmt.Sprintf("%s %d", tag, i)
	}
	return kv
}

// A block whose tree nodes were written ahead is stored without writing
// them again, and its state reads back whole from disk.
func TestTreeWrittenAheadIsStoredOnce(t *testing.T) {
	dir := t.TempDir()
	f := open(t, dir)
	kv := newValues("ahead", 40)
	b, c, res := f.buildTxs(t, f.kvTxs(kv))
	if len(res.TreeWrites) == 0 {
		t.Fatal("the block writes no tree nodes")
	}
	if err := f.st.WriteTreeAhead(res); err != nil {
		t.Fatal(err)
	}
	saveCounting(t, f, b, c, res, 1)
	// The next block, not written ahead, is stored as ever.
	kv2 := newValues("next", 10)
	if _, err := f.saveTxs(t, f.kvTxs(kv2)); err != nil {
		t.Fatal(err)
	}
	if got := f.st.TreeWrittenAhead(); got != 1 {
		t.Fatalf("after a block not written ahead: %d, want still 1", got)
	}
	closeAndReadBack(t, f, dir, b.Header.Height, kv)
}

// Only the result written ahead counts: a block stored with another
// result (another block of the height was written ahead) writes its
// nodes itself.
func TestTreeWrittenAheadForAnotherBlockIsNotUsed(t *testing.T) {
	dir := t.TempDir()
	f := open(t, dir)
	_, _, other := f.buildTxs(t, f.kvTxs(newValues("other", 20)))
	if err := f.st.WriteTreeAhead(other); err != nil {
		t.Fatal(err)
	}
	f.next -= 20 // the decided block takes the same nonces
	kv := newValues("decided", 20)
	b, c, res := f.buildTxs(t, f.kvTxs(kv))
	saveCounting(t, f, b, c, res, 0)
	// The other result is forgotten at that commit: it can never count.
	closeAndReadBack(t, f, dir, b.Header.Height, kv)
}

// A prune that deletes between the write ahead and the block's commit
// may delete the nodes written ahead, which no committed root reaches
// yet: the commit then writes them again, and the state is whole.
func TestPruneBetweenWriteAheadAndCommit(t *testing.T) {
	dir := t.TempDir()
	f := open(t, dir)
	for i := range 3 {
		f.putBlock(t, [][2]string{{"k0", fmt.Sprintf("old %d", i)}})
	}
	kv := newValues("fresh", 30)
	b, c, res := f.buildTxs(t, f.kvTxs(kv))
	if err := f.st.WriteTreeAhead(res); err != nil {
		t.Fatal(err)
	}
	pr, err := f.st.PruneState(1)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Deleted < len(res.TreeWrites) {
		t.Fatalf("the prune deleted %d entries, want at least the %d nodes written ahead", pr.Deleted, len(res.TreeWrites))
	}
	saveCounting(t, f, b, c, res, 0)
	closeAndReadBack(t, f, dir, b.Header.Height, kv)
}
