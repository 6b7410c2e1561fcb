package node

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Fetching the transactions of a compact proposal that this node lacks.
//
// The engine never waits on the network. When a proposal names
// transactions it does not hold, it parks the proposal (a txWait), asks
// one peer for the missing ones through its txFetcher, and goes on; the
// answer comes back later through dispatch as a *txAnswer. Until the
// block is rebuilt the machine does not hear of the proposal, so if that
// takes too long the round's propose timeout makes this node prevote nil,
// as when a proposal is lost. Block sync still fetches a decided block
// the node never rebuilt.
//
// Whom to ask, one at a time: first the proposer's own node, which holds
// every transaction of its block (found by the identity it gives in the
// status exchange, compact_ident.go), then the peers that delivered the
// proposal, which may hold them too, then every other connected peer in
// ID order. A
// peer that answers with a transaction that does not hash to the hash
// asked for is not asked again for txDistrust, and nothing of its answer
// is kept; a peer that fails or does not hold the transactions is simply
// passed over. Once every peer has been asked, the next tick starts over.
//
// A fetched transaction is kept by hash and then treated like any other
// transaction of a proposed block: its signature is verified when the
// block is checked (preverify, then the executor), so a proposer that
// includes a forged one makes its block invalid. Once verified it goes
// into the mempool, as if gossip had brought it late (keepFetched): if
// the block is not decided, the next proposer can include it, whether or
// not the proposer that first held it is still up.

// Fetch limits.
const (
	// txFetchTimeout bounds one request to one peer.
	txFetchTimeout = 2 * time.Second
	// txDistrust is how long a peer that served a wrong transaction is
	// not asked again.
	txDistrust = 10 * time.Minute
	// maxTxWaits bounds the proposals waiting for transactions at one
	// height; each proposer has maxBlocksPerProposer of them at most.
	maxTxWaits = 8
	// maxDistrusted bounds the peers remembered as untrustworthy.
	maxDistrusted = 256
)

// txFetcher is what the engine needs to fetch transactions: FetchTxs
// sends the request a (to a.peer, for a.hashes) and returns at once; when
// the answer is in, or the request failed or timed out, it fills in a.txs
// or a.err and hands a to the engine's dispatch, exactly once. A running
// node plugs in liveTxFetcher over libp2p; the simulation its network.
type txFetcher interface {
	FetchTxs(ctx context.Context, a *txAnswer)
}

// txAnswer is one request for transactions and, once dispatched, its
// answer: one entry per hash, nil for those the peer does not hold.
type txAnswer struct {
	height uint64
	block  chain.Hash
	seq    uint64 // which request of the wait this answers
	peer   peer.ID
	hashes []chain.Hash

	txs [][]byte
	err error
}

// txWait is a block, proposed at this height, whose transactions are not
// all at hand yet.
type txWait struct {
	block    chain.Hash
	props    []*chain.SignedProposal // the proposals naming it, to judge once it is rebuilt
	sources  []peer.ID               // peers that delivered one of them, first first
	got      map[chain.Hash][]byte   // fetched, each checked against its hash
	gotBytes int                     // the bytes in got
	missing  []chain.Hash            // what was missing when last looked at
	asked    map[peer.ID]bool        // asked in the current pass
	seq      uint64                  // the request in flight, if busy
	busy     bool
	since    time.Time
	requests int
}

// awaitTxs parks sp, whose block lacks the missing transactions, and asks
// a peer for them if no request is in flight. It reports false if the
// proposal cannot be parked (too many waits at this height).
func (e *engine) awaitTxs(ctx context.Context, sp *chain.SignedProposal, from peer.ID, missing []chain.Hash) bool {
	h := sp.Proposal.BlockHash
	w := e.waits[h]
	if w == nil {
		if len(e.waits) >= maxTxWaits {
			return false
		}
		w = &txWait{block: h, got: map[chain.Hash][]byte{}, asked: map[peer.ID]bool{}, since: e.sched.Now()}
		e.waits[h] = w
		e.n.log.Debug("proposal lacks transactions; fetching them", "height", sp.Proposal.Height,
			"round", sp.Proposal.Round, "missing", len(missing), "of", len(sp.Block.TxHashes))
	}
	known := false
	for _, x := range w.props {
		known = known || x.Proposal == sp.Proposal
	}
	if !known {
		w.props = append(w.props, sp)
	}
	if from != "" && !containsPeer(w.sources, from) {
		w.sources = append(w.sources, from)
	}
	w.missing = missing
	if !w.busy {
		e.ask(ctx, w, missing)
	}
	return true
}

