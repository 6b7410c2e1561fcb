package node

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/poa"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// Scenarios on the simulated network, told in validators A to E.

// calmSim is a network of validators A..D (equal power) and the given
// extra nodes, calm from the start.
func calmSim(seed uint64, extra ...fault) *simNet {
	s := newSimNet(seed)
	keys := []*crypto.PrivateKey{DevValidatorKey(0), DevValidatorKey(1), DevValidatorKey(2), DevValidatorKey(3)}
	s.newGenesis(keys, []uint64{1, 1, 1, 1})
	for i, k := range keys {
		s.addNode(string(rune('A'+i)), k, honest)
	}
	for i, f := range extra {
		s.addNode(string(rune('E'+i)), DevValidatorKey(4+i), f)
	}
	s.consensusCfg = consensusConfig(DefaultConfig("", 0).Consensus.Timeouts(), 50*time.Millisecond)
	s.calm = linkModel{minDelay: time.Millisecond, maxDelay: 40 * time.Millisecond}
	s.chaos = s.calm
	return s
}

// poaTx is validator key's signed poa proposal.
func poaTx(t *testing.T, s *simNet, key *crypto.PrivateKey, nonce uint64, m poa.Propose) *chain.Tx {
	t.Helper()
	payload, err := chain.EncodePayload(m)
	if err != nil {
		t.Fatal(err)
	}
	tx := &chain.Tx{ChainID: s.chainID, App: poa.Name, Action: poa.ActionPropose, Payload: payload, Nonce: nonce}
	tx.Sign(key)
	return tx
}

// inSet reports whether addr is in the validator set stored by n.
func inSet(n *simNode, addr chain.Address) bool {
	vs, err := chain.LoadValidators(n.store)
	if err != nil {
		return false
	}
	_, ok := vs.Find(addr)
	return ok
}

// signedBy reports whether n stores a commit at or below its latest
// height signed by addr.
func signedBy(n *simNode, addr chain.Address) bool {
	for h := n.store.Latest().Height; h > 0; h-- {
		c, err := n.store.Commit(h)
		if err != nil {
			return false
		}
		for _, sig := range c.Signatures {
			if sig.Validator == addr {
				return true
			}
		}
	}
	return false
}

// A, B and C vote E in while D is down; D comes back and syncs across the
// change. Through the change no node rejects a message from an honest
// peer (each rejection would cost that peer gossip score and, repeated,
// a ban), E starts signing commits, and everyone agrees.
func TestSimValidatorJoinsAndNoOneIsBanned(t *testing.T) {
	s := calmSim(11, honest)
	s.tracing = testing.Verbose()
	defer s.close()
	for _, n := range s.nodes {
		s.boot(n)
	}
	e := s.nodes[4]
	eAddr := chain.AddressOf(e.key.PublicKey())
	add := poa.Propose{Op: poa.OpAdd, Address: eAddr.String(), PubKey: fmt.Sprintf("%x", e.key.PublicKey().Bytes()), Power: 1}
	s.at(time.Second, func() {
		for _, n := range s.nodes[:3] {
			if _, err := n.n.Submit(poaTx(t, s, n.key, 0, add)); err != nil {
				s.failf("%s: submit: %v", n.name, err)
			}
		}
	})
	d := s.nodes[3]
	s.at(1500*time.Millisecond, func() { s.crash(d) })
	joined := func() bool { return inSet(s.nodes[0], eAddr) }
	s.runUntil(60*time.Second, joined)
	if !joined() {
		t.Fatalf("E did not join in a minute: %s\n%s", s.describe(0), strings.Join(s.trace, "\n"))
	}
	s.at(s.now+2*time.Second, func() { s.boot(d) })
	target := s.nodes[0].store.Latest().Height + 5
	s.runUntil(s.now+60*time.Second, func() bool { return s.minHonestHeight() >= target && signedBy(s.nodes[0], eAddr) })
	s.checkAgreement()
	for _, f := range s.failures {
		t.Error(f)
	}
	if s.minHonestHeight() < target {
		t.Fatalf("after E joined the lowest node is at %d, want %d: %s", s.minHonestHeight(), target, s.describe(target))
	}
	if !signedBy(s.nodes[0], eAddr) {
		t.Fatal("E never signed a commit")
	}
	if !inSet(d, eAddr) {
		t.Fatal("D synced past the change without E in its set")
	}
	t.Logf("%s", s.describe(target))
}

