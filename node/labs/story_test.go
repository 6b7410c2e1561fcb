package labs

import (
	"slices"
	"testing"
	"time"
)

// The consensus lab's reading of history, as scenarios in domain words:
// four validators A, B, C and D take turns to propose, and each commit
// holds the first three precommits that arrived. D is the slowest: while
// all are up, its precommit never makes it into a commit, so it shows only
// in its turns to propose. That is the hardest case for telling "slow"
// from "down".

var abcd = []string{"A", "B", "C", "D"}

// network builds a chain of facts height by height.
type network struct {
	t     time.Time
	facts []*fact
	turn  int
}

func newNetwork() *network {
	return &network{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
}

// block appends a block decided after gap, proposed by the next of up
// whose turn it is (in round 1 or later when the turn's owner is down),
// and signed by the first three of up.
func (n *network) block(gap time.Duration, up ...string) *fact {
	n.t = n.t.Add(gap)
	h := uint64(len(n.facts) + 1)
	// The proposer of round 0 is the validator whose turn it is; when it
	// is down the height needs round 1 and the next one that is up.
	var round uint32
	proposer := abcd[n.turn%len(abcd)]
	for !slices.Contains(up, proposer) {
		round++
		n.turn++
		proposer = abcd[n.turn%len(abcd)]
	}
	n.turn++
	f := &fact{Height: h, Time: n.t, Proposer: proposer, ValidatorsHash: "set1", Round: round,
		Signers: slices.Clone(up[:min(3, len(up))])}
	if len(n.facts) > 0 {
		prev := n.facts[len(n.facts)-1]
		f.LastSigners = slices.Clone(prev.Signers)
	}
	n.facts = append(n.facts, f)
	return f
}

func (n *network) blocks(count int, gap time.Duration, up ...string) {
	for range count {
		n.block(gap, up...)
	}
}

func TestStoryAllUp(t *testing.T) {
	n := newNetwork()
	n.blocks(40, 5*time.Second, abcd...)
	s := readStory(n.facts, abcd, "set1")
	// D signs no commit, but proposes every fourth block.
	if s.Longest == nil || s.Longest.Validator != "D" || s.Longest.Blocks != 3 {
		t.Errorf("the slow D should be absent from 3 blocks at most in a row; the story says %+v", s.Longest)
	}
	if s.Longest != nil && s.Longest.Blocks >= downRun(4) {
		t.Errorf("with every validator up, %s was absent from %d blocks in a row", s.Longest.Validator, s.Longest.Blocks)
	}
	if s.Halt != nil {
		t.Errorf("a halt on a chain that never paused: %+v", s.Halt)
	}
	if len(s.Silent) > 0 {
		t.Errorf("silent validators on a chain where all sign: %v", s.Silent)
	}
}

func TestStoryOneDownThenBack(t *testing.T) {
	n := newNetwork()
	n.blocks(10, 5*time.Second, abcd...)
	n.blocks(8, 2*time.Second, "A", "B", "C") // D stopped
	n.blocks(8, time.Second, abcd...)
	s := readStory(n.facts, abcd, "set1")
	if s.Longest == nil || s.Longest.Validator != "D" || s.Longest.Blocks < downRun(4) {
		t.Fatalf("D was down for 8 blocks; the story says %+v", s.Longest)
	}
	if s.Longest.RoundChange == 0 || s.Longest.ChangeRound != 1 {
		t.Errorf("D's turn to propose came while it was down, yet no round change is reported: %+v", s.Longest)
	}
	if s.Halt != nil {
		t.Errorf("one validator of four down is no halt: %+v", s.Halt)
	}
	if len(s.Silent) != 0 {
		t.Errorf("D is back and signing, yet silent: %v", s.Silent)
	}
}

func TestStoryTwoDownHaltsThenResumes(t *testing.T) {
	n := newNetwork()
	n.blocks(10, 5*time.Second, abcd...)
	n.blocks(6, 2*time.Second, "A", "B", "C") // D stopped
	n.block(25*time.Second, "A", "B", "C")    // C stopped too, then back: a 25 s pause
	n.blocks(4, 2*time.Second, "A", "B", "C") // D still down
	s := readStory(n.facts, abcd, "set1")
	if s.Halt == nil {
		t.Fatal("no halt found in a 25 s pause while D was down")
	}
	if s.Halt.Missing != "D" || s.Halt.After != 17 || s.Halt.Gap != 25*time.Second {
		t.Errorf("halt = %+v, want D missing and block 17 after 25 s", s.Halt)
	}
	if !slices.Equal(s.Silent, []string{"D"}) {
		t.Errorf("silent = %v, want D, still stopped", s.Silent)
	}
}

func TestStoryRestartOfEveryNodeIsNoHalt(t *testing.T) {
	// The whole devnet stopped with Ctrl-C and started again: a long
	// pause, but nobody was missing before it.
	n := newNetwork()
	n.blocks(10, 5*time.Second, abcd...)
	n.block(10*time.Minute, abcd...)
	n.blocks(5, 5*time.Second, abcd...)
	if s := readStory(n.facts, abcd, "set1"); s.Halt != nil {
		t.Errorf("a restart of every node counted as a halt: %+v", s.Halt)
	}
}

func TestStoryOlderValidatorSet(t *testing.T) {
	// Blocks signed by an older set {A, B, C, D}; the current set added
	// E, which never ran. E's absence before it joined is no absence.
	n := newNetwork()
	n.blocks(12, 5*time.Second, abcd...)
	current := append(slices.Clone(abcd), "E")
	s := readStory(n.facts, current, "set2")
	if s.Longest != nil && s.Longest.Blocks >= downRun(5) {
		t.Errorf("a validator of the older set counted as down: %+v", s.Longest)
	}
	if !slices.Equal(s.Silent, []string{"E"}) {
		t.Errorf("silent = %v, want E, which never signed", s.Silent)
	}
}

func TestStoryEmpty(t *testing.T) {
	s := readStory(nil, abcd, "")
	if s.Longest != nil || s.Halt != nil || s.Recent != 0 {
		t.Errorf("an empty history tells a story: %+v", s)
	}
}
