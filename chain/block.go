package chain

import (
	"fmt"
	"time"
)

// Limits on a block, checked by ValidateBasic.
const (
	// MaxBlockTxs bounds the transactions in one block. It also keeps the
	// block's single storage batch well inside Badger's transaction limit.
	MaxBlockTxs = 4000
	// MaxBlockSize bounds the canonical encoding of a block.
	MaxBlockSize = 16 << 20
)

// Header is what a block commits to. Its hash is the block hash.
//
// StateRoot and ReceiptsRoot are the results of applying this block's
// transactions on top of the parent's state: a proposer executes the
// block before proposing it and every validator re-executes it before
// voting, so a commit certificate for the block also certifies the state
// after it.
type Header struct {
	ChainID        string  `cbor:"chain_id" json:"chain_id"`
	Height         uint64  `cbor:"height" json:"height"`
	Time           int64   `cbor:"time" json:"-"` // unix milliseconds
	PrevHash       Hash    `cbor:"prev_hash" json:"prev_hash"`
	TxRoot         Hash    `cbor:"tx_root" json:"tx_root"`
	StateRoot      Hash    `cbor:"state_root" json:"state_root"`
	ReceiptsRoot   Hash    `cbor:"receipts_root" json:"receipts_root"`
	Proposer       Address `cbor:"proposer" json:"proposer"`
	ValidatorsHash Hash    `cbor:"validators_hash" json:"validators_hash"`
	LastCommitHash Hash    `cbor:"last_commit_hash" json:"last_commit_hash"`
	// EvidenceHash is the Merkle root over the block's evidence
	// (ComputeEvidenceHash). It is left out of the encoding when zero,
	// that is when the block carries no evidence, so a block without
	// evidence has the bytes and hash it had before evidence existed.
	EvidenceHash Hash `cbor:"evidence_hash,omitzero" json:"evidence_hash,omitzero"`
}

// Hash returns the block hash: SHA-256 over the canonical header.
func (h *Header) Hash() Hash { return Sum(MustEncode(h)) }

// BlockTime returns Time as a time.Time in UTC.
func (h *Header) BlockTime() time.Time { return time.UnixMilli(h.Time).UTC() }

// Block is a header, the transactions it orders, the commit certificate
// of the previous block and the evidence of misbehaviour it reports. Txs
// holds each transaction's exact canonical bytes, so a transaction hash
// is always over the bytes that were signed and gossiped, never over a
// re-encoding. Evidence is left out of the encoding when empty, like the
// header's EvidenceHash.
type Block struct {
	Header     Header     `cbor:"header"`
	Txs        [][]byte   `cbor:"txs"`
	LastCommit *Commit    `cbor:"last_commit"`
	Evidence   []Evidence `cbor:"evidence,omitempty"`
}

// Hash returns the block hash.
func (b *Block) Hash() Hash { return b.Header.Hash() }

// Encode returns the canonical encoding of the block.
func (b *Block) Encode() []byte { return MustEncode(b) }

// DecodeBlock parses the canonical encoding of a block.
func DecodeBlock(data []byte) (*Block, error) {
	if len(data) > MaxBlockSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidBlock, len(data), MaxBlockSize)
	}
	var b Block
	if err := Decode(data, &b); err != nil {
		return nil, fmt.Errorf("decode block: %w", err)
	}
	return &b, nil
}

// TxHashes returns the hash of each transaction in order.
func (b *Block) TxHashes() []Hash {
	out := make([]Hash, len(b.Txs))
	for i, t := range b.Txs {
		out[i] = Sum(t)
	}
	return out
}

// ComputeTxRoot returns the Merkle root over the transaction hashes.
func ComputeTxRoot(txs [][]byte) Hash {
	leaves := make([][]byte, len(txs))
	for i, t := range txs {
		h := Sum(t)
		leaves[i] = h[:]
	}
	return MerkleRoot(leaves)
}

// ValidateBasic runs the checks that need nothing but the block itself:
// sizes, the chain id, the transaction root, the last-commit hash, the
// evidence hash and the shape of the evidence (ValidateEvidenceList; the
// evidence's signatures need the validator set of each offence's height
// and are checked by the node, see Evidence.Verify).
func (b *Block) ValidateBasic(chainID string) error {
	h := &b.Header
	if h.ChainID != chainID {
		return fmt.Errorf("%w: block is for %q, this chain is %q", ErrInvalidBlock, h.ChainID, chainID)
	}
	if h.Height == 0 {
		return fmt.Errorf("%w: height 0", ErrInvalidBlock)
	}
	if len(b.Txs) > MaxBlockTxs {
		return fmt.Errorf("%w: %d txs, limit %d", ErrInvalidBlock, len(b.Txs), MaxBlockTxs)
	}
	for i, t := range b.Txs {
		if len(t) == 0 || len(t) > MaxTxSize {
			return fmt.Errorf("%w: tx %d has size %d", ErrInvalidBlock, i, len(t))
		}
	}
	if got := ComputeTxRoot(b.Txs); got != h.TxRoot {
		return fmt.Errorf("%w: tx root %s, header says %s", ErrInvalidBlock, got, h.TxRoot)
	}
	if got := b.LastCommit.Hash(); got != h.LastCommitHash {
		return fmt.Errorf("%w: last commit hash %s, header says %s", ErrInvalidBlock, got, h.LastCommitHash)
	}
	if got := ComputeEvidenceHash(b.Evidence); got != h.EvidenceHash {
		return fmt.Errorf("%w: evidence hash %s, header says %s", ErrInvalidBlock, got, h.EvidenceHash)
	}
	if err := ValidateEvidenceList(chainID, h.Height, b.Evidence); err != nil {
		return err
	}
	if h.Height == 1 && b.LastCommit != nil {
		return fmt.Errorf("%w: first block carries a last commit", ErrInvalidBlock)
	}
	if h.Height > 1 {
		if b.LastCommit == nil {
			return fmt.Errorf("%w: missing last commit", ErrInvalidBlock)
		}
		if b.LastCommit.Height != h.Height-1 || b.LastCommit.BlockHash != h.PrevHash {
			return fmt.Errorf("%w: last commit is for height %d block %s, want %d block %s",
				ErrInvalidBlock, b.LastCommit.Height, b.LastCommit.BlockHash, h.Height-1, h.PrevHash)
		}
	}
	return nil
}

// ValidateAgainstParent checks the links to the parent header: height,
// previous hash and strictly increasing time.
func (h *Header) ValidateAgainstParent(parent *Header) error {
	if h.Height != parent.Height+1 {
		return fmt.Errorf("%w: height %d after parent %d", ErrInvalidBlock, h.Height, parent.Height)
	}
	if h.PrevHash != parent.Hash() {
		return fmt.Errorf("%w: prev hash %s, parent is %s", ErrInvalidBlock, h.PrevHash, parent.Hash())
	}
	if h.Time <= parent.Time {
		return fmt.Errorf("%w: time %d not after parent time %d", ErrInvalidBlock, h.Time, parent.Time)
	}
	return nil
}