func containsPeer(ps []peer.ID, p peer.ID) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

// ask sends the request for missing to the next peer of the current pass,
// if any is left.
func (e *engine) ask(ctx context.Context, w *txWait, missing []chain.Hash) {
	if e.fetch == nil || len(missing) == 0 {
		return
	}
	p, ok := e.nextPeer(w)
	if !ok {
		return // everyone asked: the next tick starts another pass
	}
	w.asked[p] = true
	e.fetchSeq++
	w.seq, w.busy = e.fetchSeq, true
	w.requests++
	e.fetch.FetchTxs(ctx, &txAnswer{height: e.height, block: w.block, seq: w.seq, peer: p,
		hashes: append([]chain.Hash(nil), missing...)})
}

// nextPeer picks whom to ask: the node of a proposer of the block, then
// the peers that delivered a proposal of it, then the other connected
// peers by ID, leaving out those asked in this pass and those not
// trusted.
func (e *engine) nextPeer(w *txWait) (peer.ID, bool) {
	now := e.sched.Now()
	usable := func(p peer.ID) bool {
		until, bad := e.distrust[p]
		return p != "" && !w.asked[p] && !(bad && now.Before(until))
	}
	var peers []p2p.PeerInfo
	if e.net != nil {
		peers = e.net.Peers()
	}
	for _, sp := range w.props {
		for _, pi := range peers {
			if usable(pi.ID) && e.peerIs(pi.ID, pi.Identity, sp.Proposal.Proposer) {
				return pi.ID, true
			}
		}
	}
	for _, p := range w.sources {
		if usable(p) {
			return p, true
		}
	}
	var others []peer.ID
	for _, pi := range peers {
		if usable(pi.ID) {
			others = append(others, pi.ID)
		}
	}
	if len(others) == 0 {
		return "", false
	}
	sort.Slice(others, func(i, j int) bool { return others[i] < others[j] })
	return others[0], true
}

// onTxAnswer takes the answer to a request. An answer with one
// transaction that is not the one asked for is thrown away whole and its
// peer distrusted; otherwise what came is kept, and the block is judged
// if it is complete, or the rest asked of the next peer.
func (e *engine) onTxAnswer(ctx context.Context, a *txAnswer) {
	if a.height != e.height {
		return
	}
	w := e.waits[a.block]
	if w == nil || !w.busy || a.seq != w.seq {
		return // the block was judged meanwhile, or a stale answer
	}
	w.busy = false
	switch {
	case a.err != nil:
		e.n.log.Debug("transaction fetch failed", "peer", a.peer.String(), "err", a.err)
	case !answers(a):
		e.distrustPeer(a.peer)
		e.n.log.Warn("peer served transactions that are not the ones asked for; not asking it again",
			"peer", a.peer.String(), "for", txDistrust.String())
	default:
		got := 0
		for i, raw := range a.txs {
			if raw != nil && w.got[a.hashes[i]] == nil {
				w.got[a.hashes[i]] = raw
				w.gotBytes += len(raw)
				got++
			}
		}
		e.n.pool.Remember(fetched(a)...)
		e.n.log.Debug("transactions fetched", "peer", a.peer.String(), "asked", len(a.hashes), "got", got)
		if w.gotBytes > chain.MaxBlockSize {
			// The proposer signed a block whose transactions alone are too
			// large: it is invalid, and fetching the rest would only cost.
			e.blocks[w.block] = &pendingBlock{err: fmt.Errorf("%w: transactions of more than %d bytes", chain.ErrInvalidBlock, chain.MaxBlockSize)}
			delete(e.waits, w.block)
			for _, sp := range w.props {
				e.onProposal(ctx, sp, "")
			}
			return
		}
	}
	e.resume(ctx, w)
}

// answers reports whether every transaction in a's answer is the one
// asked for at its place, and the answer has one entry per hash.
func answers(a *txAnswer) bool {
	if len(a.txs) != len(a.hashes) {
		return false
	}
	for i, raw := range a.txs {
		if raw != nil && chain.Sum(raw) != a.hashes[i] {
			return false
		}
	}
	return true
}

