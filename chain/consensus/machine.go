package consensus

import (
	"bytes"
	"fmt"
	"math"

	"github.com/citychain/citychain/chain"
)

// MaxRound is the highest round number the Machine accepts. Rounds fit in
// an int32 so that "no round" can be -1, as in the paper.
const MaxRound = math.MaxInt32

// DefaultMaxRoundsAhead is the window of future rounds whose messages are
// stored when Config.MaxRoundsAhead is zero.
const DefaultMaxRoundsAhead = 16

// Config is everything a Machine depends on.
type Config struct {
	// ChainID is the chain the Machine votes on; votes for another chain
	// are refused with chain.ErrWrongChain.
	ChainID string
	// Self is the validator address this Machine votes and proposes for.
	// When it is not in a height's validator set, the Machine only follows
	// that height and decides, like a full node.
	Self chain.Address
	// Timeouts are the step timeouts; see DefaultTimeouts.
	Timeouts Timeouts
	// MaxRoundsAhead is how many rounds beyond the current one the Machine
	// stores messages for; zero means DefaultMaxRoundsAhead. Messages
	// further ahead still count for the round skip (line 55).
	MaxRoundsAhead uint32
}

// Machine is one validator's Tendermint state machine (Algorithm 1). It is
// not safe for concurrent use; the driver owns it and calls Handle from one
// goroutine.
type Machine struct {
	cfg Config

	// The validator set of the height, its index by address, and the two
	// thresholds: quorum (2f+1) and skip (f+1).
	vals   *chain.ValidatorSet
	index  map[chain.Address]int
	quorum uint64
	skip   uint64
	self   int // index of cfg.Self in vals, or -1

	// The paper's process state: h_p, round_p, step_p, and the locked
	// and valid values with their rounds (-1 for none).
	height      uint64
	round       uint32
	step        Step
	lockedRound int32
	lockedValue chain.Hash
	validRound  int32
	validValue  chain.Hash
	decision    chain.Hash

	// What was received at this height: per round, and per validator the
	// highest round it sent anything for (-1 for nothing).
	rounds  map[uint32]*roundState
	highest []int64

	out []Action // actions of the event being handled
}

// New returns a Machine that waits for its first NewHeight. It fails with
// ErrBadConfig when a timeout is negative.
func New(cfg Config) (*Machine, error) {
	if err := cfg.Timeouts.validate(); err != nil {
		return nil, err
	}
	if cfg.MaxRoundsAhead == 0 {
		cfg.MaxRoundsAhead = DefaultMaxRoundsAhead
	}
	return &Machine{cfg: cfg, self: -1, lockedRound: -1, validRound: -1}, nil
}

// Handle applies one event and returns the actions the driver must carry
// out, in order. The actions are valid even when the error is not nil: an
// error says why (part of) the event was not taken in, for example
// ErrFutureHeight, ErrStaleHeight, ErrNotValidator or ErrRoundTooFar, and
// never leaves the Machine in a broken state. See the package
// documentation for the meaning of each event and action.
func (m *Machine) Handle(ev Event) ([]Action, error) {
	m.out = nil
	var err error
	switch e := ev.(type) {
	case NewHeight:
		err = m.onNewHeight(e)
	case ProposalReceived:
		err = m.onProposal(e)
	case VoteReceived:
		err = m.onVote(e.Vote)
	case TimeoutFired:
		err = m.onTimeout(e)
	default:
		err = fmt.Errorf("%w: %T", ErrBadEvent, ev)
	}
	out := m.out
	m.out = nil
	return out, err
}

