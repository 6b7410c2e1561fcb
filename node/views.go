package node

import (
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/citychain/citychain/chain"
)

// The JSON shapes of the API. They are separate from the chain types so
// that the wire format of the API is written down in one place.

// BlockView is a block as GET /v1/blocks/{h} shows it.
type BlockView struct {
	Hash           chain.Hash    `json:"hash"`
	ChainID        string        `json:"chain_id"`
	Height         uint64        `json:"height"`
	Time           time.Time     `json:"time"`
	PrevHash       chain.Hash    `json:"prev_hash"`
	TxRoot         chain.Hash    `json:"tx_root"`
	StateRoot      chain.Hash    `json:"state_root"`
	ReceiptsRoot   chain.Hash    `json:"receipts_root"`
	Proposer       chain.Address `json:"proposer"`
	ValidatorsHash chain.Hash    `json:"validators_hash"`
	LastCommitHash chain.Hash    `json:"last_commit_hash"`
	Txs            []TxSummary   `json:"txs"`
	Commit         *CommitView   `json:"commit"`
	LastCommit     *CommitView   `json:"last_commit"`
}

// TxSummary is a transaction inside a block listing.
type TxSummary struct {
	Hash   chain.Hash    `json:"hash"`
	App    string        `json:"app"`
	Action string        `json:"action"`
	Sender chain.Address `json:"sender"`
	Nonce  uint64        `json:"nonce"`
}

// CommitView is a commit certificate.
type CommitView struct {
	Height     uint64       `json:"height"`
	Round      uint32       `json:"round"`
	BlockHash  chain.Hash   `json:"block_hash"`
	Signatures []CommitSigV `json:"signatures"`
}

// CommitSigV is one validator's signature in a commit.
type CommitSigV struct {
	Validator chain.Address `json:"validator"`
	Signature string        `json:"signature"`
	// SignBytes is the canonical encoding of the precommit the signature
	// is over (hex); the signature signs its SHA-256.
	SignBytes string `json:"sign_bytes"`
}

// TxView is GET /v1/txs/{hash}: the transaction and its receipt.
type TxView struct {
	Hash   chain.Hash      `json:"hash"`
	Status string          `json:"status"` // ok, failed, pending
	Error  string          `json:"error"`
	Height uint64          `json:"height"`
	Index  uint32          `json:"index"`
	Events []chain.Event   `json:"events"`
	Sender chain.Address   `json:"sender"`
	Tx     json.RawMessage `json:"tx,omitempty"`
	// Raw is the transaction's canonical encoding (hex), whose SHA-256 is
	// its hash; SignBytes is the part its signature covers (hex).
	Raw       string `json:"raw,omitempty"`
	SignBytes string `json:"sign_bytes,omitempty"`
}

func commitView(chainID string, c *chain.Commit) *CommitView {
	if c == nil {
		return nil
	}
	v := &CommitView{Height: c.Height, Round: c.Round, BlockHash: c.BlockHash, Signatures: []CommitSigV{}}
	for _, s := range c.Signatures {
		vote := chain.Vote{ChainID: chainID, Type: chain.Precommit, Height: c.Height, Round: c.Round, BlockHash: c.BlockHash, Validator: s.Validator}
		v.Signatures = append(v.Signatures, CommitSigV{Validator: s.Validator, Signature: hex.EncodeToString(s.Signature),
			SignBytes: hex.EncodeToString(vote.SignBytes())})
	}
	return v
}

func blockView(b *chain.Block, c *chain.Commit) BlockView {
	h := b.Header
	v := BlockView{Hash: b.Hash(), ChainID: h.ChainID, Height: h.Height, Time: h.BlockTime(),
		PrevHash: h.PrevHash, TxRoot: h.TxRoot, StateRoot: h.StateRoot, ReceiptsRoot: h.ReceiptsRoot,
		Proposer: h.Proposer, ValidatorsHash: h.ValidatorsHash, LastCommitHash: h.LastCommitHash,
		Txs: []TxSummary{}, Commit: commitView(h.ChainID, c), LastCommit: commitView(h.ChainID, b.LastCommit)}
	for _, raw := range b.Txs {
		s := TxSummary{Hash: chain.Sum(raw)}
		if tx, err := chain.DecodeTx(raw); err == nil {
			s.App, s.Action, s.Sender, s.Nonce = tx.App, tx.Action, tx.Sender(), tx.Nonce
		}
		v.Txs = append(v.Txs, s)
	}
	return v
}

func blockSummary(b *chain.Block) map[string]any {
	return map[string]any{"height": b.Header.Height, "hash": b.Hash(), "time": b.Header.BlockTime(),
		"txs": len(b.Txs), "proposer": b.Header.Proposer, "state_root": b.Header.StateRoot}
}

func txView(raw []byte, r *chain.Receipt) TxView {
	v := TxView{Hash: r.TxHash, Status: r.Status, Error: r.Error, Height: r.Height, Index: r.Index, Events: r.Events}
	if v.Events == nil {
		v.Events = []chain.Event{}
	}
	if tx, err := chain.DecodeTx(raw); err == nil {
		v.Sender = tx.Sender()
		if j, err := json.Marshal(tx); err == nil {
			v.Tx = j
		}
		v.Raw, v.SignBytes = hex.EncodeToString(raw), hex.EncodeToString(tx.SignBytes())
	}
	return v
}
