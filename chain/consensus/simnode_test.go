package consensus_test

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// This file is the simulated driver of one node: what package node will do
// around a Machine, reduced to what consensus needs. It guards and "signs"
// (signatures are left out; the Machine trusts the driver to check them),
// gossips, buffers messages for later heights, stores decided blocks,
// answers lagging peers with commits, and restarts from what it persisted.
// Along the way it checks what the Machine promises.

// simNode is one simulated node: a Machine and the driver around it.
type simNode struct {
	id    int
	name  string
	val   int // index of the validator whose key it holds
	addr  chain.Address
	fault fault
	up    bool
	life  int

	m         *consensus.Machine
	guard     consensus.DoubleSignGuard
	guardDisk []byte // what survives a crash, with certs
	certs     []consensus.Commit
	restarted bool // restarted and not yet past the height it restarted in
	// armedUntil: crash right after the next block decided by consensus,
	// if that happens before this time: the node knows a decision no one
	// else may have seen.
	armedUntil time.Duration
	// flaky: before GST, crash after every block decided by consensus and
	// come back a little later.
	flaky bool
	// gagged: once it has decided a block by consensus, the network drops
	// everything the node sends until GST (mutedUntil).
	gagged     bool
	mutedUntil time.Duration
	// amnesiac: before GST, crash right after precommitting a block (that
	// is, right after locking on it) and come back a little later; only the
	// lock kept in its DoubleSignGuard remembers.
	amnesiac bool

	own    []*simMsg // own proposals and votes at the current height
	log    []*simMsg // proposals and votes the Machine took at this height
	logged map[logKey]bool
	future []*simMsg // messages for later heights, replayed after NewHeight
	// Votes the Machine accepted at this height, to check that it reports
	// every equivocation it sees.
	accepted map[voteKey]chain.Hash
	reported map[voteKey]bool
	endorsed map[logKey]bool             // a forker's votes sent at this height
	hid      bool                        // a forker has hidden a precommit at this height
	certSent map[[2]uint64]time.Duration // (peer, height) -> when
}

type logKey struct {
	kind  msgKind
	from  chain.Address
	round uint32
	typ   chain.VoteType // of a vote
	pol   int32          // of a proposal
	hash  chain.Hash
}

type voteKey struct {
	val   chain.Address
	round uint32
	typ   chain.VoteType
}

func (n *simNode) height() uint64 { return uint64(len(n.certs)) + 1 }

// boot (re)starts a node from what it persisted: its guard and its chain.
func (s *simNet) boot(n *simNode) {
	n.up = true
	n.life++
	m, err := consensus.New(consensus.Config{ChainID: s.chainID, Self: n.addr, Timeouts: s.timeouts})
	if err != nil {
		s.failf("%s: new machine: %v", n.name, err)
		return
	}
	n.m = m
	n.guard = consensus.DoubleSignGuard{}
	if n.guardDisk != nil {
		if n.guard, err = consensus.DecodeDoubleSignGuard(n.guardDisk); err != nil {
			s.failf("%s: load guard: %v", n.name, err)
		}
	}
	n.future = nil
	n.certSent = map[[2]uint64]time.Duration{}
	s.startHeight(n)
	s.push(simEvent{at: s.now + s.jitter(s.gossipEvery), kind: evGossip, node: n.id, life: n.life})
}

// crash stops a node; it loses everything but guardDisk and certs.
func (s *simNet) crash(n *simNode) {
	s.tracef("%s crashes", n.name)
	n.up = false
	n.life++
	n.m = nil
	n.restarted = true
}

