//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
	"github.com/citychain/citychain/p2p"
	"github.com/citychain/citychain/p2p/netlab"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
)

// Tests that give every node process a network namespace of its own
// (package p2p/netlab): the nodes talk over real kernel TCP, QUIC and
// multicast DNS, through a switch in the test process that delays, drops
// and partitions their frames. See docs/reliability.md.

var netnsLong = flag.Bool("netns", false, "run the long network-namespace tests (make test-net)")

// needLongNetns skips a long namespace test unless -netns was given.
func needLongNetns(t *testing.T) {
	t.Helper()
	if !*netnsLong {
		t.Skip("long network-namespace test: run with make test-net (go test ./cmd/citychain -run TestNetns -args -netns)")
	}
	if testing.Short() {
		t.Skip("starts real processes")
	}
}

// nsOptions describe a lab network of CityChain nodes.
type nsOptions struct {
	validators int // nodes 0..validators-1 are the genesis validators
	full       int // full nodes after them
	links      netlab.LinkRange
	mdns, dht  bool
	// bootstrap lists the nodes every node dials at start (itself left
	// out); empty for discovery by mDNS or nothing.
	bootstrap []int
	// noMulticast makes the switch drop multicast, as many access points do.
	noMulticast bool
	seed        uint64
}

// nsNet is a network of citychain node processes, one per namespace.
type nsNet struct {
	t       *testing.T
	lab     *netlab.Lab
	chainID string
	vals    *chain.ValidatorSet // the genesis set; no test changes it
	nodes   []*nsNode
}

// nsNode is one node of an nsNet.
type nsNode struct {
	name string
	home string
	host *netlab.Host
	api  string
	p2p  string // its TCP address with /p2p/ID
	cl   *client.Client
	proc *proc
}

// API and libp2p ports: the same in every namespace, since each has its
// own address.
const (
	nsAPIPort = 8700
	nsP2PPort = 9700
)

// newNsNet makes the lab and the homes of o's nodes (validators with the
// development validator keys, one genesis with the dev accounts funded),
// or skips the test where namespaces cannot be made. No node runs yet.
func newNsNet(t *testing.T, o nsOptions) *nsNet {
	t.Helper()
	if err := netlab.Check(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	citychainBin(t) // build before any clock starts
	lab, err := netlab.New(netlab.Config{Hosts: o.validators + o.full,
		Switch: netlab.SwitchConfig{Seed: o.seed}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Errorf("close lab: %v", err)
		}
	})
	lab.Switch.DrawLinks(o.links)
	lab.Switch.BlockMulticast(o.noMulticast)
	n := &nsNet{t: t, lab: lab, chainID: "netlab-" + lab.ID}
	hc := lab.HTTPClient(10 * time.Second)

	dir := t.TempDir()
	var vkeys []*crypto.PrivateKey
	for i := 0; i < o.validators; i++ {
		vkeys = append(vkeys, node.DevValidatorKey(i))
	}
	gen := node.DevGenesis(n.chainID, vkeys, time.Now())
	if n.vals, err = gen.ValidatorSet(); err != nil {
		t.Fatal(err)
	}
	nkeys := make([]lcrypto.PrivKey, len(lab.Hosts))
	for i, h := range lab.Hosts {
		nk, err := p2p.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		id, err := p2p.PeerID(nk)
		if err != nil {
			t.Fatal(err)
		}
		nkeys[i] = nk
		name := fmt.Sprintf("validator%d", i)
		if i >= o.validators {
			name = fmt.Sprintf("full%d", i-o.validators)
		}
		api := fmt.Sprintf("http://%s:%d", h.Addr, nsAPIPort)
		n.nodes = append(n.nodes, &nsNode{name: name, home: filepath.Join(dir, name), host: h, api: api,
			p2p: fmt.Sprintf("/ip4/%s/tcp/%d/p2p/%s", h.Addr, nsP2PPort, id), cl: client.NewWithHTTP(api, hc)})
	}
	for i, nd := range n.nodes {
		cfg := node.DefaultConfig(nd.name, nsAPIPort)
		cfg.API.Listen = fmt.Sprintf("%s:%d", nd.host.Addr, nsAPIPort)
		cfg.P2P.Listen = []string{fmt.Sprintf("/ip4/%s/tcp/%d", nd.host.Addr, nsP2PPort),
			fmt.Sprintf("/ip4/%s/udp/%d/quic-v1", nd.host.Addr, nsP2PPort)}
		cfg.P2P.MDNS, cfg.P2P.DHT = o.mdns, o.dht
		// The test is every node's one API client, from the node's own
		// address (not loopback), and it reads every block of every node
		// at the end: the per-client rate limit would answer it 429.
		cfg.API.ClientRate = 0
		for _, b := range o.bootstrap {
			if b != i {
				cfg.P2P.Bootstrap = append(cfg.P2P.Bootstrap, n.nodes[b].p2p)
			}
		}
		// An idle chain still makes a block a second, so that heights
		// show progress even between transactions.
		cfg.Block.EmptyEvery = node.Duration{Duration: time.Second}
		vk := node.DevValidatorKey(i)
		if i >= o.validators {
			if vk, err = crypto.GenerateKey(); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.MkdirAll(nd.home, 0o700); err != nil {
			t.Fatal(err)
		}
		steps := []error{
			cfg.Save(nd.home),
			p2p.SaveKey(filepath.Join(nd.home, node.NodeKeyFile), nkeys[i]),
			node.SaveValidatorKey(filepath.Join(nd.home, node.ValidatorKeyFile), vk),
			gen.Save(filepath.Join(nd.home, node.GenesisFile)),
		}
		if err := errors.Join(steps...); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			n.dumpLogs()
		}
	})
	return n
}

