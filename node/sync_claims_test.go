package node

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citychain/citychain/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Block sync against a peer whose claimed height is a lie: it claims
// the greatest height there is and answers every request with one real
// block, after a pause. Honest peers serve all they claim.

// claimPeers is fakePeers plus one such peer.
type claimPeers struct {
	*fakePeers
	liar   peer.ID
	claim  uint64
	pause  time.Duration // before the liar's one block
	blocks [][2][]byte   // what the liar really has

	lmu  sync.Mutex
	asks int // requests the liar had for heights it has
}

func (c *claimPeers) Peers() []p2p.PeerInfo {
	out := c.fakePeers.Peers()
	if _, gone := c.bannedFor(c.liar); !gone {
		out = append(out, p2p.PeerInfo{ID: c.liar, Height: c.claim, StatusAt: time.Now()})
	}
	return out
}

func (c *claimPeers) StreamBlocks(ctx context.Context, p peer.ID, from, to uint64, deliver func(p2p.Entry)) (int, error) {
	if p != c.liar {
		return c.fakePeers.StreamBlocks(ctx, p, from, to, deliver)
	}
	c.lmu.Lock()
	if from <= uint64(len(c.blocks)) {
		c.asks++
	}
	c.lmu.Unlock()
	if c.pause > 0 {
		select {
		case <-time.After(c.pause):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if from > uint64(len(c.blocks)) {
		return 0, p2p.ErrNoBlocks
	}
	deliver(p2p.Entry{Block: c.blocks[from-1][0], Commit: c.blocks[from-1][1]})
	return 1, nil
}

func (c *claimPeers) FetchBlocks(ctx context.Context, p peer.ID, from, to uint64) ([]p2p.Entry, error) {
	var out []p2p.Entry
	if _, err := c.StreamBlocks(ctx, p, from, to, func(e p2p.Entry) { out = append(out, e) }); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *claimPeers) liarAsks() int {
	c.lmu.Lock()
	defer c.lmu.Unlock()
	return c.asks
}

// claimJoiner starts a new node of a chain of some 30 blocks whose
// peers are the honest "honest" and the lying "liar", which pauses pause
// before each block it serves. It returns the node, its peers and the chain.
func claimJoiner(t *testing.T, pause time.Duration) (*joiner, *claimPeers, [][2][]byte) {
	t.Helper()
	g := newChainGen(t)
	growChain(g, 30, 0)
	blocks := servedChain(g)
	c := &claimPeers{fakePeers: newFakePeers(), liar: "liar", claim: math.MaxUint64, pause: pause, blocks: blocks}
	c.add("honest", blocks)
	j := newJoiner(t, g.n.genesis, c.fakePeers)
	j.f = nil // the node's peers are c, not c.fakePeers
	j.startEngine()
	j.run(func() { j.e.syncLoop(j.ctx, c) })
	return j, c, blocks
}

// The liar serves one block per request, each just over syncSlowAnswer
// and well within the request timeout. Ranked by its claim alone it
// would be asked for ever, and the node would need over a minute for
// the chain; it earns a strike for its short slow answer instead, and the
// honest peer serves the rest.
func TestSyncOutrunsAPeerThatClaimsAHugeHeightAndServesSlowly(t *testing.T) {
	j, c, blocks := claimJoiner(t, syncSlowAnswer+time.Second)
	j.waitHeight(uint64(len(blocks)), 15*time.Second)
	j.sameBlocks(blocks)
	if !strings.Contains(j.logs.String(), "short slow answer") {
		t.Errorf("the liar's answer was not judged short and slow; the log:\n%s", j.logs)
	}
	if n := c.liarAsks(); n > 3 {
		t.Errorf("the liar was asked %d times while the node caught up", n)
	}
	if _, banned := c.bannedFor("honest"); banned {
		t.Error("the honest peer was banned")
	}
}

// The liar serves one block per request at once. Its answers are short
// of its claim, so once it answered one, the honest peer, which serves
// all it claims, is asked first.
func TestSyncPrefersAPeerThatServesAllItClaims(t *testing.T) {
	j, c, blocks := claimJoiner(t, 0)
	j.waitHeight(uint64(len(blocks)), 15*time.Second)
	j.sameBlocks(blocks)
	if n := c.liarAsks(); n > 2 {
		t.Errorf("the liar was asked %d times for %d blocks the honest peer had", n, len(blocks))
	}
	honest := 0
	for _, a := range c.requests() {
		if a.peer == "honest" {
			honest++
		}
	}
	if honest == 0 {
		t.Error("the honest peer was never asked")
	}
}

// pick's ranking on its own: an honest peer that serves fully and fast
// stays first; a peer not heard yet is tried once; a peer whose answer
// was short ranks after any other peer ahead, even one whose claim
// covers less, and is still asked when no one else is ahead.
func TestSyncPickRanksByWhatPeersDelivered(t *testing.T) {
	now := time.Now()
	s := newSyncer()
	peers := func(ps ...p2p.PeerInfo) []p2p.PeerInfo { return ps }
	fast := p2p.PeerInfo{ID: "fast", Height: 1000}
	slow := p2p.PeerInfo{ID: "slow", Height: 2000}
	liar := p2p.PeerInfo{ID: "liar", Height: math.MaxUint64}
	near := p2p.PeerInfo{ID: "near", Height: 15}
	want := func(name string, ps []p2p.PeerInfo, id peer.ID) {
		t.Helper()
		got, _, ok := s.pick(now, 10, ps)
		if !ok || got != id {
			t.Errorf("%s: picked %q, want %q", name, got, id)
		}
	}
	want("nobody heard yet: the greatest claim", peers(fast, slow, liar), "liar")
	s.delivered(now, "fast", 100, 100*time.Millisecond, true, false)
	s.delivered(now, "slow", 100, 2*time.Second, true, false)
	want("unheard first", peers(fast, slow, liar), "liar")
	s.delivered(now, "liar", 1, 10*time.Millisecond, true, true)
	want("the faster of two full peers", peers(fast, slow, liar), "fast")
	want("a full peer before a short one", peers(slow, liar), "slow")
	want("a short peer after one that covers less", peers(near, liar), "near")
	want("a short peer when no one else is ahead", peers(liar), "liar")
	s.delivered(now, "liar", 100, 10*time.Millisecond, true, false)
	want("a full answer clears the mark", peers(fast, liar), "liar")
	s.delivered(now, "fast", 100, 100*time.Millisecond, true, false)
	s.delivered(now, "fast", 100, 100*time.Millisecond, true, false)
	s.delivered(now, "slow", 100, time.Millisecond, true, false)
	want("the rate follows the latest answers", peers(fast, slow), "slow")
}
