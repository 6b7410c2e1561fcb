package consensus

import (
	"slices"

	"github.com/citychain/citychain/chain"
)

// This file holds the rules of Algorithm 1. The paper writes them as
// "upon <condition> do <body>": whenever the condition holds, the body runs.
// settle plays that part: after each event it tries the rules until none
// fires. Each rule fires at most once per round (it changes the step or
// sets a flag), and a round skip only moves forward, so settle ends.

// settle applies the rules after a message for round touched or a step
// change. A decision in any round is checked first, then the rules of the
// current round.
func (m *Machine) settle(touched uint32) {
	if m.step == StepCommit || m.tryDecide(touched) {
		return
	}
	for m.step != StepCommit {
		fired := m.trySkip() ||
			m.tryDecide(m.round) ||
			m.tryPrevote() ||
			m.tryPrevoteTimer() ||
			m.tryPolka() ||
			m.tryPolkaNil() ||
			m.tryPrecommitTimer()
		if !fired {
			return
		}
	}
}

// startRound is StartRound(round), lines 11-21: enter the propose step and,
// as proposer, propose the valid value if there is one, else a new block.
func (m *Machine) startRound(r uint32, why Reason) {
	m.round = r                 // line 12
	m.setStep(StepPropose, why) // line 13
	// Line 14: are we the proposer of this round?
	if m.self >= 0 && proposerIndex(m.vals.Validators, m.height, r) == m.self {
		// Lines 15-16. A valid value restored after a restart may be from a
		// round ahead of this one; it can only be proposed in a later round.
		if m.validRound >= 0 && int64(m.validRound) < int64(r) {
			m.emit(ProposeValid{Proposal: Proposal{
				Height: m.height, Round: r, BlockHash: m.validValue,
				POLRound: m.validRound, Proposer: m.cfg.Self,
			}})
		} else { // line 17
			m.emit(ProposeNew{Height: m.height, Round: r})
		}
	}
	// Line 20, for the proposer as well (see the package documentation).
	m.schedule(StepPropose)
}

// schedule asks for the timeout of step s in the current round.
func (m *Machine) schedule(s Step) {
	m.emit(ScheduleTimeout{Height: m.height, Round: m.round, Step: s,
		Duration: m.cfg.Timeouts.Duration(s, m.round)})
}

// tryPrevote is lines 22-33. In the propose step, the first proposal of the
// round that is either fresh (POL round -1, line 22) or backed by +2/3
// prevotes in its POL round vr < round (line 28) gets our prevote if its
// block is valid and our lock allows it; otherwise we prevote nil.
func (m *Machine) tryPrevote() bool {
	if m.step != StepPropose {
		return false
	}
	rs := m.rounds[m.round]
	if rs == nil {
		return false
	}
	for _, s := range rs.proposals {
		p := s.p
		var allowed bool
		if p.POLRound == -1 {
			// Line 23: unlocked, or locked on this very block.
			allowed = m.lockedRound == -1 || m.lockedValue == p.BlockHash
		} else {
			// Line 28: 2f+1 prevotes for this block in round vr.
			pol := m.rounds[uint32(p.POLRound)]
			if pol == nil || pol.prevotes.powerFor(p.BlockHash) < m.quorum {
				continue
			}
			// Line 29: our lock is no newer than the POL, or it is this block.
			allowed = m.lockedRound <= p.POLRound || m.lockedValue == p.BlockHash
		}
		if s.valid && allowed {
			m.castVote(chain.Prevote, p.BlockHash) // lines 24 and 30
		} else {
			m.castVote(chain.Prevote, chain.Hash{}) // lines 26 and 32
		}
		m.setStep(StepPrevote, ReasonProposal) // lines 27 and 33
		return true
	}
	return false
}

// tryPrevoteTimer is lines 34-35: the first time +2/3 of the power has
// prevoted anything in this round while we are in the prevote step, start
// the prevote timeout.
func (m *Machine) tryPrevoteTimer() bool {
	rs := m.rounds[m.round]
	if m.step != StepPrevote || rs == nil || rs.prevoteTimer || rs.prevotes.power < m.quorum {
		return false
	}
	rs.prevoteTimer = true
	m.schedule(StepPrevote)
	return true
}