// C and D crash: with 2 of 4 validators the chain halts, safely. When C
// comes back, 3 of 4 are a quorum again and the chain resumes by itself,
// C catching up first; then D comes back and catches up too.
func TestSimTwoOfFourCrashedHaltsThenResumes(t *testing.T) {
	s := calmSim(42)
	s.tracing = testing.Verbose()
	defer s.close()
	a, b, c, d := s.nodes[0], s.nodes[1], s.nodes[2], s.nodes[3]
	height := func(n *simNode) uint64 { return n.store.Latest().Height }
	for _, n := range s.nodes {
		s.boot(n)
	}
	s.runUntil(3*time.Second, nil)
	if height(a) < 2 {
		t.Fatalf("only %d blocks in 3s with everyone up", height(a))
	}
	s.crash(c)
	s.crash(d)
	s.runUntil(5*time.Second, nil)
	stuckA, stuckB := height(a), height(b)
	s.runUntil(20*time.Second, nil)
	if height(a) != stuckA || height(b) != stuckB {
		t.Fatalf("A and B went from heights %d, %d to %d, %d with half the power down", stuckA, stuckB, height(a), height(b))
	}
	s.boot(c)
	s.runUntil(30*time.Second, func() bool { return min(height(a), height(b), height(c)) >= stuckA+3 })
	for _, n := range []*simNode{a, b, c} {
		if height(n) < stuckA+3 {
			t.Fatalf("%s at height %d, want at least %d after C came back\n%s", n.name, height(n), stuckA+3, strings.Join(s.trace, "\n"))
		}
	}
	s.boot(d)
	s.runUntil(s.now+10*time.Second, func() bool { return height(d) >= height(a)-1 })
	if height(d) < height(a)-1 {
		t.Fatalf("D at height %d, A at %d", height(d), height(a))
	}
	s.checkAgreement()
	for _, f := range s.failures {
		t.Error(f)
	}
}

// removedSoon runs the simulation until the validator with addr is out of
// every honest node's set and the chain has gone on for a few heights.
func removedSoon(t *testing.T, s *simNet, addr chain.Address) {
	t.Helper()
	out := func() bool {
		for _, n := range s.nodes {
			if n.countsHonest() && inSet(n, addr) {
				return false
			}
		}
		return true
	}
	s.runUntil(60*time.Second, out)
	if !out() {
		t.Fatalf("the offender is still a validator after a minute: %s", s.describe(0))
	}
	target := s.nodes[0].store.Latest().Height + 3
	s.runUntil(s.now+30*time.Second, func() bool { return s.minHonestHeight() >= target })
	s.checkAgreement()
	for _, f := range s.failures {
		t.Error(f)
	}
	if s.minHonestHeight() < target {
		t.Fatalf("the chain stopped after the removal: %s", s.describe(target))
	}
}

// offences returns the kinds of evidence the blocks stored by n carried
// against addr.
func offences(n *simNode, addr chain.Address) []string {
	var kinds []string
	for h := uint64(1); h <= n.store.Latest().Height; h++ {
		b, err := n.store.Block(h)
		if err != nil {
			return kinds
		}
		for _, ev := range b.Evidence {
			if ev.Offender() == addr {
				kinds = append(kinds, ev.Kind())
			}
		}
	}
	return kinds
}

