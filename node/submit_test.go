package node

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

// idleDevNode returns a dev node that is not started: no producer runs,
// so a test decides when blocks are made (makeBlock).
func idleDevNode(t *testing.T, maxPooled int) *Node {
	t.Helper()
	home := t.TempDir()
	if _, err := InitDevHome(home, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Mempool.MaxTxs = maxPooled
	n, err := New(Options{Home: home, Config: cfg, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	return n
}

// A full mempool refuses a new transaction before checking its
// signature, so retries under overload cost no verification; a
// transaction it already holds, or one already committed, is accepted
// again as always.
func TestAFullPoolRefusesBeforeVerifying(t *testing.T) {
	n := idleDevNode(t, 2)
	to := DevAccounts()[9].Address
	committed := sendTx(t, DevKey(0), n.ChainID(), 0, to, 1)
	if _, err := n.Submit(committed); err != nil {
		t.Fatal(err)
	}
	if _, err := n.makeBlock(false); err != nil {
		t.Fatal(err)
	}
	pooled := []*chain.Tx{sendTx(t, DevKey(0), n.ChainID(), 1, to, 1), sendTx(t, DevKey(0), n.ChainID(), 2, to, 1)}
	for _, tx := range pooled {
		if _, err := n.Submit(tx); err != nil {
			t.Fatal(err)
		}
	}
	keys := n.keys.Len()

	forged := sendTx(t, DevKey(3), n.ChainID(), 0, to, 1)
	forged.Signature[5] ^= 1
	if _, err := n.Submit(forged); !errors.Is(err, ErrMempoolFull) {
		t.Fatalf("a new transaction to a full pool: %v, want ErrMempoolFull", err)
	}
	if n.keys.Len() != keys {
		t.Fatal("the refused transaction's key was parsed: its signature was checked")
	}
	for name, tx := range map[string]*chain.Tx{"pooled": pooled[1], "committed": committed} {
		if h, err := n.Submit(tx); err != nil || h != tx.Hash() {
			t.Errorf("the %s transaction sent again to a full pool: %v", name, err)
		}
	}
	if _, err := n.makeBlock(false); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Submit(forged); !errors.Is(err, chain.ErrInvalidTx) {
		t.Fatalf("with room again the forged transaction is checked: %v", err)
	}
}

// A sender's key is parsed once and then taken from the node's cache.
func TestSubmissionsShareParsedKeys(t *testing.T) {
	n := idleDevNode(t, 100)
	to := DevAccounts()[9].Address
	for nonce := range uint64(3) {
		if _, err := n.Submit(sendTx(t, DevKey(4), n.ChainID(), nonce, to, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if n.keys.Len() != 1 {
		t.Fatalf("the cache holds %d keys after three transactions of one sender", n.keys.Len())
	}
}

// Answers to submissions are JSON on one line; the reads stay indented.
func TestSubmissionAnswersAreOneLine(t *testing.T) {
	n := idleDevNode(t, 100)
	h := n.routes()
	to := DevAccounts()[9].Address
	single := mustJSON(t, sendTx(t, DevKey(1), n.ChainID(), 0, to, 1))
	batch := mustJSON(t, []*chain.Tx{sendTx(t, DevKey(1), n.ChainID(), 1, to, 1)})
	refused := mustJSON(t, sendTx(t, DevKey(1), n.ChainID(), 9, to, 1))
	for _, c := range []struct {
		name   string
		body   []byte
		status int
	}{
		{"one transaction", single, http.StatusAccepted},
		{"a batch", batch, http.StatusOK},
		{"a refusal", refused, http.StatusConflict},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/txs", bytes.NewReader(c.body)))
		body := rec.Body.Bytes()
		if rec.Code != c.status || bytes.Count(body, []byte("\n")) != 1 || !bytes.HasSuffix(body, []byte("\n")) {
			t.Errorf("%s: %d %q, want %d on one line", c.name, rec.Code, body, c.status)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/status", nil))
	if !bytes.Contains(rec.Body.Bytes(), []byte("\n  \"chain_id\"")) {
		t.Errorf("status is no longer indented: %s", rec.Body)
	}
}
