package node

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/crypto"
)

// engineNode makes validator 0 of a 4-validator chain, with its engine
// but without a network.
func engineNode(t *testing.T) (*Node, *engine) {
	t.Helper()
	home := t.TempDir()
	cfg := DefaultConfig("v0", 0)
	cfg.API.Listen = "127.0.0.1:0"
	if err := cfg.Save(home); err != nil {
		t.Fatal(err)
	}
	keys := []*crypto.PrivateKey{DevValidatorKey(0), DevValidatorKey(1), DevValidatorKey(2), DevValidatorKey(3)}
	if err := SaveValidatorKey(filepath.Join(home, ValidatorKeyFile), keys[0]); err != nil {
		t.Fatal(err)
	}
	if err := DevGenesis("engine-test", keys, time.Now().Add(-time.Minute)).Save(filepath.Join(home, GenesisFile)); err != nil {
		t.Fatal(err)
	}
	n, err := New(Options{Home: home, Config: cfg, Logger: discardLogger(), Network: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	e, err := newEngine(n, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	n.engine.Store(e)
	return n, e
}

func TestEngineTurnsEquivocationIntoEvidence(t *testing.T) {
	n, e := engineNode(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.startHeight(ctx, 1)

	// Validator B prevotes for two different blocks in one round.
	b := DevValidatorKey(1)
	for _, block := range []chain.Hash{{0xb1}, {0xb2}} {
		v := chain.Vote{ChainID: n.ChainID(), Type: chain.Prevote, Height: 1, Round: 0,
			BlockHash: block, Validator: chain.AddressOf(b.PublicKey())}
		v.Sign(b)
		e.onMessage(ctx, &inbound{msg: &chain.ConsensusMessage{Vote: &v}})
	}
	// The evidence waits for the next block; the offence's own block cannot
	// carry it.
	if got := n.evpool.pending(1, chain.MaxBlockEvidence); len(got) != 0 {
		t.Fatalf("a block at the offence's height would carry %d pieces of evidence", len(got))
	}
	evs := n.evpool.pending(2, chain.MaxBlockEvidence)
	if len(evs) != 1 || evs[0].DuplicateVote == nil || evs[0].Offender() != chain.AddressOf(b.PublicKey()) {
		t.Fatalf("pending evidence %+v, want B's double prevote", evs)
	}
	vals, err := n.validatorsFor(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := evs[0].Verify(n.ChainID(), vals); err != nil {
		t.Fatalf("the evidence does not verify against the set of height 1: %v", err)
	}
}

func castOf(v chain.Vote) consensus.BroadcastVote { return consensus.BroadcastVote{Vote: v} }

func TestSignerRefusesConflictingVoteAfterRestart(t *testing.T) {
	home := t.TempDir()
	key := DevValidatorKey(0)
	s, err := loadSigner(newDirVault(home), "guard-test", key)
	if err != nil {
		t.Fatal(err)
	}
	v := chain.Vote{Type: chain.Precommit, Height: 7, Round: 2, BlockHash: chain.Hash{1}, Validator: chain.AddressOf(key.PublicKey())}
	if _, err := s.signVote(castOf(v)); err != nil {
		t.Fatal(err)
	}
	// A new process: the guard comes back from disk.
	s2, err := loadSigner(newDirVault(home), "guard-test", key)
	if err != nil {
		t.Fatal(err)
	}
	other := v
	other.BlockHash = chain.Hash{2}
	if _, err := s2.signVote(castOf(other)); err == nil {
		t.Fatal("signed a second precommit for height 7 round 2 after a restart")
	}
	if _, err := s2.signVote(castOf(v)); err != nil {
		t.Fatalf("the identical vote must be signable again: %v", err)
	}
}

func TestOnlyTheRoundsProposerMayPropose(t *testing.T) {
	n, e := engineNode(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.startHeight(ctx, 1)
	proposer := consensus.Proposer(e.vals, 1, 0)
	for i := 0; i < 4; i++ {
		key := DevValidatorKey(i)
		addr := chain.AddressOf(key.PublicKey())
		b, _, err := n.buildBlock(n.store.Latest(), nil, addr, 10)
		if err != nil {
			t.Fatal(err)
		}
		p := consensus.Proposal{Height: 1, Round: 0, BlockHash: b.Hash(), POLRound: -1, Proposer: addr}
		sp := &chain.SignedProposal{Proposal: p, Signature: key.Sign(chain.ProposalSignBytes(n.ChainID(), p)), Block: b.Compact()}
		_, err = n.validateGossipConsensus(chain.MustEncode(&chain.ConsensusMessage{Proposal: sp}))
		if (addr == proposer) != (err == nil) {
			t.Errorf("validator %d (proposer: %v): validator says %v", i, addr == proposer, err)
		}
	}
}

// A dev node that crashed after signing the commit of a block it never
// stored commits its next block at that height in a later round, instead
// of stalling on its own double-sign guard.
func TestDevProducerMovesToTheNextRoundAfterACrash(t *testing.T) {
	home := t.TempDir()
	if _, err := InitDevHome(home, 0, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Options{Home: home, Config: cfg, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	// What the crashed process signed: a precommit at height 1, round 0.
	if _, err := n.signer.signVote(castOf(chain.Vote{ChainID: n.ChainID(), Type: chain.Precommit, Height: 1,
		BlockHash: chain.Hash{7}, Validator: n.valAddr})); err != nil {
		t.Fatal(err)
	}
	if _, err := n.makeBlock(true); err != nil {
		t.Fatalf("make block after the crash: %v", err)
	}
	c, err := n.Store().Commit(1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Round != 1 {
		t.Fatalf("block 1 committed in round %d, want 1", c.Round)
	}
}

// After a decision the engine goes on counting precommits for the decided
// block that arrive late, so the explorer can show who else signed; it
// counts nothing forged, nothing for another block or round, nothing
// twice.
func TestEngineCountsLatePrecommitsOfTheDecidedBlock(t *testing.T) {
	n, e := engineNode(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Height 2 is being decided, as after a decision of height 1.
	e.startHeight(ctx, 2)
	block := chain.Hash{0xdd}
	voteAt := func(height uint64, i int, typ chain.VoteType, round uint32, h chain.Hash) *chain.Vote {
		k := DevValidatorKey(i)
		v := chain.Vote{ChainID: n.ChainID(), Type: typ, Height: height, Round: round, BlockHash: h, Validator: chain.AddressOf(k.PublicKey())}
		v.Sign(k)
		return &v
	}
	vote := func(i int, typ chain.VoteType, round uint32, h chain.Hash) *chain.Vote {
		return voteAt(1, i, typ, round, h)
	}
	// As if height 1 had been decided in round 0 with validators 0 to 2.
	e.decided, e.decidedVals = &DecidedView{Height: 1, Round: 0, BlockHash: block}, e.vals
	for i := 0; i < 3; i++ {
		v := vote(i, chain.Precommit, 0, block)
		e.decided.Precommits = append(e.decided.Precommits, VoteSummary{Validator: v.Validator, BlockHash: block})
	}
	e.publishView()
	forged := vote(3, chain.Precommit, 0, block)
	forged.Signature[5] ^= 1
	for _, v := range []*chain.Vote{
		forged,
		vote(3, chain.Prevote, 0, block),
		vote(3, chain.Precommit, 1, block),
		vote(3, chain.Precommit, 0, chain.Hash{0xee}),
		vote(1, chain.Precommit, 0, block),
	} {
		e.onMessage(ctx, &inbound{msg: &chain.ConsensusMessage{Vote: v}})
	}
	if got := len(e.view.Load().Decided.Precommits); got != 3 {
		t.Fatalf("after forged, mismatched and repeated votes the decided block shows %d precommits, want 3", got)
	}
	e.onMessage(ctx, &inbound{msg: &chain.ConsensusMessage{Vote: vote(3, chain.Precommit, 0, block)}})
	d := e.view.Load().Decided
	if d == nil || len(d.Precommits) != 4 || d.Height != 1 {
		t.Fatalf("a late precommit of validator 3 was not counted: %+v", d)
	}
	if d.Precommits[3].Validator != chain.AddressOf(DevValidatorKey(3).PublicKey()) {
		t.Errorf("fourth precommit is from %s", d.Precommits[3].Validator)
	}
	// Votes of the height being decided still go to the machine.
	e.onMessage(ctx, &inbound{msg: &chain.ConsensusMessage{Vote: voteAt(2, 3, chain.Prevote, 0, chain.Hash{0x22})}})
	if got := len(e.m.Votes(0, chain.Prevote)); got != 1 {
		t.Errorf("a prevote of height 2 reached the machine %d times, want 1", got)
	}
}

// A copy of this validator's key in another process (a twin) proposes
// first in a round this node owns: when the node then proposes its own
// block, it keeps and gossips the evidence against its own key, instead
// of taking its proposal as the round's first.
func TestOwnProposalAfterATwinsIsEvidence(t *testing.T) {
	probe := newRig(t, 0)
	self := probe.proposerOf(1, 1)
	r := newRig(t, self)
	r.e.startHeight(r.ctx, 1)
	me := r.addr(self)

	twins := r.blockBy(me)
	twins.Header.Time += 7 // its own clock
	r.send(&chain.ConsensusMessage{Proposal: r.proposal(me, 1, 1, twins)})
	if len(r.net.proposals()) != 0 || r.n.evpool.size() != 0 {
		t.Fatalf("before round 1: %d proposals sent, %d pieces of evidence", len(r.net.proposals()), r.n.evpool.size())
	}
	// Two others prevote in round 1: more than a third of the power is
	// there, so the machine moves on to the round this node proposes in.
	for i := range r.keys {
		if i != self && i != r.proposerOf(1, 0) && len(r.net.proposals()) == 0 {
			r.send(&chain.ConsensusMessage{Vote: r.vote(i, chain.Prevote, 1, 1, twins.Hash())})
		}
	}
	props := r.net.proposals()
	if len(props) != 1 || props[0].Proposal.Round != 1 || props[0].Proposal.BlockHash == twins.Hash() {
		t.Fatalf("sent %d proposals, want this node's own block for round 1", len(props))
	}
	evs := r.n.evpool.pending(2, chain.MaxBlockEvidence)
	if len(evs) != 1 || evs[0].ConflictingProposal == nil || evs[0].Offender() != me {
		t.Fatalf("pending evidence %+v, want the two proposals of this node's key", evs)
	}
	if len(r.net.evidence) != 1 || r.net.evidence[0].Offence() != evs[0].Offence() {
		t.Fatalf("gossiped %d pieces of evidence, want the one kept", len(r.net.evidence))
	}
}
