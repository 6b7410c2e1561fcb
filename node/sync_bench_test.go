package node

import (
	"syscall"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/store"
)

// makeTransferChain stores blocks blocks of perBlock transfers each, from
// eight dev accounts, on a 4-validator chain, each with a quorum's
// commit, and returns its genesis and the blocks as a peer serves them.
func makeTransferChain(tb testing.TB, blocks, perBlock int) (*chain.Genesis, [][2][]byte) {
	tb.Helper()
	keys := []*crypto.PrivateKey{DevValidatorKey(0), DevValidatorKey(1), DevValidatorKey(2), DevValidatorKey(3)}
	g := DevGenesis("sync-bench", keys, time.Now().Add(-time.Hour))
	st, err := store.Open(store.Config{Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	n := &Node{cfg: DefaultConfig("maker", 0), log: discardLogger(), clock: time.Now, bus: NewBus(),
		waiters: newWaiters(), quit: make(chan struct{}), network: true}
	if n, err = assemble(n, g, keys[0], st, newMemVault(), nil); err != nil {
		tb.Fatal(err)
	}
	defer n.Stop()
	n.pool = NewMempool(1_000_000, 1<<30)
	vals, err := g.ValidatorSet()
	if err != nil {
		tb.Fatal(err)
	}
	byAddr := map[chain.Address]*crypto.PrivateKey{}
	for _, k := range keys {
		byAddr[chain.AddressOf(k.PublicKey())] = k
	}
	to := DevAccounts()[9].Address
	nonces := make([]uint64, 8)
	for range blocks {
		for i := range perBlock {
			s := i % 8
			if _, err := n.Submit(sendTx(tb, DevKey(s), g.ChainID, nonces[s], to, 1)); err != nil {
				tb.Fatal(err)
			}
			nonces[s]++
		}
		parent := st.Latest()
		var last *chain.Commit
		if parent.Height > 0 {
			if last, err = st.Commit(parent.Height); err != nil {
				tb.Fatal(err)
			}
		}
		h := parent.Height + 1
		b, res, err := n.buildBlock(parent, last, consensus.Proposer(vals, h, 0), perBlock)
		if err != nil {
			tb.Fatal(err)
		}
		c := &chain.Commit{Height: h, BlockHash: b.Hash()}
		for _, v := range vals.Validators[:3] {
			pc := chain.Vote{ChainID: g.ChainID, Type: chain.Precommit, Height: h, BlockHash: b.Hash(), Validator: v.Address}
			pc.Sign(byAddr[v.Address])
			c.Signatures = append(c.Signatures, chain.CommitSig{Validator: v.Address, Signature: pc.Signature})
		}
		if err := n.commitBlock(b, c, res); err != nil {
			tb.Fatal(err)
		}
	}
	var out [][2][]byte
	for h := uint64(1); h <= st.Latest().Height; h++ {
		b, c, err := blockSource{n}.BlockAndCommit(h)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, [2][]byte{b, c})
	}
	return g, out
}

// processCPU returns the CPU time this process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSyncCatchUp is a new node catching up from one peer in this
// process: fetch, verify ahead on every core, execute and store on disk.
// "transfers" is 20 blocks of 500 transfers, reported as transactions
// per second; "empty" is 200 empty blocks, reported as blocks per second.
// Both report the cores the process kept busy meanwhile.
func BenchmarkSyncCatchUp(b *testing.B) {
	b.Run("transfers", func(b *testing.B) { benchCatchUp(b, 20, 500) })
	b.Run("empty", func(b *testing.B) { benchCatchUp(b, 200, 0) })
}

func benchCatchUp(b *testing.B, blocks, perBlock int) {
	g, served := makeTransferChain(b, blocks, perBlock)
	var took, cpu time.Duration
	for range b.N {
		f := newFakePeers()
		f.add("A", served)
		j := newJoiner(b, g, f)
		start, cpu0 := time.Now(), processCPU(b)
		j.startEngine()
		j.startSync()
		j.waitHeight(uint64(len(served)), 5*time.Minute)
		took += time.Since(start)
		cpu += processCPU(b) - cpu0
		j.stop()
	}
	b.ReportMetric(cpu.Seconds()/took.Seconds(), "cores")
	if perBlock > 0 {
		b.ReportMetric(float64(blocks*perBlock*b.N)/took.Seconds(), "tx/s")
	} else {
		b.ReportMetric(float64(blocks*b.N)/took.Seconds(), "blocks/s")
	}
}
