package node

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/poa"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/store"
	"github.com/citychain/citychain/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The harness of the block sync tests: a chain made by a chainGen, peers
// that serve it (or a doctored copy) block by block, and a new full node
// that joins and catches up through the real pipeline (syncLoop and its
// stages) and the real engine, with a store on disk.

// growChain stores blocks more blocks on g's chain, each with txs transfers
// between dev accounts 1 to 3, and keeps g.vals the set of the next
// height.
func growChain(g *chainGen, blocks, txs int) {
	g.t.Helper()
	for range blocks {
		for j := range txs {
			g.transfer(1+j%3, 1+(j+1)%3, 1)
		}
		g.extend()
		vals, err := chain.LoadValidators(g.n.store)
		if err != nil {
			g.t.Fatal(err)
		}
		g.vals = vals
	}
}

// servedChain returns g's stored blocks and commits as a peer serves them,
// heights 1 to the tip at index 0 on.
func servedChain(g *chainGen) [][2][]byte {
	g.t.Helper()
	src := blockSource{g.n}
	var out [][2][]byte
	for h := uint64(1); h <= g.n.store.Latest().Height; h++ {
		b, c, err := src.BlockAndCommit(h)
		if err != nil {
			g.t.Fatal(err)
		}
		out = append(out, [2][]byte{b, c})
	}
	return out
}

// txsInChain counts the transactions of a served chain.
func txsInChain(t *testing.T, blocks [][2][]byte) int {
	t.Helper()
	n := 0
	for _, e := range blocks {
		b, err := chain.DecodeBlock(e[0])
		if err != nil {
			t.Fatal(err)
		}
		n += len(b.Txs)
	}
	return n
}

// poaVoteTx is validator key's vote (nonce 0) for proposal m.
func poaVoteTx(t *testing.T, chainID string, key *crypto.PrivateKey, m poa.Propose) *chain.Tx {
	t.Helper()
	payload, err := chain.EncodePayload(m)
	if err != nil {
		t.Fatal(err)
	}
	tx := &chain.Tx{ChainID: chainID, App: poa.Name, Action: poa.ActionPropose, Payload: payload}
	tx.Sign(key)
	return tx
}

// fakePeers are the peers of the joining node: each serves a chain and
// claims its height. It implements fetcher and streamer, as p2p.Host
// does: BanPeer cuts a peer off, AvoidForSync records the rest.
type fakePeers struct {
	mu      sync.Mutex
	chains  map[peer.ID][][2][]byte
	cutAt   map[peer.ID]int // the peer's answers break off after this many blocks
	hangAt  map[peer.ID]int // the peer's answers stop after this many blocks, until the request ends
	banned  map[peer.ID]string
	avoided map[peer.ID]time.Duration
	asked   []fakeAsk
	served  int
	gap     time.Duration // pause before each block of an answer
	// beforeDeliver runs before each block is handed over.
	beforeDeliver func()
}

// fakeAsk is one request a fakePeers answered.
type fakeAsk struct {
	peer     peer.ID
	from, to uint64
}

func newFakePeers() *fakePeers {
	return &fakePeers{chains: map[peer.ID][][2][]byte{}, cutAt: map[peer.ID]int{}, hangAt: map[peer.ID]int{},
		banned: map[peer.ID]string{}, avoided: map[peer.ID]time.Duration{}}
}

