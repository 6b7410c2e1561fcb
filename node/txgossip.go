package node

import (
	"context"
	"sync"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Transaction gossip in batches. A node gossips the transactions its
// clients submit not one message each but gathered into batches
// (chain.EncodeTxBatch): a batch goes out when it is full or a few
// milliseconds after its first transaction, whichever comes first. At a
// thousand transactions a second that is a couple of hundred messages a
// second instead of a thousand, and gossip's per-peer send queues no
// longer overflow and drop them.

// Batching limits.
const (
	// txBatchWait is how long a batch waits for more transactions after
	// its first.
	txBatchWait = 5 * time.Millisecond
	// txBatchMax and txBatchBytes flush a batch early.
	txBatchMax   = 500
	txBatchBytes = 512 << 10
)

// Gossip again what lingers. Gossip sends a message to the peers
// connected when it is published, once. A transaction a node accepted
// while it was cut off from the others (a laptop off the Wi-Fi, a
// partition longer than the transports' idle timeouts) therefore never
// reached a proposer, and waited in that node's pool for good: in the
// namespace lab, three transfers acknowledged by a full node during a
// 45 s partition were still not committed 40 s after the heal. So every
// regossipEvery the node gossips again, in one batch of at most
// txBatchMax, the pooled transactions that have waited through
// regossipAge committed blocks or regossipTicks of those periods
// (whichever comes first: a dev chain makes a block only every few
// seconds when idle). Peers that have them already drop them as
// duplicates.
const (
	regossipEvery = 5 * time.Second
	regossipAge   = 5
	regossipTicks = 2
)

// txBatcher gathers encoded transactions for the next batch. It is safe
// for concurrent use.
type txBatcher struct {
	mu      sync.Mutex
	pending [][]byte
	size    int
	kick    chan struct{} // a batch has begun, or is full
}

func newTxBatcher() *txBatcher { return &txBatcher{kick: make(chan struct{}, 1)} }

// add queues raw for the next batch.
func (b *txBatcher) add(raw []byte) {
	b.mu.Lock()
	b.pending = append(b.pending, raw)
	b.size += len(raw)
	first, full := len(b.pending) == 1, len(b.pending) >= txBatchMax || b.size >= txBatchBytes
	b.mu.Unlock()
	if first || full {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

// take returns what is queued, at most one batch's worth, and whether
// more is left.
func (b *txBatcher) take() ([][]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, size := 0, 0
	for n < len(b.pending) && n < txBatchMax && (n == 0 || size+len(b.pending[n]) <= txBatchBytes) {
		size += len(b.pending[n])
		n++
	}
	out := b.pending[:n:n]
	b.pending = b.pending[n:]
	b.size -= size
	return out, len(b.pending) > 0
}

// gossipTxs is the goroutine that publishes batches. It returns when ctx
// ends, after sending what is queued.
func (n *Node) gossipTxs(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	again := time.NewTicker(regossipEvery)
	defer again.Stop()
	for {
		select {
		case <-ctx.Done():
			n.flushTxs(context.Background())
			return
		case <-again.C:
			for _, raw := range n.pool.Lingering(regossipAge, regossipTicks, txBatchMax) {
				n.txs.add(raw) // kicks this loop
			}
			continue
		case <-n.txs.kick:
		}
		// Give the batch a moment to fill, unless it is full already.
		t.Reset(txBatchWait)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-n.txs.kick:
			if !t.Stop() {
				<-t.C
			}
		}
		n.flushTxs(ctx)
	}
}

// flushTxs publishes everything queued, one batch at a time. A batch that
// p2p does not send because no peer follows the topic yet (ErrNoPeers)
// is dropped from the queue only: its transactions stay pooled, and the
// regossip pass sends them once they have lingered.
func (n *Node) flushTxs(ctx context.Context) {
	for {
		batch, more := n.txs.take()
		if len(batch) > 0 {
			if err := n.p2p.PublishTx(ctx, chain.EncodeTxBatch(batch)); err != nil && ctx.Err() == nil {
				n.log.Debug("gossip tx batch", "txs", len(batch), "err", err)
			}
		}
		if !more {
			return
		}
	}
}

// validateGossipTx is the tx topic's validator, for a single transaction
// or a batch. It verifies each signature, and remembers that it did, so
// that neither the mempool nor the check of a proposal that includes the
// transaction verifies it again. A batch with one malformed or forged
// transaction is rejected whole: an honest node batches only what it
// checked itself. What it checked, decoded ([]gossipTx), goes with the
// message to onGossipTx.
func (n *Node) validateGossipTx(data []byte) (any, error) {
	if !chain.IsTxBatch(data) {
		t, err := n.validateTx(data)
		if err != nil {
			return nil, err
		}
		return []gossipTx{t}, nil
	}
	raws, err := chain.DecodeTxBatch(data)
	if err != nil {
		return nil, err
	}
	txs := make([]gossipTx, 0, len(raws))
	for _, raw := range raws {
		t, err := n.validateTx(raw)
		if err != nil {
			return nil, err
		}
		txs = append(txs, t)
	}
	return txs, nil
}

// gossipTx is one transaction of a gossip message as validateTx checked
// it: its bytes, its hash and the transaction they decode to.
type gossipTx struct {
	raw []byte
	h   chain.Hash
	tx  *chain.Tx
}

// validateTx checks one gossiped transaction without state.
func (n *Node) validateTx(raw []byte) (gossipTx, error) {
	t := gossipTx{raw: raw, h: chain.Sum(raw)}
	var err error
	if t.tx, err = chain.DecodeTx(raw); err != nil {
		return t, err
	}
	if n.verified(t.h) {
		return t, nil
	}
	// One slot per core, shared with submissions: however many batches
	// arrive at once, only that many checks are runnable, so the
	// consensus topic's validator and the engine are not queued behind
	// hundreds of signature checks for the CPU.
	n.slots <- struct{}{}
	err = t.tx.ValidateBasicWith(n.chainID, n.keys)
	<-n.slots
	n.metrics.sigsGossip.Inc()
	if err != nil {
		return t, err
	}
	n.sigs.add(t.h)
	return t, nil
}

// onGossipTx adds the transactions of a gossip message from a peer to the
// mempool, in order, as validateGossipTx checked and decoded them
// (checked). One the pool refuses (it is full, say) is still remembered:
// a proposal may include it, and then this node need not fetch it.
func (n *Node) onGossipTx(_ peer.ID, _ []byte, checked any) {
	txs, _ := checked.([]gossipTx)
	for _, t := range txs {
		if _, err := n.admit(t.tx, t.raw, t.h, true); err != nil {
			n.pool.Remember(t.raw)
			n.log.Debug("gossiped tx not admitted", "err", err)
		}
	}
}
