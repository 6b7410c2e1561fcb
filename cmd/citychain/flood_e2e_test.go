package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/citychain/citychain/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Limits of the attacker's flood: whichever comes first. The test stops
// it sooner once it has seen the attacker cut off.
const (
	floodFor    = 8 * time.Second
	floodRounds = 2000 // each round sends one message of each kind
)

// TestFloodingPeerIsCutOff joins an attacker to a 4-validator devnet. It
// is a libp2p host of its own whose validators accept everything, so it
// publishes what no honest node accepts: random bytes, transactions with
// a broken signature, and votes signed by a key that is not a
// validator's or that do not match their signer. Node0, the only node it
// knows, rejects them; the attacker's gossip score falls below the gray
// list, node0 disconnects and bans it and refuses its redials. Meanwhile
// the four validators keep making the same blocks.
func TestFloodingPeerIsCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	d := startDevnet(t, 4)
	all := []int{0, 1, 2, 3}
	transfer(t, d.nodes[0], 0, 1, true)
	d.waitHeight(t, 2, 30*time.Second, all...)
	node0 := p2pID(t, d.net.Nodes[0].P2P)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node0 log (end):\n%s", logTail(d.net.Nodes[0].Home, 40))
		}
	})

	attacker := startAttacker(t, d.net.ChainID, d.net.Nodes[0].P2P)
	eventually(t, 20*time.Second, "attacker connected to node0", func() bool {
		listed, ok := lists(d, 0, attacker.ID())
		return hasPeer(attacker, node0) && listed && ok
	})

	start := d.height(0)
	flood := newFlood(t, d.net.ChainID, d.net.Nodes[1].Validator)
	floodCtx, stopFlood := context.WithTimeout(context.Background(), floodFor)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		flood.run(floodCtx, attacker)
	}()
	defer wg.Wait() // runs before the cleanup that closes the attacker
	defer stopFlood()

	// A block during the flood.
	transfer(t, d.nodes[1], 1, 1, true)

	// Node0 says why it cut the attacker off, and both sides show it.
	var banLine string
	eventually(t, 20*time.Second, "node0 to ban the attacker", func() bool {
		for _, l := range strings.Split(logTail(d.net.Nodes[0].Home, 200), "\n") {
			if strings.Contains(l, "gossip score is below the gray list") && strings.Contains(l, attacker.ID().String()) {
				banLine = l
				return true
			}
		}
		return false
	})
	t.Logf("node0: %s", banLine)
	eventually(t, 10*time.Second, "attacker gone from node0's peers and node0 from the attacker's", func() bool {
		listed, ok := lists(d, 0, attacker.ID())
		return ok && !listed && !hasPeer(attacker, node0)
	})

	// The attacker redials node0 every 500ms (its bootstrap peer) and goes
	// on flooding; no node lists it, and it never stays connected. A dial
	// can look connected on the attacker's side for a moment, until node0
	// closes it after the handshake.
	longest, since := time.Duration(0), time.Time{}
	watch := time.Now()
	for time.Since(watch) < 4*time.Second {
		for _, i := range all {
			switch listed, ok := lists(d, i, attacker.ID()); {
			case !ok:
				t.Fatalf("node%d does not answer GET /v1/peers", i)
			case listed:
				t.Fatalf("node%d lists the banned attacker", i)
			}
		}
		switch up := hasPeer(attacker, node0); {
		case up && since.IsZero():
			since = time.Now()
		case up:
			longest = max(longest, time.Since(since))
		default:
			since = time.Time{}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if longest > time.Second {
		t.Errorf("the banned attacker stayed connected to node0 for %s", longest)
	}
	stopFlood()

	// A block after the flood; every node has it and the same chain.
	transfer(t, d.nodes[2], 2, 1, true)
	d.waitHeight(t, start+2, 30*time.Second, all...)
	d.checkSameChain(t, all...)
	wg.Wait()
	t.Logf("flood of %s: %d messages sent while connected, %d after the cut-off to no one; chain grew from %d to %d",
		flood.took.Round(time.Millisecond), flood.sent, flood.dropped, start, d.height(0))
}

// startAttacker starts an in-process libp2p host on 127.0.0.1 with
// bootstrap as its only peer. It accepts every gossip message, so it
// relays and publishes anything. It is closed when the test ends.
func startAttacker(t *testing.T, chainID, bootstrap string) *p2p.Host {
	t.Helper()
	key, err := p2p.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	acceptAll := func([]byte) (any, error) { return nil, nil }
	drop := func(peer.ID, []byte, any) {}
	h, err := p2p.New(p2p.Config{
		ChainID:           chainID,
		Key:               key,
		ListenAddrs:       []string{"/ip4/127.0.0.1/tcp/0"},
		Bootstrap:         []string{bootstrap},
		Blocks:            noBlocks{},
		ValidateTx:        acceptAll,
		ValidateConsensus: acceptAll,
		OnTx:              drop,
		OnConsensus:       drop,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		RedialInterval:    500 * time.Millisecond,
		DialTimeout:       2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("close attacker: %v", err)
		}
	})
	return h
}

