package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// Benchmarks of submission as a client sees it: POST /v1/txs through
// the API handler (decoding, the checks, pooling, the answer), one
// transaction per request and in CBOR batches, and the dev producer
// turning a full pool into blocks. Each reports the time per
// transaction; every one of them has its signature verified.

// benchSenders is how many funded accounts the benchmarks send from, as
// `citychain bench --senders 2000` does: the state tree and the mempool
// see that many accounts.
const benchSenders = 2000

// benchDevNode returns a `citychain dev` node in a temporary home, with
// its store on disk and benchSenders more accounts funded in genesis,
// not started: the benchmarks drive its API handler and block producer
// directly. It returns the keys of those accounts.
func benchDevNode(b *testing.B) (*Node, []*crypto.PrivateKey) {
	b.Helper()
	home := b.TempDir()
	if _, err := InitDevHome(home, 0, time.Now()); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(home, GenesisFile)
	g, err := chain.LoadGenesis(path)
	if err != nil {
		b.Fatal(err)
	}
	var bg bank.GenesisState
	if err := json.Unmarshal(g.AppState[bank.Name], &bg); err != nil {
		b.Fatal(err)
	}
	keys := make([]*crypto.PrivateKey, benchSenders)
	for i := range keys {
		keys[i] = seededKey(fmt.Sprint("node benchmark sender ", i))
		bg.Balances = append(bg.Balances, bank.GenesisBalance{Address: chain.AddressOf(keys[i].PublicKey()), Amount: 1 << 40})
	}
	g.AppState[bank.Name] = chain.MustJSON(bg)
	if err := g.Save(path); err != nil {
		b.Fatal(err)
	}
	cfg, err := LoadConfig(home)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Mempool.MaxTxs, cfg.Mempool.MaxBytes = 1_000_000, 1<<30
	n, err := New(Options{Home: home, Config: cfg, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Stop() })
	return n, keys
}

// benchLoad signs count transfers of 1 to dev9, the senders taking
// turns, each with consecutive nonces from 0.
func benchLoad(b *testing.B, chainID string, keys []*crypto.PrivateKey, count int) []*chain.Tx {
	b.Helper()
	to := DevAccounts()[9].Address
	txs := make([]*chain.Tx, count)
	for i := range txs {
		txs[i] = sendTx(b, keys[i%len(keys)], chainID, uint64(i/len(keys)), to, 1)
	}
	return txs
}

// serve posts body to the handler and checks the status.
func serve(b *testing.B, h http.Handler, ctype string, body []byte, want int) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/v1/txs", bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.RemoteAddr = "127.0.0.1:40000" // a benchmark on this machine, as citychain bench is
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
	}
	return rec
}

func BenchmarkSubmitJSON(b *testing.B) {
	n, keys := benchDevNode(b)
	h := n.routes()
	txs := benchLoad(b, n.ChainID(), keys, b.N)
	bodies := make([][]byte, len(txs))
	for i, tx := range txs {
		bodies[i] = mustJSON(b, tx)
	}
	b.ResetTimer()
	reportCPU(b)
	for _, body := range bodies {
		serve(b, h, "application/json", body, http.StatusAccepted)
	}
}

// BenchmarkSubmitBatchCBOR posts batches of 200 transfers, each a CBOR
// array of canonical encodings, as `citychain bench --batch 200` does.
func BenchmarkSubmitBatchCBOR(b *testing.B) {
	const size = 200
	n, keys := benchDevNode(b)
	h := n.routes()
	txs := benchLoad(b, n.ChainID(), keys, b.N)
	var bodies [][]byte
	for i := 0; i < len(txs); i += size {
		var raws [][]byte
		for _, tx := range txs[i:min(i+size, len(txs))] {
			raws = append(raws, tx.Encode())
		}
		bodies = append(bodies, chain.MustEncode(raws))
	}
	b.ResetTimer()
	reportCPU(b)
	for _, body := range bodies {
		rec := serve(b, h, "application/cbor", body, http.StatusOK)
		var res []BatchResult
		if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Error != nil {
				b.Fatalf("refused: %s", r.Error.Message)
			}
		}
	}
}

// BenchmarkMakeBlock is the dev producer's work per transaction: a full
// pool of transfers from 2,000 senders turned into blocks of at most
// block.max_txs (the sub-benchmark's name) transactions, each built,
// executed, signed, stored with one sync, and announced (pool update,
// receipts to waiters, events). Badger's background work (memtable
// flushes) counts in cpu-ns/op.
func BenchmarkMakeBlock(b *testing.B) {
	for _, size := range []int{2000, chain.MaxBlockTxs} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			n, keys := benchDevNode(b)
			n.cfg.Block.MaxTxs = size
			txs := benchLoad(b, n.ChainID(), keys, b.N)
			for _, err := range n.SubmitBatch(txs, nil) {
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			reportCPU(b)
			for n.pool.Size() > 0 {
				if _, err := n.makeBlock(false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
