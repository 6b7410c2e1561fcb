package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
	"github.com/citychain/citychain/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Limits of the hostile peer's minute.
const (
	hostileFor = time.Minute
	// afterBans is how long the measurement goes on once every validator
	// has banned the hostile peer (the flood goes on meanwhile), before
	// the minute ends early.
	afterBans     = 10 * time.Second
	hostileRounds = 30000 // each round publishes one far-future vote and one stale re-send
	// hostileClaim is how far above the honest chain the hostile peer
	// claims to be in the status exchange.
	hostileClaim = 100000
	// calmFor is how long the undisturbed block interval is measured.
	calmFor = 10 * time.Second
	// loadEvery is the pace of the light transaction load that keeps
	// blocks coming during both measurements.
	loadEvery = 200 * time.Millisecond
	// hostileStall is the longest node0 may go without a new block under
	// the hostile peer: several rounds of the default timeouts, far above
	// a calm block interval. It tells a chain that stopped from one that
	// slowed; how much it slows is logged, not asserted.
	hostileStall = 20 * time.Second
)

// TestHostilePeerIsBannedAndCostsLittle joins a hostile peer to a
// 4-validator devnet for up to a minute (until every validator has banned
// it and ten more seconds have passed). It is a libp2p host in the test binary
// that dials every validator and
//
//   - floods votes for heights 50 to 5000 above the chain, each validly
//     signed by validator 1's key: no node can judge them yet, so they
//     are ignored, at no cost to anyone;
//   - re-publishes proposals and votes of decided heights that it heard
//     on the consensus topic, each with a new Resend number so that
//     gossip sees new bytes: stale, so ignored too;
//   - claims, in the status exchange, a height 100,000 above the chain,
//     and holds every block sync request past the asker's timeout
//     without serving a block.
//
// Block sync tries every peer that claims a greater height once, so every
// validator asks the hostile peer; it stalls, rests, stalls again, and a
// validator bans it after three stalls in a row. Meanwhile blocks keep
// coming, never more than hostileStall apart (the interval against the
// undisturbed one, under the same light transaction load, is logged), and
// the validators keep making the same blocks.
func TestHostilePeerIsBannedAndCostsLittle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	d := startDevnet(t, 4)
	all := []int{0, 1, 2, 3}
	transfer(t, d.nodes[0], 0, 1, true)
	d.waitHeight(t, 2, 30*time.Second, all...)
	t.Cleanup(func() {
		if t.Failed() {
			for _, i := range all {
				t.Logf("node%d log (end):\n%s", i, logTail(d.net.Nodes[i].Home, 30))
			}
		}
	})

	load := startLoad(t, d, all)
	defer load.stop()
	time.Sleep(2 * time.Second) // let the load settle into a steady pace
	calm := measureInterval(d, calmFor, nil)
	t.Logf("undisturbed: %s", calm)
	if calm.blocks < 5 {
		t.Fatalf("only %d blocks in %s of light load: the devnet is not making blocks", calm.blocks, calmFor)
	}

	var addrs []string
	for _, i := range all {
		addrs = append(addrs, d.net.Nodes[i].P2P)
	}
	hp := startHostile(t, d, addrs)
	eventually(t, 20*time.Second, "the hostile peer connected to every validator", func() bool {
		for _, i := range all {
			if listed, ok := lists(d, i, hp.host.ID()); !listed || !ok {
				return false
			}
		}
		return true
	})

	ctx, stop := context.WithTimeout(context.Background(), hostileFor)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		hp.flood(ctx)
	}()
	defer wg.Wait() // before the cleanups close the hostile host
	defer stop()

	// Once a second through the minute: node0's height, whether the
	// hostile peer still has a connection, and who has banned it. The
	// minute ends early once every validator has banned it and afterBans
	// more have passed under its flood.
	bannedBy := map[int]time.Duration{}
	start := time.Now()
	var connected span // the stretch while the hostile peer reached a node
	// stall is the longest node0's height stood still, as checks about a
	// second apart see it.
	best, bestAt := d.height(0), start
	var stall time.Duration
	progress := func() {
		now := time.Now()
		stall = max(stall, now.Sub(bestAt))
		if h := d.height(0); h > best {
			best, bestAt = h, now
		}
	}
	hostile := measureInterval(d, hostileFor, func() bool {
		progress()
		for _, i := range all {
			if _, seen := bannedBy[i]; !seen && bans(d, i, hp.host.ID()) {
				bannedBy[i] = time.Since(start).Round(time.Second)
			}
		}
		if len(hp.host.Peers()) > 0 {
			connected.to, connected.took = d.height(0), time.Since(start)
		}
		return len(bannedBy) == len(all) && time.Since(start) > slices.Max(slices.Collect(maps.Values(bannedBy)))+afterBans
	})
	progress()
	stop()
	wg.Wait()
	connected.from = hostile.from
	if connected.to > connected.from {
		connected.blocks = connected.to - connected.from
	}
	t.Logf("under the hostile peer: %s; while it was connected: %s", hostile, connected)
	t.Logf("it published %d far-future votes and %d stale re-sends while connected; %d sync requests reached it",
		hp.future.Load(), hp.resent.Load(), hp.asked.Load())
	t.Logf("banned by (node: after): %v", bannedBy)
	t.Logf("block interval against the undisturbed one: %.2fx over the hostile minute, %.2fx while it was connected; height at most %s without rising (checked once a second)",
		float64(hostile.interval())/float64(calm.interval()), float64(connected.interval())/float64(calm.interval()),
		stall.Round(time.Millisecond))

	// Liveness, not speed: the chain went on under the hostile peer.
	if hostile.blocks == 0 || stall > hostileStall {
		t.Errorf("under the hostile peer: %s; node0 once went %s without a new block, want at most %s",
			hostile, stall.Round(time.Millisecond), hostileStall)
	}
	if hp.future.Load() == 0 || hp.resent.Load() == 0 {
		t.Errorf("the hostile peer published %d far-future votes and %d stale re-sends while connected; want both",
			hp.future.Load(), hp.resent.Load())
	}
	// What the hostile peer sent was ignored at the gossip door: none of
	// it reached a consensus engine, whose inbox never overflowed.
	for _, i := range all {
		if l := grepLog(d.net.Nodes[i].Home, "consensus inbox full", 3); l != "" {
			t.Errorf("node%d's consensus inbox overflowed:\n%s", i, l)
		}
	}
	if len(bannedBy) == 0 {
		var lines []string
		for _, i := range all {
			lines = append(lines, fmt.Sprintf("node%d:\n%s", i, grepLog(d.net.Nodes[i].Home, hp.host.ID().String(), 8)))
		}
		t.Fatalf("no validator banned the hostile peer within %s (%d sync requests reached it); its lines in the logs:\n%s",
			hostileFor, hp.asked.Load(), strings.Join(lines, "\n"))
	}
	// The ban is for stalling block sync, not for gossip, and it holds:
	// the banning node has dropped the hostile peer and refuses its
	// redials (every second, its bootstrap list).
	for i := range bannedBy {
		if listed, ok := lists(d, i, hp.host.ID()); !ok || listed {
			t.Errorf("node%d banned the hostile peer but lists it among its peers (answered: %v)", i, ok)
		}
		log := grepLog(d.net.Nodes[i].Home, hp.host.ID().String(), 200)
		if !strings.Contains(log, "sync stalls") {
			t.Errorf("node%d banned the hostile peer, but not for sync stalls:\n%s", i, log)
		}
		if strings.Contains(log, "gossip score is below the gray list") {
			t.Errorf("node%d banned the hostile peer for its gossip score; its messages were only ignorable:\n%s", i, log)
		}
	}

	// The validators made the same blocks throughout.
	top := d.checkSameChain(t, all...)
	if top < hostile.to {
		t.Errorf("common height %d, want at least %d", top, hostile.to)
	}
}

