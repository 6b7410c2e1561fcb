package node

import (
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// Benchmarks of the node's hot paths: admission of transactions (one by
// one and in batches), the check of a proposed block (verify and
// execute), and the encoding of a proposal for gossip. `make bench` runs
// them; docs/benchmarks.md keeps the figures.

// benchTransfers signs count transfers from eight funded development
// accounts, with consecutive nonces per sender, so each is admitted.
func benchTransfers(b *testing.B, chainID string, count int) []*chain.Tx {
	b.Helper()
	keys := []*crypto.PrivateKey{DevKey(0), DevKey(1), DevKey(2), DevKey(3), DevKey(4), DevKey(5), DevKey(6), DevKey(7)}
	txs := make([]*chain.Tx, count)
	to := DevAccounts()[9].Address
	for i := range txs {
		k := keys[i%len(keys)]
		txs[i] = sendTxB(b, k, chainID, uint64(i/len(keys)), to, 1)
	}
	return txs
}

func sendTxB(b *testing.B, key *crypto.PrivateKey, chainID string, nonce uint64, to chain.Address, amount uint64) *chain.Tx {
	b.Helper()
	return sendTx(b, key, chainID, nonce, to, amount)
}

// benchRig is a rig for benchmarks, with a pool big enough.
func benchRig(b *testing.B) *rig {
	r := newRig(b, 0)
	r.n.pool = NewMempool(1_000_000, 1<<30)
	return r
}

func BenchmarkAdmitOneByOne(b *testing.B) {
	r := benchRig(b)
	txs := benchTransfers(b, testChainID, b.N)
	b.ResetTimer()
	for _, tx := range txs {
		if _, err := r.n.Submit(tx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAdmitBatch500(b *testing.B) {
	r := benchRig(b)
	txs := benchTransfers(b, testChainID, b.N)
	b.ResetTimer()
	for i := 0; i < len(txs); i += 500 {
		for _, err := range r.n.SubmitBatch(txs[i:min(i+500, len(txs))], nil) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchProposal1000 pools 1,000 transfers on a rig at height 1 and
// returns it with the round's proposer and that proposer's block of them.
func benchProposal1000(b *testing.B) (*rig, int, *chain.Block) {
	r := benchRig(b)
	r.e.startHeight(r.ctx, 1)
	for _, tx := range benchTransfers(b, testChainID, 1000) {
		if _, err := r.n.Submit(tx); err != nil {
			b.Fatal(err)
		}
	}
	p := r.proposerOf(1, 0)
	block := r.blockOf(r.addr(p), 1000)
	if len(block.Txs) != 1000 {
		b.Fatalf("block of %d txs", len(block.Txs))
	}
	return r, p, block
}

// BenchmarkCheckProposal1000 is what every validator does with a
// proposal of 1,000 transfers it has not seen: verify every signature
// (on every core) and execute the block. Reported per block.
func BenchmarkCheckProposal1000(b *testing.B) {
	r, p, block := benchProposal1000(b)
	sp := r.proposal(r.addr(p), 1, 0, block)
	r.n.pool = NewMempool(10, 1<<20) // a validator that never saw them
	b.ResetTimer()
	for range b.N {
		r.n.sigs.drop(block.TxHashes())
		cb, err := checkSigned(testChainID, r.e.vals, sp)
		if err != nil {
			b.Fatal(err)
		}
		blk, err := cb.Rebuild(block.Txs) // as if every transaction were fetched
		if err != nil {
			b.Fatal(err)
		}
		if pb := r.e.checkBlockOf(blk); pb.err != nil {
			b.Fatal(pb.err)
		}
	}
}

// BenchmarkCheckKnownProposal1000 is the check of a proposal of 1,000
// transfers whose signatures this node verified when they were gossiped
// to it, the usual case: the check executes the block and verifies
// nothing again. Reported per block.
func BenchmarkCheckKnownProposal1000(b *testing.B) {
	r, _, block := benchProposal1000(b)
	b.ResetTimer()
	for range b.N {
		if pb := r.e.checkBlockOf(block); pb.err != nil {
			b.Fatal(pb.err)
		}
	}
}

// BenchmarkEncodeProposal1000 encodes a proposal of 1,000 transfers for
// gossip.
func BenchmarkEncodeProposal1000(b *testing.B) {
	r := benchRig(b)
	for _, tx := range benchTransfers(b, testChainID, 1000) {
		if _, err := r.n.Submit(tx); err != nil {
			b.Fatal(err)
		}
	}
	block := r.blockOf(r.addr(0), 1000)
	sp := r.proposal(r.addr(0), 1, 0, block)
	b.ResetTimer()
	for range b.N {
		_ = chain.MustEncode(&chain.ConsensusMessage{Proposal: sp})
	}
}
