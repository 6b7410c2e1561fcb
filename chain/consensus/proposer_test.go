package consensus_test

import (
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

func TestProposerIsWeightedRoundRobin(t *testing.T) {
	set := func(powers ...uint64) *chain.ValidatorSet {
		vs := &chain.ValidatorSet{}
		for i, p := range powers {
			vs.Validators = append(vs.Validators, chain.Validator{Address: chain.Address{byte(i + 1)}, Power: p})
		}
		return vs
	}
	cases := []struct {
		name   string
		vals   *chain.ValidatorSet
		height uint64
		rounds int
		want   []byte // first address byte of the proposer of each round
	}{
		{"equal powers rotate by height plus round", set(1, 1, 1, 1), 1, 5, []byte{2, 3, 4, 1, 2}},
		{"the next height starts one further", set(1, 1, 1, 1), 2, 2, []byte{3, 4}},
		{"power 2 proposes two slots running", set(2, 1, 1), 0, 5, []byte{1, 1, 2, 3, 1}},
		{"one validator proposes everything", set(5), 9, 3, []byte{1, 1, 1}},
		{"heights near the top wrap without overflow", set(1, 1, 1), ^uint64(0), 2, []byte{1, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for r := range c.rounds {
				got := consensus.Proposer(c.vals, c.height, uint32(r))
				if got[0] != c.want[r] {
					t.Fatalf("round %d: proposer %d, want %d", r, got[0], c.want[r])
				}
			}
		})
	}
	if got := consensus.Proposer(nil, 1, 0); !got.IsZero() {
		t.Fatalf("no set: %v, want the zero address", got)
	}
	if got := consensus.Proposer(set(0, 0), 1, 0); !got.IsZero() {
		t.Fatalf("zero power: %v, want the zero address", got)
	}
}
