package consensus

import "github.com/citychain/citychain/chain"

// voteSet holds the votes of one type (prevote or precommit) for one round
// of the current height, weighted by power.
//
// A correct validator votes once per set. A faulty one may sign several
// different votes; the set then keeps up to maxValuesPerValidator of them,
// one per block hash. Each value's tally counts every validator that voted
// for it, as the paper counts "2f+1 PREVOTE messages for id(v)": a correct
// node that first received an equivocator's vote for nil must still be able
// to see the proof-of-lock that others saw for v, or it could refuse the
// re-proposal of v forever. The power of "any" vote counts each validator
// once.
//
// Invariants: votes[i][0] is the first vote seen from validator i and the
// others differ from it and from each other in block hash; power is the sum
// of the powers of validators with a vote; byHash[h] is the power of the
// validators with a vote for h (the zero hash is nil); majority is the first
// hash whose tally reached quorum. With at most f faulty power no two hashes
// can both reach a quorum, since that would need two disjoint sets of
// correct voters, each of power quorum - f.
type voteSet struct {
	votes       [][]chain.Vote
	reported    []bool // equivocation already reported for validator i
	power       uint64
	byHash      map[chain.Hash]uint64
	majority    chain.Hash
	hasMajority bool
}

// maxValuesPerValidator bounds the distinct votes kept from one validator
// in one set, so a faulty validator cannot fill memory. It matches the
// proposals kept per round.
const maxValuesPerValidator = maxProposalsPerRound

// addResult says what voteSet.add did with a vote.
type addResult uint8

const (
	voteAdded     addResult = iota + 1 // the validator's first vote
	voteDuplicate                      // a vote already held, or one over the limit
	voteConflict                       // a vote for another hash: equivocation
)

func newVoteSet(n int) *voteSet {
	return &voteSet{
		votes:    make([][]chain.Vote, n),
		reported: make([]bool, n),
		byHash:   make(map[chain.Hash]uint64),
	}
}

// add counts v from validator i of the given power. For a vote with a
// block hash the validator has not voted for yet, it returns voteConflict
// and the validator's first vote, but only the first time; the vote is
// counted for its hash either way, up to maxValuesPerValidator values.
func (s *voteSet) add(i int, v chain.Vote, power, quorum uint64) (addResult, chain.Vote) {
	held := s.votes[i]
	for _, h := range held {
		if h.BlockHash == v.BlockHash {
			return voteDuplicate, chain.Vote{}
		}
	}
	if len(held) >= maxValuesPerValidator {
		return voteDuplicate, chain.Vote{}
	}
	s.votes[i] = append(held, copyVote(v))
	s.byHash[v.BlockHash] += power
	if !s.hasMajority && s.byHash[v.BlockHash] >= quorum {
		s.hasMajority, s.majority = true, v.BlockHash
	}
	if len(held) == 0 {
		s.power += power
		return voteAdded, chain.Vote{}
	}
	if s.reported[i] {
		return voteDuplicate, chain.Vote{}
	}
	s.reported[i] = true
	return voteConflict, copyVote(held[0])
}

// powerFor returns the power of the votes for hash (the zero hash is nil).
func (s *voteSet) powerFor(hash chain.Hash) uint64 { return s.byHash[hash] }

// majorityBlock returns the non-nil block hash with quorum power behind it.
func (s *voteSet) majorityBlock() (chain.Hash, bool) {
	if !s.hasMajority || s.majority.IsZero() {
		return chain.Hash{}, false
	}
	return s.majority, true
}

// votesFor returns copies of the votes for hash, in validator-set order.
func (s *voteSet) votesFor(hash chain.Hash) []chain.Vote {
	var out []chain.Vote
	for _, held := range s.votes {
		for _, v := range held {
			if v.BlockHash == hash {
				out = append(out, copyVote(v))
			}
		}
	}
	return out
}

// first returns copies of each validator's first vote, in validator-set
// order.
func (s *voteSet) first() []chain.Vote {
	var out []chain.Vote
	for _, held := range s.votes {
		if len(held) > 0 {
			out = append(out, copyVote(held[0]))
		}
	}
	return out
}

func copyVote(v chain.Vote) chain.Vote {
	v.Signature = append([]byte(nil), v.Signature...)
	return v
}

// roundState is what the Machine knows about one round of the current
// height: the proposals from the round's proposer, both vote sets, and the
// "for the first time" flags of the rules that fire once per round.
type roundState struct {
	proposals    []proposalSeen // in arrival order, distinct
	prevotes     *voteSet
	precommits   *voteSet
	prevoteTimer bool // line 34 has fired
	polka        bool // line 36 has fired
	precommitTmr bool // line 47 has fired
}

// proposalSeen is a proposal with the driver's verdict on its block.
type proposalSeen struct {
	p     Proposal
	valid bool
}

// maxProposalsPerRound bounds the distinct proposals kept for one round. An
// honest proposer sends one; a faulty one (or a key run twice) a few.
const maxProposalsPerRound = 4

func newRoundState(n int) *roundState {
	return &roundState{prevotes: newVoteSet(n), precommits: newVoteSet(n)}
}

// votes returns the vote set of type t.
func (rs *roundState) votes(t chain.VoteType) *voteSet {
	if t == chain.Prevote {
		return rs.prevotes
	}
	return rs.precommits
}

// proposalFor returns the first proposal of the round for block hash, so
// rules that need "a proposal for v" find it whatever else was proposed.
func (rs *roundState) proposalFor(hash chain.Hash) (proposalSeen, bool) {
	for _, s := range rs.proposals {
		if s.p.BlockHash == hash {
			return s, true
		}
	}
	return proposalSeen{}, false
}

// proposalIndex returns the index of exactly p among the proposals
// received, or -1.
func (rs *roundState) proposalIndex(p Proposal) int {
	for i, s := range rs.proposals {
		if s.p == p {
			return i
		}
	}
	return -1
}
