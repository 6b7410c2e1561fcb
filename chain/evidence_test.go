package chain_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// Evidence scenarios speak of validators A, B, C and D (chaintest keys).

// setOf returns the validator set of the named chaintest keys, power 1.
func setOf(names ...string) *chain.ValidatorSet {
	var vals []chain.Validator
	for _, n := range names {
		pub := chaintest.Key(n).PublicKey()
		vals = append(vals, chain.Validator{Address: chain.AddressOf(pub), PubKey: pub.Bytes(), Power: 1})
	}
	vs, err := chain.NewValidatorSet(vals)
	if err != nil {
		panic(err) // distinct valid keys; cannot fail
	}
	return vs
}

// signedVote is who's vote of typ at height and round for the block named
// by block ("" for nil), signed by signer.
func signedVote(who, signer string, typ chain.VoteType, height uint64, round uint32, block string) chain.Vote {
	v := chain.Vote{ChainID: chaintest.ChainID, Type: typ, Height: height, Round: round, Validator: chaintest.Addr(who)}
	if block != "" {
		v.BlockHash = chain.Sum([]byte(block))
	}
	v.Sign(chaintest.Key(signer))
	return v
}

// signedProposal is who's proposal at height and round of the block named
// by block, signed by signer.
func signedProposal(who, signer string, height uint64, round uint32, block string) chain.EvidenceProposal {
	p := chain.EvidenceProposal{Height: height, Round: round, BlockHash: chain.Sum([]byte(block)),
		POLRound: -1, Proposer: chaintest.Addr(who)}
	p.Sign(chaintest.ChainID, chaintest.Key(signer))
	return p
}

// doubleVote is D prevoting for two blocks at height 5 round 0.
func doubleVote() chain.Evidence {
	return chain.NewDuplicateVote(signedVote("D", "D", chain.Prevote, 5, 0, "x"), signedVote("D", "D", chain.Prevote, 5, 0, "y"))
}

// doubleProposal is C proposing two blocks at height 6 round 1.
func doubleProposal() chain.Evidence {
	return chain.NewConflictingProposal(signedProposal("C", "C", 6, 1, "x"), signedProposal("C", "C", 6, 1, "y"))
}

func TestEvidenceValidateBasic(t *testing.T) {
	dv := func(f func(d *chain.DuplicateVote)) func() chain.Evidence {
		return func() chain.Evidence { e := doubleVote(); f(e.DuplicateVote); return e }
	}
	cp := func(f func(c *chain.ConflictingProposal)) func() chain.Evidence {
		return func() chain.Evidence { e := doubleProposal(); f(e.ConflictingProposal); return e }
	}
	cases := []struct {
		name string
		ev   func() chain.Evidence
		want string // "" for valid
	}{
		{"D prevotes twice", doubleVote, ""},
		{"D precommits for a block and for nil", func() chain.Evidence {
			return chain.NewDuplicateVote(signedVote("D", "D", chain.Precommit, 5, 2, ""), signedVote("D", "D", chain.Precommit, 5, 2, "x"))
		}, ""},
		{"C proposes twice", doubleProposal, ""},
		{"neither kind", func() chain.Evidence { return chain.Evidence{} }, "exactly one"},
		{"both kinds", func() chain.Evidence {
			e := doubleVote()
			e.ConflictingProposal = doubleProposal().ConflictingProposal
			return e
		}, "exactly one"},
		{"votes of two validators", dv(func(d *chain.DuplicateVote) { d.B.Validator = chaintest.Addr("C") }), "one validator"},
		{"votes at two heights", dv(func(d *chain.DuplicateVote) { d.B.Height = 6 }), "one validator"},
		{"votes in two rounds", dv(func(d *chain.DuplicateVote) { d.B.Round = 1 }), "one validator"},
		{"a prevote and a precommit", dv(func(d *chain.DuplicateVote) { d.B.Type = chain.Precommit }), "one validator"},
		{"unknown vote type", dv(func(d *chain.DuplicateVote) { d.A.Type, d.B.Type = 3, 3 }), "vote type"},
		{"the same block twice", dv(func(d *chain.DuplicateVote) { d.B.BlockHash = d.A.BlockHash }), "no conflict"},
		{"halves out of order", dv(func(d *chain.DuplicateVote) { d.A, d.B = d.B, d.A }), "out of order"},
		{"another chain", dv(func(d *chain.DuplicateVote) { d.A.ChainID, d.B.ChainID = "other", "other" }), "wrong chain"},
		{"an unsigned vote", dv(func(d *chain.DuplicateVote) { d.B.Signature = nil }), "signatures"},
		{"height 0", dv(func(d *chain.DuplicateVote) { d.A.Height, d.B.Height = 0, 0 }), "height 0"},
		{"proposals of two proposers", cp(func(c *chain.ConflictingProposal) { c.B.Proposer = chaintest.Addr("D") }), "one proposer"},
		{"proposals in two rounds", cp(func(c *chain.ConflictingProposal) { c.B.Round = 2 }), "one proposer"},
		{"a proposal of no block", cp(func(c *chain.ConflictingProposal) { c.A.BlockHash = chain.Hash{} }), "no block"},
		{"pol_round not below the round", cp(func(c *chain.ConflictingProposal) { c.A.POLRound = 1 }), "pol_round"},
		{"pol_round below -1", cp(func(c *chain.ConflictingProposal) { c.B.POLRound = -2 }), "pol_round"},
		{"proposals out of order", cp(func(c *chain.ConflictingProposal) { c.A, c.B = c.B, c.A }), "out of order"},
		{"a short proposal signature", cp(func(c *chain.ConflictingProposal) { c.A.Signature = c.A.Signature[:10] }), "signatures"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := tc.ev()
			err := ev.ValidateBasic(chaintest.ChainID)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ValidateBasic = %v", err)
				}
				return
			}
			if !errors.Is(err, chain.ErrInvalidEvidence) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ValidateBasic = %v, want ErrInvalidEvidence with %q", err, tc.want)
			}
		})
	}
}

