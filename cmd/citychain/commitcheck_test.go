package main

import (
	"encoding/hex"
	"fmt"

	"github.com/citychain/citychain/chain"
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
