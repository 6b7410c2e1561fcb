package node

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/citychain/citychain/chain"
)

// The evidence pool's refusals. None of them is a fault of whoever sent
// the evidence, except a failed verification (chain.ErrInvalidEvidence).
var (
	// errEvidenceKnown means the offence is already pending or committed.
	errEvidenceKnown = errors.New("offence already known")
	// errEvidenceEarly means the offence is above the height this node has
	// reached, so it cannot judge it yet.
	errEvidenceEarly = errors.New("offence at a height this node has not reached")
	// errEvidenceExpired means no block may carry the evidence any more
	// (chain.MaxEvidenceAge).
	errEvidenceExpired = errors.New("evidence too old for the next block")
	// errEvidencePoolFull means the pool holds its maximum.
	errEvidencePoolFull = errors.New("evidence pool is full")
	// errEvidenceEnough means the pool holds maxPendingPerValidator
	// offences of the offence's validator already.
	errEvidenceEnough = errors.New("enough evidence against this validator pending")
)

// maxPendingPerValidator bounds the pending offences of one validator: a
// few prove it as well as many, and two validators that equivocate in
// every round cannot fill the pool and crowd out the offences of others.
const maxPendingPerValidator = 8

// evidencePool holds verified evidence of misbehaviour until a block
// carries it. It is keyed by offence (chain.Offence), so one offence is
// held once whichever pair of statements proves it, and it remembers the
// offences that committed blocks carried until they expire, so that it
// does not propose them again. It keeps nothing on disk: after a restart
// it may accept an offence that is already on chain, which the chain
// then treats as a repeat (apps/poa changes nothing).
//
// Heights: the pool knows the latest committed height (from the
// constructor and committed). It accepts evidence of offences up to the
// height being decided (latest+1), whose validator set is known, and
// hands out for a block at height H only offences below H and at most
// chain.MaxEvidenceAge heights older.
//
// All methods are safe for concurrent use; none starts a goroutine.
type evidencePool struct {
	mu     sync.Mutex
	max    int
	height uint64 // latest committed height
	held   map[chain.Offence]chain.Evidence
	done   map[chain.Offence]uint64 // committed offence -> its height
}

// newEvidencePool returns an empty pool for a node whose latest committed
// height is latest, holding at most limit pending pieces (and remembering
// at most 4*limit committed offences).
func newEvidencePool(latest uint64, limit int) *evidencePool {
	limit = max(limit, 1)
	return &evidencePool{max: limit, height: latest,
		held: map[chain.Offence]chain.Evidence{}, done: map[chain.Offence]uint64{}}
}

// add verifies ev and keeps it. valsAt(h) must return the validator set
// that signs block h; ev is verified against the set of its offence's
// height. It fails with chain.ErrInvalidEvidence for evidence that is
// malformed or does not verify, with errEvidenceKnown for an offence
// already pending or committed, errEvidenceEarly for an offence above the
// height being decided, errEvidenceExpired for one too old for the next
// block, errEvidencePoolFull when full, errEvidenceEnough when its
// validator has maxPendingPerValidator offences pending, or with valsAt's
// error. Every refusal but the last comes before any signature is checked.
func (p *evidencePool) add(ev chain.Evidence, valsAt func(h uint64) (*chain.ValidatorSet, error), chainID string) error {
	if err := ev.ValidateBasic(chainID); err != nil {
		return err
	}
	o := ev.Offence()
	p.mu.Lock()
	err := p.admissible(o)
	p.mu.Unlock()
	if err != nil {
		return err
	}
	// Verify outside the lock: it reads a validator set and checks two
	// signatures.
	vals, err := valsAt(o.Height)
	if err != nil {
		return fmt.Errorf("validator set of height %d: %w", o.Height, err)
	}
	if err := ev.Verify(chainID, vals); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.admissible(o); err != nil { // the pool may have moved meanwhile
		return err
	}
	p.held[o] = ev
	return nil
}

