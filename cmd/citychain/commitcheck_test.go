package main

import (
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/node"
)

// verifyCommitView checks the commit certificate a block view carries the
// way a light client would: against the validator set that signs the
// block's height, which is the one of sets whose hash the block's header
// names, it recomputes what each signature signs (rather than trusting
// the view's sign bytes), verifies it, and adds up the power of the valid
// signers, which must be more than 2/3 of the set's. It fails on a block
// without a commit, on a header that names none of sets, and on any
// signature or power shortfall VerifyCommit reports.
func verifyCommitView(b *node.BlockView, sets ...*chain.ValidatorSet) error {
	if b.Commit == nil {
		return fmt.Errorf("block %d carries no commit", b.Height)
	}
	var vs *chain.ValidatorSet
	for _, s := range sets {
		if s.Hash() == b.ValidatorsHash {
			vs = s
			break
		}
	}
	if vs == nil {
		return fmt.Errorf("block %d names validator set %s, none of the %d sets the test knows", b.Height, b.ValidatorsHash, len(sets))
	}
	c := &chain.Commit{Height: b.Commit.Height, Round: b.Commit.Round, BlockHash: b.Commit.BlockHash}
	for _, s := range b.Commit.Signatures {
		sig, err := hex.DecodeString(s.Signature)
		if err != nil {
			return fmt.Errorf("block %d: signature of %s: %w", b.Height, s.Validator, err)
		}
		c.Signatures = append(c.Signatures, chain.CommitSig{Validator: s.Validator, Signature: sig})
	}
	if err := vs.VerifyCommit(b.ChainID, b.Height, b.Hash, c); err != nil {
		return fmt.Errorf("block %d: %w", b.Height, err)
	}
	return nil
}

// TestVerifyCommitView checks the commit check of the e2e tests on
// commits made here: validators A, B and C with power 1 each and D with
// power 10, so that a count of signatures and a sum of power disagree.
func TestVerifyCommitView(t *testing.T) {
	keys := []*crypto.PrivateKey{node.DevValidatorKey(0), node.DevValidatorKey(1), node.DevValidatorKey(2), node.DevValidatorKey(3)}
	a, b, c, d := keys[0], keys[1], keys[2], keys[3]
	var vals []chain.Validator
	for i, k := range keys {
		vals = append(vals, chain.Validator{Address: chain.AddressOf(k.PublicKey()), PubKey: k.PublicKey().Bytes(), Power: []uint64{1, 1, 1, 10}[i]})
	}
	set, err := chain.NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	other, err := chain.NewValidatorSet(vals[:3])
	if err != nil {
		t.Fatal(err)
	}
	const chainID = "commit-check"
	block := func(signers ...*crypto.PrivateKey) *node.BlockView {
		bv := &node.BlockView{HeaderJSON: chain.HeaderJSON{Hash: chain.Sum([]byte("block 7")), ChainID: chainID, Height: 7, ValidatorsHash: set.Hash()}}
		bv.Commit = &node.CommitView{Height: 7, BlockHash: bv.Hash}
		for _, k := range signers {
			v := chain.Vote{ChainID: chainID, Type: chain.Precommit, Height: 7, BlockHash: bv.Hash, Validator: chain.AddressOf(k.PublicKey())}
			v.Sign(k)
			bv.Commit.Signatures = append(bv.Commit.Signatures, node.CommitSigV{Validator: v.Validator, Signature: hex.EncodeToString(v.Signature)})
		}
		return bv
	}
	forged := block(a, b, d)
	forged.Commit.Signatures[2].Signature = forged.Commit.Signatures[0].Signature
	noCommit := block(d)
	noCommit.Commit = nil
	cases := []struct {
		name string
		b    *node.BlockView
		sets []*chain.ValidatorSet
		ok   bool
	}{
		{"D alone holds more than 2/3 of the power", block(d), []*chain.ValidatorSet{set}, true},
		{"A, B and C are three of four but 3 of 13", block(a, b, c), []*chain.ValidatorSet{set}, false},
		{"the set is found among several", block(a, d), []*chain.ValidatorSet{other, set}, true},
		{"a signature of someone else", forged, []*chain.ValidatorSet{set}, false},
		{"no commit", noCommit, []*chain.ValidatorSet{set}, false},
		{"a header naming an unknown set", block(a, b, c, d), []*chain.ValidatorSet{other}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := verifyCommitView(tc.b, tc.sets...)
			if (err == nil) != tc.ok {
				t.Fatalf("verifyCommitView: %v; want ok %v", err, tc.ok)
			}
		})
	}
}