// nodeRange returns the node indexes from..to-1.
func nodeRange(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// start starts the listed nodes, each in its namespace, and waits until
// every one answers on its API. The test's cleanup kills them by PID.
func (n *nsNet) start(idx ...int) {
	n.t.Helper()
	for _, i := range idx {
		nd := n.nodes[i]
		p := &proc{out: &bytes.Buffer{}, mu: &sync.Mutex{}}
		p.cmd = nd.host.Command(citychainBin(n.t), "node", "--home", nd.home)
		w := lockedBuffer{p.mu, p.out}
		p.cmd.Stdout, p.cmd.Stderr = w, w
		if err := p.cmd.Start(); err != nil {
			n.t.Fatal(err)
		}
		n.t.Cleanup(p.kill)
		nd.proc = p
	}
	n.waitAll("answer on the API", 30*time.Second, idx, func(*node.StatusView) bool { return true })
}

// status asks node i for its status, within 2 s.
func (n *nsNet) status(i int) (*node.StatusView, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return n.nodes[i].cl.Status(ctx)
}

// height returns node i's height, or 0 if it does not answer.
func (n *nsNet) height(i int) uint64 {
	s, err := n.status(i)
	if err != nil {
		return 0
	}
	return s.Height
}

// heights returns the heights of the listed nodes.
func (n *nsNet) heights(idx []int) []uint64 {
	out := make([]uint64, len(idx))
	for k, i := range idx {
		out[k] = n.height(i)
	}
	return out
}

// waitAll polls the listed nodes every 100 ms until ok holds for each
// one's status, and returns how long that took; the test fails after
// limit, naming the nodes that were not there.
func (n *nsNet) waitAll(what string, limit time.Duration, idx []int, ok func(*node.StatusView) bool) time.Duration {
	n.t.Helper()
	start := time.Now()
	deadline := start.Add(limit)
	for {
		var missing []string
		for _, i := range idx {
			s, err := n.status(i)
			switch {
			case err != nil:
				missing = append(missing, fmt.Sprintf("%s (%v)", n.nodes[i].name, err))
			case !ok(s):
				missing = append(missing, fmt.Sprintf("%s (height %d, %d peers)", n.nodes[i].name, s.Height, s.Peers))
			}
		}
		if len(missing) == 0 {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("nodes did not %s within %s: %s\nswitch: %+v", what, limit, strings.Join(missing, ", "), n.lab.Switch.Stats())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func peersAtLeast(k int) func(*node.StatusView) bool {
	return func(s *node.StatusView) bool { return s.Peers >= k }
}

func heightAtLeast(h uint64) func(*node.StatusView) bool {
	return func(s *node.StatusView) bool { return s.Height >= h }
}

// sinceToBlock returns how long after start node i's block h was made,
// by the block's own time (every node shares this machine's clock).
func (n *nsNet) sinceToBlock(start time.Time, i int, h uint64) time.Duration {
	n.t.Helper()
	b, err := n.nodes[i].cl.Block(context.Background(), fmt.Sprint(h))
	if err != nil {
		n.t.Fatalf("%s block %d: %v", n.nodes[i].name, h, err)
	}
	return b.Time.Sub(start)
}

// maxHeight is the highest height among the listed nodes.
func (n *nsNet) maxHeight(idx []int) uint64 { return slices.Max(n.heights(idx)) }

// sameChain checks that the listed nodes hold the same block hash and
// state root at every height up to the lowest of their heights, and that
// every commit holds valid signatures of more than 2/3 of the genesis
// validators' power (verifyCommitView). It returns the first node's
// blocks, from height 1.
func (n *nsNet) sameChain(idx []int) []*node.BlockView {
	n.t.Helper()
	low := slices.Min(n.heights(idx))
	ctx := context.Background()
	var blocks []*node.BlockView
	for h := uint64(1); h <= low; h++ {
		var first *node.BlockView
		for _, i := range idx {
			b, err := n.nodes[i].cl.Block(ctx, fmt.Sprint(h))
			if err != nil {
				n.t.Fatalf("%s block %d: %v", n.nodes[i].name, h, err)
			}
			if first == nil {
				first = b
				continue
			}
			if b.Hash != first.Hash || b.StateRoot != first.StateRoot {
				n.t.Fatalf("FORK at height %d: %s has %s (state %s), %s has %s (state %s)", h,
					n.nodes[idx[0]].name, first.Hash, first.StateRoot, n.nodes[i].name, b.Hash, b.StateRoot)
			}
		}
		if err := verifyCommitView(first, n.vals); err != nil {
			n.t.Fatalf("%s: %v", n.nodes[idx[0]].name, err)
		}
		blocks = append(blocks, first)
	}
	return blocks
}

// dumpLogs prints the last lines of every node's log.
func (n *nsNet) dumpLogs() {
	for _, nd := range n.nodes {
		if nd.proc == nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(nd.proc.output()), "\n")
		if len(lines) > 25 {
			lines = lines[len(lines)-25:]
		}
		n.t.Logf("---- %s (%s) last log lines:\n%s", nd.name, nd.host.Addr, strings.Join(lines, "\n"))
	}
}

// nsTxStream sends signed transfers from several development accounts,
// each to one node, at a bounded rate and count, and remembers the hash
// of every transaction a node acknowledged.
type nsTxStream struct {
	n     *nsNet
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	acked []chain.Hash
	fails int
}

// sendTxs starts one sender per development account in devs (1 to 8;
// dev9 receives): sender k submits to node targets[k%len(targets)] one
// transfer every interval, at most max in all. A submit that fails is
// retried with the same signed bytes (resending is idempotent), so an
// answer lost on the way neither loses nor repeats a nonce.
func (n *nsNet) sendTxs(devs, targets []int, interval time.Duration, max int) *nsTxStream {
	s := &nsTxStream{n: n, stop: make(chan struct{})}
	to := node.DevAccounts()[9].Address.String()
	for k, dev := range devs {
		s.wg.Add(1)
		go s.send(dev, n.nodes[targets[k%len(targets)]].cl, to, interval, max) // ends on finish or after max
	}
	return s
}

func (s *nsTxStream) send(dev int, cl *client.Client, to string, interval time.Duration, max int) {
	defer s.wg.Done()
	key := node.DevKey(dev)
	addr := chain.AddressOf(key.PublicKey())
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var nonce uint64
	known := false
	var tx *chain.Tx
	for sent := 0; sent < max; {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if !known {
			acct, err := cl.Account(ctx, addr)
			cancel()
			if err == nil {
				nonce, known = acct.PendingNonce, true
			}
			continue
		}
		if tx == nil {
			p, _ := chain.EncodePayload(map[string]any{"to": to, "amount": 1})
			tx = &chain.Tx{ChainID: s.n.chainID, App: "bank", Action: "send", Payload: p, Nonce: nonce}
			tx.Sign(key)
		}
		ans, err := cl.Submit(ctx, tx, false)
		cancel()
		if err != nil {
			s.mu.Lock()
			s.fails++
			s.mu.Unlock()
			continue
		}
		if ans.Hash != tx.Hash() {
			s.n.t.Errorf("node answered hash %s for transaction %s", ans.Hash, tx.Hash())
		}
		s.mu.Lock()
		s.acked = append(s.acked, tx.Hash())
		s.mu.Unlock()
		nonce++
		tx = nil
		sent++
	}
}

// finish stops the senders and returns the acknowledged hashes and the
// number of submits that failed (and were retried).
func (s *nsTxStream) finish() ([]chain.Hash, int) {
	close(s.stop)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acked), s.fails
}

// checkTxs waits until every acknowledged transaction has a receipt on
// node idx[0], then checks every listed node: the same chain at every
// height, every acknowledged transaction in it exactly once, with an ok
// receipt, and no transaction in it twice. It returns the chain's blocks.
func (n *nsNet) checkTxs(acked []chain.Hash, idx []int, limit time.Duration) []*node.BlockView {
	n.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(limit)
	pending := slices.Clone(acked)
	for len(pending) > 0 {
		var still []chain.Hash
		for _, h := range pending {
			tv, err := n.nodes[idx[0]].cl.Tx(ctx, h.String())
			if err != nil || tv.Status == "pending" {
				still = append(still, h)
			}
		}
		pending = still
		if len(pending) > 0 && time.Now().After(deadline) {
			n.t.Fatalf("%d of %d acknowledged transactions not committed within %s, e.g. %s", len(pending), len(acked), limit, pending[0])
		}
		if len(pending) > 0 {
			time.Sleep(500 * time.Millisecond)
		}
	}
	// Every node must have reached the height of the last receipt.
	top := n.maxHeight(idx)
	n.waitAll(fmt.Sprintf("reach height %d", top), 60*time.Second, idx, heightAtLeast(top))
	blocks := n.sameChain(idx)
	seen := map[chain.Hash]int{}
	for _, b := range blocks {
		for _, tx := range b.Txs {
			seen[tx.Hash]++
			if seen[tx.Hash] > 1 {
				n.t.Fatalf("transaction %s committed twice (again at height %d)", tx.Hash, b.Height)
			}
		}
	}
	for _, h := range acked {
		if seen[h] != 1 {
			n.t.Fatalf("acknowledged transaction %s is in the chain %d times", h, seen[h])
		}
		tv, err := n.nodes[idx[len(idx)-1]].cl.Tx(ctx, h.String())
		if err != nil || tv.Status != chain.StatusOK {
			n.t.Fatalf("%s: receipt of %s: %+v, %v", n.nodes[idx[len(idx)-1]].name, h, tv, err)
		}
	}
	return blocks
}

// laterRounds counts the blocks decided after round 0: each one cost at
// least one round of timeouts (a proposal or votes that came too late).
func laterRounds(blocks []*node.BlockView) int {
	k := 0
	for _, b := range blocks {
		if b.Commit != nil && b.Commit.Round > 0 {
			k++
		}
	}
	return k
}
