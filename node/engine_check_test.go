package node

import (
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// heldChecker keeps each check until the test releases it, as a slow
// execution on another goroutine would.
type heldChecker struct {
	held []*checkDone
	runs []func() *pendingBlock
}

func (h *heldChecker) Check(c *blockCheck, run func() *pendingBlock) {
	h.held = append(h.held, &checkDone{c: c})
	h.runs = append(h.runs, run)
}

// release runs check i and hands its verdict to the engine.
func (h *heldChecker) release(r *rig, i int) {
	d := h.held[i]
	d.pb = h.runs[i]()
	r.e.dispatch(r.ctx, d)
}

// asyncRig is a rig whose node is not the proposer of height 1 round 0,
// checking blocks through a heldChecker.
func asyncRig(t *testing.T) (*rig, *heldChecker) {
	r := newRig(t, 0)
	if r.proposerOf(1, 0) == 0 {
		r = newRig(t, 1)
	}
	h := &heldChecker{}
	r.e.checker = h
	r.e.startHeight(r.ctx, 1)
	return r, h
}

// While a proposed block is checked, the engine takes the others' votes;
// the machine hears of the proposal, and this node may prevote, only
// once the verdict is in, and the votes taken meanwhile then decide the
// block at once.
func TestVotesAreTakenWhileTheBlockIsChecked(t *testing.T) {
	r, h := asyncRig(t)
	p := r.proposerOf(1, 0)
	b := r.blockBy(r.addr(p))
	r.send(&chain.ConsensusMessage{Proposal: r.proposal(r.addr(p), 1, 0, b)})
	if len(h.held) != 1 {
		t.Fatalf("%d checks started, want 1", len(h.held))
	}
	if r.voted(r.self, chain.Prevote, 0, b.Hash()) {
		t.Fatal("prevoted a block before its check ended")
	}
	for i := 0; i < 4; i++ {
		if i != r.self {
			r.send(&chain.ConsensusMessage{Vote: r.vote(i, chain.Prevote, 1, 0, b.Hash())})
			r.send(&chain.ConsensusMessage{Vote: r.vote(i, chain.Precommit, 1, 0, b.Hash())})
		}
	}
	for i := 0; i < 4; i++ {
		if i != r.self && !r.voted(i, chain.Precommit, 0, b.Hash()) {
			t.Fatalf("validator %d's precommit was not taken while the block was checked", i)
		}
	}
	if r.store.Latest().Height != 0 {
		t.Fatal("decided a block whose check had not ended")
	}
	h.release(r, 0)
	if latest := r.store.Latest(); latest.Height != 1 || latest.Hash() != b.Hash() {
		t.Fatalf("after the verdict the store is at height %d, want the block decided by the votes taken", latest.Height)
	}
}

// A second proposal naming a block in check waits for that check rather
// than starting another, and is judged with it.
func TestProposalsOfOneBlockShareItsCheck(t *testing.T) {
	r, h := asyncRig(t)
	p := r.proposerOf(1, 0)
	b := r.blockBy(r.addr(p))
	sp := r.proposal(r.addr(p), 1, 0, b)
	r.send(&chain.ConsensusMessage{Proposal: sp})
	r.send(&chain.ConsensusMessage{Proposal: sp, Resend: 1})
	if len(h.held) != 1 {
		t.Fatalf("%d checks started for one block, want 1", len(h.held))
	}
	if got := len(h.held[0].c.props); got != 2 {
		t.Fatalf("%d proposals wait for the check, want 2", got)
	}
	h.release(r, 0)
	if !r.voted(r.self, chain.Prevote, 0, b.Hash()) {
		t.Fatal("no prevote after the shared check passed")
	}
}

// A verdict that arrives after its height is over is dropped.
func TestVerdictOfAnEarlierHeightIsDropped(t *testing.T) {
	r, h := asyncRig(t)
	p := r.proposerOf(1, 0)
	b := r.blockBy(r.addr(p))
	r.send(&chain.ConsensusMessage{Proposal: r.proposal(r.addr(p), 1, 0, b)})
	r.e.startHeight(r.ctx, 2) // as if height 1 ended by block sync meanwhile
	h.release(r, 0)
	if _, ok := r.e.blocks[b.Hash()]; ok {
		t.Fatal("a verdict on a block of height 1 was recorded at height 2")
	}
}

// Checks in flight count against their proposer's bound, so a faulty
// proposer cannot start more than maxBlocksPerProposer executions by
// sending blocks faster than they are checked.
func TestChecksInFlightCountAgainstTheProposer(t *testing.T) {
	r, h := asyncRig(t)
	f := r.proposerOf(1, 0)
	for k := 0; k < maxBlocksPerProposer+2; k++ {
		b := r.blockOf(r.addr(f), 0)
		b.Header.Time += int64(k + 1)
		r.send(&chain.ConsensusMessage{Proposal: r.proposal(r.addr(f), 1, uint32(4*k), b)})
	}
	if len(h.held) != maxBlocksPerProposer {
		t.Fatalf("%d checks started for one proposer, want %d", len(h.held), maxBlocksPerProposer)
	}
}

// A propose timeout that fires while the round's proposal is checked
// waits for the verdict: a block slower to execute than the timeout is
// not prevoted nil for that alone, as when the check held up the engine.
func TestProposeTimeoutWaitsForTheCheck(t *testing.T) {
	r, h := asyncRig(t)
	p := r.proposerOf(1, 0)
	b := r.blockBy(r.addr(p))
	r.send(&chain.ConsensusMessage{Proposal: r.proposal(r.addr(p), 1, 0, b)})
	r.e.dispatch(r.ctx, consensus.TimeoutFired{Height: 1, Round: 0, Step: consensus.StepPropose})
	if r.voted(r.self, chain.Prevote, 0, chain.Hash{}) {
		t.Fatal("prevoted nil while the proposal's block was being checked")
	}
	h.release(r, 0)
	if !r.voted(r.self, chain.Prevote, 0, b.Hash()) {
		t.Fatal("no prevote for the block once its check passed")
	}
	if len(r.e.parked) != 0 {
		t.Fatalf("%d timeouts still parked after the check", len(r.e.parked))
	}
}

// With no check in flight the propose timeout acts at once.
func TestProposeTimeoutWithoutACheckActs(t *testing.T) {
	r, _ := asyncRig(t)
	r.e.dispatch(r.ctx, consensus.TimeoutFired{Height: 1, Round: 0, Step: consensus.StepPropose})
	if !r.voted(r.self, chain.Prevote, 0, chain.Hash{}) {
		t.Fatal("no nil prevote after the propose timeout with no proposal")
	}
}