// span is a measured stretch of the chain: blocks made in a duration.
type span struct {
	from, to, blocks uint64
	took             time.Duration
}

// interval is the mean time between blocks, or the whole duration if no
// block was made.
func (s span) interval() time.Duration {
	if s.blocks == 0 {
		return s.took
	}
	return s.took / time.Duration(s.blocks)
}

func (s span) String() string {
	return fmt.Sprintf("%d blocks (%d to %d) in %s, one per %s", s.blocks, s.from, s.to,
		s.took.Round(time.Millisecond), s.interval().Round(time.Millisecond))
}

// measureInterval counts node0's blocks over dur, calling each (if set)
// about once a second meanwhile; it ends early when each reports done.
func measureInterval(d *devnetProc, dur time.Duration, each func() (done bool)) span {
	from, start := d.height(0), time.Now()
	for time.Since(start) < dur {
		if each != nil && each() {
			break
		}
		time.Sleep(min(time.Second, dur-time.Since(start)))
	}
	to := d.height(0)
	s := span{from: from, to: to, took: time.Since(start)}
	if to > from {
		s.blocks = to - from
	}
	return s
}

// txLoad keeps a light, steady stream of transfers going: every loadEvery
// one transfer, from dev accounts 4 and up, one account per node so that
// each node sees its sender's nonces in order. Nonces are counted here,
// so no request waits for a commit.
type txLoad struct {
	sent, failed atomic.Int64
	cancel       context.CancelFunc
	done         chan struct{}
}

