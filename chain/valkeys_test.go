package chain

import (
	"errors"
	"testing"

	"github.com/citychain/citychain/chain/crypto"
)

// A validator's key is parsed once, by whichever check, however many sets
// hold it, and a kept key still refuses what it did not sign.
func TestValidatorKeysAreParsedOnce(t *testing.T) {
	const chainID = "valkeys"
	type signer struct {
		key *crypto.PrivateKey
		val Validator
	}
	vote := func(s signer, typ VoteType, height uint64, block Hash) Vote {
		v := Vote{ChainID: chainID, Type: typ, Height: height, BlockHash: block, Validator: s.val.Address}
		v.Signature = s.key.Sign(v.SignBytes())
		return v
	}
	checks := []struct {
		name  string
		check func(s signer, vs *ValidatorSet, h uint64) error
	}{
		{"vote", func(s signer, vs *ValidatorSet, h uint64) error {
			v := vote(s, Prevote, h, Hash{byte(h)})
			return vs.VerifyVote(&v)
		}},
		{"proposal", func(s signer, vs *ValidatorSet, h uint64) error {
			sp := &SignedProposal{Proposal: Proposal{Height: h, POLRound: -1, Proposer: s.val.Address}}
			sp.Signature = s.key.Sign(ProposalSignBytes(chainID, sp.Proposal))
			return vs.VerifyProposal(chainID, sp)
		}},
		{"commit", func(s signer, vs *ValidatorSet, h uint64) error {
			v := vote(s, Precommit, h, Hash{byte(h)})
			c := &Commit{Height: h, BlockHash: v.BlockHash, Signatures: []CommitSig{{Validator: s.val.Address, Signature: v.Signature}}}
			return vs.VerifyCommit(chainID, h, v.BlockHash, c)
		}},
		{"evidence", func(s signer, vs *ValidatorSet, h uint64) error {
			ev := Evidence{DuplicateVote: &DuplicateVote{A: vote(s, Prevote, h, Hash{1, byte(h)}), B: vote(s, Prevote, h, Hash{2, byte(h)})}}
			return ev.Verify(chainID, vs)
		}},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			key, err := crypto.GenerateKey() // a key no other check has seen
			if err != nil {
				t.Fatal(err)
			}
			pub := key.PublicKey()
			s := signer{key, Validator{Address: AddressOf(pub), PubKey: pub.Bytes(), Power: 1}}
			before := validatorKeys.Len()
			for h := uint64(1); h <= 3; h++ {
				// A set of its own each height, as each height's state decodes one.
				vs, err := NewValidatorSet([]Validator{s.val})
				if err != nil {
					t.Fatal(err)
				}
				if err := c.check(s, vs, h); err != nil {
					t.Fatalf("height %d: %v", h, err)
				}
			}
			if got := validatorKeys.Len() - before; got != 1 {
				t.Errorf("three heights' checks kept the key %d times, want once", got)
			}
			a, _ := validatorKey(s.val.PubKey)
			if b, _ := validatorKey(s.val.PubKey); a != b {
				t.Error("two parses of a kept key gave two keys")
			}
		})
	}

	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub := key.PublicKey()
	s := signer{key, Validator{Address: AddressOf(pub), PubKey: pub.Bytes(), Power: 1}}
	vs, err := NewValidatorSet([]Validator{s.val})
	if err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= 3; h++ { // kept, and past the checks that build its table
		if v := vote(s, Prevote, h, Hash{byte(h)}); vs.VerifyVote(&v) != nil {
			t.Fatalf("height %d: the vote does not verify", h)
		}
	}
	forged := vote(s, Prevote, 9, Hash{9})
	forged.BlockHash = Hash{8} // not what the key signed
	if err := vs.VerifyVote(&forged); !errors.Is(err, crypto.ErrBadSignature) {
		t.Errorf("a vote the kept key did not sign: %v, want ErrBadSignature", err)
	}
	c := &Commit{Height: 9, BlockHash: Hash{8}, Signatures: []CommitSig{{Validator: s.val.Address, Signature: forged.Signature}}}
	if err := vs.VerifyCommit(chainID, 9, Hash{8}, c); !errors.Is(err, crypto.ErrBadSignature) {
		t.Errorf("a commit the kept key did not sign: %v, want ErrBadSignature", err)
	}
}

// BenchmarkVerifyVote checks one validator's prevote against its set, as
// every node does for each vote of each height.
func BenchmarkVerifyVote(b *testing.B) {
	key, err := crypto.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	pub := key.PublicKey()
	val := Validator{Address: AddressOf(pub), PubKey: pub.Bytes(), Power: 1}
	vs, err := NewValidatorSet([]Validator{val})
	if err != nil {
		b.Fatal(err)
	}
	v := Vote{ChainID: "bench", Type: Prevote, Height: 7, BlockHash: Hash{7}, Validator: val.Address}
	v.Signature = key.Sign(v.SignBytes())
	for b.Loop() {
		if err := vs.VerifyVote(&v); err != nil {
			b.Fatal(err)
		}
	}
}
