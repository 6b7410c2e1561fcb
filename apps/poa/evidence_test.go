package poa_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/citychain/citychain/apps/poa"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// Scenarios of evidence in blocks. The authorities are A, B, C and D
// (newChain); evidence is built from their chaintest keys. As in the
// executor, nothing here checks the evidence's signatures against an old
// set: the node does that before voting for the block.

// signedVote is who's vote of typ at height, round 0, for the block
// named by block.
func signedVote(who string, typ chain.VoteType, height uint64, block string) chain.Vote {
	v := chain.Vote{ChainID: chaintest.ChainID, Type: typ, Height: height, BlockHash: chain.Sum([]byte(block)),
		Validator: chaintest.Addr(who)}
	v.Sign(chaintest.Key(who))
	return v
}

// twoVotes is who's conflicting votes of typ at height, round 0.
func twoVotes(who string, typ chain.VoteType, height uint64) chain.Evidence {
	return chain.NewDuplicateVote(signedVote(who, typ, height, "x"), signedVote(who, typ, height, "y"))
}

// twoProposals is who's conflicting proposals at height, round 1.
func twoProposals(who string, height uint64) chain.Evidence {
	p := func(block string) chain.EvidenceProposal {
		x := chain.EvidenceProposal{Height: height, Round: 1, BlockHash: chain.Sum([]byte(block)), POLRound: -1,
			Proposer: chaintest.Addr(who)}
		x.Sign(chaintest.ChainID, chaintest.Key(who))
		return x
	}
	return chain.NewConflictingProposal(p("x"), p("y"))
}

func blocks(t *testing.T, c *chaintest.Chain, n int) {
	t.Helper()
	for range n {
		if _, err := c.Block(); err != nil {
			t.Fatal(err)
		}
	}
}

func withEvidence(t *testing.T, c *chaintest.Chain, evs ...chain.Evidence) {
	t.Helper()
	if _, err := c.BlockWithEvidence(evs); err != nil {
		t.Fatal(err)
	}
}