// startHeight hands the Machine the next height, with the lock from the
// guard, and replays buffered messages for it.
func (s *simNet) startHeight(n *simNode) {
	h := n.height()
	n.own = nil
	n.log, n.logged = nil, map[logKey]bool{}
	n.accepted = map[voteKey]chain.Hash{}
	n.reported = map[voteKey]bool{}
	if l := n.guard.LockAt(h); l != nil {
		for _, v := range l.POL { // the Machine takes these from NewHeight
			n.accepted[voteKey{v.Validator, v.Round, v.Type}] = v.BlockHash
		}
	}
	n.endorsed = map[logKey]bool{}
	n.hid = false
	s.handle(n, consensus.NewHeight{Height: h, Validators: s.vals, Lock: n.guard.LockAt(h)}, nil)
	// After a restart, send again the votes signed at this height before
	// the crash, and the proof of the lock: peers may need them, and the
	// guard refuses to sign those steps anew. At a fresh height the guard
	// holds nothing for it.
	resend := n.guard.Votes(h)
	if l := n.guard.LockAt(h); l != nil {
		resend = append(resend, l.POL...)
	}
	for _, v := range resend {
		msg := &simMsg{kind: msgVote, from: n.id, vote: v}
		n.own = append(n.own, msg)
		s.broadcast(n, msg)
	}
	keep := n.future[:0]
	for _, msg := range n.future {
		switch mh := msg.msgHeight(); {
		case mh == h:
			s.push(simEvent{at: s.now, kind: evDeliver, node: n.id, msg: msg})
		case mh > h:
			keep = append(keep, msg)
		}
	}
	n.future = keep
}

// deliver hands a message to a node's driver.
func (s *simNet) deliver(n *simNode, msg *simMsg) {
	if !n.up {
		return
	}
	switch msg.kind {
	case msgProposal:
		valid := !s.invalid[msg.proposal.BlockHash]
		s.handle(n, consensus.ProposalReceived{Proposal: msg.proposal, Valid: valid}, msg)
		if n.fault == forker && n.up && msg.proposal.Height == n.height() {
			s.endorse(n, msg.proposal.Round, msg.proposal.BlockHash)
		}
	case msgVote:
		s.handle(n, consensus.VoteReceived{Vote: msg.vote}, msg)
	case msgCert:
		if msg.cert.Height == n.height() {
			s.commit(n, *msg.cert, "sync")
		}
	case msgStatus:
		s.sendCert(n, msg.from, msg.height)
	}
}

// sendCert answers a lagging peer with the commit of height, at most once
// per gossip interval per peer and height.
func (s *simNet) sendCert(n *simNode, peer int, height uint64) {
	if height == 0 || height > uint64(len(n.certs)) || peer == n.id || n.fault == silent || n.fault == forker {
		return
	}
	key := [2]uint64{uint64(peer), height}
	if last, ok := n.certSent[key]; ok && s.now-last < s.gossipEvery {
		return
	}
	n.certSent[key] = s.now
	c := n.certs[height-1]
	s.send(n.id, peer, &simMsg{kind: msgCert, from: n.id, cert: &c})
}

// handle runs one event through a node's Machine and carries out the
// actions, checking along the way what the Machine promises.
func (s *simNet) handle(n *simNode, ev consensus.Event, msg *simMsg) {
	acts, err := n.m.Handle(ev)
	switch {
	case err == nil:
	case errors.Is(err, consensus.ErrFutureHeight):
		if len(n.future) < 1000 {
			n.future = append(n.future, msg)
		}
	case errors.Is(err, consensus.ErrStaleHeight):
		if msg != nil {
			s.sendCert(n, msg.from, msg.msgHeight())
		}
	case errors.Is(err, consensus.ErrRoundTooFar), errors.Is(err, consensus.ErrTooManyProposals):
	default:
		s.failf("%s: unexpected error: %v", n.name, err)
	}
	fresh := false // a peer's message taken for the first time
	if vr, ok := ev.(consensus.VoteReceived); ok && err == nil {
		s.checkEvidence(n, vr.Vote, acts)
		fresh = s.remember(n, msg, logKey{msgVote, vr.Vote.Validator, vr.Vote.Round, vr.Vote.Type, 0, vr.Vote.BlockHash})
	}
	if pr, ok := ev.(consensus.ProposalReceived); ok && err == nil {
		p := pr.Proposal
		fresh = s.remember(n, msg, logKey{msgProposal, p.Proposer, p.Round, 0, p.POLRound, p.BlockHash})
	}
	committed := false
	for _, a := range acts {
		switch a := a.(type) {
		case consensus.StepChanged:
			s.tracef("%s h=%d r=%d %s (%s)", n.name, a.Height, a.Round, a.Step, a.Reason)
		case consensus.ProposeNew:
			s.propose(n, consensus.Proposal{Height: a.Height, Round: a.Round, POLRound: -1, Proposer: n.addr}, true)
		case consensus.ProposeValid:
			s.propose(n, a.Proposal, false)
		case consensus.BroadcastVote:
			s.vote(n, a)
		case consensus.ScheduleTimeout:
			s.push(simEvent{at: s.now + a.Duration, kind: evTimeout, node: n.id, life: n.life,
				timeout: consensus.TimeoutFired{Height: a.Height, Round: a.Round, Step: a.Step}})
		case consensus.Evidence:
			s.onEvidence(n, a)
		case consensus.Commit:
			committed = s.commit0(n, a, "consensus")
		}
	}
	if committed && s.silenceDecider(n) {
		return
	}
	// Forward a peer's message once, on first receipt, as gossipsub does;
	// after the actions, so that a decider silenced by the adversary does
	// not pass on the vote that made it decide. In a fork attack the
	// adversary drops forwarded copies until GST.
	if fresh && n.fault == honest && (!s.attack || s.now >= s.gst) {
		for _, peer := range s.nodes {
			if peer.id != n.id && peer.id != msg.from {
				s.send(n.id, peer.id, msg)
			}
		}
	}
	if committed {
		s.startHeight(n)
	}
}

