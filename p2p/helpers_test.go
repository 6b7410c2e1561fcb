package p2p

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Test nodes listen on 127.0.0.1 only, with ports chosen by the kernel.
var loopbackListen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}

// memBlocks is an in-memory BlockSource: a chain whose block at height h
// is "block-h" with commit "commit-h" (or whatever add is given).
type memBlocks struct {
	mu      sync.Mutex
	entries []Entry // entries[h-1] is height h
}

func (m *memBlocks) Height() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return uint64(len(m.entries))
}

func (m *memBlocks) BlockAndCommit(h uint64) ([]byte, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if h == 0 || h > uint64(len(m.entries)) {
		return nil, nil, fmt.Errorf("no block at height %d", h)
	}
	e := m.entries[h-1]
	return e.Block, e.Commit, nil
}

func (m *memBlocks) LatestHash() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return []byte(fmt.Sprintf("hash-%d", len(m.entries)))
}

func (m *memBlocks) add(block, commit []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, Entry{Block: block, Commit: commit})
}

// goodChain returns a store holding heights 1..n of the valid test chain.
func goodChain(n int) *memBlocks {
	m := &memBlocks{}
	for h := 1; h <= n; h++ {
		m.add(goodBlock(uint64(h)), []byte(fmt.Sprintf("commit-%d", h)))
	}
	return m
}

func goodBlock(h uint64) []byte { return []byte(fmt.Sprintf("block-%d", h)) }

// inbox records what a test node's handlers and validators saw.
type inbox struct {
	mu        sync.Mutex
	txs       []string
	cons      []string
	from      map[string]peer.ID // message -> peer that delivered it
	validated map[string]int     // message -> validator calls
}

func newInbox() *inbox {
	return &inbox{from: map[string]peer.ID{}, validated: map[string]int{}}
}

// validate rejects messages starting with "bad" and ignores those
// starting with "ignore". It passes what it checked (checkedOf) to the
// handlers, which record a message only if they receive that.
func (in *inbox) validate(data []byte) (any, error) {
	in.mu.Lock()
	in.validated[string(data)]++
	in.mu.Unlock()
	switch {
	case bytes.HasPrefix(data, []byte("bad")):
		return nil, fmt.Errorf("test says %q is invalid", data)
	case bytes.HasPrefix(data, []byte("ignore")):
		return nil, fmt.Errorf("not now: %w", ErrIgnore)
	}
	return checkedOf(data), nil
}

func checkedOf(data []byte) string { return "checked " + string(data) }

// received is how a handler records data: as it is if the validator's
// value came with it, marked otherwise (so a test waiting for it fails).
func received(data []byte, checked any) string {
	if checked != checkedOf(data) {
		return fmt.Sprintf("%s (without its validator's value: %v)", data, checked)
	}
	return string(data)
}

func (in *inbox) onTx(from peer.ID, data []byte, checked any) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.txs = append(in.txs, received(data, checked))
	in.from[string(data)] = from
}

func (in *inbox) onCons(from peer.ID, data []byte, checked any) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.cons = append(in.cons, received(data, checked))
	in.from[string(data)] = from
}

func (in *inbox) has(list *[]string, msg string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, m := range *list {
		if m == msg {
			return true
		}
	}
	return false
}

func (in *inbox) hasTx(msg string) bool   { return in.has(&in.txs, msg) }
func (in *inbox) hasCons(msg string) bool { return in.has(&in.cons, msg) }

func (in *inbox) validations(msg string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.validated[msg]
}

func (in *inbox) sender(msg string) peer.ID {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.from[msg]
}

// testNode is a Host with its inbox and block store.
type testNode struct {
	*Host
	name   string
	inbox  *inbox
	blocks *memBlocks
}

// newNode starts a host on loopback with short timings; edit adjusts its
// config. The host is closed when the test ends.
func newNode(t *testing.T, name string, blocks *memBlocks, edit func(*Config)) *testNode {
	t.Helper()
	if blocks == nil {
		blocks = &memBlocks{}
	}
	in := newInbox()
	cfg := nodeConfig(t, name, blocks, in)
	if edit != nil {
		edit(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("close %s: %v", name, err)
		}
	})
	return &testNode{Host: h, name: name, inbox: in, blocks: blocks}
}

// nodeConfig is the config of a test node with a new key: loopback
// addresses, short timings, and blocks and in as its chain and handlers.
func nodeConfig(t *testing.T, name string, blocks *memBlocks, in *inbox) Config {
	t.Helper()
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		ChainID:           "testchain",
		Key:               key,
		ListenAddrs:       loopbackListen,
		Blocks:            blocks,
		ValidateTx:        in.validate,
		ValidateConsensus: in.validate,
		OnTx:              in.onTx,
		OnConsensus:       in.onCons,
		Logger:            testLogger().With("node", name),
		GossipHeartbeat:   100 * time.Millisecond,
		RedialInterval:    200 * time.Millisecond,
		StatusInterval:    500 * time.Millisecond,
		DiscoveryInterval: 300 * time.Millisecond,
		DialTimeout:       2 * time.Second,
		StatusTimeout:     2 * time.Second,
		RequestTimeout:    5 * time.Second,
	}
}

// bootstrapTo makes a config editor that lists the nodes as bootstrap peers.
func bootstrapTo(nodes ...*testNode) func(*Config) {
	return func(c *Config) {
		for _, n := range nodes {
			for _, a := range n.Addrs() {
				c.Bootstrap = append(c.Bootstrap, a.String())
			}
		}
	}
}

// testLogger discards logs unless P2P_TEST_LOG is set (to debug, info, ...).
func testLogger() *slog.Logger {
	level := os.Getenv("P2P_TEST_LOG")
	if level == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// eventually polls cond every 20ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// never checks that cond stays false for the whole period.
func never(t *testing.T, period time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(period)
	for time.Now().Before(deadline) {
		if cond() {
			t.Fatalf("unexpectedly: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func connected(a, b *testNode) bool {
	return a.lh.Network().Connectedness(b.ID()) == network.Connected
}

// gossipReady reports whether n sees want peers on both topics.
func gossipReady(n *testNode, want int) bool {
	return len(n.txTopic.ListPeers()) >= want && len(n.consTopic.ListPeers()) >= want
}

func peerInfo(n *testNode, id peer.ID) (PeerInfo, bool) {
	for _, p := range n.Peers() {
		if p.ID == id {
			return p, true
		}
	}
	return PeerInfo{}, false
}

// waitStatus waits until n knows the height of every peer in ids.
func waitStatus(t *testing.T, n *testNode, ids ...peer.ID) {
	t.Helper()
	eventually(t, 10*time.Second, n.name+" to learn its peers' heights", func() bool {
		for _, id := range ids {
			if info, ok := peerInfo(n, id); !ok || info.StatusAt.IsZero() {
				return false
			}
		}
		return true
	})
}

// openStream opens a stream of proto from c to server, closed when the
// test ends, with every read and write due within deadline.
func openStream(t *testing.T, c, server *testNode, proto protocol.ID, deadline time.Duration) network.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.lh.NewStream(ctx, server.ID(), proto)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.SetDeadline(time.Now().Add(deadline))
	return s
}

// largeBlocks is a chain of blocks 1 to n, each a good block padded to
// size bytes, with a commit each: answers far above the stream buffers
// and flow-control windows.
func largeBlocks(n uint64, size int) *memBlocks {
	blocks := &memBlocks{}
	for h := uint64(1); h <= n; h++ {
		b := make([]byte, size)
		copy(b, goodBlock(h))
		blocks.add(b, []byte(fmt.Sprintf("commit-%d", h)))
	}
	return blocks
}