func records(t *testing.T, c *chaintest.Chain, path string) []poa.EvidenceRecord {
	t.Helper()
	got, err := c.Query(poa.Name, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return got.([]poa.EvidenceRecord)
}

func isMember(t *testing.T, c *chaintest.Chain, who string) bool {
	t.Helper()
	vs, err := c.Validators()
	if err != nil {
		t.Fatal(err)
	}
	_, ok := vs.Find(chaintest.Addr(who))
	return ok
}

func blockEventTypes(c *chaintest.Chain) []string {
	var out []string
	for _, e := range c.BlockEvents {
		out = append(out, e.Type)
	}
	return out
}

func TestDPrevotesTwiceAndTheSetWithoutDSignsTwoBlocksLater(t *testing.T) {
	c := newChain(t)
	blocks(t, c, 5)
	withEvidence(t, c, twoVotes("D", chain.Prevote, 4))
	carried := c.Height
	if got := fmt.Sprint(blockEventTypes(c)); got != "[duplicate_vote removal_scheduled]" {
		t.Fatalf("block events %s", got)
	}
	recs := records(t, c, "evidence")
	want := poa.EvidenceRecord{Validator: chaintest.Addr("D").String(), Height: 4, Type: uint64(chain.Prevote),
		Kind: chain.EvidenceDuplicateVote, Committed: carried, RemovalAt: carried + poa.ActivationDelay}
	if len(recs) != 1 {
		t.Fatalf("records %+v", recs)
	}
	r := recs[0]
	if r.Validator != want.Validator || r.Height != want.Height || r.Type != want.Type || r.Kind != want.Kind ||
		r.Committed != want.Committed || r.RemovalAt != want.RemovalAt || r.NotRemoved != "" ||
		r.Votes.A.Signature == "" || r.Proposals != nil || r.Hash != twoVotes("D", chain.Prevote, 4).Hash().String() {
		t.Fatalf("record %+v\nwant like %+v", r, want)
	}
	if byHeight := records(t, c, fmt.Sprintf("evidence/%d", carried)); len(byHeight) != 1 {
		t.Fatalf("evidence of block %d: %+v", carried, byHeight)
	}
	if other := records(t, c, fmt.Sprintf("evidence/%d", carried-1)); len(other) != 0 {
		t.Fatalf("evidence of block %d: %+v", carried-1, other)
	}
	// Block carried+1 is still signed by A, B, C and D; its end installs
	// the set without D, which signs carried+2.
	if !isMember(t, c, "D") {
		t.Fatal("D left the set in the block that carried the evidence")
	}
	blocks(t, c, 1)
	if isMember(t, c, "D") || members(t, c) != 3 {
		t.Fatalf("after block %d D is still in the set of %d", c.Height, members(t, c))
	}
	ps, _ := c.Query(poa.Name, "proposals", nil)
	if p := ps.([]poa.Proposal); len(p) != 1 || p[0].Op != poa.OpRemove || p[0].Cause == "" || p[0].Effective != carried+2 {
		t.Fatalf("proposals %+v", p)
	}
}

func TestCProposesTwiceAndIsRemovedToo(t *testing.T) {
	c := newChain(t)
	blocks(t, c, 3)
	withEvidence(t, c, twoProposals("C", 2))
	recs := records(t, c, "evidence")
	if len(recs) != 1 || recs[0].Kind != chain.EvidenceConflictingProposal || recs[0].Type != 0 || recs[0].Round != 1 ||
		recs[0].Proposals == nil || recs[0].Proposals.A.POLRound != -1 || recs[0].RemovalAt != c.Height+poa.ActivationDelay {
		t.Fatalf("records %+v", recs)
	}
	blocks(t, c, 1)
	if isMember(t, c, "C") {
		t.Fatal("C is still a validator")
	}
}

func TestTheSameOffenceTwiceChangesNothing(t *testing.T) {
	c := newChain(t)
	blocks(t, c, 5)
	withEvidence(t, c, twoVotes("D", chain.Prevote, 4))
	blocks(t, c, 2)
	root := c.Root
	// The same pair again, and another pair proving the same offence.
	again := twoVotes("D", chain.Prevote, 4)
	third := chain.NewDuplicateVote(signedVote("D", chain.Prevote, 4, "x"), signedVote("D", chain.Prevote, 4, "z"))
	withEvidence(t, c, again)
	withEvidence(t, c, third)
	if c.Root != root {
		t.Fatal("charging an offence again changed the state")
	}
	if got := fmt.Sprint(blockEventTypes(c)); got != "[evidence_repeated]" {
		t.Fatalf("block events %s", got)
	}
	if n := len(records(t, c, "evidence")); n != 1 {
		t.Fatalf("%d records", n)
	}
}

func TestTwoOffencesInOneBlockRemoveDOnce(t *testing.T) {
	c := newChain(t)
	blocks(t, c, 5)
	withEvidence(t, c, twoVotes("D", chain.Prevote, 4), twoVotes("D", chain.Precommit, 4), twoProposals("D", 3))
	recs := records(t, c, "evidence")
	if len(recs) != 3 {
		t.Fatalf("records %+v", recs)
	}
	for _, r := range recs {
		if r.RemovalAt != c.Height+poa.ActivationDelay {
			t.Fatalf("record %+v", r)
		}
	}
	ps, _ := c.Query(poa.Name, "proposals", nil)
	if p := ps.([]poa.Proposal); len(p) != 1 {
		t.Fatalf("%d removals scheduled: %+v", len(p), p)
	}
	blocks(t, c, 1)
	if isMember(t, c, "D") || members(t, c) != 3 {
		t.Fatal("D was not removed exactly once")
	}
}

func TestAValidatorVotedOutIsStillCharged(t *testing.T) {
	c := newChain(t)
	blocks(t, c, 5)
	remove := poa.Propose{Op: poa.OpRemove, Address: chaintest.Addr("D").String()}
	for _, who := range []string{"A", "B", "C"} {
		if _, err := c.Do(chaintest.Key(who), poa.Name, poa.ActionPropose, remove); err != nil {
			t.Fatal(err)
		}
	}
	blocks(t, c, 1)
	if isMember(t, c, "D") {
		t.Fatal("D was not voted out")
	}
	// D's double prevote at height 4, when D was a member, lands now.
	withEvidence(t, c, twoVotes("D", chain.Prevote, 4))
	recs := records(t, c, "evidence")
	if len(recs) != 1 || recs[0].RemovalAt != 0 || recs[0].NotRemoved != "no longer a validator" {
		t.Fatalf("records %+v", recs)
	}
	if got := fmt.Sprint(blockEventTypes(c)); got != "[duplicate_vote not_removed]" {
		t.Fatalf("block events %s", got)
	}
}

func TestTheLastValidatorIsRecordedButNeverRemoved(t *testing.T) {
	c, err := chaintest.NewWithValidators([]chain.App{poa.New()}, nil, "A")
	if err != nil {
		t.Fatal(err)
	}
	blocks(t, c, 3)
	withEvidence(t, c, twoVotes("A", chain.Precommit, 2))
	blocks(t, c, 3)
	recs := records(t, c, "evidence")
	if len(recs) != 1 || recs[0].NotRemoved != "the last validator is never removed" || !isMember(t, c, "A") {
		t.Fatalf("records %+v", recs)
	}
}

func TestWhenBothOfTwoOffendOneStays(t *testing.T) {
	c, err := chaintest.NewWithValidators([]chain.App{poa.New()}, nil, "A", "B")
	if err != nil {
		t.Fatal(err)
	}
	blocks(t, c, 3)
	withEvidence(t, c, twoVotes("A", chain.Prevote, 2), twoVotes("B", chain.Prevote, 2))
	blocks(t, c, 1)
	// Both removals were decided while each was one of two; when they come
	// due, the second would empty the set and is skipped.
	if n := members(t, c); n != 1 {
		t.Fatalf("%d validators left", n)
	}
	var skipped bool
	for _, e := range c.BlockEvents {
		skipped = skipped || e.Type == "skipped"
	}
	if !skipped {
		t.Fatalf("no skipped removal in %+v", c.BlockEvents)
	}
}

// TestOldRecordsReadTheSame checks that a record without the fields added
// for evidence in blocks encodes exactly as records did before, so stored
// records still decode (the decoder accepts only canonical bytes).
func TestOldRecordsReadTheSame(t *testing.T) {
	type oldRecord struct {
		Validator string       `cbor:"validator"`
		Height    uint64       `cbor:"height"`
		Round     uint64       `cbor:"round"`
		Type      uint64       `cbor:"type"`
		Votes     poa.VotePair `cbor:"votes"`
		Reporter  string       `cbor:"reporter"`
		Committed uint64       `cbor:"committed_at"`
	}
	old := oldRecord{Validator: "city1x", Height: 7, Type: 2, Votes: poa.VotePair{A: vote(t, "D", 7, "x")}, Reporter: "city1r", Committed: 9}
	var back poa.EvidenceRecord
	if err := chain.Decode(chain.MustEncode(&old), &back); err != nil {
		t.Fatalf("an old record does not decode: %v", err)
	}
	if !bytes.Equal(chain.MustEncode(&back), chain.MustEncode(&old)) || back.Height != 7 || back.Votes.A.Height != 7 {
		t.Fatalf("an old record reads as %+v", back)
	}
}

// TestAReportedOffenceIsChargedWhenItsEvidenceArrivesInABlock: a chain
// that ran the retired evidence transaction holds records with a
// reporter and no kind, which removed nobody. Block evidence of the same
// offence charges such a record, keeping its reporter, and is a repeat
// only after that. The record is written into the state as that
// transaction wrote it, since the transaction itself is refused now.
func TestAReportedOffenceIsChargedWhenItsEvidenceArrivesInABlock(t *testing.T) {
	c := newChain(t)
	blocks(t, c, 5)
	type reported struct { // an EvidenceRecord as the transaction stored it
		Validator string       `cbor:"validator"`
		Height    uint64       `cbor:"height"`
		Round     uint64       `cbor:"round"`
		Type      uint64       `cbor:"type"`
		Votes     poa.VotePair `cbor:"votes"`
		Reporter  string       `cbor:"reporter"`
		Committed uint64       `cbor:"committed_at"`
	}
	d := chaintest.Addr("D")
	key := append([]byte("a/poa/ev/"), d[:]...)
	key = binary.BigEndian.AppendUint64(key, 4)
	key = binary.BigEndian.AppendUint64(key, 0)
	key = append(key, byte(chain.Precommit))
	c.State().(chain.MemReader)[string(key)] = chain.MustEncode(&reported{Validator: d.String(), Height: 4,
		Type: uint64(chain.Precommit), Votes: poa.VotePair{A: vote(t, "D", 4, "x"), B: vote(t, "D", 4, "y")},
		Reporter: chaintest.Addr("reporter").String(), Committed: c.Height})
	if recs := records(t, c, "evidence"); len(recs) != 1 || recs[0].Kind != chain.EvidenceDuplicateVote || recs[0].RemovalAt != 0 {
		t.Fatalf("the reported record reads as %+v", recs)
	}

	withEvidence(t, c, twoVotes("D", chain.Precommit, 4))
	recs := records(t, c, "evidence")
	if len(recs) != 1 || recs[0].Kind != chain.EvidenceDuplicateVote || recs[0].RemovalAt != c.Height+poa.ActivationDelay ||
		recs[0].Reporter != chaintest.Addr("reporter").String() || recs[0].Committed != c.Height-1 {
		t.Fatalf("records %+v", recs)
	}
	blocks(t, c, 1)
	if isMember(t, c, "D") {
		t.Fatal("D is still a validator")
	}
	withEvidence(t, c, twoVotes("D", chain.Precommit, 4))
	if got := fmt.Sprint(blockEventTypes(c)); got != "[evidence_repeated]" {
		t.Fatalf("block events %s", got)
	}
}
