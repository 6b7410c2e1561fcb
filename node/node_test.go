package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// testNode starts a dev node in a temporary home on a free port.
func testNode(t testing.TB) (*Node, string) {
	t.Helper()
	home := t.TempDir()
	if _, err := InitDevHome(home, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Block.EmptyEvery = Duration{time.Hour}
	n, err := New(Options{Home: home, Config: cfg, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	return n, "http://" + n.APIAddr()
}

// sendTx builds and signs a bank transfer from dev key i.
func sendTx(t testing.TB, key *crypto.PrivateKey, chainID string, nonce uint64, to chain.Address, amount uint64) *chain.Tx {
	t.Helper()
	p, err := chain.EncodePayload(bank.Send{To: to, Amount: amount})
	if err != nil {
		t.Fatal(err)
	}
	tx := &chain.Tx{ChainID: chainID, App: "bank", Action: "send", Payload: p, Nonce: nonce}
	tx.Sign(key)
	return tx
}

type answer struct {
	status int
	body   []byte
}

func (a answer) code() string {
	var e APIError
	_ = json.Unmarshal(a.body, &e)
	return e.Error.Code
}

func post(t testing.TB, url string, body []byte) answer {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, b}
}

func getJSON(t testing.TB, url string, out any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("decode %s: %v", url, err)
		}
	}
	return resp.StatusCode
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTransferCommitsAndIsQueryable(t *testing.T) {
	n, api := testNode(t)
	to := chain.AddressOf(DevKey(1).PublicKey())
	tx := sendTx(t, DevKey(0), n.ChainID(), 0, to, 10)
	a := post(t, api+"/v1/txs?wait=commit", mustJSON(t, tx))
	if a.status != http.StatusOK {
		t.Fatalf("submit: %d %s", a.status, a.body)
	}
	var sa SubmitAnswer
	if err := json.Unmarshal(a.body, &sa); err != nil {
		t.Fatal(err)
	}
	if sa.Receipt == nil || sa.Receipt.Status != chain.StatusOK || sa.Hash != tx.Hash() {
		t.Fatalf("receipt = %+v", sa)
	}
	var acct AccountView
	getJSON(t, api+"/v1/accounts/"+to.String(), &acct)
	if acct.Balance != DevBalance+10 {
		t.Errorf("balance = %d, want %d", acct.Balance, DevBalance+10)
	}
	var from AccountView
	getJSON(t, api+"/v1/accounts/"+chain.AddressOf(DevKey(0).PublicKey()).String(), &from)
	if from.Nonce != 1 || from.Balance != DevBalance-10 {
		t.Errorf("sender = %+v", from)
	}
	var b BlockView
	getJSON(t, api+"/v1/blocks/latest", &b)
	if b.Height != sa.Receipt.Height || len(b.Txs) != 1 || b.Txs[0].Hash != tx.Hash() {
		t.Errorf("latest block = %+v", b)
	}
	if b.Commit == nil || len(b.Commit.Signatures) != 1 || b.Commit.BlockHash != b.Hash {
		t.Errorf("commit = %+v", b.Commit)
	}
	var tv TxView
	getJSON(t, api+"/v1/txs/"+tx.Hash().String(), &tv)
	if tv.Status != chain.StatusOK || len(tv.Events) != 1 || tv.Events[0].Type != "transfer" {
		t.Errorf("tx view = %+v", tv)
	}

	// The bytes the explorer shows: the hash is SHA-256 of raw, the
	// signatures verify over sign_bytes.
	raw, _ := hex.DecodeString(tv.Raw)
	if sum := sha256.Sum256(raw); chain.Hash(sum) != tx.Hash() {
		t.Errorf("SHA-256 of raw = %x, want the tx hash %s", sum, tx.Hash())
	}
	signed, _ := hex.DecodeString(tv.SignBytes)
	if err := DevKey(0).PublicKey().Verify(signed, tx.Signature); err != nil {
		t.Errorf("the tx signature does not verify over sign_bytes: %v", err)
	}
	vb, _ := hex.DecodeString(b.Commit.Signatures[0].SignBytes)
	sig, _ := hex.DecodeString(b.Commit.Signatures[0].Signature)
	if err := n.key.PublicKey().Verify(vb, sig); err != nil {
		t.Errorf("the commit signature does not verify over its sign_bytes: %v", err)
	}
}

func TestBadInputIsRefusedAndNodeCarriesOn(t *testing.T) {
	n, api := testNode(t)
	id := n.ChainID()
	key := DevKey(2)
	to := chain.AddressOf(DevKey(3).PublicKey())

	// One committed transfer so that nonce 0 is used.
	first := sendTx(t, key, id, 0, to, 5)
	if a := post(t, api+"/v1/txs?wait=commit", mustJSON(t, first)); a.status != http.StatusOK {
		t.Fatalf("first transfer: %d %s", a.status, a.body)
	}
	before := n.Store().Latest()

	flipped := sendTx(t, key, id, 1, to, 5)
	flipped.Signature[10] ^= 0x01

	highS := sendTx(t, key, id, 1, to, 5)
	highS.Signature = highSOf(highS.Signature)

	wrongChain := sendTx(t, key, "another-chain", 1, to, 5)
	replay := sendTx(t, key, id, 0, to, 6)
	skip := sendTx(t, key, id, 5, to, 5)

	unknownApp := sendTx(t, key, id, 1, to, 5)
	unknownApp.App = "casino"
	unknownApp.Sign(key)
	unknownAction := sendTx(t, key, id, 1, to, 5)
	unknownAction.Action = "mint"
	unknownAction.Sign(key)
	tooRich := sendTx(t, key, id, 1, to, DevBalance*10)

	big := mustJSON(t, sendTx(t, key, id, 1, to, 5))
	big = append(big[:len(big)-1], []byte(`,"pad":"`+string(bytes.Repeat([]byte("x"), 70<<10))+`"}`)...)

	cases := []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"flipped signature byte", mustJSON(t, flipped), 400, "bad_signature"},
		{"high-S signature", mustJSON(t, highS), 400, "high_s_signature"},
		{"wrong chain id", mustJSON(t, wrongChain), 400, "wrong_chain"},
		{"replayed nonce", mustJSON(t, replay), 409, "bad_nonce"},
		{"skipped nonce", mustJSON(t, skip), 409, "bad_nonce"},
		{"unknown app", mustJSON(t, unknownApp), 400, "unknown_app"},
		{"unknown action", mustJSON(t, unknownAction), 400, "unknown_action"},
		{"body over 64 KiB", big, 413, "too_large"},
		{"malformed JSON", []byte(`{"chain_id": "citychain-dev", "app": `), 400, "malformed_json"},
		{"amount larger than balance", mustJSON(t, tooRich), 400, "insufficient_funds"},
		{"unknown field", []byte(`{"chain_id":"x","bogus":1}`), 400, "invalid_tx"},
		{"payload with a float", []byte(`{"chain_id":"citychain-dev","app":"bank","action":"send","payload":{"amount":1.5},"nonce":1,"pubkey":"00","signature":"00"}`), 400, "bad_payload"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := post(t, api+"/v1/txs", c.body)
			if a.status != c.status || a.code() != c.code {
				t.Fatalf("got %d %s, want %d %s: %s", a.status, a.code(), c.status, c.code, a.body)
			}
			var e APIError
			if err := json.Unmarshal(a.body, &e); err != nil || e.Error.Message == "" {
				t.Fatalf("error body lacks a message: %s", a.body)
			}
		})
	}

	// Nothing was committed by the refused requests, and the node still
	// takes a good transaction.
	if got := n.Store().Latest(); got.Height != before.Height || got.StateRoot != before.StateRoot {
		t.Fatalf("state moved: %d %s -> %d %s", before.Height, before.StateRoot, got.Height, got.StateRoot)
	}
	good := sendTx(t, key, id, 1, to, 7)
	a := post(t, api+"/v1/txs?wait=commit", mustJSON(t, good))
	if a.status != http.StatusOK {
		t.Fatalf("good transfer after bad input: %d %s", a.status, a.body)
	}
	var st StatusView
	if code := getJSON(t, api+"/v1/status", &st); code != 200 || st.Height != before.Height+1 {
		t.Fatalf("status %d height %d", code, st.Height)
	}
}

