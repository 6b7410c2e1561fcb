package consensus

import (
	"cmp"
	"math/bits"
	"slices"

	"github.com/citychain/citychain/chain"
)

// Proposer returns the address of the validator that proposes in round of
// height: proposer(h, r) in the paper.
//
// The rule is a weighted round robin with the turns spread out. Think of a
// cycle of TotalPower slots in which each validator owns exactly as many
// slots as its power; the proposer of (height, round) owns slot
// (height + round) mod TotalPower. Every node computes the same answer from
// the same set, and over any TotalPower consecutive slots each validator
// proposes exactly its power's share.
//
// The order of the slots is what makes a crash cheap. When a proposer is
// down its rounds time out, and the next round's proposer is the next slot,
// so a validator owning k slots in a row costs k rounds in a row. The slots
// are therefore dealt out heaviest first: the heaviest validator takes its
// slots evenly spaced over the whole cycle (of the first x slots it owns
// floor(x*power/total)), the next heaviest spreads its slots the same way
// over the slots left free, and so on down to the lightest, which takes what
// remains. Equal powers are dealt in reverse set order, which makes them
// come out in set order. So:
//
//   - with equal powers the proposer is simply the validator at index
//     (height + round) mod n, as in plain round robin;
//   - the heaviest validator never proposes twice in a row if it holds at
//     most half the power, and otherwise at most ceil(p/(total-p)) times in
//     a row, the fewest possible; for powers A=3, B=1, C=1 the slots run
//     B A C A A, B A C A A, ..., so a crashed A costs two rounds in a row,
//     not three;
//   - every validator gets the fewest turns in a row possible in every set
//     of total power up to 10 (the tests try them all); in larger sets a
//     lighter validator can get more (with powers 10, 8, 5 the 8 now and
//     then proposes twice running).
//
// Rules that place each validator's turns on their own, like CometBFT's
// proposer priority or stride scheduling, let light validators bunch up:
// with powers A=2, B=1, C=1 they give A B C A, A B C A, ..., so A proposes
// twice running although it holds only half the power. Dealing into the
// slots left free gives B A C A.
//
// Finding the owner of a slot walks down that order once, so the cost is
// one sort of the set, whatever the powers. It returns the zero address for
// a nil or empty set, a set whose total power is zero, or a hand-built set
// whose total overflows.
func Proposer(vals *chain.ValidatorSet, height uint64, round uint32) chain.Address {
	if vals == nil {
		return chain.Address{}
	}
	i := proposerIndex(vals.Validators, height, round)
	if i < 0 {
		return chain.Address{}
	}
	return vals.Validators[i].Address
}

// proposerIndex is Proposer returning an index into vals, or -1. It sums the
// powers with an overflow check, since a hand-built set may not have been
// through chain.NewValidatorSet.
func proposerIndex(vals []chain.Validator, height uint64, round uint32) int {
	var total uint64
	for _, v := range vals {
		if total+v.Power < total {
			return -1
		}
		total += v.Power
	}
	if total == 0 {
		return -1
	}
	// slot = (height + round) mod total, computed without overflow.
	a, b := height%total, uint64(round)%total
	slot := a + b
	if a >= total-b {
		slot = a - (total - b)
	}

	// Deal from the heaviest down: sort lightest first (equal powers by
	// index) and walk the order backwards.
	order := make([]int, len(vals))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		if c := cmp.Compare(vals[i].Power, vals[j].Power); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	// Invariant: slot < total, where total is the power of order[:k+1]
	// and slot is a position among the slots they share.
	for k := len(order) - 1; k > 0; k-- {
		p := vals[order[k]].Power
		before, through := share(slot, p, total), share(slot+1, p, total)
		if through > before {
			return order[k] // the heaviest left owns this slot
		}
		// Renumber the slot among those the heaviest left free: of the
		// first slot+1 slots, through are taken.
		slot -= through
		total -= p
	}
	return order[0] // the lightest owns every slot still free
}

// share returns floor(x*p/total), how many of the first x slots a validator
// of power p owns when it spreads its slots evenly over total. It needs
// x <= total and p <= total, so the 128-bit quotient fits in 64 bits.
func share(x, p, total uint64) uint64 {
	hi, lo := bits.Mul64(x, p)
	q, _ := bits.Div64(hi, lo, total)
	return q
}
