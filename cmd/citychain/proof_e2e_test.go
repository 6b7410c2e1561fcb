package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/copyright"
)

// TestProofChecksAgainstAnotherNodesHeader registers a work through
// node0, asks node0 for the record with its Merkle proof, and checks the
// proof against the header of that height fetched from node2: a client
// needs to trust neither node's answer alone, only the header the chain
// committed.
func TestProofChecksAgainstAnotherNodesHeader(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	d := startDevnet(t, 4)
	work := filepath.Join(t.TempDir(), "label.bin")
	content := make([]byte, 30000)
	if _, err := rand.Read(content); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(work, content, 0o600); err != nil {
		t.Fatal(err)
	}
	out := run(t, "tx", "copyright", "register", work, "--home", d.net.Nodes[0].Home, "--node", d.net.Nodes[0].API,
		"--from", "dev0", "--title", "Tea label", "--creator", "Tea coop", "--license", "CC-BY-4.0", "--wait")
	if !strings.Contains(out, ": ok") {
		t.Fatalf("register: %s", out)
	}
	sum := sha256.Sum256(content)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var ans copyright.VerifyAnswer
	if err := d.nodes[0].Get(ctx, "/v1/apps/copyright/verify/"+hex.EncodeToString(sum[:]), &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Proof == nil {
		t.Fatal("verify answer carries no proof")
	}
	// node2 must have the block of that height; wait for it if it lags.
	d.waitHeight(t, ans.Proof.Height, 20*time.Second, 2)
	b, err := d.nodes[2].Block(ctx, fmt.Sprint(ans.Proof.Height))
	if err != nil {
		t.Fatal(err)
	}
	if err := ans.Proof.Verify(b.StateRoot); err != nil {
		t.Fatalf("proof from node0 does not check against node2's header: %v", err)
	}
	// A tampered answer does not check.
	forged := *ans.Proof
	forged.Value = strings.Repeat("00", 8) + forged.Value[16:]
	if err := forged.Verify(b.StateRoot); err == nil {
		t.Fatal("a changed record still verified")
	}
}