func startLoad(t *testing.T, d *devnetProc, nodes []int) *txLoad {
	t.Helper()
	type sender struct {
		cl    *client.Client
		key   *crypto.PrivateKey
		nonce uint64
	}
	ctx, cancel := context.WithCancel(context.Background())
	var senders []*sender
	for k, i := range nodes {
		s := &sender{cl: d.nodes[i], key: node.DevKey(4 + k)}
		a, err := s.cl.Account(ctx, chain.AddressOf(s.key.PublicKey()))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		s.nonce = a.PendingNonce
		senders = append(senders, s)
	}
	to := node.DevAccounts()[9].Address.String()
	l := &txLoad{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(loadEvery)
		defer tick.Stop()
		for i := 0; ctx.Err() == nil; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			s := senders[i%len(senders)]
			p, _ := chain.EncodePayload(map[string]any{"to": to, "amount": 1})
			tx := &chain.Tx{ChainID: d.net.ChainID, App: "bank", Action: "send", Payload: p, Nonce: s.nonce}
			tx.Sign(s.key)
			sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := s.cl.Submit(sctx, tx, false)
			if err == nil {
				s.nonce++
				l.sent.Add(1)
			} else if ctx.Err() == nil {
				l.failed.Add(1)
				if a, err := s.cl.Account(sctx, chain.AddressOf(s.key.PublicKey())); err == nil {
					s.nonce = a.PendingNonce
				}
			}
			scancel()
		}
	}()
	return l
}

// stop ends the load and waits for it.
func (l *txLoad) stop() {
	l.cancel()
	<-l.done
}

// hostilePeer is the test's hostile libp2p host and what it has done.
type hostilePeer struct {
	host    *p2p.Host
	d       *devnetProc
	chainID string
	signer  *crypto.PrivateKey // validator 1's key: its votes verify
	blocks  *stallingBlocks

	mu    sync.Mutex
	heard []*chain.ConsensusMessage // consensus messages heard, for re-sending

	future, resent, asked atomic.Int64
}

// startHostile starts the hostile peer, bootstrapped to addrs. Its block
// source claims a height hostileClaim above node0's and never serves a
// block; the test's cleanup releases what it holds and closes it.
func startHostile(t *testing.T, d *devnetProc, addrs []string) *hostilePeer {
	t.Helper()
	key, err := p2p.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	hp := &hostilePeer{d: d, chainID: d.net.ChainID, signer: node.DevValidatorKey(1)}
	hp.blocks = &stallingBlocks{release: make(chan struct{}), asked: &hp.asked}
	hp.blocks.base.Store(d.height(0))
	acceptAll := func([]byte) (any, error) { return nil, nil }
	h, err := p2p.New(p2p.Config{
		ChainID:           d.net.ChainID,
		Key:               key,
		ListenAddrs:       []string{"/ip4/127.0.0.1/tcp/0"},
		Bootstrap:         addrs,
		Blocks:            hp.blocks,
		ValidateTx:        acceptAll,
		ValidateConsensus: acceptAll,
		OnTx:              func(peer.ID, []byte, any) {},
		OnConsensus:       hp.hear,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		RedialInterval:    time.Second,
		DialTimeout:       2 * time.Second,
		StatusInterval:    time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	hp.host = h
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("close the hostile peer: %v", err)
		}
	})
	// Registered after Close, so it runs before: Close waits for the
	// stream handlers that hold sync requests.
	t.Cleanup(hp.blocks.releaseAll)
	return hp
}

