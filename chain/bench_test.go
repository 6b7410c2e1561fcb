package chain_test

import (
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// BenchmarkDecodeVerifyTx measures what a node does with a transaction
// from the network: decode the canonical bytes (with the canonical
// re-encoding check), run the stateless checks and verify the signature.
func BenchmarkDecodeVerifyTx(b *testing.B) {
	raw := benchTransfer(b, 7)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		got, err := chain.DecodeTx(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := got.ValidateBasic("citychain-bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTxBatchGossip measures the gossip framing of transactions: a
// batch of 500 signed transfers (what the node sends per tx-topic message
// at most) encoded, then decoded again as a receiving node does before
// it checks each transaction.
func BenchmarkTxBatchGossip(b *testing.B) {
	txs := make([][]byte, 500)
	for i := range txs {
		txs[i] = benchTransfer(b, uint64(i))
	}
	var size int64
	for _, raw := range txs {
		size += int64(len(raw))
	}
	b.SetBytes(size)
	for b.Loop() {
		batch := chain.EncodeTxBatch(txs)
		back, err := chain.DecodeTxBatch(batch)
		if err != nil || len(back) != len(txs) {
			b.Fatalf("decode: %v, %d txs", err, len(back))
		}
	}
}

// benchTransfer returns a signed bank transfer with the given nonce, in
// its canonical encoding.
func benchTransfer(b *testing.B, nonce uint64) []byte {
	b.Helper()
	key, err := crypto.PrivateKeyFromHex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
	if err != nil {
		b.Fatal(err)
	}
	to := chain.AddressOf(key.PublicKey())
	p, err := chain.PayloadFromJSON([]byte(`{"to":"` + to.String() + `","amount":10}`))
	if err != nil {
		b.Fatal(err)
	}
	tx := &chain.Tx{ChainID: "citychain-bench", App: "bank", Action: "send", Payload: p, Nonce: nonce}
	tx.Sign(key)
	return tx.Encode()
}
