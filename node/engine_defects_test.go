package node

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Scenarios for the defects of the consensus driver listed in issue 10,
// one test (or more) each, in the words of validators A, B, C and D.

// Defect 1: a message of another height is never held against the peer
// that forwarded it. Only what is provably wrong under the validator set
// of the message's own height is rejected.
func TestGossipJudgesAMessageByItsOwnHeight(t *testing.T) {
	r := newRig(t, 0)
	r.e.startHeight(r.ctx, 1)
	b := r.blockBy(r.addr(r.proposerOf(1, 0)))
	notProposer := (r.proposerOf(2, 0) + 1) % 4
	forged := r.vote(1, chain.Prevote, 1, 0, chain.Hash{7})
	forged.Signature[10] ^= 1
	e := DevValidatorKey(4) // not a validator at height 1; may be one later
	eVote := chain.Vote{ChainID: testChainID, Type: chain.Prevote, Height: 2, Round: 0,
		BlockHash: chain.Hash{5}, Validator: chain.AddressOf(e.PublicKey())}
	eVote.Sign(e)
	cases := []struct {
		name string
		msg  *chain.ConsensusMessage
		want string // "accept", "ignore" or "reject"
	}{
		{"B's prevote for the height being decided", &chain.ConsensusMessage{Vote: r.vote(1, chain.Prevote, 1, 0, b.Hash())}, "accept"},
		{"the round's proposal", &chain.ConsensusMessage{Proposal: r.proposal(r.addr(r.proposerOf(1, 0)), 1, 0, b)}, "accept"},
		{"C's prevote for the next height", &chain.ConsensusMessage{Vote: r.vote(2, chain.Prevote, 2, 0, chain.Hash{1})}, "accept"},
		{"a proposal for the next height from a validator the new set may make its proposer",
			&chain.ConsensusMessage{Proposal: r.proposal(r.addr(notProposer), 2, 0, b)}, "ignore"},
		{"a proposal for height 9 from a validator who is not its proposer today",
			&chain.ConsensusMessage{Proposal: r.proposal(r.addr(notProposer), 9, 3, b)}, "ignore"},
		{"a vote for the next height by E, who joins at that height", &chain.ConsensusMessage{Vote: &eVote}, "ignore"},
		{"a vote for a height already decided", &chain.ConsensusMessage{Vote: r.vote(1, chain.Prevote, 0, 0, chain.Hash{})}, "ignore"},
		{"a vote far ahead", &chain.ConsensusMessage{Vote: r.vote(1, chain.Prevote, 500, 0, chain.Hash{})}, "ignore"},
		{"a proposal of the height being decided from the wrong proposer",
			&chain.ConsensusMessage{Proposal: r.proposal(r.addr((r.proposerOf(1, 0)+1)%4), 1, 0, b)}, "ignore"},
		{"B's prevote with a forged signature", &chain.ConsensusMessage{Vote: forged}, "reject"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := r.n.validateGossipConsensus(chain.MustEncode(c.msg))
			got := "accept"
			switch {
			case errors.Is(err, p2p.ErrIgnore):
				got = "ignore"
			case err != nil:
				got = "reject"
			}
			if got != c.want {
				t.Fatalf("validator says %s (%v), want %s", got, err, c.want)
			}
		})
	}
	if err := r.n.validateGossipConsensus([]byte{0xff, 0x00}); err == nil || errors.Is(err, p2p.ErrIgnore) {
		t.Fatalf("malformed bytes: %v, want a rejection", err)
	}
}

// Defect 2: one faulty validator that signs thousands of votes for later
// heights cannot crowd out an honest early message for the next height.
func TestFutureVotesCannotPinTheBuffer(t *testing.T) {
	r := newRig(t, 0)
	r.e.startHeight(r.ctx, 1)
	for i := range 2000 {
		// B floods heights far ahead and the next height in many rounds.
		r.send(&chain.ConsensusMessage{Vote: r.vote(1, chain.Prevote, 3+uint64(i), 0, chain.Hash{1})})
		r.send(&chain.ConsensusMessage{Vote: r.vote(1, chain.Prevote, 2, uint32(i), chain.Hash{2})})
	}
	if n := len(r.e.future.msgs); n > futurePerValidator {
		t.Fatalf("the buffer holds %d of B's messages, want at most %d", n, futurePerValidator)
	}
	honest := r.vote(2, chain.Prevote, 2, 0, chain.Hash{3}) // C, early for height 2
	r.send(&chain.ConsensusMessage{Vote: honest})
	r.e.startHeight(r.ctx, 2)
	if !r.voted(2, chain.Prevote, 0, chain.Hash{3}) {
		t.Fatal("C's early prevote for height 2 was lost behind B's flood")
	}
	if !r.voted(1, chain.Prevote, 0, chain.Hash{2}) {
		t.Error("B's own round-0 prevote for height 2 should have kept its place (the farthest rounds go first)")
	}
}

