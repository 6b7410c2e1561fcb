package node

import (
	"fmt"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// Message is what validators gossip on the consensus topic: exactly one
// of a signed proposal (with its block) or a signed vote. Its encoding is
// the chain's canonical CBOR.
type Message struct {
	Proposal *SignedProposal `cbor:"proposal,omitempty"`
	Vote     *chain.Vote     `cbor:"vote,omitempty"`
	// Resend numbers a repeated sending of the same proposal or vote. It is
	// outside what was signed; it only makes the gossip message new, since
	// gossip drops a message whose bytes it has seen before, and a peer
	// that was down when the original went out still needs it.
	Resend uint64 `cbor:"resend,omitempty"`
}

// SignedProposal is a proposer's signed proposal together with the block
// it proposes and, when it proposes a block again (POLRound >= 0), the
// prevotes of that round that justify it, so that a validator who missed
// them can still accept the proposal.
type SignedProposal struct {
	Proposal  consensus.Proposal `cbor:"proposal"`
	Signature []byte             `cbor:"signature"`
	Block     []byte             `cbor:"block"`
	POL       []chain.Vote       `cbor:"pol"`
}

// proposalSignBytes are the bytes a proposer signs: the canonical
// encoding of the chain id and the proposal.
func proposalSignBytes(chainID string, p consensus.Proposal) []byte {
	return chain.MustEncode(&struct {
		ChainID  string             `cbor:"chain_id"`
		Proposal consensus.Proposal `cbor:"proposal"`
	}{chainID, p})
}

// maxMessageSize bounds a consensus message: a full block and its POL.
const maxMessageSize = chain.MaxBlockSize + (1 << 20)

// DecodeMessage parses a consensus message and checks its shape.
func DecodeMessage(chainID string, data []byte) (*Message, error) {
	if len(data) > maxMessageSize {
		return nil, fmt.Errorf("%w: consensus message of %d bytes", chain.ErrDecode, len(data))
	}
	var m Message
	if err := chain.Decode(data, &m); err != nil {
		return nil, err
	}
	switch {
	case (m.Proposal == nil) == (m.Vote == nil):
		return nil, fmt.Errorf("%w: a consensus message holds exactly one proposal or vote", chain.ErrDecode)
	case m.Vote != nil:
		if m.Vote.ChainID != chainID {
			return nil, fmt.Errorf("%w: vote for %q", chain.ErrWrongChain, m.Vote.ChainID)
		}
		if m.Vote.Type != chain.Prevote && m.Vote.Type != chain.Precommit {
			return nil, fmt.Errorf("%w: vote type %d", chain.ErrDecode, m.Vote.Type)
		}
	case m.Proposal != nil:
		if m.Proposal.Proposal.POLRound < -1 || m.Proposal.Proposal.POLRound >= int32(m.Proposal.Proposal.Round) && m.Proposal.Proposal.POLRound != -1 {
			return nil, fmt.Errorf("%w: pol_round %d in round %d", chain.ErrDecode, m.Proposal.Proposal.POLRound, m.Proposal.Proposal.Round)
		}
		if len(m.Proposal.POL) > 1000 {
			return nil, fmt.Errorf("%w: %d POL votes", chain.ErrDecode, len(m.Proposal.POL))
		}
		for _, v := range m.Proposal.POL {
			if v.ChainID != chainID {
				return nil, fmt.Errorf("%w: POL vote for %q", chain.ErrWrongChain, v.ChainID)
			}
		}
	}
	return &m, nil
}

// verifyVote checks a vote's signature against the validator set.
func verifyVote(vs *chain.ValidatorSet, v *chain.Vote) error {
	val, ok := vs.Find(v.Validator)
	if !ok {
		return fmt.Errorf("%w: %s is not a validator", chain.ErrUnauthorized, v.Validator)
	}
	pub, err := cryptoPub(val.PubKey)
	if err != nil {
		return err
	}
	return pub.Verify(v.SignBytes(), v.Signature)
}

// verifyProposal checks the proposer's signature.
func verifyProposal(chainID string, vs *chain.ValidatorSet, sp *SignedProposal) error {
	val, ok := vs.Find(sp.Proposal.Proposer)
	if !ok {
		return fmt.Errorf("%w: proposer %s is not a validator", chain.ErrUnauthorized, sp.Proposal.Proposer)
	}
	pub, err := cryptoPub(val.PubKey)
	if err != nil {
		return err
	}
	return pub.Verify(proposalSignBytes(chainID, sp.Proposal), sp.Signature)
}
