package consensus_test

import (
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// This file holds the faulty behaviours of simulated nodes. Faulty nodes
// run the same Machine as honest ones; only what their driver does with
// its actions differs.

// fault is how a simulated node misbehaves.
type fault uint8

const (
	honest        fault = iota
	silent              // never sends anything (a crash that never recovers)
	equivProposer       // proposes two different blocks to different peers
	equivVoter          // sends conflicting votes to different peers
	twin                // honest code, but another node runs the same key
	badProposer         // proposes blocks that do not execute (Valid=false)
	forker              // signs every proposed block; proposes a new block and an old POL value to different peers
)

func (f fault) String() string {
	return [...]string{"honest", "silent", "equivocating proposer", "equivocating voter",
		"twin", "invalid-block proposer", "forker"}[f]
}

// equivPropose is the equivocating proposer: a second fresh block, and
// each peer gets one of the two; both are sent again at every gossip.
func (s *simNet) equivPropose(n *simNode, msg *simMsg) {
	p := msg.proposal
	other := p
	other.BlockHash = s.blockHash(n, p.Height, p.Round, 1)
	other.POLRound = -1
	s.proposed[other.BlockHash] = true
	msg2 := &simMsg{kind: msgProposal, from: n.id, proposal: other}
	n.own = append(n.own, msg, msg2)
	for _, peer := range s.nodes {
		if peer.id != n.id && s.rng.IntN(2) == 0 {
			s.send(n.id, peer.id, msg2)
		} else {
			s.send(n.id, peer.id, msg)
		}
	}
}

// equivVote is the equivocating voter: beside the vote its Machine asked
// for, one for another block (or nil), and each peer gets one, the other,
// or both in either order.
func (s *simNet) equivVote(n *simNode, v chain.Vote) {
	msg := &simMsg{kind: msgVote, from: n.id, vote: v}
	n.own = append(n.own, msg)
	other := v
	if v.BlockHash.IsZero() {
		other.BlockHash = s.blockHash(n, v.Height, v.Round, 2+byte(v.Type))
	} else {
		other.BlockHash = chain.Hash{}
	}
	msg2 := &simMsg{kind: msgVote, from: n.id, vote: other}
	for _, peer := range s.nodes {
		if peer.id == n.id {
			s.send(n.id, peer.id, msg)
			continue
		}
		switch s.rng.IntN(4) {
		case 0:
			s.send(n.id, peer.id, msg)
		case 1:
			s.send(n.id, peer.id, msg2)
		case 2:
			s.send(n.id, peer.id, msg)
			s.send(n.id, peer.id, msg2)
		case 3:
			s.send(n.id, peer.id, msg2)
			s.send(n.id, peer.id, msg)
		}
	}
}

// forkerPropose is the forker's proposal: beside the block the Machine
// asked for, a second one, fresh, an old POL value or a false POL claim;
// each peer gets one of the two or neither, once, or the second goes to
// everyone. Peers that see no proposal prevote nil
// while others may lock, which is how rounds end with some nodes locked
// and one node, given the forker's precommit, deciding.
func (s *simNet) forkerPropose(n *simNode, msg *simMsg) {
	p := msg.proposal
	other := p
	other.BlockHash = s.blockHash(n, p.Height, p.Round, 1)
	other.POLRound = -1
	// Prefer the oldest proof-of-lock for another block than the newest
	// one: nodes locked since must refuse it (Algorithm 1, line 29). Or
	// claim a proof-of-lock from the last round that does not exist: nodes
	// must not take the claim without the prevotes (line 28).
	pols := s.polkas(n, p.Round)
	switch {
	case p.Round > 0 && s.rng.IntN(4) == 0:
		other.POLRound = int32(p.Round - 1)
	case len(pols) > 0 && s.rng.IntN(4) != 0:
		pick := pols[s.rng.IntN(len(pols))]
		for _, pol := range pols {
			if pol.BlockHash != pols[len(pols)-1].BlockHash {
				pick = pol
				break
			}
		}
		other.BlockHash, other.POLRound = pick.BlockHash, pick.POLRound
	}
	s.proposed[other.BlockHash] = true
	msg2 := &simMsg{kind: msgProposal, from: n.id, proposal: other}
	s.send(n.id, n.id, msg)
	tempt := s.rng.IntN(3) == 0 // the second block to everyone
	for _, peer := range s.nodes {
		if peer.id == n.id {
			continue
		}
		switch c := s.rng.IntN(3); {
		case tempt || c == 1:
			s.send(n.id, peer.id, msg2)
		case c == 0:
			s.send(n.id, peer.id, msg)
		}
	}
}

// polkas returns, in the order a node learned them, the blocks with +2/3
// prevotes in a round before round among the votes the node took at this
// height: what a proposer may re-propose with that POL round.
func (s *simNet) polkas(n *simNode, round uint32) []consensus.Proposal {
	type slot struct {
		round uint32
		hash  chain.Hash
	}
	power := map[slot]uint64{}
	var out []consensus.Proposal
	for _, msg := range n.log {
		v := msg.vote
		if msg.kind != msgVote || v.Type != chain.Prevote || v.Round >= round || v.BlockHash.IsZero() {
			continue
		}
		k := slot{v.Round, v.BlockHash}
		val, _ := s.vals.Find(v.Validator)
		before := power[k]
		power[k] += val.Power
		if before < s.vals.Quorum() && power[k] >= s.vals.Quorum() {
			out = append(out, consensus.Proposal{Height: v.Height, Round: round, BlockHash: v.BlockHash,
				POLRound: int32(v.Round), Proposer: n.addr})
		}
	}
	return out
}

// endorse is the forker's habit: prevote and precommit every block
// proposed in a round, whatever else it signed, and send it to everyone.
func (s *simNet) endorse(n *simNode, round uint32, hash chain.Hash) {
	for _, t := range []chain.VoteType{chain.Prevote, chain.Precommit} {
		k := logKey{kind: msgVote, round: round, typ: t, hash: hash}
		if n.endorsed[k] {
			continue
		}
		n.endorsed[k] = true
		s.forkerSend(n, chain.Vote{ChainID: s.chainID, Type: t, Height: n.height(), Round: round,
			BlockHash: hash, Validator: n.addr})
	}
}

// forkerVote sends each vote the forker's Machine asks for once, the way
// forkerSend does.
func (s *simNet) forkerVote(n *simNode, v chain.Vote) {
	if k := (logKey{kind: msgVote, round: v.Round, typ: v.Type, hash: v.BlockHash}); !n.endorsed[k] {
		n.endorsed[k] = true
		s.forkerSend(n, v)
	}
}

// forkerSend sends a forker's vote. Its first precommit for a block at a
// height goes to one peer only, so that one node may decide a block no one
// else can; every other vote goes to everyone, again at every gossip, to
// help the others decide something else afterwards.
func (s *simNet) forkerSend(n *simNode, v chain.Vote) {
	msg := &simMsg{kind: msgVote, from: n.id, vote: v}
	if v.Type == chain.Precommit && !v.BlockHash.IsZero() && !n.hid {
		n.hid = true
		if peer := s.rng.IntN(len(s.nodes)); peer != n.id {
			s.send(n.id, peer, msg)
		}
		return
	}
	n.own = append(n.own, msg)
	for _, peer := range s.nodes {
		if peer.id != n.id {
			s.send(n.id, peer.id, msg)
		}
	}
}

// crashAfterLocking crashes an amnesiac node right after it precommitted
// a block and boots it again a little later, before GST.
func (s *simNet) crashAfterLocking(n *simNode) {
	life := n.life
	s.at(s.now, func() {
		if n.up && n.life == life {
			s.crash(n)
		}
	})
	s.at(min(s.gst, s.now+time.Duration(100+s.rng.IntN(900))*time.Millisecond), func() {
		if !n.up {
			s.boot(n)
		}
	})
}

// silenceDecider is what the adversary may do, before GST, to a node that
// has just decided a block: crash it (armed or flaky nodes) or drop all it
// sends (gagged nodes), so that others may not learn of the decision. It
// reports whether the node crashed.
func (s *simNet) silenceDecider(n *simNode) bool {
	if s.now < n.armedUntil {
		n.armedUntil = 0
		s.crash(n)
		return true
	}
	if n.gagged && s.now < s.gst {
		n.mutedUntil = s.gst
	}
	if n.flaky && s.now < s.gst {
		s.crash(n)
		back := min(s.gst, s.now+time.Duration(300+s.rng.IntN(2500))*time.Millisecond)
		s.at(back, func() {
			if !n.up {
				s.boot(n)
			}
		})
		return true
	}
	return false
}