func (f *fakePeers) add(id peer.ID, blocks [][2][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.chains[id] = blocks
}

func (f *fakePeers) Peers() []p2p.PeerInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []p2p.PeerInfo
	for id, c := range f.chains {
		if _, gone := f.banned[id]; !gone {
			out = append(out, p2p.PeerInfo{ID: id, Height: uint64(len(c)), StatusAt: time.Now()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (f *fakePeers) StreamBlocks(ctx context.Context, p peer.ID, from, to uint64, deliver func(p2p.Entry)) (int, error) {
	f.mu.Lock()
	blocks, cut, hang := f.chains[p], f.cutAt[p], f.hangAt[p]
	f.asked = append(f.asked, fakeAsk{p, from, to})
	f.mu.Unlock()
	n := 0
	for h := from; h <= to && h <= uint64(len(blocks)); h++ {
		if cut > 0 && n == cut {
			return n, fmt.Errorf("%w: answer cut short", p2p.ErrProtocol)
		}
		if hang > 0 && n == hang {
			<-ctx.Done()
			return n, ctx.Err()
		}
		if f.gap > 0 {
			select {
			case <-time.After(f.gap):
			case <-ctx.Done():
				return n, ctx.Err()
			}
		}
		if f.beforeDeliver != nil {
			f.beforeDeliver()
		}
		deliver(p2p.Entry{Block: blocks[h-1][0], Commit: blocks[h-1][1]})
		n++
		f.mu.Lock()
		f.served++
		f.mu.Unlock()
	}
	if n == 0 {
		return 0, p2p.ErrNoBlocks
	}
	return n, nil
}

func (f *fakePeers) FetchBlocks(ctx context.Context, p peer.ID, from, to uint64) ([]p2p.Entry, error) {
	var out []p2p.Entry
	if _, err := f.StreamBlocks(ctx, p, from, to, func(e p2p.Entry) { out = append(out, e) }); err != nil {
		return nil, err
	}
	return out, nil
}

func (f *fakePeers) AvoidForSync(p peer.ID, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.avoided[p] = d
}

func (f *fakePeers) BanPeer(p peer.ID, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.banned[p] = reason
}

func (f *fakePeers) bannedFor(p peer.ID) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.banned[p]
	return r, ok
}

func (f *fakePeers) servedBlocks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served
}

func (f *fakePeers) requests() []fakeAsk {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeAsk(nil), f.asked...)
}

// joiner is a new full node of g's chain (its key is no validator's)
// that catches up from fakePeers.
type joiner struct {
	t      testing.TB
	n      *Node
	e      *engine
	f      *fakePeers
	logs   *syncLog
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// syncLog keeps a node's log lines for the test to read.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newJoiner(t testing.TB, g *chain.Genesis, f *fakePeers) *joiner {
	t.Helper()
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	j := &joiner{t: t, f: f, logs: &syncLog{}}
	n := &Node{cfg: DefaultConfig("joiner", 0), log: slog.New(slog.NewTextHandler(j.logs, nil)), clock: time.Now,
		bus: NewBus(), waiters: newWaiters(), quit: make(chan struct{}), network: true}
	if j.n, err = assemble(n, g, DevValidatorKey(9), st, newMemVault(), nil); err != nil {
		t.Fatal(err)
	}
	if j.e, err = newEngine(j.n, nil, nil); err != nil {
		t.Fatal(err)
	}
	j.ctx, j.cancel = context.WithCancel(context.Background())
	t.Cleanup(j.stop)
	return j
}

// startEngine runs the engine's goroutine, startSync the sync loop's.
func (j *joiner) startEngine() { j.run(func() { j.e.run(j.ctx) }) }
func (j *joiner) startSync()   { j.run(func() { j.e.syncLoop(j.ctx, j.f) }) }

func (j *joiner) run(fn func()) {
	j.wg.Add(1)
	go func() { // exits when j.ctx ends
		defer j.wg.Done()
		fn()
	}()
}

// stop ends the node's goroutines, which must all return within a few
// seconds, and closes it. Only the first call does anything.
func (j *joiner) stop() { j.once.Do(j.stopOnce) }

func (j *joiner) stopOnce() {
	j.cancel()
	done := make(chan struct{})
	go func() { j.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		j.t.Error("the sync goroutines did not return within 10 s of the end of their context")
		return
	}
	j.n.Stop()
}

func (j *joiner) height() uint64 { return j.n.store.Latest().Height }

// waitHeight waits until the joiner stored height h.
func (j *joiner) waitHeight(h uint64, limit time.Duration) {
	j.t.Helper()
	deadline := time.Now().Add(limit)
	for j.height() < h {
		if time.Now().After(deadline) {
			j.t.Fatalf("the joiner reached height %d of %d in %s; its log:\n%s", j.height(), h, limit, j.logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sameBlocks checks that the joiner stored exactly the served blocks.
func (j *joiner) sameBlocks(blocks [][2][]byte) {
	j.t.Helper()
	for i, e := range blocks {
		want, err := chain.DecodeBlock(e[0])
		if err != nil {
			j.t.Fatal(err)
		}
		got, err := j.n.store.Block(uint64(i + 1))
		if err != nil {
			j.t.Fatalf("block %d: %v", i+1, err)
		}
		if got.Hash() != want.Hash() {
			j.t.Fatalf("block %d: stored %s, served %s", i+1, got.Hash(), want.Hash())
		}
	}
}

// syncWait waits up to limit for cond.
func syncWait(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