// onNewHeight resets the state for a new height and starts round 0
// (lines 10 and 54).
func (m *Machine) onNewHeight(e NewHeight) error {
	if m.vals != nil && e.Height <= m.height {
		return fmt.Errorf("%w: new height %d does not follow height %d", ErrBadEvent, e.Height, m.height)
	}
	if e.Height == 0 {
		return fmt.Errorf("%w: height 0", ErrBadEvent)
	}
	quorum, err := checkValidators(e.Validators)
	if err != nil {
		return err
	}
	n := len(e.Validators.Validators)
	index := make(map[chain.Address]int, n)
	for i, v := range e.Validators.Validators {
		index[v.Address] = i
	}
	if e.Lock != nil {
		if err := m.checkLock(*e.Lock, e.Height, index); err != nil {
			return err
		}
	}
	m.vals, m.index = e.Validators, index
	m.quorum = quorum
	m.skip = e.Validators.TotalPower() - quorum + 1
	m.self = -1
	if i, ok := m.index[m.cfg.Self]; ok {
		m.self = i
	}
	m.height = e.Height
	m.lockedRound, m.lockedValue = -1, chain.Hash{}
	m.validRound, m.validValue = -1, chain.Hash{}
	m.decision = chain.Hash{}
	m.rounds = make(map[uint32]*roundState)
	m.highest = make([]int64, n)
	for i := range m.highest {
		m.highest[i] = -1
	}
	if e.Lock != nil && !e.Lock.BlockHash.IsZero() {
		m.restoreLock(*e.Lock)
	}
	m.startRound(0, ReasonNewHeight)
	m.settle(0)
	return nil
}

// checkLock refuses, with ErrBadRound or ErrBadEvent, a lock to restore
// whose round is out of range or whose proof holds anything but prevotes
// for its block in its round at height by validators of the set.
func (m *Machine) checkLock(l Lock, height uint64, index map[chain.Address]int) error {
	if l.Round > MaxRound {
		return fmt.Errorf("%w: lock round %d", ErrBadRound, l.Round)
	}
	for _, v := range l.POL {
		if _, ok := index[v.Validator]; !ok || v.ChainID != m.cfg.ChainID || v.Type != chain.Prevote ||
			v.Height != height || v.Round != l.Round || v.BlockHash != l.BlockHash {
			return fmt.Errorf("%w: restored lock: prevote of %s does not prove it", ErrBadEvent, v.Validator)
		}
	}
	return nil
}

// restoreLock sets the lock a validator held before a restart, checked by
// checkLock. Its proof-of-lock goes back among the prevotes of its round;
// when that makes a quorum, the block is also the valid value again, so
// that this validator can lead the others back to it (lines 15-16 and 28).
func (m *Machine) restoreLock(l Lock) {
	m.lockedRound, m.lockedValue = int32(l.Round), l.BlockHash
	set := m.roundState(l.Round).prevotes
	for _, v := range l.POL {
		i := m.index[v.Validator]
		set.add(i, v, m.vals.Validators[i].Power, m.quorum)
	}
	if set.powerFor(l.BlockHash) >= m.quorum {
		m.validRound, m.validValue = int32(l.Round), l.BlockHash
	}
}

// checkValidators returns the quorum of vals, or ErrBadEvent when the set
// is empty, unsorted, has a zero power or a total that overflows.
func checkValidators(vals *chain.ValidatorSet) (uint64, error) {
	if vals == nil || len(vals.Validators) == 0 {
		return 0, fmt.Errorf("%w: empty validator set", ErrBadEvent)
	}
	var total uint64
	for i, v := range vals.Validators {
		if v.Power == 0 {
			return 0, fmt.Errorf("%w: validator %s has zero power", ErrBadEvent, v.Address)
		}
		if i > 0 && bytes.Compare(vals.Validators[i-1].Address[:], v.Address[:]) >= 0 {
			return 0, fmt.Errorf("%w: validator set not sorted by address", ErrBadEvent)
		}
		if total+v.Power < total {
			return 0, fmt.Errorf("%w: validator powers: %w", ErrBadEvent, chain.ErrOverflow)
		}
		total += v.Power
	}
	return vals.Quorum(), nil
}

// checkHeight sorts a message by height: ErrStaleHeight before the current
// height or once it is decided, ErrFutureHeight after it.
func (m *Machine) checkHeight(h uint64) error {
	switch {
	case m.vals == nil:
		return ErrNotStarted
	case h < m.height || (h == m.height && m.step == StepCommit):
		return fmt.Errorf("%w: height %d, machine at %d", ErrStaleHeight, h, m.height)
	case h > m.height:
		return fmt.Errorf("%w: height %d, machine at %d", ErrFutureHeight, h, m.height)
	}
	return nil
}

