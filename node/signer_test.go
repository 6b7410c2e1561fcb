package node

import (
	"errors"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
)

// A validator whose sign state cannot be read as a guard refuses to start
// rather than risk a double vote.
func TestSignerRefusesADamagedSignState(t *testing.T) {
	v := newMemVault()
	if err := v.Save(SignStateFile, []byte{0xff, 0x01}); err != nil {
		t.Fatal(err)
	}
	_, err := loadSigner(v, "c", DevValidatorKey(0))
	if err == nil || !strings.Contains(err.Error(), "refusing to sign") {
		t.Fatalf("loading a damaged sign state: %v", err)
	}
}

// A vote or proposal whose record cannot be persisted is not signed, and
// the guard in memory stays as it was.
func TestSignerSignsNothingItCannotPersist(t *testing.T) {
	v := newMemVault()
	s, err := loadSigner(v, "c", DevValidatorKey(0))
	if err != nil {
		t.Fatal(err)
	}
	v.Fail[SignStateFile] = errors.New("disk full")
	vote := chain.Vote{Type: chain.Prevote, Height: 3, BlockHash: chain.Hash{1}, Validator: s.addr}
	if _, err := s.signVote(castOf(vote)); err == nil {
		t.Fatal("signed a vote whose record could not be saved")
	}
	if s.guard.Prevote.Type != 0 {
		t.Fatal("the guard moved although nothing was saved")
	}
	p := chain.Proposal{Height: 3, BlockHash: chain.Hash{2}, POLRound: -1, Proposer: s.addr}
	if _, err := s.signProposal(p, []byte{1}); err == nil {
		t.Fatal("signed a proposal whose record could not be saved")
	}
	delete(v.Fail, SignStateFile)
	v.Fail[ProposedBlockFile] = errors.New("disk full")
	if _, err := s.signProposal(p, []byte{1}); err == nil {
		t.Fatal("signed a proposal whose block could not be saved")
	}
	if _, _, ok := s.proposedBlock(3, 0); ok {
		t.Fatal("a proposed block is offered although none was saved")
	}
}

// proposedBlock offers the saved block only for the very height and round
// of the last proposal, and only if the saved bytes are that block.
func TestSignerOffersOnlyTheBlockItProposed(t *testing.T) {
	r := newRig(t, 0)
	b := r.blockBy(r.addr(0))
	p := chain.Proposal{Height: 1, Round: 2, BlockHash: b.Hash(), POLRound: -1, Proposer: r.addr(0)}
	if _, err := r.e.signer.signProposal(p, b.Encode()); err != nil {
		t.Fatal(err)
	}
	if _, got, ok := r.e.signer.proposedBlock(1, 2); !ok || got.Hash() != b.Hash() {
		t.Fatal("the proposed block is not offered for its own round")
	}
	if _, _, ok := r.e.signer.proposedBlock(1, 3); ok {
		t.Fatal("the block is offered for another round")
	}
	if err := r.vault.Save(ProposedBlockFile, []byte{0x80}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := r.e.signer.proposedBlock(1, 2); ok {
		t.Fatal("damaged saved bytes are offered as the block")
	}
}
