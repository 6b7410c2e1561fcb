package chain

import (
	"fmt"
	"time"
)

// HeaderJSON is a block header in the one JSON shape that the API, the
// client, copyright certificates and the explorer share: every field of
// Header, the time both as the hashed unix milliseconds and as readable
// UTC, and the block hash. A new header field is added here and in
// Header, and nowhere else.
type HeaderJSON struct {
	Hash           Hash      `json:"hash"`
	ChainID        string    `json:"chain_id"`
	Height         uint64    `json:"height"`
	TimeMillis     int64     `json:"time_ms"`
	Time           time.Time `json:"time"`
	PrevHash       Hash      `json:"prev_hash"`
	TxRoot         Hash      `json:"tx_root"`
	StateRoot      Hash      `json:"state_root"`
	ReceiptsRoot   Hash      `json:"receipts_root"`
	Proposer       Address   `json:"proposer"`
	ValidatorsHash Hash      `json:"validators_hash"`
	LastCommitHash Hash      `json:"last_commit_hash"`
	// EvidenceHash is all zeros for a block without evidence, which the
	// header's encoding leaves out.
	EvidenceHash Hash `json:"evidence_hash"`
}

// NewHeaderJSON returns h in its JSON shape, with its hash.
func NewHeaderJSON(h *Header) HeaderJSON {
	return HeaderJSON{Hash: h.Hash(), ChainID: h.ChainID, Height: h.Height, TimeMillis: h.Time,
		Time: h.BlockTime(), PrevHash: h.PrevHash, TxRoot: h.TxRoot, StateRoot: h.StateRoot,
		ReceiptsRoot: h.ReceiptsRoot, Proposer: h.Proposer, ValidatorsHash: h.ValidatorsHash,
		LastCommitHash: h.LastCommitHash, EvidenceHash: h.EvidenceHash}
}

// Header returns the header the fields describe. It checks what can be
// checked without trusting the sender: that the readable time is the
// hashed one, and that the hash, when given, is the header's.
func (j *HeaderJSON) Header() (*Header, error) {
	h := &Header{ChainID: j.ChainID, Height: j.Height, Time: j.TimeMillis, PrevHash: j.PrevHash,
		TxRoot: j.TxRoot, StateRoot: j.StateRoot, ReceiptsRoot: j.ReceiptsRoot, Proposer: j.Proposer,
		ValidatorsHash: j.ValidatorsHash, LastCommitHash: j.LastCommitHash, EvidenceHash: j.EvidenceHash}
	if !j.Time.IsZero() && j.Time.UnixMilli() != j.TimeMillis {
		return nil, fmt.Errorf("header %d: time %s is not time_ms %d", j.Height, j.Time.Format(time.RFC3339Nano), j.TimeMillis)
	}
	if !j.Hash.IsZero() && h.Hash() != j.Hash {
		return nil, fmt.Errorf("header %d: hash %s does not match its fields (%s)", j.Height, j.Hash, h.Hash())
	}
	return h, nil
}
