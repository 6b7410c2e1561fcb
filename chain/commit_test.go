package chain_test

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// The scenarios below speak of validators A, B, C and D, golden keys 0 to
// 3, and of E, golden key 4, who is not in the set.
const (
	valA = iota
	valB
	valC
	valD
	valE
)

func validator(i int, power uint64) chain.Validator {
	pub := goldenKey(i).PublicKey()
	return chain.Validator{Address: chain.AddressOf(pub), PubKey: pub.Bytes(), Power: power}
}

func TestNewValidatorSet(t *testing.T) {
	vs, err := chain.NewValidatorSet([]chain.Validator{
		validator(valD, 1), validator(valA, 2), validator(valC, 3), validator(valB, 4),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(vs.Validators); i++ {
		if bytes.Compare(vs.Validators[i-1].Address[:], vs.Validators[i].Address[:]) >= 0 {
			t.Fatalf("validators not sorted by address at %d", i)
		}
	}
	if vs.TotalPower() != 10 {
		t.Fatalf("TotalPower = %d, want 10", vs.TotalPower())
	}
	// The order of the input does not change the set or its hash.
	again, err := chain.NewValidatorSet([]chain.Validator{
		validator(valB, 4), validator(valC, 3), validator(valA, 2), validator(valD, 1),
	})
	if err != nil || again.Hash() != vs.Hash() {
		t.Fatalf("same set in another order hashes differently (%v)", err)
	}
	if v, ok := vs.Find(goldenAddr(valC)); !ok || v.Power != 3 {
		t.Fatalf("Find(C) = %+v, %v", v, ok)
	}
	if _, ok := vs.Find(goldenAddr(valE)); ok {
		t.Fatal("Find(E) found a non-member")
	}

	mismatched := validator(valA, 1)
	mismatched.Address = goldenAddr(valB)
	badKey := validator(valA, 1)
	badKey.PubKey = badKey.PubKey[:32]
	tests := []struct {
		name string
		vals []chain.Validator
	}{
		{"empty", nil},
		{"zero power", []chain.Validator{validator(valA, 1), validator(valB, 0)}},
		{"listed twice", []chain.Validator{validator(valA, 1), validator(valB, 1), validator(valA, 2)}},
		{"address of another key", []chain.Validator{mismatched}},
		{"malformed key", []chain.Validator{badKey}},
		{"total power overflows", []chain.Validator{validator(valA, math.MaxUint64), validator(valB, 1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := chain.NewValidatorSet(tc.vals); err == nil {
				t.Fatal("NewValidatorSet accepted the set")
			}
		})
	}
}

func TestQuorum(t *testing.T) {
	tests := []struct {
		powers []uint64
		want   uint64
	}{
		{[]uint64{1}, 1},
		{[]uint64{1, 1}, 2},
		{[]uint64{1, 1, 1}, 3},
		{[]uint64{1, 1, 1, 1}, 3}, // 3f+1 = 4 tolerates f = 1
		{[]uint64{10, 10, 10, 10}, 27},
		{[]uint64{50, 20, 20, 10}, 67},
		{[]uint64{1, 1, 1, 1, 1, 1, 1}, 5},
		// Near the top of uint64, 2*total would wrap around; the quorum
		// must still be more than two thirds.
		{[]uint64{math.MaxUint64 - 3, 3}, 12297829382473034411},
		{[]uint64{math.MaxUint64/2 + 1, math.MaxUint64 / 2}, 12297829382473034411},
	}
	for _, tc := range tests {
		var vals []chain.Validator
		for i, p := range tc.powers {
			vals = append(vals, validator(i, p))
		}
		vs, err := chain.NewValidatorSet(vals)
		if err != nil {
			t.Fatal(err)
		}
		got := vs.Quorum()
		if got != tc.want {
			t.Errorf("Quorum(%v) = %d, want %d", tc.powers, got, tc.want)
		}
		// Check the definition with big numbers: 3q > 2t and 3(q-1) <= 2t.
		q, total := new(big.Int).SetUint64(got), new(big.Int).SetUint64(vs.TotalPower())
		twoT := new(big.Int).Mul(total, big.NewInt(2))
		threeQ := new(big.Int).Mul(q, big.NewInt(3))
		threeQm1 := new(big.Int).Sub(threeQ, big.NewInt(3))
		if threeQ.Cmp(twoT) <= 0 || threeQm1.Cmp(twoT) > 0 {
			t.Errorf("Quorum(%v) = %d is not the smallest power above 2/3 of %d", tc.powers, got, total)
		}
	}
}

// fourEqual is the set A, B, C, D with power 10 each.
func fourEqual(t *testing.T) *chain.ValidatorSet {
	t.Helper()
	vs, err := chain.NewValidatorSet([]chain.Validator{
		validator(valA, 10), validator(valB, 10), validator(valC, 10), validator(valD, 10),
	})
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestVerifyCommit(t *testing.T) {
	block := chain.Sum([]byte("block 7"))
	other := chain.Sum([]byte("another block 7"))
	const height, round = 7, 2

	// sig returns validator i's precommit signature, with edits applied to
	// the vote before signing.
	sig := func(i int, edit func(v *chain.Vote)) chain.CommitSig {
		v := chain.Vote{ChainID: goldenChainID, Type: chain.Precommit, Height: height, Round: round,
			BlockHash: block, Validator: goldenAddr(i)}
		if edit != nil {
			edit(&v)
		}
		v.Sign(goldenKey(i))
		return chain.CommitSig{Validator: goldenAddr(i), Signature: v.Signature}
	}
	commit := func(sigs ...chain.CommitSig) *chain.Commit {
		return &chain.Commit{Height: height, Round: round, BlockHash: block, Signatures: sigs}
	}
	flipped := sig(valC, nil)
	flipped.Signature = append([]byte(nil), flipped.Signature...)
	flipped.Signature[0] ^= 1
	high := sig(valC, nil)
	high.Signature = highS(high.Signature)
	forged := sig(valE, nil) // E signs but claims to be C
	forged.Validator = goldenAddr(valC)

	tests := []struct {
		name   string
		commit *chain.Commit
		height uint64
		block  chain.Hash
		want   error // nil: the commit proves the block
		want2  error // a second kind the error must wrap
	}{
		{"A B C sign: 3 of 4", commit(sig(valA, nil), sig(valB, nil), sig(valC, nil)), height, block, nil, nil},
		{"all four sign", commit(sig(valD, nil), sig(valC, nil), sig(valB, nil), sig(valA, nil)), height, block, nil, nil},
		{"A B sign: 2 of 4", commit(sig(valA, nil), sig(valB, nil)), height, block, chain.ErrInvalidCommit, nil},
		{"nobody signs", commit(), height, block, chain.ErrInvalidCommit, nil},
		{"A signs twice", commit(sig(valA, nil), sig(valB, nil), sig(valA, nil)), height, block, chain.ErrInvalidCommit, nil},
		{"E is not a validator", commit(sig(valA, nil), sig(valB, nil), sig(valE, nil)), height, block, chain.ErrInvalidCommit, nil},
		{"C's signature has a flipped byte", commit(sig(valA, nil), sig(valB, nil), flipped), height, block,
			chain.ErrInvalidCommit, crypto.ErrBadSignature},
		{"C's signature in high-S form", commit(sig(valA, nil), sig(valB, nil), high), height, block,
			chain.ErrInvalidCommit, crypto.ErrHighS},
		{"E signs in C's name", commit(sig(valA, nil), sig(valB, nil), forged), height, block,
			chain.ErrInvalidCommit, crypto.ErrBadSignature},
		{"C voted for another block", commit(sig(valA, nil), sig(valB, nil),
			sig(valC, func(v *chain.Vote) { v.BlockHash = other })), height, block, chain.ErrInvalidCommit, crypto.ErrBadSignature},
		{"C voted in another round", commit(sig(valA, nil), sig(valB, nil),
			sig(valC, func(v *chain.Vote) { v.Round = 0 })), height, block, chain.ErrInvalidCommit, crypto.ErrBadSignature},
		{"C sent a prevote", commit(sig(valA, nil), sig(valB, nil),
			sig(valC, func(v *chain.Vote) { v.Type = chain.Prevote })), height, block, chain.ErrInvalidCommit, crypto.ErrBadSignature},
		{"C signed for another chain", commit(sig(valA, nil), sig(valB, nil),
			sig(valC, func(v *chain.Vote) { v.ChainID = "other-chain" })), height, block, chain.ErrInvalidCommit, crypto.ErrBadSignature},
		{"commit for another height", commit(sig(valA, nil), sig(valB, nil), sig(valC, nil)), height + 1, block, chain.ErrInvalidCommit, nil},
		{"commit for another block", commit(sig(valA, nil), sig(valB, nil), sig(valC, nil)), height, other, chain.ErrInvalidCommit, nil},
		{"no commit", nil, height, block, chain.ErrInvalidCommit, nil},
	}
	vs := fourEqual(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := vs.VerifyCommit(goldenChainID, tc.height, tc.block, tc.commit)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("VerifyCommit = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("VerifyCommit = %v, want %v", err, tc.want)
			}
			if tc.want2 != nil && !errors.Is(err, tc.want2) {
				t.Fatalf("VerifyCommit = %v, want it to wrap %v too", err, tc.want2)
			}
		})
	}
}

// TestVerifyCommitWeighted: with powers A=50, B=20, C=20, D=10 the quorum
// is 67, so what counts is power, not heads.
func TestVerifyCommitWeighted(t *testing.T) {
	vs, err := chain.NewValidatorSet([]chain.Validator{
		validator(valA, 50), validator(valB, 20), validator(valC, 20), validator(valD, 10),
	})
	if err != nil {
		t.Fatal(err)
	}
	block := chain.Sum([]byte("weighted"))
	tests := []struct {
		name    string
		signers []int
		ok      bool
	}{
		{"A and B hold 70", []int{valA, valB}, true},
		{"A and D hold 60", []int{valA, valD}, false},
		{"B, C and D hold 50", []int{valB, valC, valD}, false},
		{"A, C and D hold 80", []int{valA, valC, valD}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := goldenCommit(3, 0, block, tc.signers...)
			err := vs.VerifyCommit(goldenChainID, 3, block, c)
			if (err == nil) != tc.ok {
				t.Fatalf("VerifyCommit = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestVoteSignBytesLeaveOutSignature(t *testing.T) {
	v := goldenVote(5, 1, chain.Sum([]byte("b")), valB)
	unsigned := *v
	unsigned.Signature = nil
	if !bytes.Equal(v.SignBytes(), chain.MustEncode(&unsigned)) {
		t.Fatal("vote SignBytes is not the encoding without the signature")
	}
	if err := goldenKey(valB).PublicKey().Verify(v.SignBytes(), v.Signature); err != nil {
		t.Fatal(err)
	}
}

func TestCommitHash(t *testing.T) {
	var none *chain.Commit
	if !none.Hash().IsZero() {
		t.Fatal("hash of no commit is not zero")
	}
	c := goldenCommit(1, 0, chain.Sum([]byte("x")), valA, valB, valC)
	if c.Hash() != chain.Sum(c.Encode()) {
		t.Fatal("commit hash is not SHA-256 of its encoding")
	}
	// The signers' order is part of the bytes, so it changes the hash.
	if c.Hash() == goldenCommit(1, 0, chain.Sum([]byte("x")), valC, valB, valA).Hash() {
		t.Fatal("two different commit encodings share a hash")
	}
}
