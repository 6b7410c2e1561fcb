package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
)

// transfer signs a transfer from dev key `from` and sends it to cl.
func transfer(t *testing.T, cl *client.Client, from int, amount uint64, wait bool) chain.Hash {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	st, err := cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := node.DevKey(from)
	acct, err := cl.Account(ctx, chain.AddressOf(key.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := chain.EncodePayload(map[string]any{"to": node.DevAccounts()[9].Address.String(), "amount": amount})
	tx := &chain.Tx{ChainID: st.ChainID, App: "bank", Action: "send", Payload: p, Nonce: acct.PendingNonce}
	tx.Sign(key)
	ans, err := cl.Submit(ctx, tx, wait)
	if err != nil {
		t.Fatalf("transfer from dev%d: %v", from, err)
	}
	if wait && (ans.Receipt == nil || ans.Receipt.Status != chain.StatusOK) {
		t.Fatalf("transfer from dev%d: %+v", from, ans)
	}
	return ans.Hash
}

// TestDevnetSurvivesFailures runs 4 validator processes and checks the
// promises of BFT consensus with real processes: one node down, the rest
// go on; it comes back and catches up; a full node joins late and
// follows; two down, the chain halts without forking; one back, blocks
// resume within 10 seconds.
func TestDevnetSurvivesFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	// Beside TestDocsRun, whose devnets mostly wait.
	t.Parallel()
	d := startDevnet(t, 4)
	all := []int{0, 1, 2, 3}
	transfer(t, d.nodes[0], 0, 1, true)
	d.waitHeight(t, 2, 30*time.Second, all...)
	d.checkSameChain(t, all...)

	// One down: the other three still make blocks.
	d.killNode(t, d.net.Nodes[3].PID)
	h := d.height(0)
	transfer(t, d.nodes[1], 1, 1, true)
	d.waitHeight(t, h+1, 30*time.Second, 0, 1, 2)

	// It comes back and catches up by block sync.
	p3 := d.startNode(t, 3)
	transfer(t, d.nodes[2], 2, 1, true)
	target := d.height(0)
	d.waitHeight(t, target, 30*time.Second, 3)
	d.checkSameChain(t, all...)

	// A full node (not a validator) joins late, syncs from genesis and
	// follows the head.
	full := joinFullNode(t, d)
	d.waitHeight(t, d.height(0), 30*time.Second, 4)
	transfer(t, d.nodes[0], 3, 1, true)
	d.waitHeight(t, d.height(0), 30*time.Second, 4)
	d.checkSameChain(t, 0, 1, 2, 3, 4)
	full.kill()
	d.nodes = d.nodes[:4]

	// Two down: no quorum, the chain halts and does not fork.
	d.killNode(t, d.net.Nodes[2].PID)
	d.killNode(t, p3.cmd.Process.Pid)
	_ = p3.cmd.Wait()
	time.Sleep(2 * time.Second) // a block already in flight may finish
	halted := d.height(0)
	transfer(t, d.nodes[0], 4, 1, false)
	time.Sleep(6 * time.Second)
	if h0, h1 := d.height(0), d.height(1); h0 != halted || h1 > halted {
		t.Fatalf("with 2 of 4 validators down the chain moved from %d to %d/%d", halted, h0, h1)
	}
	d.checkSameChain(t, 0, 1)

	// One comes back: the quorum is there again and blocks resume.
	d.startNode(t, 2)
	back := time.Now()
	d.waitHeight(t, halted+1, 10*time.Second, 0, 1, 2)
	t.Logf("blocks resumed %.1f s after the third validator was back", time.Since(back).Seconds())
	d.checkSameChain(t, 0, 1, 2)
}

// joinFullNode sets up a non-validator home with the devnet's genesis
// and node0 as bootstrap peer, starts it, and adds its client as node 4.
func joinFullNode(t *testing.T, d *devnetProc) *proc {
	t.Helper()
	home := filepath.Join(t.TempDir(), "full")
	port := freeBasePort(t, 1)
	run(t, "init", "--home", home, "--moniker", "full", "--base-port", fmt.Sprint(port),
		"--genesis", filepath.Join(d.net.Nodes[0].Home, node.GenesisFile), "--bootstrap", d.net.Nodes[0].P2P)
	d.net.Nodes = append(d.net.Nodes, node.DevnetNode{Name: "full", Home: home, API: fmt.Sprintf("http://127.0.0.1:%d", port)})
	d.nodes = append(d.nodes, client.New(fmt.Sprintf("http://127.0.0.1:%d", port)))
	return d.startNode(t, 4)
}
