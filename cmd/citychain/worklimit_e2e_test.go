package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
)

// workLimit is the max_tx_work of the test's genesis. A capture that
// packs 10 items into a case uses about 61,000 work units; one that
// unpacks a case of 20 items about 102,000, of 40 items about 194,000.
const workLimit = 120_000

// TestDevnetFailsATransactionOverTheWorkLimit runs 4 validator processes
// from a genesis file with "params": {"max_tx_work": 120000}. The
// cooperative (dev0) packs 40 items into a case in four captures of 10
// and, in the same batch, unpacks the whole case with one capture that
// names no items ("unpack everything"). When the mempool tries the
// unpacking, the case is still empty in the committed state and it
// passes; in the block, after the four packings, it walks 40 items and
// passes the limit (were two packings committed in an earlier block, it
// would still pass the mempool's trial at 20 items and fail in its
// block at 40). Every node must fail it with the same work-limit
// receipt, keep the packings and a bank transfer sent with them, and
// agree on every block hash and state root.
func TestDevnetFailsATransactionOverTheWorkLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	dir, base := t.TempDir(), freeBasePort(t, 4)
	d0, _, err := node.PrepareDevnet(dir, 4, base, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, nd := range d0.Nodes {
		path := filepath.Join(nd.Home, node.GenesisFile)
		g, err := chain.LoadGenesis(path)
		if err != nil {
			t.Fatal(err)
		}
		g.Params = &chain.ExecParams{MaxTxWork: workLimit}
		if err := g.Save(path); err != nil {
			t.Fatal(err)
		}
	}
	d := startDevnetIn(t, dir, base, 4)
	all := []int{0, 1, 2, 3}
	d.waitHeight(t, 1, 30*time.Second, all...)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	coop, payer := node.DevKey(0), node.DevKey(1)
	acct, err := d.nodes[0].Account(ctx, chain.AddressOf(coop.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	nonce := acct.PendingNonce
	when := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	caseID := "urn:epc:id:sscc:9521111.0000000001"
	capture := func(ev map[string]any) []byte {
		ev["type"], ev["eventTime"], ev["eventTimeZoneOffset"], ev["parentID"] = "AggregationEvent", when, "+00:00", caseID
		p, err := chain.EncodePayload(trace.Capture{Events: []map[string]any{ev}})
		if err != nil {
			t.Fatal(err)
		}
		tx := &chain.Tx{ChainID: node.DevnetChainID, App: trace.Name, Action: trace.ActionCapture, Payload: p, Nonce: nonce}
		nonce++
		tx.Sign(coop)
		return tx.Encode()
	}
	var raws [][]byte
	for i := range 4 {
		var items []string
		for j := range 10 {
			items = append(items, fmt.Sprintf("urn:epc:id:sgtin:9521111.012345.K%d-%d", i, j))
		}
		raws = append(raws, capture(map[string]any{"action": "ADD", "childEPCs": items}))
	}
	raws = append(raws, capture(map[string]any{"action": "DELETE"}))
	payerAcct, err := d.nodes[0].Account(ctx, chain.AddressOf(payer.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := chain.EncodePayload(map[string]any{"to": node.DevAccounts()[9].Address.String(), "amount": 1})
	send := &chain.Tx{ChainID: node.DevnetChainID, App: "bank", Action: "send", Payload: p, Nonce: payerAcct.PendingNonce}
	send.Sign(payer)
	raws = append(raws, send.Encode())

	answers, err := d.nodes[0].SubmitBatch(ctx, raws)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range answers {
		if a.Error != nil {
			t.Fatalf("transaction %d refused: %s: %s", i, a.Error.Code, a.Error.Message)
		}
	}
	unpack, transfer := answers[4].Hash, answers[5].Hash

	// Every node has the same receipts for the six transactions.
	for _, a := range answers {
		waitCommitted(t, d, a.Hash, 30*time.Second)
	}
	r0, err := d.nodes[0].Tx(ctx, unpack.String())
	if err != nil {
		t.Fatal(err)
	}
	d.waitHeight(t, r0.Height+1, 30*time.Second, all...)
	var first *node.TxView
	for _, i := range all {
		r, err := d.nodes[i].Tx(ctx, unpack.String())
		if err != nil {
			t.Fatalf("node%d: %v", i, err)
		}
		if first == nil {
			first = r
		}
		if r.Status != chain.StatusFailed || r.Height != first.Height || r.Error != first.Error {
			t.Fatalf("node%d: unpacking %s at height %d: %q; node0 has %s at %d: %q",
				i, r.Status, r.Height, r.Error, first.Status, first.Height, first.Error)
		}
	}
	want := chain.ErrWorkLimit.Error() + ": the transaction used "
	if !strings.HasPrefix(first.Error, want) || !strings.Contains(first.Error, fmt.Sprintf("more than the limit of %d (", workLimit)) {
		t.Fatalf("unpacking failed with %q, want the work-limit error", first.Error)
	}
	for _, a := range answers[:4] {
		r, err := d.nodes[2].Tx(ctx, a.Hash.String())
		if err != nil || r.Status != chain.StatusOK {
			t.Fatalf("packing %s: %+v, %v", a.Hash, r, err)
		}
	}
	r, err := d.nodes[3].Tx(ctx, transfer.String())
	if err != nil || r.Status != chain.StatusOK || r.Height < first.Height || r.Height > first.Height+1 {
		t.Fatalf("transfer: %+v, %v; want ok in block %d or %d", r, err, first.Height, first.Height+1)
	}
	t.Logf("block %d: %s", first.Height, first.Error)
	d.checkSameChain(t, all...)
}

// waitCommitted waits until node0 has a committed receipt for hash.
func waitCommitted(t *testing.T, d *devnetProc, hash chain.Hash, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		r, err := d.nodes[0].Tx(ctx, hash.String())
		cancel()
		if err == nil && r.Status != "pending" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("transaction %s not committed within %s (last answer %+v, %v)\n%s", hash, limit, r, err, d.output())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
