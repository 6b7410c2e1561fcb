package node

import (
	"errors"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/p2p"
)

// The evidence topic's validator keeps new proven evidence (and gossip
// forwards it), rejects what is provably wrong whoever forwarded it, and
// ignores what the pool would not take or cannot judge, without checking
// a signature where the pool can refuse first.
func TestGossipedEvidenceIsKeptRejectedOrIgnored(t *testing.T) {
	h := newHistory(t)
	pool := newEvidencePool(9, 100)
	otherChain := doublePrevote(1, 5)
	otherChain.DuplicateVote.A.ChainID, otherChain.DuplicateVote.B.ChainID = "other", "other"
	storeDown := func(uint64) (*chain.ValidatorSet, error) { return nil, errors.New("store is closed") }

	const (
		kept = iota
		rejected
		ignored
	)
	cases := []struct {
		name   string
		data   []byte
		valsAt func(uint64) (*chain.ValidatorSet, error)
		want   int
	}{
		{"two proposals of one round", doubleProposal(1, 5).Encode(), h.valsAt, kept},
		{"the same evidence again", doubleProposal(1, 5).Encode(), h.valsAt, ignored},
		{"two prevotes of one round", doublePrevote(0, 8).Encode(), h.valsAt, kept},
		{"bytes that are not evidence", []byte{0xa1, 0x01, 0x02}, h.valsAt, rejected},
		{"a vote signed by someone else", chain.NewDuplicateVote(devVote(2, 2, chain.Prevote, 5, 0, "x"), devVote(2, 1, chain.Prevote, 5, 0, "y")).Encode(), h.valsAt, rejected},
		{"a validator outside the set of the offence's height", doublePrevote(3, 8).Encode(), h.valsAt, rejected},
		{"evidence of another chain", otherChain.Encode(), h.valsAt, rejected},
		{"an offence above this node's height", doublePrevote(2, 11).Encode(), h.valsAt, ignored},
		{"no validator set to judge by", doublePrevote(2, 5).Encode(), storeDown, ignored},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := pool.size()
			ev, err := keepGossipedEvidence(pool, tc.data, tc.valsAt, evChain)
			switch tc.want {
			case kept:
				if err != nil || ev == nil {
					t.Fatalf("kept nothing: %v", err)
				}
				if pool.size() != before+1 {
					t.Fatalf("pool holds %d pieces, want %d", pool.size(), before+1)
				}
			case rejected:
				if err == nil || errors.Is(err, p2p.ErrIgnore) {
					t.Fatalf("got %v, want a rejection", err)
				}
			case ignored:
				if !errors.Is(err, p2p.ErrIgnore) {
					t.Fatalf("got %v, want p2p.ErrIgnore", err)
				}
			}
			if tc.want != kept && pool.size() != before {
				t.Fatalf("the pool grew from %d to %d", before, pool.size())
			}
		})
	}

	// Known evidence is ignored before any validator set is read.
	calls := h.calls
	if _, err := keepGossipedEvidence(pool, doublePrevote(0, 8).Encode(), h.valsAt, evChain); !errors.Is(err, p2p.ErrIgnore) {
		t.Fatalf("known evidence: %v", err)
	}
	if h.calls != calls {
		t.Fatal("known evidence was verified before it was ignored")
	}
}
