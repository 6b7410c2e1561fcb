package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
)

// The invariants the fault matrix checks after each fault, and the
// stream of transfers it checks them over.

// The invariants, as the table names the one that failed.
const (
	invCommitted = "acknowledged txs committed"
	invSameChain = "same hash and state root"
	invCommits   = "commits > 2/3 valid"
	invTimes     = "block times"
	invOnce      = "txs once"
	invSupply    = "supply"
)

// timeSlack is what the future bound on block times allows beyond
// node.MaxClockDrift: the milliseconds between a block's proposal and the
// votes on it, and between the test's clock and the nodes' (one machine).
const timeSlack = 2 * time.Second

// check verifies the invariants on every node:
//   - every node has the same block hash and state root at every height;
//   - every block's commit holds valid precommits of more than 2/3 of
//     the power of the validator set that signs its height;
//   - block times increase, and none is later than the wall clock at
//     the check plus node.MaxClockDrift (and timeSlack): no quorum of
//     honest clocks accepts a block from further in the future;
//   - every transaction with a receipt, or accepted by a node that did
//     not crash, is in the chain exactly once on every node, and no
//     transaction is in it twice;
//   - the balances of every account add up to the supply of genesis.
//
// Each check names itself in the row before it can fail.
func (f *faultRun) check(t *testing.T, acks []ack) (found int, heights uint64) {
	t.Helper()
	all := []int{0, 1, 2, 3}
	ctx := context.Background()
	sets := f.knownSets(t)
	// Wait for the accepted transactions to be committed (bounded).
	f.at(invCommitted)
	must := map[chain.Hash]bool{}
	for _, a := range acks {
		if a.receipt || !f.crashed[a.node] {
			must[a.hash] = true
		}
	}
	// The wait goes on, for up to 20 s, until every mempool is empty, so
	// that "found" counts the excused transactions that still made it
	// into the chain too.
	deadline, quietBy := time.Now().Add(60*time.Second), time.Now().Add(20*time.Second)
	var seen map[chain.Hash]int
	for {
		pooled := f.pooled(all)
		top := f.d.height(0)
		f.at(invCommitted)
		f.d.waitHeight(t, top, recoverWithin, all...)
		seen = f.scan(t, 0, top, sets)
		var missing []chain.Hash
		for h := range must {
			if seen[h] == 0 {
				missing = append(missing, h)
			}
		}
		if len(missing) == 0 && (pooled == 0 || time.Now().After(quietBy)) {
			if pooled != 0 {
				t.Logf("the mempools were not seen empty within 20 s of the load's end (%d pooled; -1: a node did not answer)", pooled)
			}
			heights = top
			break
		}
		if time.Now().After(deadline) {
			f.fail(t, invCommitted, "%d of %d acknowledged transactions are not in the chain after 60 s, e.g. %s", len(missing), len(must), missing[0])
		}
		time.Sleep(time.Second)
	}
	// Every node the same, block by block.
	f.at(invSameChain)
	f.d.checkSameChain(t, all...)
	for _, i := range all[1:] {
		other := f.scan(t, i, heights, sets)
		for h, n := range seen {
			if other[h] != n {
				f.fail(t, invOnce, "tx %s is %d times in node0's chain and %d times in node%d's", h, n, other[h], i)
			}
		}
	}
	for h, n := range seen {
		if n > 1 {
			f.fail(t, invOnce, "tx %s is %d times in the chain", h, n)
		}
	}
	for _, a := range acks {
		if seen[a.hash] == 1 {
			found++
		}
	}
	// Supply: the accounts of genesis hold it all, no more, no less.
	f.at(invSupply)
	var sup bank.SupplyAnswer
	if err := f.d.nodes[0].Get(ctx, "/v1/apps/bank/supply", &sup); err != nil {
		t.Fatal(err)
	}
	sum, at := f.balances(t)
	if sup.Supply != f.supply || sum != f.supply {
		f.fail(t, invSupply, "supply: genesis %d, the bank says %d, the balances at height %d add up to %d", f.supply, sup.Supply, at, sum)
	}
	return found, heights
}