// fifthOffends runs A to D honest and E, a fifth validator from
// genesis, with fault f, until E is out of the set; the blocks must have
// charged E with an offence of kind.
func fifthOffends(t *testing.T, seed uint64, f fault, kind string) {
	t.Helper()
	s := calmSim(seed, f)
	defer s.close()
	keys := []*crypto.PrivateKey{DevValidatorKey(0), DevValidatorKey(1), DevValidatorKey(2), DevValidatorKey(3), DevValidatorKey(4)}
	s.newGenesis(keys, []uint64{1, 1, 1, 1, 1})
	for _, n := range s.nodes {
		s.boot(n)
	}
	e := chain.AddressOf(s.nodes[4].key.PublicKey())
	removedSoon(t, s, e)
	if kinds := offences(s.nodes[0], e); len(kinds) == 0 || kinds[0] != kind {
		t.Fatalf("blocks carried %v against E, want %s", kinds, kind)
	}
}

// E signs conflicting votes. The others see both, a block carries the
// evidence, and poa removes E from the set: the four honest validators
// go on without it.
func TestSimEquivocatingVoterIsRemovedByEvidence(t *testing.T) {
	fifthOffends(t, 21, equivVoter, chain.EvidenceDuplicateVote)
}

// E proposes two different blocks in one round; the proposal evidence
// removes it the same way.
func TestSimEquivocatingProposerIsRemovedByEvidence(t *testing.T) {
	fifthOffends(t, 22, equivProposer, chain.EvidenceConflictingProposal)
}

// A holds some transfers that gossip lost on the way to B, C and D; E, a
// node outside the set, holds them too but answers every request for
// transactions with altered ones. A proposes them and crashes at once,
// and is back a second later. B, C and D ask A, which is down, and the
// other peers: B, C and D hold nothing, and E's answers are refused and
// E is not asked again by whoever it lied to. Nothing gets a vote until
// A, back, serves the transfers from the block it saved (its mempool is
// gone); then they are pooled everywhere and committed, and every node
// agrees.
func TestSimMissingTransactionsComeOnlyFromTheProposer(t *testing.T) {
	s := calmSim(31, txLiar)
	s.tracing = testing.Verbose()
	defer s.close()
	for _, n := range s.nodes {
		s.boot(n)
	}
	a, e := s.nodes[0], s.nodes[4]
	s.runUntil(2*time.Second, nil)
	var hashes []chain.Hash
	for i := range 5 {
		tx := sendTx(t, DevKey(3), s.chainID, uint64(i), DevAccounts()[1].Address, 1)
		for _, n := range []*simNode{a, e} {
			if _, err := n.n.Submit(tx); err != nil {
				t.Fatal(err)
			}
		}
		hashes = append(hashes, tx.Hash())
	}
	a.crashAfterPropose = time.Second
	committed := func() bool {
		for _, n := range s.nodes {
			for _, h := range hashes {
				if _, err := n.store.Receipt(h); err != nil {
					return false
				}
			}
		}
		return true
	}
	s.runUntil(60*time.Second, committed)
	s.checkAgreement()
	for _, f := range s.failures {
		t.Error(f)
	}
	if !committed() {
		t.Fatalf("the transfers were not committed on every node in a minute: %s\n%s", s.describe(0), strings.Join(s.trace, "\n"))
	}
	if a.life < 2 {
		t.Fatal("A never crashed: the scenario did not happen")
	}
	// Every node E lied to distrusts it and asked it once: E altered the
	// five transfers once per node it answered.
	lied := 0
	for _, n := range s.nodes[1:4] {
		if _, ok := n.e.distrust[e.pid]; ok {
			lied++
		}
	}
	if lied == 0 || s.stats.txLies != 5*lied {
		t.Fatalf("%d nodes distrust E, which altered %d transactions; want at least one, each asking E once",
			lied, s.stats.txLies)
	}
	t.Logf("%s", s.describe(0))
}
