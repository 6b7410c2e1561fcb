package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
)

// TestDevChainCanBeFollowed runs `citychain dev` and a full node that
// joins it over libp2p (the dev node listens on base-port+1000): the
// follower catches up by block sync, a transfer submitted to the
// follower is gossiped to the dev node, committed there, and the follower
// holds the same blocks.
func TestDevChainCanBeFollowed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	devHome, followHome := t.TempDir(), filepath.Join(t.TempDir(), "follower")
	devPort := freePort(t)
	devProc := startDev(t, devHome, devPort)
	dev := client.New(fmt.Sprintf("http://127.0.0.1:%d", devPort))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := dev.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.NodeID == "" {
		t.Fatal("the dev node reports no libp2p peer id")
	}
	transfer(t, dev, 0, 3, true) // something to sync

	followPort := freePort(t)
	boot := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", devPort+1000, st.NodeID)
	run(t, "init", "--home", followHome, "--base-port", fmt.Sprint(followPort),
		"--genesis", filepath.Join(devHome, node.GenesisFile), "--bootstrap", boot)
	followProc := startProc(t, followPort, "node", "--home", followHome)
	follower := client.New(fmt.Sprintf("http://127.0.0.1:%d", followPort))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dev node output:\n%s\nfollower output:\n%s", devProc.output(), followProc.output())
		}
	})

	hash := transfer(t, follower, 1, 4, true)
	tv, err := dev.Tx(ctx, hash.String())
	if err != nil || tv.Status != "ok" {
		t.Fatalf("the transfer sent to the follower is not committed on the dev node: %v %+v", err, tv)
	}
	for h := uint64(1); h <= tv.Height; h++ {
		a, err := dev.Block(ctx, fmt.Sprint(h))
		if err != nil {
			t.Fatal(err)
		}
		b, err := follower.Block(ctx, fmt.Sprint(h))
		if err != nil {
			t.Fatalf("follower block %d: %v", h, err)
		}
		if a.Hash != b.Hash || a.StateRoot != b.StateRoot {
			t.Fatalf("block %d differs: dev %s, follower %s", h, a.Hash, b.Hash)
		}
	}
	if fs, err := follower.Status(ctx); err != nil || fs.Peers < 1 {
		t.Errorf("follower status: %v %+v, want at least one peer", err, fs)
	}
}