func TestEvidenceIsVerifiedAgainstTheSetOfItsHeight(t *testing.T) {
	then := setOf("A", "B", "C", "D") // the set at heights 5 and 6
	now := setOf("A", "B", "C")       // D and later C were voted out since
	forged := doubleVote()
	forged.DuplicateVote.B = signedVote("D", "B", chain.Prevote, 5, 0, "y")
	forged = chain.NewDuplicateVote(forged.DuplicateVote.A, forged.DuplicateVote.B)
	forgedProposal := chain.NewConflictingProposal(signedProposal("C", "C", 6, 1, "x"), signedProposal("C", "A", 6, 1, "y"))
	otherChain := doubleProposal()
	cases := []struct {
		name    string
		ev      chain.Evidence
		vals    *chain.ValidatorSet
		chainID string
		want    string
	}{
		{"D's double prevote, judged by the set of its height", doubleVote(), then, chaintest.ChainID, ""},
		{"C's double proposal", doubleProposal(), then, chaintest.ChainID, ""},
		{"D judged by today's set", doubleVote(), now, chaintest.ChainID, "not a validator at height 5"},
		{"B signed one of D's votes", forged, then, chaintest.ChainID, "signature b"},
		{"A signed one of C's proposals", forgedProposal, then, chaintest.ChainID, "signature b"},
		{"proposals signed for another chain", otherChain, then, "other", "signature a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.ev.Verify(tc.chainID, tc.vals)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Verify = %v", err)
				}
				return
			}
			if !errors.Is(err, chain.ErrInvalidEvidence) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify = %v, want ErrInvalidEvidence with %q", err, tc.want)
			}
		})
	}
}

