package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
	"github.com/spf13/cobra"
)

// benchReport is what `citychain bench` prints.
type benchReport struct {
	Submitted    int            `json:"submitted"`
	Accepted     int            `json:"accepted"`
	Rejected     map[string]int `json:"rejected"`
	Committed    int            `json:"committed"`
	Seconds      float64        `json:"seconds"`
	TxPerSecond  float64        `json:"tx_per_second"`
	SubmitPerSec float64        `json:"submit_per_second"`
	LatencyP50   float64        `json:"latency_p50_seconds"`
	LatencyP90   float64        `json:"latency_p90_seconds"`
	LatencyP99   float64        `json:"latency_p99_seconds"`
	Blocks       int            `json:"blocks"`
	MaxBlockTxs  int            `json:"max_block_txs"`
}

func newBenchCmd(g *globals) *cobra.Command {
	var rate, count, concurrency, senders int
	var settle time.Duration
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Send signed transfers to a node and report throughput and latency",
		Long: `Sign --count bank transfers from the development accounts ahead of time, send them
to --node at --rate per second (0: as fast as the node takes them) from
--concurrency workers, follow the node's event stream, and report how many were
committed, the committed transactions per second, and the latency from
submission to commit.

Works against "citychain dev" and "citychain devnet", whose genesis funds dev0..dev9.`,
		Example: `  citychain bench --count 20000
  citychain bench --rate 1000 --count 30000 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if senders < 1 || senders > 2000 {
				return fmt.Errorf("--senders must be 1 to 2000")
			}
			if count < 1 || count > 1_000_000 {
				return fmt.Errorf("--count must be 1 to 1000000")
			}
			if concurrency < 1 || concurrency > 256 {
				return fmt.Errorf("--concurrency must be 1 to 256")
			}
			r, err := runBench(cmd.Context(), cmd.ErrOrStderr(), g.node, rate, count, concurrency, senders, settle)
			if err != nil {
				return err
			}
			return g.printOut(cmd.OutOrStdout(), r, func(w io.Writer) {
				fmt.Fprintf(w, "submitted %d, accepted %d, committed %d in %.2f s\n", r.Submitted, r.Accepted, r.Committed, r.Seconds)
				fmt.Fprintf(w, "throughput: %.0f committed tx/s (submitted at %.0f tx/s)\n", r.TxPerSecond, r.SubmitPerSec)
				fmt.Fprintf(w, "latency submit->commit: p50 %.3f s, p90 %.3f s, p99 %.3f s\n", r.LatencyP50, r.LatencyP90, r.LatencyP99)
				fmt.Fprintf(w, "blocks: %d, largest %d txs\n", r.Blocks, r.MaxBlockTxs)
				if len(r.Rejected) > 0 {
					fmt.Fprintf(w, "rejected: %v\n", r.Rejected)
				}
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&rate, "rate", 0, "transactions per second to send (0: as fast as possible)")
	f.IntVar(&count, "count", 10000, "transactions to send")
	f.IntVar(&concurrency, "concurrency", 10, "parallel senders (HTTP connections)")
	f.IntVar(&senders, "senders", 100, "accounts to send from; beyond dev0..dev9 they are made and funded first")
	f.DurationVar(&settle, "settle", 30*time.Second, "how long to wait for the last commits")
	return cmd
}

func runBench(ctx context.Context, log io.Writer, api string, rate, count, concurrency, senders int, settle time.Duration) (*benchReport, error) {
	cl := client.New(api)
	st, err := cl.Status(ctx)
	if err != nil {
		return nil, err
	}
	// Sign everything first so that signing does not compete with the node
	// for the CPU while the clock runs.
	fmt.Fprintf(log, "signing %d transfers from %d accounts...\n", count, senders)
	keys, err := benchKeys(ctx, log, cl, st.ChainID, senders)
	if err != nil {
		return nil, err
	}
	queues := make([][][]byte, senders)
	to := chain.AddressOf(node.DevKey(node.DevKeyCount - 1).PublicKey())
	payload, err := chain.EncodePayload(bank.Send{To: to, Amount: 1})
	if err != nil {
		return nil, err
	}
	for s := 0; s < senders; s++ {
		key := keys[s]
		acct, err := cl.Account(ctx, chain.AddressOf(key.PublicKey()))
		if err != nil {
			return nil, err
		}
		n := count / senders
		if s < count%senders {
			n++
		}
		for i := 0; i < n; i++ {
			tx := &chain.Tx{ChainID: st.ChainID, App: bank.Name, Action: bank.ActionSend, Payload: payload, Nonce: acct.PendingNonce + uint64(i)}
			tx.Sign(key)
			b, _ := json.Marshal(tx)
			queues[s] = append(queues[s], b)
		}
	}

	var mu sync.Mutex
	submitted := map[chain.Hash]time.Time{}
	committedAt := map[chain.Hash]time.Time{}
	r := &benchReport{Rejected: map[string]int{}}

	// Follow blocks: the event stream says a block is in, the block lists
	// its transactions.
	evCtx, stopEvents := context.WithCancel(ctx)
	defer stopEvents()
	var evWG sync.WaitGroup
	evWG.Add(1)
	var lastSeen uint64
	if st, err := cl.Status(ctx); err == nil {
		lastSeen = st.Height
	}
	go func() { // exits when evCtx is cancelled or the stream ends
		defer evWG.Done()
		_ = cl.Events(evCtx, func(ev client.StreamEvent) bool {
			if ev.Type != "block" {
				return true
			}
			seen := time.Now()
			var b struct{ Height uint64 }
			if json.Unmarshal(ev.Data, &b) != nil {
				return true
			}
			// The stream drops events for a slow reader: fetch every block
			// since the last one seen, not just this one.
			for h := lastSeen + 1; h <= b.Height; h++ {
				bv, err := cl.Block(evCtx, fmt.Sprint(h))
				if err != nil {
					return true
				}
				lastSeen = h
				mu.Lock()
				if len(bv.Txs) > 0 {
					r.Blocks++
					r.MaxBlockTxs = max(r.MaxBlockTxs, len(bv.Txs))
				}
				for _, t := range bv.Txs {
					committedAt[t.Hash] = seen
				}
				mu.Unlock()
			}
			return true
		})
	}()
	time.Sleep(200 * time.Millisecond) // let the stream connect

	tokens := make(chan struct{}, 1024)
	pace, stopPace := context.WithCancel(ctx)
	defer stopPace()
	go func() { // exits when pace is cancelled
		defer close(tokens)
		if rate <= 0 {
			for {
				select {
				case <-pace.Done():
					return
				case tokens <- struct{}{}:
				}
			}
		}
		interval := time.Second / time.Duration(rate)
		next := time.Now()
		for {
			next = next.Add(interval)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
			select {
			case <-pace.Done():
				return
			case tokens <- struct{}{}:
			}
		}
	}()

	fmt.Fprintf(log, "sending to %s...\n", api)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func(w int) { // exits when its senders' queues are empty
			defer wg.Done()
			for s := w; s < senders; s += concurrency {
				for _, body := range queues[s] {
					if _, ok := <-tokens; !ok {
						return
					}
					t0 := time.Now()
					ans, err := cl.SubmitJSON(ctx, body, false)
					mu.Lock()
					r.Submitted++
					if err != nil {
						code := "network"
						var ce *client.Error
						if errors.As(err, &ce) {
							code = ce.Code
						}
						r.Rejected[code]++
					} else {
						r.Accepted++
						submitted[ans.Hash] = t0
					}
					mu.Unlock()
				}
			}
		}(w)
	}
	wg.Wait()
	stopPace()
	sendTime := time.Since(start)

	deadline := time.Now().Add(settle)
	for time.Now().Before(deadline) {
		mu.Lock()
		done := 0
		for h := range submitted {
			if _, ok := committedAt[h]; ok {
				done++
			}
		}
		mu.Unlock()
		if done == len(submitted) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopEvents()
	evWG.Wait()

	var lat []float64
	var last time.Time
	for h, t0 := range submitted {
		if t1, ok := committedAt[h]; ok {
			if t1.Before(t0) {
				// Committed before this run sent it: another client sent the
				// identical transaction (same key, nonce and payload sign to
				// the same bytes). It has no latency of its own.
				continue
			}
			lat = append(lat, t1.Sub(t0).Seconds())
			if t1.After(last) {
				last = t1
			}
		}
	}
	sort.Float64s(lat)
	r.Committed = len(lat)
	if r.Committed > 0 {
		r.Seconds = last.Sub(start).Seconds()
		r.TxPerSecond = float64(r.Committed) / r.Seconds
		r.LatencyP50 = lat[len(lat)*50/100]
		r.LatencyP90 = lat[len(lat)*90/100]
		r.LatencyP99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	r.SubmitPerSec = float64(r.Submitted) / sendTime.Seconds()
	return r, nil
}

// benchKeys returns n sending keys: dev0..dev9 first, then accounts
// derived from a fixed seed, which it funds from the dev accounts and
// waits for.
func benchKeys(ctx context.Context, log io.Writer, cl *client.Client, chainID string, n int) ([]*crypto.PrivateKey, error) {
	keys := make([]*crypto.PrivateKey, 0, n)
	for i := 0; i < n && i < node.DevKeyCount; i++ {
		keys = append(keys, node.DevKey(i))
	}
	if n <= node.DevKeyCount {
		return keys, nil
	}
	fmt.Fprintf(log, "funding %d extra sender accounts...\n", n-node.DevKeyCount)
	nonces := map[int]uint64{}
	for i := 0; i < node.DevKeyCount; i++ {
		a, err := cl.Account(ctx, chain.AddressOf(node.DevKey(i).PublicKey()))
		if err != nil {
			return nil, err
		}
		nonces[i] = a.PendingNonce
	}
	var last chain.Hash
	for i := node.DevKeyCount; i < n; i++ {
		h := chain.Sum([]byte(fmt.Sprintf("citychain bench sender %d", i)))
		k, err := crypto.PrivateKeyFromBytes(h[:])
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
		from := i % node.DevKeyCount
		p, err := chain.EncodePayload(bank.Send{To: chain.AddressOf(k.PublicKey()), Amount: 1_000_000})
		if err != nil {
			return nil, err
		}
		tx := &chain.Tx{ChainID: chainID, App: bank.Name, Action: bank.ActionSend, Payload: p, Nonce: nonces[from]}
		nonces[from]++
		tx.Sign(node.DevKey(from))
		ans, err := cl.Submit(ctx, tx, false)
		if err != nil {
			return nil, fmt.Errorf("fund sender %d: %w", i, err)
		}
		last = ans.Hash
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if tv, err := cl.Tx(ctx, last.String()); err == nil && tv.Status != "pending" {
			return keys, nil
		}
	}
	return nil, fmt.Errorf("funding transactions were not committed within 60 s")
}