// hear keeps a copy of each consensus message the hostile peer receives,
// up to a bound.
func (hp *hostilePeer) hear(_ peer.ID, data []byte, _ any) {
	m, err := chain.DecodeConsensusMessage(hp.chainID, data)
	if err != nil {
		return
	}
	hp.mu.Lock()
	defer hp.mu.Unlock()
	if len(hp.heard) < 1024 {
		hp.heard = append(hp.heard, m)
	}
}

// stale returns the i-th heard message below height, modulo the number
// of such messages, or nil if there is none.
func (hp *hostilePeer) stale(i int, height uint64) *chain.ConsensusMessage {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	var old []*chain.ConsensusMessage
	for _, m := range hp.heard {
		if m.Height() < height {
			old = append(old, m)
		}
	}
	if len(old) == 0 {
		return nil
	}
	return old[i%len(old)]
}

// flood publishes, each round, one vote far above the chain signed by
// validator 1 and one stale message re-sent with a new Resend number,
// until hostileRounds rounds or ctx ends. Once a second it moves its
// claimed height along with node0's.
func (hp *hostilePeer) flood(ctx context.Context) {
	val := chain.AddressOf(hp.signer.PublicKey())
	height, checked := hp.d.height(0), time.Now()
	for i := 0; i < hostileRounds && ctx.Err() == nil; i++ {
		if time.Since(checked) > time.Second {
			if h := hp.d.height(0); h > 0 {
				height = h
				hp.blocks.base.Store(h)
			}
			checked = time.Now()
		}
		typ := chain.Prevote
		if i%2 == 1 {
			typ = chain.Precommit
		}
		v := &chain.Vote{ChainID: hp.chainID, Type: typ, Height: height + 50 + uint64(i%4951),
			Round: uint32(i % 3), BlockHash: randomHash(), Validator: val}
		v.Sign(hp.signer)
		reached := len(hp.host.Peers()) > 0 // publishing to no one is no flood
		if hp.host.PublishConsensus(ctx, chain.MustEncode(&chain.ConsensusMessage{Vote: v})) == nil && reached {
			hp.future.Add(1)
		}
		if m := hp.stale(i, height); m != nil {
			again := *m
			again.Resend = uint64(1000 + i)
			if hp.host.PublishConsensus(ctx, again.Encode()) == nil && reached {
				hp.resent.Add(1)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// stallingBlocks is the hostile peer's block source: it claims to be far
// ahead and holds every sync request without answering, until released
// or for stallHold, whichever comes first.
type stallingBlocks struct {
	base    atomic.Uint64
	release chan struct{}
	once    sync.Once
	asked   *atomic.Int64
}

// stallHold is how long the hostile peer holds one sync request: a little
// longer than a node waits for an answer (node/sync.go's 5 s request
// timeout), so the node sees a stall, not an empty answer. It must not be
// much longer: a p2p host answers at most 4 sync requests at once and
// resets the streams of the others as busy, which a node counts as a
// failure, not a stall; and a node asks again after a rest of 2 s (then
// 4 s), by when the held request must have let its place go.
const stallHold = 6 * time.Second

func (s *stallingBlocks) Height() uint64 { return s.base.Load() + hostileClaim }

func (s *stallingBlocks) BlockAndCommit(h uint64) ([]byte, []byte, error) {
	s.asked.Add(1)
	select {
	case <-s.release:
	case <-time.After(stallHold):
	}
	return nil, nil, fmt.Errorf("no block %d", h)
}

func (s *stallingBlocks) releaseAll() { s.once.Do(func() { close(s.release) }) }

// bans reports whether node i lists id among its banned peers.
func bans(d *devnetProc, i int, id peer.ID) bool {
	return slices.Contains(bannedPeers(d, i), id.String())
}

// bannedPeers returns the banned list of node i's GET /v1/peers (nil if
// it does not answer).
func bannedPeers(d *devnetProc, i int) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out struct {
		Banned []string `json:"banned"`
	}
	if err := d.nodes[i].Get(ctx, "/v1/peers", &out); err != nil {
		return nil
	}
	return out.Banned
}

// grepLog returns the last n lines of a node's log that contain s.
func grepLog(home, s string, n int) string {
	var out []string
	for _, l := range strings.Split(logTail(home, 100000), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out[max(0, len(out)-n):], "\n")
}