func TestOneOffenceHasOneIdentityWhateverThePair(t *testing.T) {
	x := signedVote("D", "D", chain.Prevote, 5, 0, "x")
	y := signedVote("D", "D", chain.Prevote, 5, 0, "y")
	z := signedVote("D", "D", chain.Prevote, 5, 0, "z")
	xy, yx, xz := chain.NewDuplicateVote(x, y), chain.NewDuplicateVote(y, x), chain.NewDuplicateVote(x, z)
	if !bytes.Equal(xy.Encode(), yx.Encode()) {
		t.Fatal("the same two votes in two orders encode differently")
	}
	if xy.Hash() == xz.Hash() {
		t.Fatal("two different pairs have one hash")
	}
	if xy.Offence() != xz.Offence() {
		t.Fatalf("one offence, two identities: %v and %v", xy.Offence(), xz.Offence())
	}
	want := chain.Offence{Validator: chaintest.Addr("D"), Height: 5, Round: 0, Kind: chain.EvidenceDuplicateVote, VoteType: chain.Prevote}
	if xy.Offence() != want || xy.Offender() != chaintest.Addr("D") || xy.Height() != 5 || xy.Kind() != chain.EvidenceDuplicateVote {
		t.Fatalf("offence %v, want %v", xy.Offence(), want)
	}
	pre := chain.NewDuplicateVote(signedVote("D", "D", chain.Precommit, 5, 0, "x"), signedVote("D", "D", chain.Precommit, 5, 0, "y"))
	if pre.Offence() == xy.Offence() {
		t.Fatal("a double prevote and a double precommit are one offence")
	}
	if p := doubleProposal().Offence(); p.Kind != chain.EvidenceConflictingProposal || p.VoteType != 0 || p.Validator != chaintest.Addr("C") {
		t.Fatalf("proposal offence %v", p)
	}
	if (chain.Evidence{}).Offence() != (chain.Offence{}) {
		t.Fatal("empty evidence has an offence")
	}
}

func TestOffencesSortByHeightThenValidator(t *testing.T) {
	a := chain.Offence{Validator: chain.Address{1}, Height: 5, Kind: chain.EvidenceDuplicateVote, VoteType: chain.Prevote}
	later := a
	later.Height = 6
	other := a
	other.Validator = chain.Address{2}
	pre := a
	pre.VoteType = chain.Precommit
	prop := chain.Offence{Validator: chain.Address{1}, Height: 5, Kind: chain.EvidenceConflictingProposal}
	for _, tc := range []struct {
		x, y chain.Offence
		want int
	}{{a, a, 0}, {a, later, -1}, {later, other, 1}, {a, other, -1}, {a, pre, -1}, {prop, a, -1}} {
		if got := tc.x.Compare(tc.y); got != tc.want {
			t.Errorf("Compare(%v, %v) = %d, want %d", tc.x, tc.y, got, tc.want)
		}
	}
}

// TestProposalSignBytesByHand checks that a proposal in evidence is signed
// over exactly the bytes a proposer signs on the consensus wire:
// {chain_id, proposal: {height, round, block_hash, pol_round, proposer}},
// built here with refEncode and no chain code.
func TestProposalSignBytesByHand(t *testing.T) {
	p := signedProposal("C", "C", 6, 3, "x")
	p.POLRound = 1
	p.Sign(chaintest.ChainID, chaintest.Key("C"))
	msg := refEncode(map[string]any{
		"chain_id": chaintest.ChainID,
		"proposal": map[string]any{"height": uint64(6), "round": uint64(3), "block_hash": p.BlockHash[:],
			"pol_round": int64(1), "proposer": p.Proposer[:]},
	})
	if err := chaintest.Key("C").PublicKey().Verify(msg, p.Signature); err != nil {
		t.Fatalf("the signature is not over the wire's proposal sign bytes: %v", err)
	}
	p.POLRound = -1
	p.Sign(chaintest.ChainID, chaintest.Key("C"))
	msg = refEncode(map[string]any{
		"chain_id": chaintest.ChainID,
		"proposal": map[string]any{"height": uint64(6), "round": uint64(3), "block_hash": p.BlockHash[:],
			"pol_round": int64(-1), "proposer": p.Proposer[:]},
	})
	if err := chaintest.Key("C").PublicKey().Verify(msg, p.Signature); err != nil {
		t.Fatalf("pol_round -1: %v", err)
	}
}