func TestResubmittingIsIdempotent(t *testing.T) {
	n, api := testNode(t)
	tx := sendTx(t, DevKey(4), n.ChainID(), 0, chain.AddressOf(DevKey(5).PublicKey()), 1)
	body := mustJSON(t, tx)
	a := post(t, api+"/v1/txs?wait=commit", body)
	b := post(t, api+"/v1/txs?wait=commit", body)
	if a.status != 200 || b.status != 200 {
		t.Fatalf("statuses %d %d: %s", a.status, b.status, b.body)
	}
	var sa, sb SubmitAnswer
	json.Unmarshal(a.body, &sa)
	json.Unmarshal(b.body, &sb)
	if sa.Receipt == nil || sb.Receipt == nil || sa.Receipt.Height != sb.Receipt.Height {
		t.Fatalf("receipts differ: %s vs %s", a.body, b.body)
	}
}

func TestEventStreamShowsBlocks(t *testing.T) {
	n, api := testNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+"/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	tx := sendTx(t, DevKey(6), n.ChainID(), 0, chain.AddressOf(DevKey(7).PublicKey()), 1)
	body := mustJSON(t, tx)
	go func() {
		if resp, err := http.Post(api+"/v1/txs", "application/json", bytes.NewReader(body)); err == nil {
			resp.Body.Close()
		}
	}()
	buf := make([]byte, 0, 4096)
	chunk := make([]byte, 1024)
	for !bytes.Contains(buf, []byte("event: block")) || !bytes.Contains(buf, []byte(tx.Hash().String())) {
		k, err := resp.Body.Read(chunk)
		if err != nil {
			t.Fatalf("stream ended before the block event: %v; got %s", err, buf)
		}
		buf = append(buf, chunk[:k]...)
	}
}