// admissible says whether the pool would take offence o now. p.mu is held.
func (p *evidencePool) admissible(o chain.Offence) error {
	if _, ok := p.held[o]; ok {
		return fmt.Errorf("%w: %s is pending", errEvidenceKnown, o)
	}
	if _, ok := p.done[o]; ok {
		return fmt.Errorf("%w: %s was committed", errEvidenceKnown, o)
	}
	if o.Height > p.height+1 {
		return fmt.Errorf("%w: %s, this node is at height %d", errEvidenceEarly, o, p.height)
	}
	if expired(o.Height, p.height+1) {
		return fmt.Errorf("%w: %s", errEvidenceExpired, o)
	}
	if len(p.held) >= p.max {
		return fmt.Errorf("%w (%d pieces)", errEvidencePoolFull, p.max)
	}
	n := 0
	for q := range p.held {
		if q.Validator == o.Validator {
			n++
		}
	}
	if n >= maxPendingPerValidator {
		return fmt.Errorf("%w: %d offences of %s", errEvidenceEnough, n, o.Validator)
	}
	return nil
}

// expired reports whether a block at height may no longer carry evidence
// of an offence at offence.
func expired(offence, height uint64) bool {
	return height > offence && height-offence > chain.MaxEvidenceAge
}

// pending returns at most limit pieces (and at most
// chain.MaxBlockEvidence) that a block at height may carry, in offence
// order (chain.Offence's Compare: oldest first), so every node with the
// same pool proposes the same list. It does not remove them; committed
// does.
func (p *evidencePool) pending(height uint64, limit int) []chain.Evidence {
	limit = min(limit, chain.MaxBlockEvidence)
	p.mu.Lock()
	defer p.mu.Unlock()
	offences := make([]chain.Offence, 0, len(p.held))
	for o := range p.held {
		if o.Height < height && !expired(o.Height, height) {
			offences = append(offences, o)
		}
	}
	slices.SortFunc(offences, chain.Offence.Compare)
	if len(offences) > limit {
		offences = offences[:max(limit, 0)]
	}
	out := make([]chain.Evidence, 0, len(offences))
	for _, o := range offences {
		out = append(out, p.held[o])
	}
	return out
}

// committed records that the block at height was committed carrying evs:
// they leave the pending set and are remembered, and everything that no
// block after this one may carry is forgotten. Call it for every committed
// block, whoever proposed it and however it arrived (consensus or sync),
// in height order.
func (p *evidencePool) committed(height uint64, evs []chain.Evidence) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if height > p.height {
		p.height = height
	}
	for _, ev := range evs {
		o := ev.Offence()
		delete(p.held, o)
		p.done[o] = o.Height
	}
	next := p.height + 1
	for o := range p.held {
		if expired(o.Height, next) {
			delete(p.held, o)
		}
	}
	for o, h := range p.done {
		if expired(h, next) {
			delete(p.done, o)
		}
	}
	// Bound the memory of committed offences: forget the oldest. Forgetting
	// one early only risks proposing it again, which the chain ignores.
	if limit := 4 * p.max; len(p.done) > limit {
		old := make([]chain.Offence, 0, len(p.done))
		for o := range p.done {
			old = append(old, o)
		}
		slices.SortFunc(old, chain.Offence.Compare)
		for _, o := range old[:len(old)-limit] {
			delete(p.done, o)
		}
	}
}

// verifyBlock checks the signatures of a block's evidence against the
// validator set of each offence's height (valsAt, as for add). Evidence
// this pool already holds was verified when it was added and is not
// checked again. The block's stateless checks (Block.ValidateBasic) must
// have passed. It fails with chain.ErrInvalidBlock wrapping the first
// piece that does not verify; an error of valsAt is returned as it is,
// since this node's missing a validator set proves nothing about the block.
func (p *evidencePool) verifyBlock(chainID string, evs []chain.Evidence, valsAt func(h uint64) (*chain.ValidatorSet, error)) error {
	for i, ev := range evs {
		o := ev.Offence()
		p.mu.Lock()
		held, ok := p.held[o]
		p.mu.Unlock()
		if ok && held.Hash() == ev.Hash() {
			continue
		}
		vals, err := valsAt(o.Height)
		if err != nil {
			return fmt.Errorf("evidence %d: validator set of height %d: %w", i, o.Height, err)
		}
		if err := ev.Verify(chainID, vals); err != nil {
			return fmt.Errorf("%w: evidence %d: %w", chain.ErrInvalidBlock, i, err)
		}
	}
	return nil
}

// size returns the number of pending pieces.
func (p *evidencePool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.held)
}