// balances adds up node0's balances of the genesis accounts, all read at
// one height. Transactions the nodes accepted may still be committing
// after the load stops (the check waits only for those it must find), and
// a transfer committed between two reads would count its amount twice or
// not at all; so the accounts are read again until one pass sees a
// single height (each answer names the height it was read at).
func (f *faultRun) balances(t *testing.T) (sum, height uint64) {
	t.Helper()
	ctx := context.Background()
	for try := 0; try < 50; try++ {
		sum, height = 0, 0
		same := true
		for a := range f.genesis {
			acct, err := f.d.nodes[0].Account(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			if height == 0 {
				height = acct.Height
			}
			same = same && acct.Height == height
			sum += acct.Balance
		}
		if same {
			return sum, height
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.fail(t, invSupply, "node0's chain moved during each of 50 passes over the %d genesis accounts", len(f.genesis))
	return 0, 0
}

// pooled adds up the transactions waiting in the listed nodes' mempools.
func (f *faultRun) pooled(nodes []int) int {
	n := 0
	for _, i := range nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := f.d.nodes[i].Status(ctx)
		cancel()
		if err != nil {
			return -1 // not known: not quiet
		}
		n += st.MempoolTxs
	}
	return n
}

// knownSets returns the validator sets a block of the run may be signed
// by: genesis's and the one node0 has now (they differ once evidence has
// removed a validator).
func (f *faultRun) knownSets(t *testing.T) []*chain.ValidatorSet {
	t.Helper()
	var vv node.ValidatorsView
	if err := f.d.nodes[0].Get(context.Background(), "/v1/validators", &vv); err != nil {
		t.Fatal(err)
	}
	now, err := chain.NewValidatorSet(vv.Validators)
	if err != nil {
		t.Fatalf("node0's validator set: %v", err)
	}
	return []*chain.ValidatorSet{f.vals, now}
}

// scan reads node i's blocks 1..top: it checks each block's commit and
// time, and counts each transaction hash.
func (f *faultRun) scan(t *testing.T, i int, top uint64, sets []*chain.ValidatorSet) map[chain.Hash]int {
	t.Helper()
	ctx := context.Background()
	seen := map[chain.Hash]int{}
	evidence := 0
	var last time.Time
	now := time.Now()
	future := now.Add(node.MaxClockDrift + timeSlack)
	for h := uint64(1); h <= top; h++ {
		b, err := f.d.nodes[i].Block(ctx, fmt.Sprint(h))
		if err != nil {
			t.Fatalf("node%d block %d: %v", i, h, err)
		}
		if !b.Time.After(last) {
			f.fail(t, invTimes, "node%d block %d: time %s is not after the block before's %s", i, h, b.Time, last)
		}
		if b.Time.After(future) {
			f.fail(t, invTimes, "node%d block %d: time %s is %s ahead of the wall clock, more than %s", i, h,
				b.Time, b.Time.Sub(now).Round(time.Millisecond), node.MaxClockDrift+timeSlack)
		}
		last = b.Time
		if err := verifyCommitView(b, sets...); err != nil {
			f.fail(t, invCommits, "node%d: %v", i, err)
		}
		for _, tx := range b.Txs {
			seen[tx.Hash]++
		}
		evidence += len(b.Evidence)
	}
	if i == 0 {
		f.evidence = evidence
	}
	return seen
}

// ack is a transaction a node accepted: with a receipt when it waited
// for the commit.
type ack struct {
	hash    chain.Hash
	node    int
	receipt bool
}

// txStream sends transfers from dev accounts 0..n-1, each account always
// through the same node (account k through node k mod 4), so that no two
// nodes ever hold different transactions with one nonce. It is bounded:
// at most maxPerSender transactions per account.
type txStream struct {
	d     *devnetProc
	stopc chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
	mu    sync.Mutex
	acks  []ack
}

const maxPerSender = 3000

func startTxStream(d *devnetProc, senders int, every time.Duration) *txStream {
	s := &txStream{d: d, stopc: make(chan struct{})}
	to := node.DevAccounts()[9].Address.String()
	for k := 0; k < senders; k++ {
		s.wg.Add(1)
		go func() { // ends at stop or after maxPerSender transfers
			defer s.wg.Done()
			key := node.DevKey(k)
			from := chain.AddressOf(key.PublicKey())
			i := k % 4
			tick := time.NewTicker(every)
			defer tick.Stop()
			for n := 0; n < maxPerSender; n++ {
				select {
				case <-s.stopc:
					return
				case <-tick.C:
				}
				cl := s.d.nodes[i]
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				acct, err := cl.Account(ctx, from)
				cancel()
				if err != nil {
					continue // the node is down, paused or cut off: try later
				}
				p, _ := chain.EncodePayload(map[string]any{"to": to, "amount": 1})
				tx := &chain.Tx{ChainID: node.DevnetChainID, App: "bank", Action: "send", Payload: p, Nonce: acct.PendingNonce}
				tx.Sign(key)
				wait := n%10 == 9
				limit := 3 * time.Second
				if wait {
					limit = 20 * time.Second
				}
				ctx, cancel = context.WithTimeout(context.Background(), limit)
				ans, err := cl.Submit(ctx, tx, wait)
				cancel()
				if err != nil {
					continue
				}
				a := ack{hash: ans.Hash, node: i}
				if wait && ans.Receipt != nil && ans.Receipt.Status == chain.StatusOK {
					a.receipt = true
				}
				s.mu.Lock()
				s.acks = append(s.acks, a)
				s.mu.Unlock()
			}
		}()
	}
	return s
}

// stop ends the stream and returns what the nodes accepted. It may be
// called more than once.
func (s *txStream) stop() []ack {
	s.once.Do(func() { close(s.stopc) })
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acks
}
