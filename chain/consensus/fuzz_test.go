package consensus_test

// FuzzDecodeDoubleSignGuard reads the double-sign guard as a node loads
// it from its home at every start: a damaged file must give an error
// (the node then refuses to sign), never a panic, and a guard that
// decodes must re-encode to the same bytes.
//
//	go test ./chain/consensus/ -run '^$' -fuzz FuzzDecodeDoubleSignGuard -fuzztime 30s

import (
	"bytes"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

func FuzzDecodeDoubleSignGuard(f *testing.F) {
	vote := func(t chain.VoteType, h uint64) chain.Vote {
		return chain.Vote{ChainID: "c", Type: t, Height: h, Round: 1, BlockHash: block("b"), Validator: chain.Address{7}}
	}
	f.Add(consensus.DoubleSignGuard{}.Encode())
	f.Add(consensus.DoubleSignGuard{Prevote: vote(chain.Prevote, 5), Precommit: vote(chain.Precommit, 5), LockHeight: 5}.Encode())
	f.Add(consensus.DoubleSignGuard{Prevote: vote(chain.Precommit, 5)}.Encode()) // a vote of the wrong type
	f.Add([]byte{0xa0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := consensus.DecodeDoubleSignGuard(b)
		if err != nil {
			return
		}
		if !bytes.Equal(g.Encode(), b) {
			t.Fatal("decoded, but re-encodes differently")
		}
	})
}
