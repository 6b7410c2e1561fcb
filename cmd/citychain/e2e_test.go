package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
)

// TestNewUserQuickstart follows the README: start a dev chain, send 10
// tokens to a brand-new key with --wait, read the balance, find the block.
func TestNewUserQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	home := t.TempDir()
	port := freePort(t)
	api := fmt.Sprintf("http://127.0.0.1:%d", port)
	p := startDev(t, home, port)

	pass := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var info struct{ Address string }
	out := run(t, "keys", "new", "shopkeeper", "--home", home, "--passphrase-file", pass, "--output", "json")
	if err := json.Unmarshal([]byte(out), &info); err != nil || !strings.HasPrefix(info.Address, "city1") {
		t.Fatalf("keys new: %q (%v)", out, err)
	}

	out = run(t, "tx", "bank", "send", "--home", home, "--node", api, "--from", "dev0",
		"--to", info.Address, "--amount", "10", "--wait")
	if !strings.Contains(out, "committed in block") || !strings.Contains(out, ": ok") {
		t.Fatalf("send printed no receipt:\n%s", out)
	}
	hash := strings.Fields(out)[1]

	if got := strings.TrimSpace(run(t, "query", "bank", "balance", info.Address, "--node", api)); got != "10" {
		t.Fatalf("balance = %q, want 10", got)
	}

	var b node.BlockView
	if err := json.Unmarshal([]byte(run(t, "block", "latest", "--node", api, "--output", "json")), &b); err != nil {
		t.Fatal(err)
	}
	// An empty block may follow within a second: look back from latest.
	found := false
	for h := b.Height; h > 0 && h+5 > b.Height && !found; h-- {
		var bv node.BlockView
		if err := json.Unmarshal([]byte(run(t, "block", fmt.Sprint(h), "--node", api, "-o", "json")), &bv); err != nil {
			t.Fatal(err)
		}
		for _, tx := range bv.Txs {
			found = found || tx.Hash.String() == hash
		}
	}
	if !found {
		t.Fatalf("tx %s not in the latest blocks", hash)
	}
	if out := run(t, "tx", hash, "--node", api); !strings.Contains(out, "ok") {
		t.Fatalf("tx show: %s", out)
	}
	p.stop(t)
}

// TestKill9KeepsEveryReceipt streams transfers into a dev node, kills it
// with SIGKILL in the middle, restarts it, and checks that every
// transaction that got a receipt is still committed at the same height,
// that heights continue, and that no earlier state root changed.
func TestKill9KeepsEveryReceipt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	home := t.TempDir()
	port := freePort(t)
	api := fmt.Sprintf("http://127.0.0.1:%d", port)
	p := startDev(t, home, port)
	cl := client.New(api)
	st, err := cl.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	type receipt struct {
		hash   chain.Hash
		height uint64
	}
	var (
		mu       sync.Mutex
		receipts []receipt
		wg       sync.WaitGroup
	)
	stop := make(chan struct{})
	const senders = 6
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) { // exits when stop is closed or the node is gone
			defer wg.Done()
			key := node.DevKey(s)
			to := chain.AddressOf(node.DevKey(9).PublicKey())
			for nonce := uint64(0); nonce < 5000; nonce++ {
				select {
				case <-stop:
					return
				default:
				}
				p, _ := chain.EncodePayload(map[string]any{"to": to.String(), "amount": 1})
				tx := &chain.Tx{ChainID: st.ChainID, App: "bank", Action: "send", Payload: p, Nonce: nonce}
				tx.Sign(key)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				ans, err := cl.Submit(ctx, tx, true)
				cancel()
				if err != nil {
					return // the node was killed
				}
				if ans.Receipt == nil || ans.Receipt.Status != chain.StatusOK {
					t.Errorf("receipt without ok status: %+v", ans)
					return
				}
				mu.Lock()
				receipts = append(receipts, receipt{ans.Hash, ans.Receipt.Height})
				mu.Unlock()
			}
		}(s)
	}

	// Let the stream run, then kill the node while it is busy.
	time.Sleep(3 * time.Second)
	p.kill()
	close(stop)
	wg.Wait()
	mu.Lock()
	got := append([]receipt(nil), receipts...)
	mu.Unlock()
	if len(got) < 20 {
		t.Fatalf("only %d receipts before the kill; the stream did not run\n%s", len(got), p.output())
	}

	// Restart on the same home.
	p2 := startDev(t, home, port)
	ctx := context.Background()
	after, err := cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var maxHeight uint64
	for _, r := range got {
		tv, err := cl.Tx(ctx, r.hash.String())
		if err != nil {
			t.Fatalf("tx %s had a receipt at height %d but is gone after restart: %v", r.hash, r.height, err)
		}
		if tv.Status != chain.StatusOK || tv.Height != r.height {
			t.Fatalf("tx %s: now %s at %d, was ok at %d", r.hash, tv.Status, tv.Height, r.height)
		}
		maxHeight = max(maxHeight, r.height)
	}
	if after.Height < maxHeight {
		t.Fatalf("restarted at height %d, below receipted height %d", after.Height, maxHeight)
	}

	// Record every state root, let the chain make new blocks, and check
	// that the old ones did not change and that the new ones link up.
	roots := map[uint64]chain.Hash{}
	for h := uint64(1); h <= after.Height; h++ {
		b, err := cl.Block(ctx, fmt.Sprint(h))
		if err != nil {
			t.Fatal(err)
		}
		roots[h] = b.StateRoot
	}
	to := chain.AddressOf(node.DevKey(8).PublicKey())
	acct, err := cl.Account(ctx, chain.AddressOf(node.DevKey(7).PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	pl, _ := chain.EncodePayload(map[string]any{"to": to.String(), "amount": 3})
	tx := &chain.Tx{ChainID: st.ChainID, App: "bank", Action: "send", Payload: pl, Nonce: acct.PendingNonce}
	tx.Sign(node.DevKey(7))
	ans, err := cl.Submit(ctx, tx, true)
	if err != nil || ans.Receipt.Height <= after.Height {
		t.Fatalf("transfer after restart: %+v %v", ans, err)
	}
	var prev chain.Hash
	for h := uint64(1); h <= ans.Receipt.Height; h++ {
		b, err := cl.Block(ctx, fmt.Sprint(h))
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := roots[h]; ok && r != b.StateRoot {
			t.Fatalf("state root at height %d changed after restart: %s -> %s", h, r, b.StateRoot)
		}
		if h > 1 && b.PrevHash != prev {
			t.Fatalf("height %d does not link to %d", h, h-1)
		}
		prev = b.Hash
	}
	t.Logf("%d receipts before SIGKILL up to height %d; restarted at %d; chain continued to %d",
		len(got), maxHeight, after.Height, ans.Receipt.Height)
	p2.stop(t)
}
