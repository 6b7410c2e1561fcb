package node

import (
	"bytes"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citychain/citychain/chain/crypto/leaktest"
	"github.com/citychain/citychain/p2p"
)

// syncBuffer is a log destination that goroutines share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The logs of two validators at debug level, from start to stop, hold
// neither node's validator key nor its libp2p identity key in any
// spelling: through start-up, consensus over libp2p, transfers committed
// with a receipt, and submissions refused for a bad signature, another
// chain or bad JSON. (A node reads no keystore, so no passphrase is in
// reach; cmd/citychain's TestCLIOutputNeverHoldsASecret covers the
// commands that take one.)
func TestNodeLogsNeverHoldAKey(t *testing.T) {
	if testing.Short() {
		t.Skip("starts libp2p hosts")
	}
	dir := t.TempDir()
	d, _, err := InitDevnet(dir, 2, freeBase(t, 2), time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var forms []string
	logs := make([]*syncBuffer, 2)
	nodes := make([]*Node, 2)
	for i, dn := range d.Nodes {
		vk, err := LoadValidatorKey(filepath.Join(dn.Home, ValidatorKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		forms = append(forms, leaktest.Forms(vk.Bytes())...)
		nk, err := p2p.LoadKey(filepath.Join(dn.Home, NodeKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := nk.Raw() // an Ed25519 key: the 32-byte seed, then the public key
		if err != nil {
			t.Fatal(err)
		}
		forms = append(forms, leaktest.Forms(raw[:32])...)

		cfg, err := LoadConfig(dn.Home)
		if err != nil {
			t.Fatal(err)
		}
		cfg.P2P.Listen = cfg.P2P.Listen[:1]
		cfg.Block.EmptyEvery = Duration{200 * time.Millisecond}
		logs[i] = &syncBuffer{}
		log := slog.New(slog.NewTextHandler(logs[i], &slog.HandlerOptions{Level: slog.LevelDebug}))
		n, err := New(Options{Home: dn.Home, Config: cfg, Logger: log, Network: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Stop() })
		nodes[i] = n
	}
	a := nodes[0]
	api := "http://" + a.APIAddr() + "/v1/txs"
	waitFor(t, 30*time.Second, "two validators reach height 2", func() bool {
		return a.Store().Latest().Height >= 2 && nodes[1].Store().Latest().Height >= 2
	})

	to := DevAccounts()[9].Address
	for nonce := range uint64(3) {
		tx := sendTx(t, DevKey(0), a.ChainID(), nonce, to, 1)
		if ans := post(t, api+"?wait=commit&timeout=20s", mustJSON(t, tx)); ans.status != http.StatusOK {
			t.Fatalf("transfer %d: %d %s", nonce, ans.status, ans.body)
		}
	}
	forged := sendTx(t, DevKey(1), a.ChainID(), 0, to, 1)
	forged.Signature[5] ^= 1
	for _, bad := range []struct {
		what string
		body []byte
	}{
		{"a forged signature", mustJSON(t, forged)},
		{"another chain", mustJSON(t, sendTx(t, DevKey(1), "elsewhere", 0, to, 1))},
		{"bad JSON", []byte(`{"chain_id":`)},
	} {
		if ans := post(t, api, bad.body); ans.status/100 != 4 {
			t.Fatalf("%s: %d %s, want a refusal", bad.what, ans.status, ans.body)
		}
	}
	for _, n := range nodes {
		if err := n.Stop(); err != nil {
			t.Fatal(err)
		}
	}

	for i, l := range logs {
		text := l.String()
		if !strings.Contains(text, "level=DEBUG") {
			t.Fatalf("node %d logged nothing at debug level; the check would see too little:\n%s", i, text)
		}
		if where := leaktest.Find(text, forms); where != "" {
			t.Errorf("node %d's log (%d bytes) holds a key: %s", i, len(text), where)
		}
	}
}