// remember logs a message the Machine took, for relaying, and reports
// whether it is a peer's message seen for the first time.
func (s *simNet) remember(n *simNode, msg *simMsg, k logKey) bool {
	if n.logged[k] {
		return false
	}
	n.logged[k] = true
	n.log = append(n.log, msg)
	return msg != nil && msg.from != n.id
}

// checkEvidence checks that a Machine that accepted two different votes
// from one validator for one slot reported it.
func (s *simNet) checkEvidence(n *simNode, v chain.Vote, acts []consensus.Action) {
	if v.Height != n.height() {
		return
	}
	k := voteKey{v.Validator, v.Round, v.Type}
	first, ok := n.accepted[k]
	if !ok {
		n.accepted[k] = v.BlockHash
		return
	}
	if first == v.BlockHash || n.reported[k] {
		return
	}
	n.reported[k] = true
	for _, a := range acts {
		if e, ok := a.(consensus.Evidence); ok && e.A.BlockHash == first && e.B.BlockHash == v.BlockHash {
			return
		}
	}
	s.failf("%s: accepted conflicting %v votes of %s at round %d without Evidence", n.name, v.Type, v.Validator, v.Round)
}

func (s *simNet) onEvidence(n *simNode, e consensus.Evidence) {
	a, b := e.A, e.B
	if a.Validator != b.Validator || a.Height != b.Height || a.Round != b.Round || a.Type != b.Type || a.BlockHash == b.BlockHash {
		s.failf("%s: Evidence does not show an equivocation: %+v / %+v", n.name, a, b)
	}
	for _, o := range s.nodes {
		if o.addr == a.Validator && o.fault == honest {
			s.failf("%s: Evidence against honest validator %s at %d/%d", n.name, o.name, a.Height, a.Round)
		}
	}
	if n.fault == honest {
		s.evidence++
	}
	s.tracef("%s evidence against %s at h=%d r=%d", n.name, a.Validator, a.Height, a.Round)
}

// blockHash is a fresh, unique block hash for a proposal.
func (s *simNet) blockHash(n *simNode, h uint64, r uint32, variant byte) chain.Hash {
	var buf [8 + 8 + 4 + 8 + 1]byte
	binary.BigEndian.PutUint64(buf[0:], s.seed)
	binary.BigEndian.PutUint64(buf[8:], h)
	binary.BigEndian.PutUint32(buf[16:], r)
	binary.BigEndian.PutUint64(buf[20:], uint64(n.id))
	buf[28] = variant
	return sha256.Sum256(buf[:])
}