func TestAProposalOffTheWireVerifiesInEvidence(t *testing.T) {
	vals := setOf("A", "B", "C", "D")
	sign := func(block string) chain.EvidenceProposal {
		sp := chain.SignedProposal{Proposal: chain.Proposal{Height: 6, Round: 1, BlockHash: chain.Sum([]byte(block)),
			POLRound: 0, Proposer: chaintest.Addr("C")}}
		sp.Sign(chaintest.ChainID, chaintest.Key("C"))
		if err := vals.VerifyProposal(chaintest.ChainID, &sp); err != nil {
			t.Fatal(err)
		}
		return chain.NewEvidenceProposal(sp.Proposal, sp.Signature)
	}
	ev := chain.NewConflictingProposal(sign("x"), sign("y"))
	if err := ev.Verify(chaintest.ChainID, vals); err != nil {
		t.Fatalf("two wire proposals as evidence: %v", err)
	}
}

func TestDecodeEvidence(t *testing.T) {
	ev := doubleVote()
	got, err := chain.DecodeEvidence(ev.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != ev.Hash() {
		t.Fatal("decoded evidence has another hash")
	}
	if _, err := chain.DecodeEvidence(make([]byte, 5000)); !errors.Is(err, chain.ErrDecode) {
		t.Fatalf("oversized evidence: %v", err)
	}
	null := refEncode(orderedMap{{"duplicate_vote", nil}})
	if _, err := chain.DecodeEvidence(null); !errors.Is(err, chain.ErrNonCanonical) {
		t.Fatalf("an explicit null kind decoded: %v", err)
	}
}

// evidenceBlock is a block at height carrying evs, with a consistent
// evidence hash and no transactions.
func evidenceBlock(height uint64, evs ...chain.Evidence) *chain.Block {
	_, _, b2 := goldenChain()
	b := *b2
	b.Header.ChainID = chaintest.ChainID
	b.Header.Height = height
	b.Header.PrevHash = chain.Sum([]byte("parent"))
	b.LastCommit = &chain.Commit{Height: height - 1, BlockHash: b.Header.PrevHash}
	b.Header.LastCommitHash = b.LastCommit.Hash()
	b.Txs = [][]byte{}
	b.Header.TxRoot = chain.Hash{}
	b.Evidence = evs
	b.Header.EvidenceHash = chain.ComputeEvidenceHash(evs)
	return &b
}

func TestBlockEvidenceRules(t *testing.T) {
	many := make([]chain.Evidence, chain.MaxBlockEvidence+1)
	for i := range many {
		many[i] = chain.NewDuplicateVote(signedVote("D", "D", chain.Prevote, uint64(i+1), 0, "x"), signedVote("D", "D", chain.Prevote, uint64(i+1), 0, "y"))
	}
	cases := []struct {
		name  string
		block func() *chain.Block
		want  string
	}{
		{"two offences at heights 5 and 6", func() *chain.Block { return evidenceBlock(7, doubleVote(), doubleProposal()) }, ""},
		{"the oldest admissible offence", func() *chain.Block { return evidenceBlock(5+chain.MaxEvidenceAge, doubleVote()) }, ""},
		{"no evidence", func() *chain.Block { return evidenceBlock(7) }, ""},
		{"evidence hash of other evidence", func() *chain.Block {
			b := evidenceBlock(7, doubleVote())
			b.Header.EvidenceHash = chain.ComputeEvidenceHash([]chain.Evidence{doubleProposal()})
			return b
		}, "evidence hash"},
		{"evidence without its hash", func() *chain.Block {
			b := evidenceBlock(7, doubleVote())
			b.Header.EvidenceHash = chain.Hash{}
			return b
		}, "evidence hash"},
		{"an evidence hash without evidence", func() *chain.Block {
			b := evidenceBlock(7)
			b.Header.EvidenceHash = chain.Sum(nil)
			return b
		}, "evidence hash"},
		{"an offence at the block's own height", func() *chain.Block { return evidenceBlock(5, doubleVote()) }, "not below"},
		{"an offence too old", func() *chain.Block { return evidenceBlock(6+chain.MaxEvidenceAge, doubleVote()) }, "older than"},
		{"one offence shown by two pairs", func() *chain.Block {
			other := chain.NewDuplicateVote(signedVote("D", "D", chain.Prevote, 5, 0, "x"), signedVote("D", "D", chain.Prevote, 5, 0, "z"))
			return evidenceBlock(7, doubleVote(), other)
		}, "shown twice"},
		{"malformed evidence", func() *chain.Block { return evidenceBlock(7, chain.Evidence{}) }, "exactly one"},
		{"too much evidence", func() *chain.Block { return evidenceBlock(100, many...) }, "limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.block()
			err := b.ValidateBasic(chaintest.ChainID)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ValidateBasic = %v", err)
				}
				return
			}
			if !errors.Is(err, chain.ErrInvalidBlock) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ValidateBasic = %v, want ErrInvalidBlock with %q", err, tc.want)
			}
		})
	}
}

