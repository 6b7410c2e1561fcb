package node

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

// Benchmarks of submission as a client sees it: POST /v1/txs through
// the API handler (decoding, the checks, pooling, the answer), one
// transaction per request and in CBOR batches, and the dev producer
// turning a full pool into blocks. Each reports the time per
// transaction; every one of them has its signature verified.

// benchDevNode returns a `citychain dev` node in a temporary home, with
// its store on disk, not started: the benchmarks drive its API handler
// and block producer directly.
func benchDevNode(b *testing.B) *Node {
	b.Helper()
	home := b.TempDir()
	if _, err := InitDevHome(home, 0, time.Now()); err != nil {
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
	return n
}

// serve posts body to the handler and checks the status.
func serve(b *testing.B, h http.Handler, ctype string, body []byte, want int) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/v1/txs", bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
	}
	return rec
}

func BenchmarkSubmitJSON(b *testing.B) {
	n := benchDevNode(b)
	h := n.routes()
	txs := benchTransfers(b, n.ChainID(), b.N)
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
	n := benchDevNode(b)
	h := n.routes()
	txs := benchTransfers(b, n.ChainID(), b.N)
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

// BenchmarkMakeBlock2000 is the dev producer's work per transaction:
// blocks of 2,000 (block.max_txs) pooled transfers built, executed, signed, stored with
// one sync, and announced (pool update, receipts to waiters, events).
func BenchmarkMakeBlock2000(b *testing.B) {
	const size = 2000
	n := benchDevNode(b)
	txs := benchTransfers(b, n.ChainID(), b.N)
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
}
