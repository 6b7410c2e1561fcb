package chain

// Receipt status words, as the API shows them.
const (
	StatusOK     = "ok"
	StatusFailed = "failed"
)

// Attr is one key/value attribute of an event.
type Attr struct {
	Key   string `cbor:"key" json:"key"`
	Value string `cbor:"value" json:"value"`
}

// Event is something an app reports about a transaction, such as a
// transfer. Attributes keep the order the app gave them.
type Event struct {
	App   string `cbor:"app" json:"app"`
	Type  string `cbor:"type" json:"type"`
	Attrs []Attr `cbor:"attrs" json:"attrs"`
}

// Receipt records the outcome of one transaction in a block. A failed
// transaction is still in the block and still used its nonce; its writes
// were reverted and Error says why.
type Receipt struct {
	TxHash Hash    `cbor:"tx_hash" json:"tx_hash"`
	Height uint64  `cbor:"height" json:"height"`
	Index  uint32  `cbor:"index" json:"index"`
	Status string  `cbor:"status" json:"status"`
	Error  string  `cbor:"error" json:"error"`
	Events []Event `cbor:"events" json:"events"`
}

// ComputeReceiptsRoot returns the Merkle root over the receipts' encodings.
func ComputeReceiptsRoot(rs []Receipt) Hash {
	leaves := make([][]byte, len(rs))
	for i := range rs {
		leaves[i] = MustEncode(&rs[i])
	}
	return MerkleRoot(leaves)
}
