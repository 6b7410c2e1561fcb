package node

import (
	"context"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// Messages from peers, sorted by height. The rule (CometBFT's, and
// STYLE.md's): judge a message by the validator set of its own height;
// ignore what cannot be judged yet; punish only what is provably wrong.
//
//   - the height being decided: verified against its set, then to the
//     machine;
//   - the height just decided: late precommits, counted for the explorer;
//   - the next height: kept in a small buffer (futureBuffer) until that
//     height starts, then verified against its own set like the rest;
//   - anything further ahead: dropped, and block sync is told that peers
//     may be ahead (a claim only: sync trusts commits, not claims);
//   - anything older: dropped.

// heightSet is a height and the validator set that decides it.
type heightSet struct {
	height uint64
	vals   *chain.ValidatorSet
}

// onMessage sorts a message by height and passes those of the current
// height to the machine.
func (e *engine) onMessage(ctx context.Context, in *inbound) {
	h := in.msg.Height()
	if v := in.msg.Vote; v != nil && e.decided != nil && h == e.decided.Height {
		e.noteLatePrecommit(v, in.self)
		return
	}
	switch {
	case h < e.height:
		return // decided already
	case h > e.height || !e.waitingSince.IsZero():
		if h == e.height+1 {
			e.future.add(in, e.vals, e.n.chainID)
			if !e.waitingSince.IsZero() && h == e.n.store.Latest().Height+1 {
				// Someone has started the next height: join it now rather than
				// wait for transactions of our own.
				e.startNext(ctx)
			}
			return
		}
		if h > e.height+1 {
			e.sync.poke() // others may be ahead: let block sync look
		}
		return
	}
	if v := in.msg.Vote; v != nil {
		if !in.self {
			if err := e.vals.VerifyVote(v); err != nil {
				e.n.log.Debug("dropping vote", "from", v.Validator.String(), "err", err)
				return
			}
		}
		e.handle(ctx, consensus.VoteReceived{Vote: *v})
		return
	}
	e.onProposal(ctx, in.msg.Proposal, in.from)
}

// noteLatePrecommit counts a precommit for the block this node last
// decided that arrived after the decision. It changes nothing in
// consensus; it shows who else signed.
func (e *engine) noteLatePrecommit(v *chain.Vote, self bool) {
	d := e.decided
	if v.Type != chain.Precommit || v.Round != d.Round || v.BlockHash != d.BlockHash {
		return
	}
	for _, p := range d.Precommits {
		if p.Validator == v.Validator {
			return
		}
	}
	if !self {
		if err := e.decidedVals.VerifyVote(v); err != nil {
			return
		}
	}
	d.Precommits = append(d.Precommits, VoteSummary{Validator: v.Validator, BlockHash: v.BlockHash})
	e.publishView()
}

// Bounds of the future buffer.
const (
	// futurePerValidator bounds the early messages kept per signer: a
	// correct validator sends a proposal and two votes per round, and a
	// height rarely needs more than a few rounds.
	futurePerValidator = 24
	// futureUnknown bounds the early messages whose signer is not in the
	// current set (it may join at the next height), all signers together,
	// so that made-up signers cannot crowd out the known ones.
	futureUnknown = 64
)

// futureBuffer holds messages for the next height until it starts. It is
// bounded so that no peer can pin it: only the next height is kept, each
// signer has its own quota, and when a quota is full the message of the
// farthest round goes first, since the next height starts at round 0. A
// message whose signer is in the current set must carry a valid
// signature under it to take a place: otherwise a forger could fill an
// honest validator's quota. Signers outside the current set share one
// small quota. Everything is verified again, against the set of its own
// height, when that height starts.
type futureBuffer struct {
	height uint64
	msgs   []*inbound
}

// add keeps in if it is for the height after the current one.
func (f *futureBuffer) add(in *inbound, cur *chain.ValidatorSet, chainID string) {
	h := in.msg.Height()
	if h != f.height {
		f.height, f.msgs = h, nil
	}
	signer := in.msg.Signer()
	known := false
	if cur != nil {
		if _, ok := cur.Find(signer); ok {
			known = true
			if !in.self && verifySigned(chainID, cur, in.msg) != nil {
				return // may be honest under a new set; it will be re-sent
			}
		}
	}
	same := func(x *inbound) bool {
		if known {
			return x.msg.Signer() == signer
		}
		if cur == nil {
			return true
		}
		_, ok := cur.Find(x.msg.Signer())
		return !ok
	}
	for _, x := range f.msgs {
		if sameStatement(x.msg, in.msg) {
			return // a re-send of what is kept already
		}
	}
	quota := futurePerValidator
	if !known {
		quota = futureUnknown
	}
	count, far := 0, -1
	for i, x := range f.msgs {
		if !same(x) {
			continue
		}
		count++
		if far < 0 || x.msg.Round() > f.msgs[far].msg.Round() {
			far = i
		}
	}
	if count < quota {
		f.msgs = append(f.msgs, in)
		return
	}
	if in.msg.Round() < f.msgs[far].msg.Round() {
		f.msgs[far] = in
	}
}

// sameStatement reports whether a and b carry the same signed vote or
// proposal, whatever their Resend numbers.
func sameStatement(a, b *chain.ConsensusMessage) bool {
	switch {
	case a.Vote != nil && b.Vote != nil:
		x, y := a.Vote, b.Vote
		return x.Validator == y.Validator && x.Type == y.Type && x.Height == y.Height && x.Round == y.Round && x.BlockHash == y.BlockHash
	case a.Proposal != nil && b.Proposal != nil:
		return a.Proposal.Proposal == b.Proposal.Proposal
	}
	return false
}

// take returns the messages kept for height h and empties the buffer.
func (f *futureBuffer) take(h uint64) []*inbound {
	var out []*inbound
	if f.height == h {
		out = f.msgs
	}
	f.height, f.msgs = 0, nil
	return out
}

// verifySigned checks the signature of a vote or proposal against vs.
func verifySigned(chainID string, vs *chain.ValidatorSet, m *chain.ConsensusMessage) error {
	if m.Vote != nil {
		return vs.VerifyVote(m.Vote)
	}
	return vs.VerifyProposal(chainID, m.Proposal)
}
