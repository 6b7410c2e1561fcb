package node

import (
	"errors"
	"fmt"
	"os"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/crypto"
)

// The names the validator's vault keeps: SignStateFile what it signed
// last (the double-sign guard), ProposedBlockFile the block of its last
// proposal and LockedBlockFile the block it is locked on. A running node
// keeps each as NAME.vault in its home (vaultfile.go).
const (
	SignStateFile     = "sign_state"
	ProposedBlockFile = "proposed_block"
	LockedBlockFile   = "locked_block"
)

// signer signs votes and proposals for the node's validator key and never
// signs two conflicting ones for one height and round, even across a
// crash: it records each signature in the guard and saves the guard to
// its vault (durably) before it returns the signature.
type signer struct {
	chainID string
	key     *crypto.PrivateKey
	addr    chain.Address
	vault   vault
	guard   consensus.DoubleSignGuard
}

func loadSigner(v vault, chainID string, key *crypto.PrivateKey) (*signer, error) {
	s := &signer{chainID: chainID, key: key, addr: chain.AddressOf(key.PublicKey()), vault: v}
	b, err := v.Load(SignStateFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("read sign state: %w", err)
	}
	g, err := consensus.DecodeDoubleSignGuard(b)
	if err != nil {
		return nil, fmt.Errorf("sign state %s is damaged (%w); refusing to sign rather than risk a double vote", SignStateFile, err)
	}
	s.guard = g
	return s, nil
}

// signVote records and persists the vote, then signs it. It refuses a
// vote that conflicts with one signed before.
func (s *signer) signVote(a consensus.BroadcastVote) (chain.Vote, error) {
	v := a.Vote
	v.ChainID = s.chainID
	a.Vote = v
	next := s.guard
	if err := next.Record(a); err != nil {
		return v, err
	}
	if err := s.vault.Save(SignStateFile, next.Encode()); err != nil {
		return v, fmt.Errorf("persist sign state: %w", err)
	}
	s.guard = next
	v.Sign(s.key)
	return v, nil
}

// signProposal saves the proposed block, then records and persists the
// proposal, then signs it. The block goes first: after a crash at any
// point the guard never names a proposal whose block is lost, so a
// restarted proposer can propose the same block again in the same round
// instead of losing the round to its own guard.
func (s *signer) signProposal(p consensus.Proposal, block []byte) ([]byte, error) {
	next := s.guard
	if err := next.RecordProposal(p); err != nil {
		return nil, err
	}
	if next.Proposal != s.guard.Proposal {
		if err := s.vault.Save(ProposedBlockFile, block); err != nil {
			return nil, fmt.Errorf("persist proposed block: %w", err)
		}
		if err := s.vault.Save(SignStateFile, next.Encode()); err != nil {
			return nil, fmt.Errorf("persist sign state: %w", err)
		}
	}
	s.guard = next
	return s.key.Sign(chain.ProposalSignBytes(s.chainID, p)), nil
}

// proposedBlock returns the block of the last proposal signed if that
// proposal was for height and round, as saved by signProposal.
func (s *signer) proposedBlock(height uint64, round uint32) (consensus.Proposal, *chain.Block, bool) {
	p := s.guard.Proposal
	if p.BlockHash.IsZero() || p.Height != height || p.Round != round {
		return p, nil, false
	}
	raw, err := s.vault.Load(ProposedBlockFile)
	if err != nil {
		return p, nil, false
	}
	b, err := chain.DecodeBlock(raw)
	if err != nil || b.Hash() != p.BlockHash {
		return p, nil, false
	}
	return p, b, true
}

// resign returns the votes this validator signed at height before a
// restart, signed again (the same bytes; RFC 6979 makes signing
// deterministic), so that they can be sent again.
func (s *signer) resign(height uint64) []chain.Vote {
	var out []chain.Vote
	for _, v := range s.guard.Votes(height) {
		v.ChainID = s.chainID
		v.Sign(s.key)
		out = append(out, v)
	}
	return out
}
