package consensus

import "github.com/citychain/citychain/chain"

// Proposer returns the address of the validator that proposes in round of
// height: proposer(h, r) in the paper.
//
// The rule is a weighted round robin over the set sorted by address. Think
// of TotalPower slots laid out in order, each validator owning as many
// consecutive slots as its power; the proposer of (height, round) owns slot
// (height + round) mod TotalPower. With equal powers this is simply the
// validator at index (height + round) mod n. Every node computes the same
// answer from the same set, and over any TotalPower consecutive slots each
// validator proposes exactly its power's share. It returns the zero address
// for an empty set or a set whose total power is zero.
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
	for i, v := range vals {
		if slot < v.Power {
			return i
		}
		slot -= v.Power
	}
	return -1 // unreachable: slot < total
}
