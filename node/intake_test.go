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

// A batch or a single transaction from the API waits while the mempool
// holds two full blocks and is taken in once a commit leaves room: a
// client that submits faster than the chain commits is held to the
// chain's pace.
func TestSubmissionsWaitWhileThePoolHoldsTwoBlocks(t *testing.T) {
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
	batch := mustJSON(t, []json.RawMessage{mustJSON(t, sendTx(t, DevKey(1), testChainID, 0, to, 1))})
	single := mustJSON(t, sendTx(t, DevKey(2), testChainID, 0, to, 1))
	batchDone, singleDone := postLater(srv.URL, batch), postLater(srv.URL, single)
	for _, done := range []chan answer{batchDone, singleDone} {
		select {
		case a := <-done:
			t.Fatalf("a submission was answered while the pool held two blocks: %d %s", a.status, a.body)
		case <-time.After(300 * time.Millisecond):
		}
	}
	// A block commits three of the four: one is left, under two blocks.
	r.n.pool.Update(pooled[:3], nil, func(chain.Address) (uint64, error) { return 0, nil }, nil)
	for _, done := range []chan answer{batchDone, singleDone} {
		select {
		case a := <-done:
			var res []BatchResult
			ok := a.status == http.StatusOK && json.Unmarshal(a.body, &res) == nil && len(res) == 1 && res[0].Error == nil
			if done == singleDone {
				ok = a.status == http.StatusAccepted
			}
			if !ok {
				t.Fatalf("a submission after the commit: %d %s", a.status, a.body)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("a submission still waits with room in the pool")
		}
	}
	if r.n.pool.Size() != 3 {
		t.Fatalf("pool holds %d, want the one left, the batch's and the single one", r.n.pool.Size())
	}
}

// postLater posts body to url's /v1/txs and sends the answer on the
// channel it returns.
func postLater(url string, body []byte) chan answer {
	done := make(chan answer, 1)
	go func() {
		resp, err := http.Post(url+"/v1/txs", "application/json", bytes.NewReader(body))
		if err != nil {
			done <- answer{status: -1, body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- answer{resp.StatusCode, b}
	}()
	return done
}
