package node

import (
	"time"

	"github.com/citychain/citychain/chain"
)

// The commit wait counts from the moment the decision was known, not
// from when this node finished storing the block. That moment is when
// this node first held precommits for the block from validators with
// more than two thirds of the power, in one round, counted at their
// arrival (a precommit that came while the node was still on the
// previous height counts from when it came). CometBFT counts its
// timeout_commit the same way, from its CommitTime.
//
// Two things change with it. A node in step with the others starts the
// next height as many milliseconds sooner as it took to store the block.
// A node that fell behind, say because checking a large block took it
// longer than the others, does not add a whole commit wait on top of its
// delay: when it is the next proposer, the others are already waiting
// for its proposal.

// quorumTally counts the precommits of the current height as they
// arrive, to note when each block first had a quorum of them.
type quorumTally struct {
	seen  map[roundSigner]bool
	power map[roundBlock]uint64
	at    map[chain.Hash]time.Time // the first quorum of each block
}

type roundSigner struct {
	round  uint32
	signer chain.Address
}

type roundBlock struct {
	round uint32
	block chain.Hash
}

func newQuorumTally() quorumTally {
	return quorumTally{seen: map[roundSigner]bool{}, power: map[roundBlock]uint64{},
		at: map[chain.Hash]time.Time{}}
}

// add counts precommit v of a validator of vals, which arrived at; v
// has been verified. Votes for no block and repeats count nothing.
func (q *quorumTally) add(vals *chain.ValidatorSet, v *chain.Vote, at time.Time) {
	if v.Type != chain.Precommit || v.BlockHash.IsZero() {
		return
	}
	who := roundSigner{v.Round, v.Validator}
	val, ok := vals.Find(v.Validator)
	if !ok || q.seen[who] {
		return
	}
	q.seen[who] = true
	rb := roundBlock{v.Round, v.BlockHash}
	q.power[rb] += val.Power
	if _, done := q.at[v.BlockHash]; !done && q.power[rb] >= vals.Quorum() {
		q.at[v.BlockHash] = at
	}
}

// since returns when block first had a quorum of precommits, or now if
// that is unknown or later.
func (q *quorumTally) since(block chain.Hash, now time.Time) time.Time {
	if t, ok := q.at[block]; ok && t.Before(now) {
		return t
	}
	return now
}
