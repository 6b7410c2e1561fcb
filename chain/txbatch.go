package chain

import "fmt"

// Transactions travel by gossip in batches: one gossip message carries
// many transactions, so that a busy node sends a few messages a second
// instead of thousands, and no peer's send queue overflows.
//
// A batch is the canonical CBOR array of the transactions' exact
// canonical encodings, as byte strings, in the order the sender admitted
// them. A single transaction (a CBOR map) is also accepted on the tx
// topic; the first byte tells them apart: 0x80-0x9f starts an array,
// 0xa0-0xbf a map.

// Limits of one transaction batch.
const (
	// MaxTxBatch bounds the transactions of one batch.
	MaxTxBatch = 1000
	// MaxTxBatchSize bounds the encoding of one batch, well inside a
	// gossip message.
	MaxTxBatchSize = 1 << 20
)

// IsTxBatch reports whether gossip bytes hold a batch rather than a
// single transaction.
func IsTxBatch(data []byte) bool { return len(data) > 0 && data[0]>>5 == 4 }

// EncodeTxBatch returns the batch of the given encoded transactions.
func EncodeTxBatch(txs [][]byte) []byte { return MustEncode(txs) }

// DecodeTxBatch parses a batch. It fails with ErrDecode for bytes that
// are not a canonical array of byte strings, for an empty batch, and for
// one over MaxTxBatch or MaxTxBatchSize; the transactions themselves are
// not parsed (DecodeTx each).
func DecodeTxBatch(data []byte) ([][]byte, error) {
	if len(data) > MaxTxBatchSize {
		return nil, fmt.Errorf("%w: tx batch of %d bytes, limit %d", ErrDecode, len(data), MaxTxBatchSize)
	}
	if !IsTxBatch(data) {
		return nil, fmt.Errorf("%w: a tx batch is a CBOR array", ErrDecode)
	}
	var txs [][]byte
	if err := Decode(data, &txs); err != nil {
		return nil, fmt.Errorf("decode tx batch: %w", err)
	}
	if len(txs) == 0 || len(txs) > MaxTxBatch {
		return nil, fmt.Errorf("%w: tx batch of %d transactions, want 1 to %d", ErrDecode, len(txs), MaxTxBatch)
	}
	return txs, nil
}