// fetched returns the transactions an answer holds.
func fetched(a *txAnswer) [][]byte {
	var out [][]byte
	for _, raw := range a.txs {
		if raw != nil {
			out = append(out, raw)
		}
	}
	return out
}

func (e *engine) distrustPeer(p peer.ID) {
	now := e.sched.Now()
	if len(e.distrust) >= maxDistrusted {
		for id, until := range e.distrust {
			if !now.Before(until) {
				delete(e.distrust, id)
			}
		}
		if len(e.distrust) >= maxDistrusted {
			clear(e.distrust)
		}
	}
	e.distrust[p] = now.Add(txDistrust)
}

// keepFetched admits into the mempool, in block order, the transactions
// fetched for a block whose signatures its check verified.
func (e *engine) keepFetched(hashes []chain.Hash, w *txWait) {
	for _, h := range hashes {
		raw := w.got[h]
		if raw == nil || !e.n.sigs.has(h) {
			continue
		}
		tx, err := chain.DecodeTx(raw)
		if err != nil {
			continue
		}
		if _, err := e.n.admit(tx, raw, h, true); err != nil {
			e.n.log.Debug("fetched tx not admitted", "tx", h.String(), "err", err)
		}
	}
}

// resume judges the proposals of w if its block can be rebuilt now, and
// otherwise asks the next peer for what is still missing.
func (e *engine) resume(ctx context.Context, w *txWait) {
	sp := w.props[0]
	_, missing, _ := e.rebuild(&sp.Block, w.block, w)
	if len(missing) > 0 {
		w.missing = missing
		if !w.busy {
			e.ask(ctx, w, missing)
		}
		return
	}
	e.n.log.Debug("proposal rebuilt", "height", sp.Proposal.Height, "took", e.sched.Now().Sub(w.since).String(),
		"requests", w.requests, "fetched", len(w.got))
	for _, sp := range w.props {
		e.onProposal(ctx, sp, "")
	}
}

// arrived reports whether what w missed when last looked at has come by
// other means since (gossip, the mempool): a look at those transactions
// only, cheap enough for every txReady.
func (e *engine) arrived(w *txWait) bool {
	for _, h := range w.missing {
		if w.got[h] == nil && e.n.pool.Lookup(h) == nil {
			return false
		}
	}
	return true
}

// retryWaits runs each tick: a block whose missing transactions have
// arrived meanwhile (by gossip) is judged; for one still missing some,
// with no request in flight, a new pass over the peers begins.
func (e *engine) retryWaits(ctx context.Context) {
	for _, w := range e.sortedWaits() {
		if e.waits[w.block] != w {
			continue // judged by an earlier one's proposals
		}
		if !w.busy {
			clear(w.asked)
		}
		e.resume(ctx, w)
	}
}

// sortedWaits returns the waits in block hash order, so that a run of the
// simulation always does the same.
func (e *engine) sortedWaits() []*txWait {
	ws := make([]*txWait, 0, len(e.waits))
	for _, w := range e.waits {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return bytes.Compare(ws[i].block[:], ws[j].block[:]) < 0 })
	return ws
}

// txPeers is what liveTxFetcher needs from p2p (p2p.Host.FetchTxs).
type txPeers interface {
	FetchTxs(ctx context.Context, p peer.ID, hashes []chain.Hash) ([][]byte, error)
}

// liveTxFetcher fetches over the network: each request runs on a
// goroutine of its own, which ends when the request does (txFetchTimeout
// at most) and it has handed the answer to the engine's inbox, or when
// ctx ends. The engine's run waits for them before it returns.
type liveTxFetcher struct {
	peers txPeers
	in    chan<- any
	wg    sync.WaitGroup
}

func (f *liveTxFetcher) FetchTxs(ctx context.Context, a *txAnswer) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		rctx, cancel := context.WithTimeout(ctx, txFetchTimeout)
		a.txs, a.err = f.peers.FetchTxs(rctx, a.peer, a.hashes)
		cancel()
		select {
		case f.in <- a:
		case <-ctx.Done():
		}
	}()
}

// wait returns once every request has ended.
func (f *liveTxFetcher) wait() { f.wg.Wait() }
