package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
)

// TestDevnetAddsAValidator follows docs/network.md "Changing the
// validator set" on a running 4-node devnet: a fifth node joins as a full
// node, three of the four validators vote with `citychain tx poa propose
// --add`, and two blocks after the decision the fifth node signs commits.
// With five validators the quorum is four: one old validator stopped, the
// chain goes on with the newcomer's votes.
func TestDevnetAddsAValidator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	d := startDevnet(t, 4)
	transfer(t, d.nodes[0], 0, 1, true)
	newcomer := joinFullNode(t, d) // node index 4
	vk, err := node.LoadValidatorKey(filepath.Join(d.net.Nodes[4].Home, node.ValidatorKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	addr := chain.AddressOf(vk.PublicKey())
	pub := hex.EncodeToString(vk.PublicKey().Bytes())

	// Validators 0, 1 and 2 vote; a devnet home's keystore holds its
	// validator key as "validator" already.
	var out string
	for i := 0; i < 3; i++ {
		home := d.net.Nodes[i].Home
		out = run(t, "tx", "poa", "propose", "--home", home, "--node", d.net.Nodes[i].API, "--from", "validator",
			"--add", addr.String(), "--pubkey", pub, "--wait")
	}
	if !strings.Contains(out, "ok") {
		t.Fatalf("the third vote: %s", out)
	}

	// Two blocks after the decision the set has five validators, and the
	// newcomer's precommits are in the commits.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	signedBy := func(h uint64) bool {
		b, err := d.nodes[0].Block(ctx, fmt.Sprint(h))
		if err != nil || b.Commit == nil {
			return false
		}
		for _, s := range b.Commit.Signatures {
			if s.Validator == addr {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		var vs struct {
			Validators []struct{ Address string }
			Quorum     uint64
		}
		getJSONTest(t, d.net.Nodes[0].API+"/v1/validators", &vs)
		if len(vs.Validators) == 5 && signedBy(d.height(0)-1) {
			if vs.Quorum != 4 {
				t.Errorf("quorum of 5 validators = %d, want 4", vs.Quorum)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("within 60 s the newcomer %s did not sign a commit (%d validators)\n%s", addr, len(vs.Validators), newcomer.output())
		}
		transfer(t, d.nodes[i%3], i%3, 1, true)
	}

	// One of the original four down: four of five remain, a quorum only
	// with the newcomer.
	if out, ok := d.ctl(t, "stop", "node3"); !ok {
		t.Fatalf("stop node3: %s", out)
	}
	h := d.height(0)
	transfer(t, d.nodes[1], 1, 1, true)
	d.waitHeight(t, h+1, 30*time.Second, 0, 1, 2, 4)
	// Block h+1 was decided after node3 died: its commit needs the
	// newcomer.
	if !signedBy(h + 1) {
		t.Errorf("block %d was committed without the newcomer's precommit", h+1)
	}
	d.checkSameChain(t, 0, 1, 2, 4)
}