// onVote counts a signed prevote or precommit and applies the rules it may
// enable. A second, different vote from the same validator for the same
// round and type is equivocation: it is reported as Evidence and counted
// only for its own block hash (see voteSet).
func (m *Machine) onVote(v chain.Vote) error {
	if err := m.checkHeight(v.Height); err != nil {
		return fmt.Errorf("vote of %s: %w", v.Validator, err)
	}
	if v.ChainID != m.cfg.ChainID {
		return fmt.Errorf("vote for chain %q: %w", v.ChainID, chain.ErrWrongChain)
	}
	if v.Type != chain.Prevote && v.Type != chain.Precommit {
		return fmt.Errorf("%w: type %d", ErrBadVote, v.Type)
	}
	if v.Round > MaxRound {
		return fmt.Errorf("vote of %s: %w: %d", v.Validator, ErrBadRound, v.Round)
	}
	i, ok := m.index[v.Validator]
	if !ok {
		return fmt.Errorf("vote of %s: %w", v.Validator, ErrNotValidator)
	}
	rs, err := m.admit(i, v.Round)
	if err != nil {
		return fmt.Errorf("vote of %s: %w", v.Validator, err)
	}
	res, first := rs.votes(v.Type).add(i, v, m.vals.Validators[i].Power, m.quorum)
	if res == voteConflict {
		m.emit(Evidence{A: first, B: copyVote(v)})
	}
	if res != voteDuplicate {
		m.settle(v.Round)
	}
	return nil
}

// onProposal stores a proposal from the round's proposer and applies the
// rules it may enable.
func (m *Machine) onProposal(e ProposalReceived) error {
	p := e.Proposal
	if err := m.checkHeight(p.Height); err != nil {
		return fmt.Errorf("proposal for round %d: %w", p.Round, err)
	}
	if p.Round > MaxRound {
		return fmt.Errorf("proposal: %w: %d", ErrBadRound, p.Round)
	}
	if p.BlockHash.IsZero() || p.POLRound < -1 || int64(p.POLRound) >= int64(p.Round) {
		return fmt.Errorf("%w: round %d, POL round %d, block %s", ErrBadProposal, p.Round, p.POLRound, p.BlockHash)
	}
	i, ok := m.index[p.Proposer]
	if !ok {
		return fmt.Errorf("proposal by %s: %w", p.Proposer, ErrNotValidator)
	}
	if proposerIndex(m.vals.Validators, m.height, p.Round) != i {
		return fmt.Errorf("proposal by %s for round %d: %w", p.Proposer, p.Round, ErrNotProposer)
	}
	rs, err := m.admit(i, p.Round)
	if err != nil {
		return fmt.Errorf("proposal for round %d: %w", p.Round, err)
	}
	if i := rs.proposalIndex(p); i >= 0 {
		// The same proposal again. A verdict of invalid may have been the
		// driver's own circumstance (its clock was behind the block's
		// time); a later delivery judged valid upgrades it. Valid never
		// turns invalid: validity of a block depends only on the block
		// and the parent state.
		if e.Valid && !rs.proposals[i].valid {
			rs.proposals[i].valid = true
			m.settle(p.Round)
		}
		return nil
	}
	if len(rs.proposals) >= maxProposalsPerRound {
		return fmt.Errorf("proposal for round %d: %w", p.Round, ErrTooManyProposals)
	}
	rs.proposals = append(rs.proposals, proposalSeen{p: p, valid: e.Valid})
	m.settle(p.Round)
	return nil
}

// admit notes that validator i sent a message for round r, lets the round
// skip rule act on it, and returns the state of round r if that round is
// within the stored window. Past rounds are always stored: they are bounded
// by the current round, which only correct validators can move forward.
func (m *Machine) admit(i int, r uint32) (*roundState, error) {
	if int64(r) > m.highest[i] {
		m.highest[i] = int64(r)
		if r > m.round {
			m.settle(m.round)
		}
	}
	if m.step == StepCommit {
		return nil, ErrStaleHeight
	}
	if uint64(r) > uint64(m.round)+uint64(m.cfg.MaxRoundsAhead) {
		return nil, fmt.Errorf("%w: round %d, machine at %d", ErrRoundTooFar, r, m.round)
	}
	return m.roundState(r), nil
}