// tryPolka is lines 36-43: the first time a valid proposal of this round has
// +2/3 prevotes (a "polka") while we are at prevote or later, remember it as
// the valid value; if we are still at prevote, also lock on it and
// precommit it.
func (m *Machine) tryPolka() bool {
	rs := m.rounds[m.round]
	if (m.step != StepPrevote && m.step != StepPrecommit) || rs == nil || rs.polka {
		return false
	}
	hash, ok := rs.prevotes.majorityBlock()
	if !ok {
		return false
	}
	s, ok := rs.proposalFor(hash)
	if !ok || !s.valid {
		return false
	}
	rs.polka = true
	if m.step == StepPrevote { // line 37
		m.lockedValue, m.lockedRound = hash, int32(m.round)              // lines 38-39
		m.castVote(chain.Precommit, hash, rs.prevotes.votesFor(hash)...) // line 40
		m.setStep(StepPrecommit, ReasonPolka)                            // line 41
	}
	m.validValue, m.validRound = hash, int32(m.round) // lines 42-43
	return true
}

// tryPolkaNil is lines 44-46: +2/3 prevotes for nil while at prevote means
// no block can be decided in this round; precommit nil.
func (m *Machine) tryPolkaNil() bool {
	rs := m.rounds[m.round]
	if m.step != StepPrevote || rs == nil || rs.prevotes.powerFor(chain.Hash{}) < m.quorum {
		return false
	}
	m.castVote(chain.Precommit, chain.Hash{}) // line 45
	m.setStep(StepPrecommit, ReasonPolkaNil)  // line 46
	return true
}

// tryPrecommitTimer is lines 47-48: the first time +2/3 of the power has
// precommitted anything in this round, start the precommit timeout.
func (m *Machine) tryPrecommitTimer() bool {
	rs := m.rounds[m.round]
	if rs == nil || rs.precommitTmr || rs.precommits.power < m.quorum {
		return false
	}
	rs.precommitTmr = true
	m.schedule(StepPrecommit)
	return true
}

// tryDecide is lines 49-54 for round r, which need not be the current one:
// a valid proposal of round r with +2/3 precommits for its block decides
// the height. The driver then executes and stores the block and starts the
// next height with NewHeight (the paper's lines 52-54).
func (m *Machine) tryDecide(r uint32) bool {
	rs := m.rounds[r]
	if m.step == StepCommit || rs == nil {
		return false
	}
	hash, ok := rs.precommits.majorityBlock()
	if !ok {
		return false
	}
	s, ok := rs.proposalFor(hash)
	if !ok || !s.valid { // line 50
		return false
	}
	m.decision = hash // line 51
	m.round = r
	m.emit(Commit{Height: m.height, Round: r, BlockHash: hash, Precommits: rs.precommits.votesFor(hash)})
	m.setStep(StepCommit, ReasonDecided)
	return true
}

// trySkip is lines 55-56: when validators holding f+1 power have sent
// messages for rounds after ours, at least one correct validator is ahead;
// join the latest round r for which f+1 power has sent a message for r or
// later (see the package documentation for this counting).
func (m *Machine) trySkip() bool {
	type ahead struct {
		round int64
		power uint64
	}
	var as []ahead
	for i, h := range m.highest {
		if h > int64(m.round) {
			as = append(as, ahead{h, m.vals.Validators[i].Power})
		}
	}
	slices.SortFunc(as, func(a, b ahead) int { return int(b.round - a.round) })
	var power uint64
	for _, a := range as {
		power += a.power
		if power >= m.skip {
			m.startRound(uint32(a.round), ReasonRoundSkip)
			return true
		}
	}
	return false
}

// onTimeoutPropose is lines 57-60: no usable proposal in time; prevote nil.
func (m *Machine) onTimeoutPropose() {
	if m.step == StepPropose {
		m.castVote(chain.Prevote, chain.Hash{})
		m.setStep(StepPrevote, ReasonTimeoutPropose)
	}
}

// onTimeoutPrevote is lines 61-64: +2/3 prevoted but not for one value in
// time; precommit nil.
func (m *Machine) onTimeoutPrevote() {
	if m.step == StepPrevote {
		m.castVote(chain.Precommit, chain.Hash{})
		m.setStep(StepPrecommit, ReasonTimeoutPrevote)
	}
}

// onTimeoutPrecommit is lines 65-67: +2/3 precommitted but nothing was
// decided in time; start the next round.
func (m *Machine) onTimeoutPrecommit() {
	if m.round < MaxRound {
		m.startRound(m.round+1, ReasonTimeoutPrecommit)
	}
}
