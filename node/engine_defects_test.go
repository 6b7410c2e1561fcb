package node

import (
	"bytes"
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
	forgedNext := r.vote(2, chain.Prevote, 2, 0, chain.Hash{8})
	forgedNext.Signature[10] ^= 1
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
		{"B's prevote at the edge of the round window", &chain.ConsensusMessage{Vote: r.vote(1, chain.Prevote, 1, consensus.DefaultMaxRoundsAhead, chain.Hash{3})}, "accept"},
		{"B's prevote past the round window", &chain.ConsensusMessage{Vote: r.vote(1, chain.Prevote, 1, consensus.DefaultMaxRoundsAhead+1, chain.Hash{3})}, "ignore"},
		{"C's prevote for the next height past the round window", &chain.ConsensusMessage{Vote: r.vote(2, chain.Prevote, 2, consensus.DefaultMaxRoundsAhead+1, chain.Hash{3})}, "ignore"},
		{"C's prevote for the next height with a forged signature (an address names its key in every set)",
			&chain.ConsensusMessage{Vote: forgedNext}, "reject"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := r.n.validateGossipConsensus(chain.MustEncode(c.msg))
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
	if _, err := r.n.validateGossipConsensus([]byte{0xff, 0x00}); err == nil || errors.Is(err, p2p.ErrIgnore) {
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
	if again[0].Proposal != first[0].Proposal || !bytes.Equal(chain.MustEncode(&again[0].Block), chain.MustEncode(&first[0].Block)) {
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
	pb, judged := r.e.judgeProposal(r.ctx, r.proposal(r.addr(p), 1, 0, b), "")
	if !judged {
		t.Fatal("the proposal was dropped without a verdict")
	}
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

// A proposal's compact block and POL travel beside the proposer's
// signature. A copy of B's honest proposal with another body (another
// header, or a transaction list the header does not commit to) is
// rejected by gossip (it is provably not what B signed) and dropped by the
// engine, and B's real proposal is still judged and prevoted.
func TestTamperedProposalCannotSpoilTheBlock(t *testing.T) {
	for _, c := range []struct {
		name   string
		tamper func(r *rig, cb *chain.CompactBlock)
	}{
		{"another valid block's header", func(r *rig, cb *chain.CompactBlock) {
			other := r.blockOf(cb.Header.Proposer, 1)
			other.Header.Time++
			*cb = other.Compact()
		}},
		{"a transaction hash dropped", func(_ *rig, cb *chain.CompactBlock) { cb.TxHashes = cb.TxHashes[1:] }},
		{"two transaction hashes swapped", func(_ *rig, cb *chain.CompactBlock) {
			cb.TxHashes[0], cb.TxHashes[1] = cb.TxHashes[1], cb.TxHashes[0]
		}},
		{"a transaction hash replaced", func(r *rig, cb *chain.CompactBlock) {
			cb.TxHashes[2] = sendTx(r.t, DevKey(5), testChainID, 0, DevAccounts()[1].Address, 1).Hash()
		}},
		{"evidence the header does not name", func(r *rig, cb *chain.CompactBlock) {
			a, b := *r.vote(3, chain.Prevote, 1, 0, chain.Hash{1}), *r.vote(3, chain.Prevote, 1, 0, chain.Hash{2})
			cb.Evidence = []chain.Evidence{chain.NewDuplicateVote(a, b)}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, 0)
			if r.proposerOf(1, 0) == 0 {
				r = newRig(t, 1)
			}
			r.e.startHeight(r.ctx, 1)
			for i := range 3 {
				if _, err := r.n.Submit(sendTx(t, DevKey(2), testChainID, uint64(i), DevAccounts()[1].Address, 1)); err != nil {
					t.Fatal(err)
				}
			}
			p := r.addr(r.proposerOf(1, 0))
			honest := r.proposal(p, 1, 0, r.blockBy(p))
			tampered := *honest
			tampered.Block.TxHashes = append([]chain.Hash(nil), honest.Block.TxHashes...)
			c.tamper(r, &tampered.Block)
			_, err := r.n.validateGossipConsensus(chain.MustEncode(&chain.ConsensusMessage{Proposal: &tampered}))
			if err == nil || errors.Is(err, p2p.ErrIgnore) {
				t.Fatalf("gossip validator on a proposal with another body: %v, want a rejection", err)
			}
			r.send(&chain.ConsensusMessage{Proposal: &tampered})
			if len(r.e.blocks) != 0 || len(r.e.waits) != 0 || len(r.e.m.Votes(0, chain.Prevote)) != 0 {
				t.Fatal("the tampered copy left a verdict, a wait or a vote")
			}
			r.send(&chain.ConsensusMessage{Proposal: honest})
			if !r.voted(r.self, chain.Prevote, 0, honest.Proposal.BlockHash) {
				t.Fatal("the honest proposal was not prevoted after a tampered copy")
			}
		})
	}
}

// A re-proposal's POL must prove its round: a POL vote with a bad
// signature makes the proposal provably wrong, at the gossip validator
// and in the engine, and costs no more checks than the set has members.
func TestForgedPOLIsRefused(t *testing.T) {
	r := newRig(t, 0)
	r.e.startHeight(r.ctx, 1)
	p := r.addr(r.proposerOf(1, 1))
	b := r.blockBy(p)
	prop := consensus.Proposal{Height: 1, Round: 1, BlockHash: b.Hash(), POLRound: 0, Proposer: p}
	var pol []chain.Vote
	for i := 0; i < 3; i++ {
		pol = append(pol, *r.vote(i, chain.Prevote, 1, 0, b.Hash()))
	}
	good := &chain.SignedProposal{Proposal: prop, Block: b.Compact(), POL: pol,
		Signature: r.key(p).Sign(chain.ProposalSignBytes(testChainID, prop))}
	if _, err := r.n.validateGossipConsensus(chain.MustEncode(&chain.ConsensusMessage{Proposal: good})); err != nil {
		t.Fatalf("a re-proposal with a true POL: %v", err)
	}
	for name, bad := range map[string]func(pol []chain.Vote) []chain.Vote{
		"a forged signature": func(pol []chain.Vote) []chain.Vote {
			pol[1].Signature = append([]byte(nil), pol[1].Signature...)
			pol[1].Signature[9] ^= 1
			return pol
		},
		"a vote of another round": func(pol []chain.Vote) []chain.Vote {
			return append(pol, *r.vote(3, chain.Prevote, 1, 1, b.Hash()))
		},
		"one validator twice": func(pol []chain.Vote) []chain.Vote { return append(pol, pol[0]) },
	} {
		sp := *good
		sp.POL = bad(append([]chain.Vote(nil), pol...))
		// Past the resend gate's memory of the good copy, which would
		// otherwise ignore this one unchecked (resendgate.go).
		r.clock.now = r.clock.now.Add(time.Second)
		_, err := r.n.validateGossipConsensus(chain.MustEncode(&chain.ConsensusMessage{Proposal: &sp}))
		if err == nil || errors.Is(err, p2p.ErrIgnore) {
			t.Errorf("%s: gossip validator says %v, want a rejection", name, err)
		}
		if _, err := checkSigned(testChainID, r.e.vals, &sp); err == nil {
			t.Errorf("%s: the engine would take the proposal", name)
		}
	}
}

// One faulty proposer cannot exhaust the blocks a node checks at a
// height: past maxBlocksPerProposer blocks of its own, its proposals are
// ignored, and another proposer's block is still judged.
func TestOneProposerCannotExhaustTheBlockChecks(t *testing.T) {
	r := newRig(t, 0)
	r.e.startHeight(r.ctx, 1)
	f := r.proposerOf(1, 0) // the faulty one proposes rounds 0, 4, 8, 12 ...
	judged := 0
	for k := 0; k < maxBlocksPerProposer+2; k++ {
		round := uint32(4 * k)
		b := r.blockOf(r.addr(f), 0)
		b.Header.Time += int64(k + 1)
		if _, ok := r.e.judgeProposal(r.ctx, r.proposal(r.addr(f), 1, round, b), ""); ok {
			judged++
		}
	}
	if judged != maxBlocksPerProposer {
		t.Fatalf("judged %d of the faulty proposer's blocks, want %d", judged, maxBlocksPerProposer)
	}
	other := r.proposerOf(1, 1)
	if _, ok := r.e.judgeProposal(r.ctx, r.proposal(r.addr(other), 1, 1, r.blockBy(r.addr(other))), ""); !ok {
		t.Fatal("another proposer's block was not judged")
	}
	far := r.blockOf(r.addr(f), 0)
	far.Header.Time += 99
	if _, ok := r.e.judgeProposal(r.ctx, r.proposal(r.addr(f), 1, 4*100, far), ""); ok {
		t.Fatal("a proposal far beyond the round window was judged")
	}
}

// A precommit the guard would refuse does not replace the locked block
// on disk: after a crash the node must still hold the block of its lock.
func TestRefusedPrecommitKeepsTheLockedBlock(t *testing.T) {
	r := newRig(t, 0)
	r.e.startHeight(r.ctx, 1)
	p := r.addr(r.proposerOf(1, 0))
	l := r.blockBy(p)
	r.send(&chain.ConsensusMessage{Proposal: r.proposal(p, 1, 0, l)})
	for i := 1; i < 4; i++ {
		r.send(&chain.ConsensusMessage{Vote: r.vote(i, chain.Prevote, 1, 0, l.Hash())})
	}
	if lock := r.e.signer.guard.LockAt(1); lock == nil || lock.BlockHash != l.Hash() {
		t.Fatal("A did not lock on L")
	}
	other := r.blockOf(p, 0)
	other.Header.Time++
	r.e.blocks[other.Hash()] = &pendingBlock{block: other}
	r.e.vote(r.ctx, consensus.BroadcastVote{Vote: chain.Vote{Type: chain.Precommit, Height: 1, Round: 0,
		BlockHash: other.Hash(), Validator: r.addr(0)}})
	raw, err := r.vault.Load(LockedBlockFile)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := chain.DecodeBlock(raw); err != nil || b.Hash() != l.Hash() {
		t.Fatal("a refused precommit replaced the locked block on disk")
	}
}

// An honest validator re-sends its early vote every tick, each copy with
// a new Resend number; the next-height buffer keeps it once, so the
// re-sends do not crowd out its later rounds.
func TestFutureBufferKeepsAReSentVoteOnce(t *testing.T) {
	r := newRig(t, 0)
	r.e.startHeight(r.ctx, 1)
	v := r.vote(2, chain.Prevote, 2, 0, chain.Hash{3})
	for i := range 100 {
		r.send(&chain.ConsensusMessage{Vote: v, Resend: uint64(i)})
	}
	r.send(&chain.ConsensusMessage{Vote: r.vote(2, chain.Prevote, 2, 1, chain.Hash{4})})
	if n := len(r.e.future.msgs); n != 2 {
		t.Fatalf("the buffer holds %d messages, want the vote once and the later round's", n)
	}
}

// A block sync failure of this node's own (here: a block that does not
// follow its store) is no fault of the peer: it is neither refused nor
// banned.
func TestLocalSyncFailureBlamesNoPeer(t *testing.T) {
	r := newRig(t, 0)
	r.e.startHeight(r.ctx, 1)
	b := &syncBatch{from: 1, entries: [][2][]byte{{{0x80}, {0x80}}}, reply: make(chan syncResult, 1)}
	// Height 0 is below the store's next height: skipped, not refused.
	b.from = 0
	r.e.dispatch(r.ctx, b)
	if res := <-b.reply; res.err != nil || res.applied != 0 {
		t.Fatalf("a block the store already has: %+v", res)
	}
	err := r.n.applySynced(5, []byte{0x80}, []byte{0x80})
	if !errors.Is(err, errLocal) {
		t.Fatalf("a block that does not follow the store: %v, want a local failure", err)
	}
	if err := r.n.applySynced(1, []byte{0x80}, []byte{0x80}); err == nil || errors.Is(err, errLocal) {
		t.Fatalf("undecodable bytes from a peer: %v, want the peer's fault", err)
	}
}

// Found by the simulation (seeds 1524 and 2088 of 2,500, a forker among
// four validators): a re-proposal's proof-of-lock must carry every
// prevote for its block, including a later vote of a validator whose
// first prevote was nil. With only first votes, the proof fell short of
// a quorum, a validator that had restarted could never accept the block
// its peers were locked on, and the height never ended.
func TestReproposalCarriesEveryPrevoteForItsBlock(t *testing.T) {
	r := newRig(t, 0)
	r.e.startHeight(r.ctx, 1)
	x := chain.Hash{0x99}
	r.send(&chain.ConsensusMessage{Vote: r.vote(1, chain.Prevote, 1, 0, chain.Hash{})}) // B: nil first
	for i := 1; i < 4; i++ {
		r.send(&chain.ConsensusMessage{Vote: r.vote(i, chain.Prevote, 1, 0, x)}) // B, C, D for X
	}
	pol := r.e.polFor(consensus.Proposal{Height: 1, Round: 1, BlockHash: x, POLRound: 0})
	if len(pol) != 3 {
		t.Fatalf("the proof of lock holds %d prevotes for X, want B's, C's and D's", len(pol))
	}
	for _, v := range pol {
		if v.BlockHash != x || v.Round != 0 {
			t.Fatalf("a vote in the proof is not a round-0 prevote for X: %+v", v)
		}
	}
}

// Two signed proposals of the round's proposer for different blocks are
// kept as evidence once, whichever order they come in, and gossiped when
// kept; a full pool does not mark the offence as kept, so it is tried
// again.
func TestConflictingProposalsBecomeEvidence(t *testing.T) {
	r := newRig(t, 0)
	r.e.startHeight(r.ctx, 1)
	p := r.addr(r.proposerOf(1, 0))
	a := r.blockBy(p)
	b := r.blockOf(p, 0)
	b.Header.Time++
	r.n.evpool = newEvidencePool(0, 1)
	filler := chain.NewDuplicateVote(*r.vote(3, chain.Prevote, 1, 5, chain.Hash{1}), *r.vote(3, chain.Prevote, 1, 5, chain.Hash{2}))
	if err := r.n.evpool.add(filler, r.n.validatorsFor, testChainID); err != nil {
		t.Fatal(err)
	}
	r.send(&chain.ConsensusMessage{Proposal: r.proposal(p, 1, 0, a)})
	r.send(&chain.ConsensusMessage{Proposal: r.proposal(p, 1, 0, b)})
	if r.n.evpool.size() != 1 || len(r.e.reported) != 0 || len(r.net.evidence) != 0 {
		t.Fatalf("with the pool full: %d pending, %d marked kept, %d gossiped", r.n.evpool.size(), len(r.e.reported), len(r.net.evidence))
	}
	r.n.evpool = newEvidencePool(0, 10)
	r.send(&chain.ConsensusMessage{Proposal: r.proposal(p, 1, 0, b), Resend: 1})
	evs := r.n.evpool.pending(2, chain.MaxBlockEvidence)
	if len(evs) != 1 || evs[0].ConflictingProposal == nil || evs[0].Offender() != p {
		t.Fatalf("pending evidence %+v, want the proposer's two proposals", evs)
	}
	if len(r.net.evidence) != 1 || r.net.evidence[0].Offence() != evs[0].Offence() {
		t.Fatalf("gossiped %+v, want the kept evidence once", r.net.evidence)
	}
	r.send(&chain.ConsensusMessage{Proposal: r.proposal(p, 1, 0, a), Resend: 2})
	if r.n.evpool.size() != 1 || len(r.net.evidence) != 1 {
		t.Fatalf("the same offence kept %d times, gossiped %d times", r.n.evpool.size(), len(r.net.evidence))
	}
}

// A node still waiting for its peers before the first round takes the
// first height's messages of quicker peers: they are judged and kept,
// not ignored (which cost a fresh devnet its first round).
func TestFirstHeightMessagesAreTakenBeforeTheStart(t *testing.T) {
	r := newRig(t, 0)
	data := chain.MustEncode(&chain.ConsensusMessage{Vote: r.vote(1, chain.Prevote, 1, 0, chain.Hash{5})})
	if _, err := r.n.validateGossipConsensus(data); !errors.Is(err, p2p.ErrIgnore) {
		t.Fatalf("before anything: %v, want ignored", err)
	}
	r.e.judgeFromStart()
	if _, err := r.n.validateGossipConsensus(data); err != nil {
		t.Fatalf("a prevote of height 1 while the node waits for its peers: %v", err)
	}
}
