package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/state"
	"github.com/citychain/citychain/chain/store"
)

// memApp is a minimal app for store tests: "put" writes payload.v under
// payload.k.
type memApp struct{}

func (memApp) Name() string               { return "kv" }
func (memApp) Check(string, []byte) error { return nil }
func (memApp) Query(*chain.QueryContext, []string, map[string]string) (any, error) {
	return nil, chain.ErrNotFound
}
func (memApp) Deliver(ctx *chain.Context, _ string, payload []byte) error {
	var m struct {
		K string `cbor:"k"`
		V string `cbor:"v"`
	}
	if err := chain.DecodePayload(payload, &m); err != nil {
		return err
	}
	ctx.Store().Set([]byte(m.K), []byte(m.V))
	return nil
}

type fixture struct {
	st   *store.Store
	exec *chain.Executor
	key  *crypto.PrivateKey
	vs   *chain.ValidatorSet
	g    *chain.Genesis
	next uint64 // next nonce
}

func open(t testing.TB, dir string) *fixture {
	t.Helper()
	return openWith(t, store.Config{Dir: dir})
}

// openWith opens the store cfg describes and writes the genesis if it is
// new.
func openWith(t testing.TB, cfg store.Config) *fixture {
	t.Helper()
	st, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := crypto.PrivateKeyFromHex("1111111111111111111111111111111111111111111111111111111111111111")
	pub := key.PublicKey()
	g := &chain.Genesis{ChainID: "store-test", GenesisTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Validators: []chain.GenesisValidator{{Address: chain.AddressOf(pub), PubKey: fmt.Sprintf("%x", pub.Bytes()), Power: 1}}}
	vs, err := g.ValidatorSet()
	if err != nil {
		t.Fatal(err)
	}
	exec, err := chain.NewExecutor(chain.ExecConfig{ChainID: g.ChainID, Apps: []chain.App{memApp{}}, Tree: st.Tree()})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, exec: exec, key: key, vs: vs, g: g}
	if !st.Initialized() {
		res, err := exec.InitChain(g)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Init(g.Header(res.StateRoot, vs), res); err != nil {
			t.Fatal(err)
		}
	}
	f.next, _ = chain.Nonce(st, chain.AddressOf(pub))
	return f
}

// block builds, executes and saves the next block with n puts.
func (f *fixture) block(t testing.TB, n int) *chain.Block {
	t.Helper()
	b, err := f.tryBlock(t, n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tryBlock is block, returning the error of SaveBlock.
func (f *fixture) tryBlock(t testing.TB, n int) (*chain.Block, error) {
	t.Helper()
	return f.saveTxs(t, f.putTxs(n))
}

// putTxs signs n kv puts of the fixture's key, the next nonces on.
func (f *fixture) putTxs(n int) [][]byte {
	parent := f.st.Latest()
	txs := make([][]byte, n)
	for i := range txs {
		p, _ := chain.PayloadFromJSON([]byte(fmt.Sprintf(`{"k":"key-%d-%d","v":"value %d"}`, parent.Height, i, i)))
		tx := &chain.Tx{ChainID: f.g.ChainID, App: "kv", Action: "put", Payload: p, Nonce: f.next}
		f.next++
		tx.Sign(f.key)
		txs[i] = tx.Encode()
	}
	return txs
}

// saveTxs executes txs as the next block and saves it.
func (f *fixture) saveTxs(t testing.TB, txs [][]byte) (*chain.Block, error) {
	t.Helper()
	b, c, res := f.buildTxs(t, txs)
	return b, f.st.SaveBlock(b, c, res)
}

// buildTxs executes txs as the next block.
func (f *fixture) buildTxs(t testing.TB, txs [][]byte) (*chain.Block, *chain.Commit, *chain.Result) {
	t.Helper()
	parent := f.st.Latest()
	info := chain.BlockInfo{ChainID: f.g.ChainID, Height: parent.Height + 1, Time: time.UnixMilli(parent.Time + 1000)}
	snap := f.st.Snapshot()
	res, err := f.exec.Execute(snap, parent.StateRoot, info, txs)
	snap.Discard()
	if err != nil {
		t.Fatal(err)
	}
	b := &chain.Block{Header: chain.Header{ChainID: f.g.ChainID, Height: info.Height, Time: info.Time.UnixMilli(),
		PrevHash: parent.Hash(), TxRoot: chain.ComputeTxRoot(txs), StateRoot: res.StateRoot,
		ReceiptsRoot: res.ReceiptsRoot, ValidatorsHash: f.vs.Hash()}, Txs: txs}
	c := &chain.Commit{Height: info.Height, BlockHash: b.Hash()}
	return b, c, res
}

func TestBlocksSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	f := open(t, dir)
	var blocks []*chain.Block
	for i := 0; i < 5; i++ {
		blocks = append(blocks, f.block(t, 3))
	}
	last := blocks[len(blocks)-1]
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}

	f = open(t, dir)
	defer f.st.Close()
	if got := f.st.Latest(); got.Hash() != last.Hash() {
		t.Fatalf("latest after reopen = %d %s, want %d %s", got.Height, got.Hash(), last.Header.Height, last.Hash())
	}
	for _, b := range blocks {
		got, err := f.st.Block(b.Header.Height)
		if err != nil || got.Hash() != b.Hash() {
			t.Fatalf("block %d: %v", b.Header.Height, err)
		}
		h, err := f.st.HeightOf(b.Hash())
		if err != nil || h != b.Header.Height {
			t.Fatalf("height of %s = %d, %v", b.Hash(), h, err)
		}
		for i, raw := range b.Txs {
			gotRaw, r, err := f.st.Tx(chain.Sum(raw))
			if err != nil || r.Height != b.Header.Height || int(r.Index) != i || string(gotRaw) != string(raw) {
				t.Fatalf("tx %d of block %d: %v %+v", i, b.Header.Height, err, r)
			}
		}
	}
	// The state at an old height is still readable through its root.
	v, found, err := f.st.GetAt(1, chain.AppKey("kv", []byte("key-0-2")))
	if err != nil || !found || string(v) != "value 2" {
		t.Fatalf("old state: %q %v %v", v, found, err)
	}
	// And the latest state proves against the latest header.
	key := chain.AppKey("kv", []byte("key-4-1"))
	p, err := f.st.Prove(last.Header.StateRoot, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := state.VerifyProof(last.Header.StateRoot, key, []byte("value 1"), p); err != nil {
		t.Fatalf("proof: %v", err)
	}
	// The chain continues from where it was.
	if b := f.block(t, 1); b.Header.PrevHash != last.Hash() {
		t.Fatal("new block does not link to the last one before reopen")
	}
}

func TestSaveBlockRefusesGaps(t *testing.T) {
	f := open(t, t.TempDir())
	defer f.st.Close()
	b := &chain.Block{Header: chain.Header{Height: 5}}
	if err := f.st.SaveBlock(b, nil, &chain.Result{}); !errors.Is(err, store.ErrHeight) {
		t.Fatalf("SaveBlock at a gap = %v, want ErrHeight", err)
	}
	if _, err := f.st.Block(99); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing block = %v", err)
	}
	if _, err := f.st.Receipt(chain.Hash{1}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing receipt = %v", err)
	}
}

