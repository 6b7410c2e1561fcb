package node

import (
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// ConsensusView is the engine's state as the API and explorer show it.
type ConsensusView struct {
	Height     uint64            `json:"height"`
	Round      uint32            `json:"round"`
	Step       string            `json:"step"`
	Reason     string            `json:"reason"`
	Proposer   chain.Address     `json:"proposer"`
	Prevotes   []VoteSummary     `json:"prevotes"`
	Precommits []VoteSummary     `json:"precommits"`
	Quorum     uint64            `json:"quorum"`
	Total      uint64            `json:"total_power"`
	Validators []chain.Validator `json:"validators"`
	// Decided is the last height this node decided, with every precommit
	// for its block seen so far: the commit needs only 2f+1 of them, the
	// others arrive after it and are counted here, so a stopped validator
	// shows as a missing precommit.
	Decided *DecidedView `json:"decided,omitempty"`
}

// DecidedView is the outcome of the last height this node decided.
type DecidedView struct {
	Height     uint64        `json:"height"`
	Round      uint32        `json:"round"`
	BlockHash  chain.Hash    `json:"block_hash"`
	Precommits []VoteSummary `json:"precommits"`
}

// VoteSummary is one validator's vote in the current round.
type VoteSummary struct {
	Validator chain.Address `json:"validator"`
	BlockHash chain.Hash    `json:"block_hash"` // zero: nil vote
}

// publishView records the machine's state for the API.
func (e *engine) publishView() {
	if e.vals == nil {
		return
	}
	s := e.m.Snapshot()
	v := &ConsensusView{Height: s.Height, Round: s.Round, Step: s.Step.String(),
		Proposer: consensus.Proposer(e.vals, s.Height, s.Round), Quorum: e.vals.Quorum(),
		Total: e.vals.TotalPower(), Validators: e.vals.Validators,
		Prevotes: []VoteSummary{}, Precommits: []VoteSummary{}}
	if d := e.decided; d != nil {
		// A copy: the engine goes on appending to its own.
		v.Decided = &DecidedView{Height: d.Height, Round: d.Round, BlockHash: d.BlockHash,
			Precommits: append([]VoteSummary(nil), d.Precommits...)}
	}
	for _, x := range e.m.Votes(s.Round, chain.Prevote) {
		v.Prevotes = append(v.Prevotes, VoteSummary{Validator: x.Validator, BlockHash: x.BlockHash})
	}
	for _, x := range e.m.Votes(s.Round, chain.Precommit) {
		v.Precommits = append(v.Precommits, VoteSummary{Validator: x.Validator, BlockHash: x.BlockHash})
	}
	e.view.Store(v)
}