// noBlocks is the attacker's empty block store.
type noBlocks struct{}

func (noBlocks) Height() uint64 { return 0 }

func (noBlocks) BlockAndCommit(h uint64) ([]byte, []byte, error) {
	return nil, nil, fmt.Errorf("no block %d", h)
}

// flood makes messages that every honest node's validators reject.
type flood struct {
	chainID string
	rogue   *crypto.PrivateKey // signs, but is no validator's key
	victim  chain.Address      // a real validator, whose votes it forges

	sent    int // published while the attacker had a connection
	dropped int // published with no peer to send them to
	took    time.Duration
}

func newFlood(t *testing.T, chainID, victim string) *flood {
	t.Helper()
	rogue, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	addr, err := chain.ParseAddress(victim)
	if err != nil {
		t.Fatal(err)
	}
	return &flood{chainID: chainID, rogue: rogue, victim: addr}
}

// run publishes four invalid messages a round, two on each topic, until
// floodRounds rounds have been sent or ctx ends. Publishing without peers
// (once the attacker is cut off) is not an error; it reaches no one.
func (f *flood) run(ctx context.Context, h *p2p.Host) {
	start := time.Now()
	for i := 0; i < floodRounds && ctx.Err() == nil; i++ {
		count := &f.dropped
		if len(h.Peers()) > 0 {
			count = &f.sent
		}
		for _, m := range [][]byte{randomBytes(64 + i%200), f.badTx(uint64(i))} {
			if h.PublishTx(ctx, m) == nil {
				*count++
			}
		}
		for _, m := range [][]byte{f.rogueVote(uint64(i)), f.forgedVote(uint64(i))} {
			if h.PublishConsensus(ctx, m) == nil {
				*count++
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	f.took = time.Since(start)
}

// badTx is a well-formed transfer whose signature has one byte flipped.
func (f *flood) badTx(nonce uint64) []byte {
	p, _ := chain.EncodePayload(map[string]any{"to": node.DevAccounts()[9].Address.String(), "amount": 1})
	tx := &chain.Tx{ChainID: f.chainID, App: "bank", Action: "send", Payload: p, Nonce: nonce}
	tx.Sign(f.rogue)
	tx.Signature[len(tx.Signature)/2] ^= 0xff
	return tx.Encode()
}

// rogueVote is a correctly signed prevote by a key that is not in the
// validator set.
func (f *flood) rogueVote(n uint64) []byte {
	v := &chain.Vote{ChainID: f.chainID, Type: chain.Prevote, Height: 1 + n, BlockHash: randomHash(),
		Validator: chain.AddressOf(f.rogue.PublicKey())}
	v.Sign(f.rogue)
	return chain.MustEncode(&chain.ConsensusMessage{Vote: v})
}

// forgedVote claims to be a real validator's precommit but is signed by
// the rogue key.
func (f *flood) forgedVote(n uint64) []byte {
	v := &chain.Vote{ChainID: f.chainID, Type: chain.Precommit, Height: 1 + n, BlockHash: randomHash(),
		Validator: f.victim}
	v.Sign(f.rogue)
	return chain.MustEncode(&chain.ConsensusMessage{Vote: v})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomHash() (h chain.Hash) {
	_, _ = rand.Read(h[:])
	return h
}

// p2pID returns the peer ID at the end of a /p2p/ multiaddr.
func p2pID(t *testing.T, addr string) peer.ID {
	t.Helper()
	a, err := ma.NewMultiaddr(addr)
	if err != nil {
		t.Fatal(err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(a)
	if err != nil {
		t.Fatal(err)
	}
	return ai.ID
}

// hasPeer reports whether h has a connection to id.
func hasPeer(h *p2p.Host, id peer.ID) bool {
	return slices.ContainsFunc(h.Peers(), func(p p2p.PeerInfo) bool { return p.ID == id })
}

// listedPeers returns the peer IDs in node i's GET /v1/peers; ok is false
// if the node does not answer.
func listedPeers(d *devnetProc, i int) (ids []string, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out struct {
		Peers []node.PeerView `json:"peers"`
	}
	if err := d.nodes[i].Get(ctx, "/v1/peers", &out); err != nil {
		return nil, false
	}
	for _, p := range out.Peers {
		ids = append(ids, p.ID)
	}
	return ids, true
}

// lists reports whether node i answers and lists peer id.
func lists(d *devnetProc, i int, id peer.ID) (listed, ok bool) {
	ids, ok := listedPeers(d, i)
	return slices.Contains(ids, id.String()), ok
}

// logTail returns the last n lines of a devnet node's log.
func logTail(home string, n int) string {
	b, err := os.ReadFile(filepath.Join(home, "node.log"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "(no node.log)"
		}
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// eventually polls cond every 100ms until it holds or limit passes.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
