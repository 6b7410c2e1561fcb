package node

import (
	"sync"
	"time"

	"github.com/citychain/citychain/chain"
)

// A consensus message's Resend number lies outside what its signer
// signed: it exists so that an honest validator can send its vote or
// proposal again past gossip's memory of messages already seen. Anyone
// can renumber a message it received, though, and each renumbered copy
// is new to gossip: without a limit, one peer could make every node
// verify and forward the same vote or proposal as often as it likes.
//
// resendGate lets a signed statement (a vote, or a proposal's signed part
// with its signature) of the heights being decided through the consensus
// topic's validator at most once per resendGap. A copy that comes sooner
// is ignored before its signature is checked: it is forwarded to no one
// and costs whoever sent it nothing, since an honest peer may have passed
// on both copies in good faith. An honest validator resends at most once
// a second (engine.resend), so its copies always pass. Only statements
// whose signature verified are remembered, so a forgery cannot shut out
// the statement it imitates.
type resendGate struct {
	mu     sync.Mutex
	height uint64 // the height being decided when seen was filled
	seen   map[chain.Hash]time.Time
}

const (
	// resendGap is how soon after a signed statement was let through a
	// copy of it is ignored.
	resendGap = 500 * time.Millisecond
	// maxGated bounds the statements remembered for one height. The
	// honest statements of a height are a few per validator and round;
	// when a height holds more, the gate starts afresh, which lets each
	// statement through once more.
	maxGated = 8192
)

// statementOf is the identity of m's signed statement, whatever its
// Resend number and, for a proposal, whatever compact block or POL rides
// beside the signature (the validator checks that those prove themselves).
func statementOf(m *chain.ConsensusMessage) chain.Hash {
	if m.Vote != nil {
		return chain.Sum(chain.MustEncode(m.Vote))
	}
	p := m.Proposal
	return chain.Sum(append(chain.MustEncode(&p.Proposal), p.Signature...))
}

// recent reports whether statement s was let through less than resendGap
// before now, while height was being decided.
func (g *resendGate) recent(height uint64, s chain.Hash, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.height != height {
		return false
	}
	at, ok := g.seen[s]
	return ok && now.Sub(at) < resendGap
}

// pass records that statement s went through at now, while height was
// being decided.
func (g *resendGate) pass(height uint64, s chain.Hash, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.height != height || g.seen == nil || len(g.seen) >= maxGated {
		g.height, g.seen = height, make(map[chain.Hash]time.Time)
	}
	g.seen[s] = now
}