func TestMetricsAndErrorsForUnknownRoutes(t *testing.T) {
	_, api := testNode(t)
	resp, err := http.Get(api + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(body, []byte("citychain_height")) {
		t.Errorf("metrics lack citychain_height")
	}
	var e APIError
	if code := getJSON(t, api+"/v1/nothing", &e); code != 404 || e.Error.Code != "not_found" {
		t.Errorf("unknown route: %d %+v", code, e)
	}
	if code := getJSON(t, api+"/v1/blocks/999999", &e); code != 404 {
		t.Errorf("future block: %d", code)
	}
	if code := getJSON(t, api+"/v1/blocks/abc", &e); code != 400 || e.Error.Code != "bad_height" {
		t.Errorf("bad height: %d %+v", code, e)
	}
	if code := getJSON(t, api+"/v1/accounts/city1xyz", &e); code != 400 {
		t.Errorf("bad address: %d", code)
	}
	if code := getJSON(t, api+"/v1/apps/nope/x", &e); code != 404 {
		t.Errorf("unknown app query: %d", code)
	}
}

func TestAStoppingNodeRefusesNewTransactions(t *testing.T) {
	n, api := testNode(t)
	n.stopping.Store(true)
	tx := sendTx(t, DevKey(8), n.ChainID(), 0, chain.AddressOf(DevKey(9).PublicKey()), 1)
	if a := post(t, api+"/v1/txs", mustJSON(t, tx)); a.status != http.StatusServiceUnavailable || a.code() != "stopping" {
		t.Fatalf("got %d %s: %s", a.status, a.code(), a.body)
	}
	if n.pool.Size() != 0 {
		t.Fatal("a stopping node pooled a transaction")
	}
}

// A submitted transaction costs its node one signature check, counted
// under "submit"; the gossip validator takes the node's word for it
// afterwards and verifies nothing again.
func TestSubmittedSignatureIsVerifiedOnce(t *testing.T) {
	n, _ := testNode(t)
	tx := sendTx(t, DevKey(1), n.ChainID(), 0, chain.AddressOf(DevKey(2).PublicKey()), 3)
	if _, err := n.Submit(tx); err != nil {
		t.Fatal(err)
	}
	if _, err := n.validateGossipTx(tx.Encode()); err != nil {
		t.Fatal(err)
	}
	count := func(where string) float64 { return testutil.ToFloat64(n.metrics.sigsChecked.WithLabelValues(where)) }
	if s, g := count("submit"), count("gossip"); s != 1 || g != 0 {
		t.Fatalf("verified %v times at submission and %v in gossip, want 1 and 0", s, g)
	}
}