// propose guards and sends a proposal, as a driver does for ProposeNew
// (fresh) and ProposeValid; faulty nodes do it their way.
func (s *simNet) propose(n *simNode, p consensus.Proposal, fresh bool) {
	if n.fault == silent {
		return
	}
	if fresh {
		if last := n.guard.Proposal; last.Height == p.Height && last.Round == p.Round {
			p = last // restarted: the block proposed before the crash is still on disk
		} else {
			p.BlockHash = s.blockHash(n, p.Height, p.Round, 0)
		}
	}
	s.proposed[p.BlockHash] = true
	if n.fault == badProposer && fresh {
		s.invalid[p.BlockHash] = true
	}
	msg := &simMsg{kind: msgProposal, from: n.id, proposal: p}
	switch n.fault {
	case forker:
		s.forkerPropose(n, msg)
		return
	case equivProposer:
		s.equivPropose(n, msg)
		return
	}
	if err := n.guard.RecordProposal(p); err != nil {
		if !n.restarted {
			s.failf("%s: Machine asked to sign a refused proposal: %v", n.name, err)
		}
		return
	}
	n.guardDisk = n.guard.Encode()
	n.own = append(n.own, msg)
	s.broadcast(n, msg)
}

// vote guards, "signs" and sends a vote, as a driver does for
// BroadcastVote; faulty nodes do it their way. Signatures are left out:
// the Machine expects votes whose signature the driver already checked.
func (s *simNet) vote(n *simNode, a consensus.BroadcastVote) {
	v := a.Vote
	switch n.fault {
	case silent:
		return
	case forker:
		s.forkerVote(n, v)
		return
	case equivVoter:
		s.equivVote(n, v)
		return
	}
	if err := n.guard.Record(a); err != nil {
		if !n.restarted {
			s.failf("%s: Machine asked to sign a refused vote: %v", n.name, err)
		}
		s.tracef("%s guard refuses %v at h=%d r=%d: %v", n.name, v.Type, v.Height, v.Round, err)
		return
	}
	n.guardDisk = n.guard.Encode()
	msg := &simMsg{kind: msgVote, from: n.id, vote: v}
	n.own = append(n.own, msg)
	s.broadcast(n, msg)
	if n.amnesiac && s.now < s.gst && v.Type == chain.Precommit && !v.BlockHash.IsZero() {
		s.crashAfterLocking(n)
	}
}

// commit is the driver's Commit handling through sync: check, store, and
// move to the next height.
func (s *simNet) commit(n *simNode, c consensus.Commit, how string) {
	if s.commit0(n, c, how) {
		s.startHeight(n)
	}
}

// commit0 checks and stores a decided block; it reports whether the node
// must now start its next height.
func (s *simNet) commit0(n *simNode, c consensus.Commit, how string) bool {
	if c.Height != n.height() {
		s.failf("%s: commit for height %d at height %d (%s)", n.name, c.Height, n.height(), how)
		return false
	}
	if err := s.checkCert(c); err != nil {
		s.failf("%s: %s commit of height %d: %v", n.name, how, c.Height, err)
		return false
	}
	n.certs = append(n.certs, c)
	n.restarted = false
	s.tracef("%s commits h=%d r=%d %x (%s)", n.name, c.Height, c.Round, c.BlockHash[:4], how)
	if n.fault != honest {
		return true
	}
	s.commits++
	if !s.proposed[c.BlockHash] || s.invalid[c.BlockHash] {
		s.failf("validity: %s committed %x at height %d, which was never validly proposed", n.name, c.BlockHash[:4], c.Height)
	}
	if d, ok := s.decided[c.Height]; !ok {
		s.decided[c.Height] = decision{c.BlockHash, c.Round, n.name}
	} else if d.hash != c.BlockHash {
		s.failf("agreement: at height %d %s committed %x but %s committed %x",
			c.Height, d.node, d.hash[:4], n.name, c.BlockHash[:4])
	} else if how == "consensus" && c.Round != d.round {
		s.splitDecisions++
	}
	return true
}

// checkCert checks that c carries precommits for its block from distinct
// validators with at least a quorum of power.
func (s *simNet) checkCert(c consensus.Commit) error {
	seen := map[chain.Address]bool{}
	var power uint64
	for _, v := range c.Precommits {
		val, ok := s.vals.Find(v.Validator)
		if !ok || seen[v.Validator] || v.Type != chain.Precommit || v.Height != c.Height ||
			v.Round != c.Round || v.BlockHash != c.BlockHash {
			return fmt.Errorf("bad precommit %+v", v)
		}
		seen[v.Validator] = true
		power += val.Power
	}
	if power < s.vals.Quorum() {
		return fmt.Errorf("power %d below quorum %d", power, s.vals.Quorum())
	}
	return nil
}