// BenchmarkCommitBlock measures writing one block of 1,000 transactions
// to Badger: block, commit, receipts, tx index, state changes, tree nodes,
// in one fsynced transaction. Execution is outside the timer.
func BenchmarkCommitBlock(b *testing.B) {
	f := open(b, b.TempDir())
	defer f.st.Close()
	for b.Loop() {
		b.StopTimer()
		parent := f.st.Latest()
		txs := make([][]byte, 1000)
		for i := range txs {
			p, _ := chain.PayloadFromJSON([]byte(fmt.Sprintf(`{"k":"k%d-%d","v":"v"}`, parent.Height, i)))
			tx := &chain.Tx{ChainID: f.g.ChainID, App: "kv", Action: "put", Payload: p, Nonce: f.next}
			f.next++
			tx.Sign(f.key)
			txs[i] = tx.Encode()
		}
		info := chain.BlockInfo{ChainID: f.g.ChainID, Height: parent.Height + 1, Time: time.UnixMilli(parent.Time + 1000)}
		snap := f.st.Snapshot()
		res, err := f.exec.Execute(snap, parent.StateRoot, info, txs)
		snap.Discard()
		if err != nil {
			b.Fatal(err)
		}
		blk := &chain.Block{Header: chain.Header{ChainID: f.g.ChainID, Height: info.Height, Time: info.Time.UnixMilli(),
			PrevHash: parent.Hash(), TxRoot: chain.ComputeTxRoot(txs), StateRoot: res.StateRoot}, Txs: txs}
		b.StartTimer()
		if err := f.st.SaveBlock(blk, &chain.Commit{Height: info.Height, BlockHash: blk.Hash()}, res); err != nil {
			b.Fatal(err)
		}
	}
}

// A block whose state update writes far more tree nodes than fit in one
// Badger transaction is still stored: the nodes go in batches of their
// own before the block's transaction.
func TestHugeTreeUpdateIsStored(t *testing.T) {
	f := open(t, t.TempDir())
	defer f.st.Close()
	parent := f.st.Latest()
	res := &chain.Result{Receipts: []chain.Receipt{}}
	for i := 0; i < 120_000; i++ {
		key := []byte(fmt.Sprintf("smt/n/test-node-%08d-padding-to-realistic-size", i))
		res.TreeWrites = append(res.TreeWrites, state.Write{Key: key, Value: make([]byte, 65)})
	}
	b := &chain.Block{Header: chain.Header{ChainID: f.g.ChainID, Height: parent.Height + 1, Time: parent.Time + 1,
		PrevHash: parent.Hash(), StateRoot: parent.StateRoot}, Txs: [][]byte{}}
	if err := f.st.SaveBlock(b, &chain.Commit{Height: b.Header.Height, BlockHash: b.Hash()}, res); err != nil {
		t.Fatalf("save a block with 120,000 tree nodes: %v", err)
	}
	if f.st.Latest().Height != b.Header.Height {
		t.Fatal("latest height did not move")
	}
}

func TestEncodedBlockIsWhatWasStored(t *testing.T) {
	f := open(t, t.TempDir())
	defer f.st.Close()
	b := f.block(t, 3)
	raw, rawCommit, err := f.st.EncodedBlock(b.Header.Height)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != string(b.Encode()) {
		t.Fatalf("block %d: stored bytes differ from its canonical encoding", b.Header.Height)
	}
	c, err := f.st.Commit(b.Header.Height)
	if err != nil {
		t.Fatal(err)
	}
	if string(rawCommit) != string(c.Encode()) {
		t.Fatalf("commit %d: stored bytes differ from its canonical encoding", b.Header.Height)
	}

	gen, genCommit, err := f.st.EncodedBlock(0)
	if err != nil || len(gen) == 0 || genCommit != nil {
		t.Fatalf("genesis: %d bytes, commit %x, %v; want the block and no commit", len(gen), genCommit, err)
	}
	if _, _, err := f.st.EncodedBlock(b.Header.Height + 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("block past the latest: %v, want ErrNotFound", err)
	}
}
