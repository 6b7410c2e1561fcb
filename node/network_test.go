package node

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

// freeBase finds a base port such that base+i and base+1000+i are free
// on 127.0.0.1 for i < n.
func freeBase(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		base := 20000 + (os.Getpid()*7+try*97)%20000
		ok := true
		for i := 0; i < n && ok; i++ {
			for _, p := range []int{base + i, base + 1000 + i} {
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					ok = false
					break
				}
				l.Close()
			}
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free ports")
	return 0
}

// startHome starts the node of a home with Network on.
func startHome(t *testing.T, home string) *Node {
	t.Helper()
	cfg, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.P2P.Listen = cfg.P2P.Listen[:1] // TCP only: quicker to start
	cfg.Block.EmptyEvery = Duration{200 * time.Millisecond}
	n, err := New(Options{Home: home, Config: cfg, Logger: discardLogger(), Network: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	return n
}

// waitFor polls cond for up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two validators over real libp2p on 127.0.0.1, in one process: they
// decide blocks together with compact proposals, a transaction sent to one
// reaches the other by gossip, one that only the proposer holds is
// fetched by the other, and a follower that joins later catches up by
// block sync and then follows consensus.
func TestTwoValidatorsAndAFollowerOverLibp2p(t *testing.T) {
	if testing.Short() {
		t.Skip("starts libp2p hosts")
	}
	dir := t.TempDir()
	base := freeBase(t, 3)
	d, _, err := InitDevnet(dir, 2, base, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	a, b := startHome(t, d.Nodes[0].Home), startHome(t, d.Nodes[1].Home)
	waitFor(t, 30*time.Second, "two validators reach height 3", func() bool {
		return a.Store().Latest().Height >= 3 && b.Store().Latest().Height >= 3
	})
	if len(a.peerViews()) != 1 {
		t.Fatalf("A sees %d peers, want B", len(a.peerViews()))
	}

	// A transfer sent to A is gossiped, and B stores its receipt.
	tx := sendTx(t, DevKey(0), a.ChainID(), 0, DevAccounts()[1].Address, 5)
	hash, err := a.Submit(tx)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "B stores the transfer's receipt", func() bool {
		_, err := b.Store().Receipt(hash)
		return err == nil
	})

	// A transfer that only A holds, as if gossip had lost it: A's pool
	// takes it without gossiping it. When A proposes it, B finds it in
	// neither its pool nor its memory, fetches it from A over the
	// transaction fetch protocol and rebuilds the block; with two
	// validators the block needs B's votes, so B's receipt proves it.
	aheadB := b.Store().TreeWrittenAhead()
	lost := sendTx(t, DevKey(0), a.ChainID(), 1, DevAccounts()[2].Address, 3)
	raw := lost.Encode()
	if _, err := a.validateTx(raw); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.admit(lost, raw, chain.Sum(raw), false); !ok || err != nil {
		t.Fatalf("A's pool refused the transfer: %v", err)
	}
	if b.pool.Lookup(chain.Sum(raw)) != nil {
		t.Fatal("B holds the transfer that only A was given")
	}
	waitFor(t, 30*time.Second, "B stores the receipt of the transfer it had to fetch", func() bool {
		_, err := b.Store().Receipt(chain.Sum(raw))
		return err == nil
	})
	// Both validators stored the block of that transfer with its tree
	// nodes written ahead (writeAhead): A, its proposer, while the block
	// was voted on; B once it had found the block valid. Empty blocks
	// write no tree nodes, so B's count grew by A's block.
	waitFor(t, 30*time.Second, "A stores the receipt of the transfer B fetched", func() bool {
		_, err := a.Store().Receipt(chain.Sum(raw))
		return err == nil
	})
	if a.Store().TreeWrittenAhead() == 0 {
		t.Error("A stored no block with its tree nodes written ahead")
	}
	if b.Store().TreeWrittenAhead() <= aheadB {
		t.Errorf("B stored A's block without its tree nodes written ahead (%d such blocks before it, %d after)", aheadB, b.Store().TreeWrittenAhead())
	}

	// A follower: its own keys, the devnet's genesis, A as bootstrap.
	home := filepath.Join(dir, "follower")
	if err := InitHome(home, "follower", base+2); err != nil {
		t.Fatal(err)
	}
	g, err := os.ReadFile(filepath.Join(d.Nodes[0].Home, GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, GenesisFile), g, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.P2P.Bootstrap = a.P2PAddrs()
	if err := cfg.Save(home); err != nil {
		t.Fatal(err)
	}
	target := a.Store().Latest().Height
	f := startHome(t, home)
	waitFor(t, 30*time.Second, "the follower catches up", func() bool { return f.Store().Latest().Height >= target })
	waitFor(t, 30*time.Second, "the follower keeps following", func() bool { return f.Store().Latest().Height >= target+2 })
	for h := uint64(1); h <= target; h++ {
		fb, err := f.Store().Block(h)
		if err != nil {
			t.Fatal(err)
		}
		ab, err := a.Store().Block(h)
		if err != nil {
			t.Fatal(err)
		}
		if fb.Hash() != ab.Hash() {
			t.Fatalf("height %d: follower has %s, A has %s", h, fb.Hash(), ab.Hash())
		}
	}
	if views := f.peerViews(); len(views) == 0 || views[0].Height == 0 {
		t.Fatalf("the follower's peers: %+v", views)
	}
}
