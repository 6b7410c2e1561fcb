package labs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// HistoryWindow is how many of the latest blocks a check reads when it
// needs the chain's past: about three hours of an idle devnet, which
// makes an empty block every five seconds.
const HistoryWindow = 2000

// fetchers is how many blocks are asked for at once.
const fetchers = 8

// blockView is GET /v1/blocks/{h}, the fields the checks read.
type blockView struct {
	Hash           string      `json:"hash"`
	Height         uint64      `json:"height"`
	Time           time.Time   `json:"time"`
	PrevHash       string      `json:"prev_hash"`
	Proposer       string      `json:"proposer"`
	ValidatorsHash string      `json:"validators_hash"`
	Txs            []txSummary `json:"txs"`
	Commit         *commitView `json:"commit"`
	LastCommit     *commitView `json:"last_commit"`
}

// fact is what the checks keep of one block. Of its transactions it
// keeps only the few that some check looks for (notable), so that the
// history of a chain under a load test stays small.
type fact struct {
	Height         uint64
	Hash           string
	Time           time.Time
	Proposer       string
	ValidatorsHash string
	// Round is the round its commit was decided in; Signers signed that
	// commit, as this node stored it.
	Round   uint32
	Signers []string
	// LastSigners signed the commit of the parent that this block
	// carries: another quorum, gathered by this block's proposer.
	LastSigners []string
	Txs         []txSummary
}

// Per block, at most this many registrations are kept.
const keptRegistrations = 8

// notable returns the transactions of a block that the checks look for:
// the first transfer sent by an account that is not a development
// account (lab 1), the first registrations of works (lab 5), and the
// first transaction of each module that is not built in (lab 7).
func notable(txs []txSummary, dev map[string]bool) []txSummary {
	var out []txSummary
	sent, registered := false, 0
	apps := map[string]bool{}
	for _, t := range txs {
		switch {
		case t.App == "bank" && t.Action == "send" && !dev[t.Sender] && !sent:
			sent = true
		case t.App == "copyright" && t.Action == "register" && registered < keptRegistrations:
			registered++
		case t.App != "" && !isBuiltin(t.App) && !apps[t.App]:
			apps[t.App] = true
		default:
			continue
		}
		out = append(out, t)
	}
	return out
}

func factOf(b *blockView, dev map[string]bool) *fact {
	f := &fact{Height: b.Height, Hash: b.Hash, Time: b.Time, Proposer: b.Proposer,
		ValidatorsHash: b.ValidatorsHash, Txs: notable(b.Txs, dev)}
	if b.Commit != nil {
		f.Round = b.Commit.Round
		for _, s := range b.Commit.Signatures {
			f.Signers = append(f.Signers, s.Validator)
		}
	}
	if b.LastCommit != nil {
		for _, s := range b.LastCommit.Signatures {
			f.LastSigners = append(f.LastSigners, s.Validator)
		}
	}
	return f
}

// History keeps the facts of recent blocks. A block never changes once
// committed, so a fact is read once and kept while its height is in the
// window. It is safe for concurrent use.
type History struct {
	mu    sync.Mutex
	facts map[uint64]*fact
	dev   map[string]bool
}

// NewHistory returns an empty history of a chain whose development
// accounts are dev (Env.Dev).
func NewHistory(dev []string) *History {
	h := &History{facts: map[uint64]*fact{}, dev: map[string]bool{}}
	for _, a := range dev {
		h.dev[a] = true
	}
	return h
}

// update reads the blocks of the window ending at top that it lacks,
// forgets those below it, and returns the window's facts, oldest first.
func (h *History) update(ctx context.Context, c Chain, top uint64) ([]*fact, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	low := uint64(1)
	if top > HistoryWindow {
		low = top - HistoryWindow + 1
	}
	for k := range h.facts {
		if k < low || k > top {
			delete(h.facts, k)
		}
	}
	var missing []uint64
	for k := low; k <= top; k++ {
		if h.facts[k] == nil {
			missing = append(missing, k)
		}
	}
	got, err := fetchBlocks(ctx, c, missing, h.dev)
	if err != nil {
		return nil, err
	}
	for _, f := range got {
		h.facts[f.Height] = f
	}
	out := make([]*fact, 0, len(h.facts))
	for _, f := range h.facts {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Height < out[j].Height })
	return out, nil
}

// fetchBlocks reads the blocks at heights, a few at a time. A block that
// answers with another height than asked is an error: the checks would
// reason about the wrong block.
func fetchBlocks(ctx context.Context, c Chain, heights []uint64, dev map[string]bool) ([]*fact, error) {
	if len(heights) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]*fact, len(heights))
	errs := make([]error, len(heights))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(fetchers, len(heights)) {
		wg.Add(1)
		go func() { // exits when next is closed
			defer wg.Done()
			for i := range next {
				var b blockView
				err := c.Get(ctx, fmt.Sprintf("/v1/blocks/%d", heights[i]), &b)
				if err == nil && b.Height != heights[i] {
					err = fmt.Errorf("asked for block %d, the node sent block %d", heights[i], b.Height)
				}
				if err != nil {
					errs[i] = fmt.Errorf("read block %d: %w", heights[i], err)
					cancel()
					continue
				}
				out[i] = factOf(&b, dev)
			}
		}()
	}
	for i := range heights {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	// The first error that is not the cancellation it caused.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	for i, f := range out {
		if f == nil {
			if errs[i] != nil {
				return nil, errs[i]
			}
			return nil, fmt.Errorf("read block %d: %w", heights[i], context.Cause(ctx))
		}
	}
	return out, nil
}