// onTimeout applies a timeout if it is still for the current height, round
// and step (lines 57-67); stale timeouts are ignored.
func (m *Machine) onTimeout(t TimeoutFired) error {
	if m.vals == nil {
		return ErrNotStarted
	}
	if t.Height > m.height {
		return fmt.Errorf("timeout: %w: height %d, machine at %d", ErrFutureHeight, t.Height, m.height)
	}
	if t.Height < m.height || t.Round != m.round || m.step == StepCommit {
		return nil
	}
	switch t.Step {
	case StepPropose:
		m.onTimeoutPropose()
	case StepPrevote:
		m.onTimeoutPrevote()
	case StepPrecommit:
		m.onTimeoutPrecommit()
	default:
		return fmt.Errorf("%w: timeout for step %s", ErrBadEvent, t.Step)
	}
	m.settle(m.round)
	return nil
}

// roundState returns the state of round r, creating it on first use.
func (m *Machine) roundState(r uint32) *roundState {
	rs, ok := m.rounds[r]
	if !ok {
		rs = newRoundState(len(m.vals.Validators))
		m.rounds[r] = rs
	}
	return rs
}

// emit appends an action to the output of the event being handled.
func (m *Machine) emit(a Action) { m.out = append(m.out, a) }

// setStep moves to step s of the current round and reports why.
func (m *Machine) setStep(s Step, why Reason) {
	m.step = s
	m.emit(StepChanged{Height: m.height, Round: m.round, Step: s, Reason: why})
}

// castVote asks the driver to sign and broadcast a vote of type t for hash
// (the zero hash is nil) in the current round, with the proof-of-lock of a
// locking precommit. A Machine whose Self is not a validator of the height
// casts nothing.
func (m *Machine) castVote(t chain.VoteType, hash chain.Hash, pol ...chain.Vote) {
	if m.self < 0 {
		return
	}
	m.emit(BroadcastVote{Vote: chain.Vote{
		ChainID: m.cfg.ChainID, Type: t, Height: m.height, Round: m.round,
		BlockHash: hash, Validator: m.cfg.Self,
	}, POL: pol})
}

// Snapshot is a read-only view of the Machine for APIs and the explorer.
type Snapshot struct {
	Height      uint64
	Round       uint32
	Step        Step
	LockedRound int32 // -1 when not locked
	LockedValue chain.Hash
	ValidRound  int32 // -1 when there is no valid value
	ValidValue  chain.Hash
	Decision    chain.Hash // set when Step is StepCommit
}

// Snapshot returns the current height, round, step, lock, valid value and
// decision.
func (m *Machine) Snapshot() Snapshot {
	return Snapshot{
		Height: m.height, Round: m.round, Step: m.step,
		LockedRound: m.lockedRound, LockedValue: m.lockedValue,
		ValidRound: m.validRound, ValidValue: m.validValue,
		Decision: m.decision,
	}
}

// Votes returns copies of each validator's first vote of type t in round
// of the current height, in validator-set order.
func (m *Machine) Votes(round uint32, t chain.VoteType) []chain.Vote {
	rs, ok := m.rounds[round]
	if !ok {
		return nil
	}
	return rs.votes(t).first()
}

// VotesFor returns copies of every vote of type t in round of the
// current height for block hash, in validator-set order. Unlike Votes it
// includes a validator's later votes: an equivocating validator whose
// first prevote was nil still counts toward a proof-of-lock for the block
// it also prevoted, and the proof a re-proposal carries must hold every
// vote that made the quorum.
func (m *Machine) VotesFor(round uint32, t chain.VoteType, hash chain.Hash) []chain.Vote {
	rs, ok := m.rounds[round]
	if !ok {
		return nil
	}
	return rs.votes(t).votesFor(hash)
}

// Validators returns the validator set of the current height, or nil before
// the first NewHeight. The caller must not modify it.
func (m *Machine) Validators() *chain.ValidatorSet { return m.vals }
