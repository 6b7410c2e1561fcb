package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/crypto"
)

// SignStateFile holds what the validator signed last (the double-sign
// guard), and LockedBlockFile the block it is locked on, both next to the
// data folder of the home.
const (
	SignStateFile   = "sign_state.cbor"
	LockedBlockFile = "locked_block.cbor"
)

// signer signs votes and proposals for the node's validator key and never
// signs two conflicting ones for one height and round, even across a
// crash: it records each signature in the guard and writes the guard to
// disk (fsync included) before it returns the signature.
type signer struct {
	chainID string
	key     *crypto.PrivateKey
	addr    chain.Address
	path    string
	guard   consensus.DoubleSignGuard
}

func loadSigner(home, chainID string, key *crypto.PrivateKey) (*signer, error) {
	s := &signer{chainID: chainID, key: key, addr: chain.AddressOf(key.PublicKey()),
		path: filepath.Join(home, SignStateFile)}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("read sign state: %w", err)
	}
	g, err := consensus.DecodeDoubleSignGuard(b)
	if err != nil {
		return nil, fmt.Errorf("sign state %s is damaged (%w); refusing to sign rather than risk a double vote", s.path, err)
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
	if err := writeFileSync(s.path, next.Encode()); err != nil {
		return v, fmt.Errorf("persist sign state: %w", err)
	}
	s.guard = next
	v.Sign(s.key)
	return v, nil
}

// signProposal records and persists the proposal, then signs it.
func (s *signer) signProposal(p consensus.Proposal) ([]byte, error) {
	next := s.guard
	if err := next.RecordProposal(p); err != nil {
		return nil, err
	}
	if err := writeFileSync(s.path, next.Encode()); err != nil {
		return nil, fmt.Errorf("persist sign state: %w", err)
	}
	s.guard = next
	return s.key.Sign(proposalSignBytes(s.chainID, p)), nil
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

// writeFileSync replaces path with data durably: write a temporary file,
// fsync it, rename it over path, fsync the folder.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
