package consensus_test

import (
	"math"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// powers builds a hand-made set of validators "A", "B", "C", ... with the
// given powers, in that order (A's address sorts first).
func powers(ps ...uint64) *chain.ValidatorSet {
	vs := &chain.ValidatorSet{}
	for i, p := range ps {
		vs.Validators = append(vs.Validators, chain.Validator{Address: chain.Address{byte(i + 1)}, Power: p})
	}
	return vs
}

// who names the proposer of (height, round): "A", "B", ..., or "-" for the
// zero address.
func who(vs *chain.ValidatorSet, height uint64, round uint32) string {
	a := consensus.Proposer(vs, height, round)
	if a.IsZero() {
		return "-"
	}
	return string(rune('A' + a[0] - 1))
}

// rounds names the proposers of rounds 0 to n-1 of height, one letter each.
func rounds(vs *chain.ValidatorSet, height uint64, n int) string {
	var b strings.Builder
	for r := range n {
		b.WriteString(who(vs, height, uint32(r)))
	}
	return b.String()
}

// longestRun returns the most turns name has in a row when the cycle
// repeats, that is across the end of one cycle into the next.
func longestRun(cycle string, name byte) int {
	if strings.Count(cycle, string(name)) == len(cycle) {
		return len(cycle)
	}
	best, run := 0, 0
	for i := range 2 * len(cycle) {
		if cycle[i%len(cycle)] == name {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

// fewestInARow is the least possible longest run of a validator with power
// p out of total: its p turns fall into at most total-p groups, one per
// turn of someone else.
func fewestInARow(p, total uint64) int {
	if p == total {
		return int(total)
	}
	return int((p + (total - p) - 1) / (total - p))
}

func TestProposerEqualPowersRotateByIndex(t *testing.T) {
	cases := []struct {
		name   string
		vals   *chain.ValidatorSet
		height uint64
	}{
		{"four validators of power 1", powers(1, 1, 1, 1), 1},
		{"three validators of power 5", powers(5, 5, 5), 7},
		{"a single validator", powers(9), 3},
		{"heights near the top wrap without overflow", powers(1, 1, 1), math.MaxUint64 - 2},
		{"huge equal powers", powers(1<<61, 1<<61, 1<<61), math.MaxUint64},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := uint64(len(c.vals.Validators))
			for r := range uint32(12) {
				want := (c.height%n + uint64(r)%n) % n // (height + round) mod n
				if got := consensus.Proposer(c.vals, c.height, r); got != c.vals.Validators[want].Address {
					t.Fatalf("round %d: proposer %s, want %c (index %d)", r, who(c.vals, c.height, r), 'A'+want, want)
				}
			}
		})
	}
}

// TestProposerCycles spells out one cycle (rounds 0 to total-1 of height
// 0) for a few sets, and checks that no validator has more turns in a row
// than it must, counting across the end of the cycle into the next, since
// the rounds of one height run on from slot total-1 to slot 0.
func TestProposerCycles(t *testing.T) {
	cases := []struct {
		name  string
		vals  *chain.ValidatorSet
		cycle string
	}{
		{"A=3 is never three rounds in a row", powers(3, 1, 1), "BACAA"},
		{"A with half the power never repeats", powers(2, 1, 1), "BACA"},
		{"the heavy validator last in the set", powers(1, 1, 2), "ACBC"},
		{"A=5 is at most twice in a row", powers(5, 2, 1, 1), "CABADABAA"},
		{"A=7 and B=3: seven turns in three gaps", powers(7, 3), "BAABAABAAA"},
		{"three unequal powers", powers(1, 2, 3), "ACBCBC"},
		{"two heavy and one light", powers(2, 2, 1), "CABAB"},
		{"equal powers keep plain round robin", powers(2, 2, 2), "ABCABC"},
		{"one validator proposes everything", powers(3), "AAA"},
		{"a zero power in a hand-built set", powers(0, 2, 1), "CBB"},
		{"B=4 of 7 is at most twice in a row", powers(1, 4, 1, 1), "ABCBDBB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			total := c.vals.TotalPower()
			got := rounds(c.vals, 0, int(total))
			if got != c.cycle {
				t.Fatalf("cycle %s, want %s", got, c.cycle)
			}
			for i, v := range c.vals.Validators {
				name := byte('A' + i)
				if n := strings.Count(got, string(name)); uint64(n) != v.Power {
					t.Errorf("%c proposes %d times in the cycle, want its power %d", name, n, v.Power)
				}
				if v.Power > 0 && longestRun(got, name) != fewestInARow(v.Power, total) {
					t.Errorf("%c (power %d of %d) has %d turns in a row, want %d",
						name, v.Power, total, longestRun(got, name), fewestInARow(v.Power, total))
				}
			}
		})
	}
}

// TestProposerSharesEveryWindow checks that any total consecutive slots,
// wherever they start, give each validator exactly its power in turns.
func TestProposerSharesEveryWindow(t *testing.T) {
	sets := map[string]*chain.ValidatorSet{
		"A=3 B=1 C=1":     powers(3, 1, 1),
		"A=5 B=2 C=1 D=1": powers(5, 2, 1, 1),
		"A=1 B=1 C=2":     powers(1, 1, 2),
		"A=7 B=3":         powers(7, 3),
	}
	for name, vs := range sets {
		t.Run(name, func(t *testing.T) {
			total := vs.TotalPower()
			for _, height := range []uint64{0, 1, 4, 1000, math.MaxUint64 - 3} {
				got := rounds(vs, height, int(total))
				for i, v := range vs.Validators {
					if n := strings.Count(got, string(rune('A'+i))); uint64(n) != v.Power {
						t.Fatalf("height %d: %c proposes %d times in %s, want %d", height, 'A'+i, n, got, v.Power)
					}
				}
			}
		})
	}
}

// TestProposerFewestInARowForSmallSets tries every list of positive powers
// with a total up to 10, in every order: no validator ever has more turns
// in a row (across cycles) than it must. In particular a validator with at
// most half the power never proposes two rounds running.
func TestProposerFewestInARowForSmallSets(t *testing.T) {
	var try func(ps []uint64, left uint64)
	try = func(ps []uint64, left uint64) {
		if left == 0 {
			vs := powers(ps...)
			cycle := rounds(vs, 0, int(vs.TotalPower()))
			for i, p := range ps {
				name := byte('A' + i)
				if got, want := longestRun(cycle, name), fewestInARow(p, vs.TotalPower()); got != want {
					t.Fatalf("powers %v, cycle %s: %c has %d turns in a row, want %d", ps, cycle, name, got, want)
				}
			}
			return
		}
		for p := uint64(1); p <= left; p++ {
			try(append(ps, p), left-p)
		}
	}
	for total := uint64(1); total <= 10; total++ {
		try(nil, total)
	}
}

// TestProposerHugePowers uses powers far beyond anything that could be
// walked slot by slot: the answer comes from one pass down the set.
func TestProposerHugePowers(t *testing.T) {
	vs := powers(1<<62, 1<<61, 3) // A holds two thirds, B one third, C 3
	total := vs.TotalPower()
	windows := []struct {
		name   string
		height uint64
	}{
		{"the start of a cycle", 0},
		{"across the end of a cycle", total - 500},
		{"the middle of a cycle", total / 2},
		{"the largest heights", math.MaxUint64 - 1000},
	}
	for _, w := range windows {
		t.Run(w.name, func(t *testing.T) {
			got := rounds(vs, w.height, 2000)
			if strings.Contains(got, "-") {
				t.Fatalf("zero address in %s", got)
			}
			if strings.Contains(got, "AAA") {
				t.Fatal("A has three turns in a row; with two thirds of the power it needs at most two")
			}
			if strings.Contains(got, "BB") || strings.Contains(got, "CC") {
				t.Fatal("B or C has two turns in a row")
			}
		})
	}
	extremes := []struct {
		name string
		vals *chain.ValidatorSet
		want string // proposers of rounds 0 to 3 at the largest height
	}{
		{"the largest power alone", powers(math.MaxUint64), "AAAA"},
		{"the largest total", powers(math.MaxUint64-1, 1), "BAAA"},
		{"a hand-built set whose total overflows", powers(math.MaxUint64, 1), "----"},
	}
	for _, c := range extremes {
		t.Run(c.name, func(t *testing.T) {
			if got := rounds(c.vals, math.MaxUint64, 4); got != c.want {
				t.Fatalf("proposers %s, want %s", got, c.want)
			}
		})
	}
}

func TestProposerWithoutValidators(t *testing.T) {
	cases := []struct {
		name string
		vals *chain.ValidatorSet
	}{
		{"no set", nil},
		{"an empty set", &chain.ValidatorSet{}},
		{"zero total power", powers(0, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := consensus.Proposer(c.vals, 1, 0); !got.IsZero() {
				t.Fatalf("proposer %v, want the zero address", got)
			}
		})
	}
}
