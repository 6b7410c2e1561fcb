package node

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

// A batch from the API waits while the mempool holds two full blocks and
// is taken in once a commit leaves room: a client that submits faster
// than the chain commits is held to the chain's pace.
func TestBatchWaitsWhileThePoolHoldsTwoBlocks(t *testing.T) {
	r := newRig(t, 0)
	r.n.cfg.Block.MaxTxs = 2 // two blocks: four transactions
	mux, _ := r.n.apiMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	to := DevAccounts()[9].Address
	var pooled []chain.Hash
	for nonce := range uint64(4) {
		tx := sendTx(t, DevKey(0), testChainID, nonce, to, 1)
		if _, err := r.n.Submit(tx); err != nil {
			t.Fatal(err)
		}
		pooled = append(pooled, tx.Hash())
	}
	body := mustJSON(t, []json.RawMessage{mustJSON(t, sendTx(t, DevKey(1), testChainID, 0, to, 1))})
	done := make(chan answer, 1)
	go func() {
		resp, err := http.Post(srv.URL+"/v1/txs", "application/json", bytes.NewReader(body))
		if err != nil {
			done <- answer{status: -1, body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- answer{resp.StatusCode, b}
	}()
	select {
	case a := <-done:
		t.Fatalf("a batch was answered while the pool held two blocks: %d %s", a.status, a.body)
	case <-time.After(300 * time.Millisecond):
	}
	// A block commits three of the four: one is left, under two blocks.
	r.n.pool.Update(pooled[:3], nil, func(chain.Address) (uint64, error) { return 0, nil }, nil)
	select {
	case a := <-done:
		var res []BatchResult
		if a.status != http.StatusOK || json.Unmarshal(a.body, &res) != nil || len(res) != 1 || res[0].Error != nil {
			t.Fatalf("the batch after the commit: %d %s", a.status, a.body)
		}
		if r.n.pool.Size() != 2 {
			t.Fatalf("pool holds %d, want the one left and the batch's", r.n.pool.Size())
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the batch still waits with room in the pool")
	}
}
