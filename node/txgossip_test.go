package node

import (
	"bytes"
	"errors"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/p2p"
)

// The batcher hands out what was queued in batches of at most txBatchMax
// transactions, in order.
func TestTxBatcherSplitsInOrder(t *testing.T) {
	b := newTxBatcher()
	for i := range txBatchMax + 3 {
		b.add([]byte{byte(i >> 8), byte(i)})
	}
	first, more := b.take()
	if len(first) != txBatchMax || !more {
		t.Fatalf("first batch %d, more %v", len(first), more)
	}
	second, more := b.take()
	if len(second) != 3 || more || !bytes.Equal(second[0], []byte{txBatchMax >> 8, txBatchMax & 0xff}) {
		t.Fatalf("second batch %x, more %v", second, more)
	}
	if len(b.kick) != 1 {
		t.Fatal("a full batch did not kick the gossip loop")
	}
}

// A batch of good transactions passes the tx topic's validator and every
// one reaches the mempool, in order; one forged transaction makes the
// whole batch a rejection (an honest node batches only what it checked).
func TestGossipedBatch(t *testing.T) {
	r := newRig(t, 0)
	to := DevAccounts()[9].Address
	var raws [][]byte
	for i := range 5 {
		raws = append(raws, sendTx(t, DevKey(1), testChainID, uint64(i), to, 1).Encode())
	}
	batch := chain.EncodeTxBatch(raws)
	checked, err := r.n.validateGossipTx(batch)
	if err != nil {
		t.Fatalf("a batch of good transactions: %v", err)
	}
	r.n.onGossipTx("", batch, checked)
	if r.n.pool.Size() != 5 {
		t.Fatalf("the pool took %d of the batch's 5", r.n.pool.Size())
	}
	forged := sendTx(t, DevKey(2), testChainID, 0, to, 1)
	forged.Signature[4] ^= 1
	bad := chain.EncodeTxBatch(append(raws[:2:2], forged.Encode()))
	if _, err := r.n.validateGossipTx(bad); err == nil || errors.Is(err, p2p.ErrIgnore) {
		t.Fatalf("a batch with a forged transaction: %v, want a rejection", err)
	}
	if _, err := r.n.validateGossipTx(raws[0]); err != nil {
		t.Fatalf("a single transaction is still taken: %v", err)
	}
}
