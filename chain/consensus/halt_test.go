package consensus_test

import (
	"testing"
	"time"
)

func TestTwoOfFourCrashedHaltsThenResumes(t *testing.T) {
	s := newSimNet(42, []uint64{1, 1, 1, 1})
	a, b, c, d := s.addNode("A", 0, honest), s.addNode("B", 1, honest), s.addNode("C", 2, honest), s.addNode("D", 3, honest)
	s.calm = linkModel{minDelay: time.Millisecond, maxDelay: 30 * time.Millisecond}
	s.chaos = s.calm
	height := func(n *simNode) int { return len(n.certs) }

	s.start()
	s.runUntil(2*time.Second, nil)
	if height(a) < 3 {
		t.Fatalf("only %d blocks in 2s with everyone up", height(a))
	}

	// C and D crash: 2 of 4 is more than f = 1. Blocks already agreed on
	// may still land; after that, nothing.
	s.crash(c)
	s.crash(d)
	s.runUntil(3*time.Second, nil)
	stuckA, stuckB := height(a), height(b)
	t.Logf("halted at heights A=%d B=%d", stuckA, stuckB)
	s.runUntil(15*time.Second, nil)
	if height(a) != stuckA || height(b) != stuckB {
		t.Fatalf("A and B went from heights %d, %d to %d, %d with half the power down",
			stuckA, stuckB, height(a), height(b))
	}

	// C comes back: 3 of 4 is a quorum again, and the chain resumes by
	// itself, C catching up first.
	s.boot(c)
	s.runUntil(20*time.Second, nil)
	for _, n := range []*simNode{a, b, c} {
		if height(n) < stuckA+3 {
			t.Fatalf("%s at height %d, want at least %d after C came back", n.name, height(n), stuckA+3)
		}
	}

	// D comes back and catches up too.
	s.boot(d)
	s.runUntil(25*time.Second, nil)
	if height(d) < height(a)-1 {
		t.Fatalf("D at height %d, A at %d", height(d), height(a))
	}
	for _, f := range s.failures {
		t.Error(f)
	}
}