// stallFetcher is a peer that claims a great height and answers sync
// requests only when released.
type stallFetcher struct {
	asked   chan struct{}
	release chan struct{}
	mu      sync.Mutex
	calls   int
	banned  []string
}

func (f *stallFetcher) Peers() []p2p.PeerInfo {
	return []p2p.PeerInfo{{ID: peer.ID("staller"), Height: 100_000}}
}

func (f *stallFetcher) FetchBlocks(ctx context.Context, _ peer.ID, _, _ uint64) ([]p2p.Entry, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	f.asked <- struct{}{}
	select {
	case <-f.release:
		return nil, context.DeadlineExceeded
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *stallFetcher) AvoidForSync(peer.ID, time.Duration) {}

func (f *stallFetcher) BanPeer(p peer.ID, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.banned = append(f.banned, reason)
}

// Defect 3: a peer that claims a greater height and never answers costs
// consensus nothing (sync waits on its own goroutine), and the syncer
// remembers it: it rests, longer each time, instead of being asked on
// every tick.
func TestStallingSyncPeerCostsConsensusNothing(t *testing.T) {
	r := newRig(t, 0)
	r.e.startHeight(r.ctx, 1)
	f := &stallFetcher{asked: make(chan struct{}, 1), release: make(chan struct{})}
	done := make(chan bool)
	go func() { done <- r.e.syncOnce(r.ctx, f) }()
	<-f.asked
	// While the request hangs, the engine goes on with consensus.
	b := r.blockBy(r.addr(r.proposerOf(1, 0)))
	r.send(&chain.ConsensusMessage{Vote: r.vote(1, chain.Prevote, 1, 0, b.Hash())})
	if !r.voted(1, chain.Prevote, 0, b.Hash()) {
		t.Fatal("a vote was not taken while a sync request was outstanding")
	}
	close(f.release)
	if !<-done {
		t.Fatal("syncOnce asked no one")
	}
	if !r.e.sync.resting(r.clock.Now(), "staller") {
		t.Fatal("the peer that stalled is not resting")
	}
	if r.e.syncOnce(r.ctx, f) {
		t.Fatal("the stalled peer was asked again at once")
	}
	// It may be asked again after its rest, and a second stall doubles it.
	r.clock.now = r.clock.now.Add(syncFirstRest)
	if rest := r.e.sync.record(r.clock.Now(), "staller", syncStalled); rest != 2*syncFirstRest {
		t.Fatalf("second stall rests %v, want %v", rest, 2*syncFirstRest)
	}
	if rest := r.e.sync.record(r.clock.Now(), "staller", syncRefused); rest != syncRefusedRest {
		t.Fatalf("a refused block rests the peer %v, want %v", rest, syncRefusedRest)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls != 1 {
		t.Fatalf("the staller was asked %d times, want 1", f.calls)
	}
	if len(f.banned) != 0 {
		t.Fatalf("banned after one stall: %v", f.banned)
	}
	// A third stall in a row earns a ban.
	if _, ban := r.e.sync.judge(r.clock.Now(), "staller2", syncStalled); ban {
		t.Fatal("banned after one stall")
	}
	r.e.sync.judge(r.clock.Now(), "staller2", syncStalled)
	if _, ban := r.e.sync.judge(r.clock.Now(), "staller2", syncStalled); !ban {
		t.Fatal("not banned after three stalls in a row")
	}
	if _, ban := r.e.sync.judge(r.clock.Now(), "honest", syncServed); ban {
		t.Fatal("a peer that served blocks is banned")
	}
}

// Defect 4: a proposer that restarts right after proposing proposes the
// same block again in the same round, instead of building a new one that
// its own double-sign guard refuses.
func TestRestartedProposerProposesItsBlockAgain(t *testing.T) {
	r := newRig(t, 0)
	me := r.proposerOf(1, 0)
	r = newRig(t, me)
	r.e.startHeight(r.ctx, 1)
	first := r.net.proposals()
	if len(first) != 1 {
		t.Fatalf("the proposer published %d proposals, want 1", len(first))
	}
	r.clock.now = r.clock.now.Add(time.Second) // a rebuilt block would differ
	r.boot()
	r.e.startHeight(r.ctx, 1)
	again := r.net.proposals()
	if len(again) != 1 {
		t.Fatalf("after the restart the proposer published %d proposals, want 1", len(again))
	}
	if again[0].Proposal != first[0].Proposal || string(again[0].Block) != string(first[0].Block) {
		t.Fatalf("after the restart it proposed %+v, want the same proposal %+v", again[0].Proposal, first[0].Proposal)
	}
}

// Defect 4, second half: a validator never locks on a block it could not
// save, since after a crash it would be locked on a block it lacks.
func TestNoLockOnABlockThatCannotBeSaved(t *testing.T) {
	r := newRig(t, 0)
	r.vault.Fail[LockedBlockFile] = errors.New("disk full")
	r.e.startHeight(r.ctx, 1)
	p := r.proposerOf(1, 0)
	b := r.blockBy(r.addr(p))
	r.send(&chain.ConsensusMessage{Proposal: r.proposal(r.addr(p), 1, 0, b)})
	for i := 1; i < 4; i++ {
		r.send(&chain.ConsensusMessage{Vote: r.vote(i, chain.Prevote, 1, 0, b.Hash())})
	}
	if r.voted(0, chain.Precommit, 0, b.Hash()) {
		t.Fatal("A precommitted (locked on) a block it could not save")
	}
	if r.e.signer.guard.LockAt(1) != nil {
		t.Fatal("the guard records a lock on a block that was not saved")
	}
	// With the disk back, the next lock is taken as usual.
	delete(r.vault.Fail, LockedBlockFile)
	if err := r.e.saveLockedBlock(b.Hash()); err != nil {
		t.Fatal(err)
	}
}

// Defect 5: a proposal refused only because it was ahead of this node's
// clock is judged again; when the others have precommitted it and the
// clock has caught up, the node decides it instead of waiting for a new
// round.
func TestProposalAheadOfTheClockIsJudgedAgain(t *testing.T) {
	r := newRig(t, 0)
	if r.proposerOf(1, 0) == 0 {
		r = newRig(t, 1)
	}
	p := r.proposerOf(1, 0)
	r.clock.now = r.clock.now.Add(time.Minute) // the proposer's clock
	b := r.blockBy(r.addr(p))
	r.clock.now = r.clock.now.Add(-time.Minute) // ours is a minute behind
	r.e.startHeight(r.ctx, 1)
	r.send(&chain.ConsensusMessage{Proposal: r.proposal(r.addr(p), 1, 0, b)})
	if r.voted(r.self, chain.Prevote, 0, b.Hash()) {
		t.Fatal("prevoted a block a minute ahead of this node's clock")
	}
	for i := 0; i < 4; i++ {
		if i != r.self {
			r.send(&chain.ConsensusMessage{Vote: r.vote(i, chain.Precommit, 1, 0, b.Hash())})
		}
	}
	if r.store.Latest().Height != 0 {
		t.Fatal("decided a block it judged invalid")
	}
	r.clock.now = r.clock.now.Add(time.Minute)
	r.e.dispatch(r.ctx, tick{})
	if latest := r.store.Latest(); latest.Height != 1 || latest.Hash() != b.Hash() {
		t.Fatalf("after the clock caught up the node is at height %d, want the block decided", r.store.Latest().Height)
	}
}

// Defect 5: a fresh proposal's block must name its signer as proposer.
func TestFreshProposalMustBeItsSignersBlock(t *testing.T) {
	r := newRig(t, 0)
	r.e.startHeight(r.ctx, 1)
	p := r.proposerOf(1, 0)
	other := r.addr((p + 1) % 4)
	b := r.blockBy(other) // made in another validator's name
	pb := r.e.checkProposedBlock(r.proposal(r.addr(p), 1, 0, b))
	if pb.err == nil || !strings.Contains(pb.err.Error(), "block names proposer") {
		t.Fatalf("verdict %v, want a refusal naming the proposer mismatch", pb.err)
	}
}

// Defect 5: the consensus timeouts have one source, and the engine takes
// its time from its scheduler.
func TestTimeoutsHaveOneSource(t *testing.T) {
	if got, want := DefaultConfig("x", 0).Consensus.Timeouts(), consensus.DefaultTimeouts(); got != want {
		t.Fatalf("config defaults %+v, consensus defaults %+v", got, want)
	}
	r := newRig(t, 0)
	r.e.startHeight(r.ctx, 1)
	if len(r.clock.timers) == 0 {
		t.Fatal("the engine scheduled no timeout through its scheduler")
	}
	want := r.clock.now.Add(consensus.DefaultTimeouts().Propose)
	if r.clock.timers[0].at != want {
		t.Fatalf("first timeout at %v, want %v", r.clock.timers[0].at, want)
	}
}