func TestABlockWithoutEvidenceKeepsItsBytes(t *testing.T) {
	_, _, b2 := goldenChain()
	enc := b2.Encode()
	for _, key := range []string{"evidence", "evidence_hash"} {
		if bytes.Contains(enc, []byte(key)) {
			t.Fatalf("a block without evidence encodes the key %q", key)
		}
	}
	// The fields cannot be written out empty either: there is one encoding.
	withEmpty := refEncode(orderedMap{{"txs", []any{}}, {"header", rawCBOR(chain.MustEncode(&b2.Header))},
		{"evidence", []any{}}, {"last_commit", rawCBOR(b2.LastCommit.Encode())}})
	if _, err := chain.DecodeBlock(withEmpty); !errors.Is(err, chain.ErrNonCanonical) {
		t.Fatalf("a block with an empty evidence list decoded: %v", err)
	}
	h := &b2.Header
	fields := map[string]any{
		"chain_id": h.ChainID, "height": h.Height, "time": uint64(h.Time),
		"prev_hash": h.PrevHash[:], "tx_root": h.TxRoot[:], "state_root": h.StateRoot[:],
		"receipts_root": h.ReceiptsRoot[:], "proposer": h.Proposer[:],
		"validators_hash": h.ValidatorsHash[:], "last_commit_hash": h.LastCommitHash[:],
	}
	if !bytes.Equal(refEncode(fields), chain.MustEncode(h)) {
		t.Fatal("the header by hand differs")
	}
	var zero chain.Hash
	fields["evidence_hash"] = zero[:]
	var back chain.Header
	if err := chain.Decode(refEncode(fields), &back); !errors.Is(err, chain.ErrNonCanonical) {
		t.Fatalf("a header with a zero evidence hash decoded: %v", err)
	}
}

func FuzzDecodeEvidence(f *testing.F) {
	for _, ev := range []chain.Evidence{doubleVote(), doubleProposal(), {}} {
		f.Add(ev.Encode())
	}
	f.Add([]byte{0xa0})
	vals := setOf("A", "B", "C", "D")
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := chain.DecodeEvidence(b)
		if err != nil {
			checkErrKind(t, err, chain.ErrDecode, chain.ErrNonCanonical)
			return
		}
		if !bytes.Equal(ev.Encode(), b) {
			t.Fatal("decoded, but re-encodes differently")
		}
		if err := ev.ValidateBasic(chaintest.ChainID); err != nil {
			checkErrKind(t, err, chain.ErrInvalidEvidence)
			return
		}
		if err := ev.Verify(chaintest.ChainID, vals); err != nil {
			checkErrKind(t, err, chain.ErrInvalidEvidence)
		}
		_ = ev.Offence().String()
	})
}

func ExampleNewDuplicateVote() {
	vote := func(block string) chain.Vote {
		v := chain.Vote{ChainID: chaintest.ChainID, Type: chain.Prevote, Height: 5, Round: 0,
			BlockHash: chain.Sum([]byte(block)), Validator: chaintest.Addr("D")}
		v.Sign(chaintest.Key("D"))
		return v
	}
	ev := chain.NewDuplicateVote(vote("x"), vote("y"))
	vals := setOf("A", "B", "C", "D") // the set of height 5
	fmt.Println(ev.Verify(chaintest.ChainID, vals))
	fmt.Println(ev.Kind(), ev.Height(), ev.Offender() == chaintest.Addr("D"))
	// Output:
	// <nil>
	// duplicate_vote 5 true
}
