package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/citychain/citychain/chain"
)

// ErrStopping means the node is shutting down and takes no more
// transactions; the API answers 503.
var ErrStopping = errors.New("the node is stopping")

// DefaultWait is how long POST /v1/txs?wait=commit waits for a receipt.
const DefaultWait = 30 * time.Second

// Submit checks a signed transaction and adds it to the mempool; a node
// in a network also gossips it to its peers. It returns the
// transaction's hash. A transaction already committed or already pooled
// is accepted again without effect (so clients can retry).
//
// The checks, in order: size, shape, chain id and signature (no state;
// this is where the one signature verification happens, on the calling
// goroutine, so concurrent submissions use every core), then under the
// mempool lock the nonce and a trial run against committed state.
func (n *Node) Submit(tx *chain.Tx) (chain.Hash, error) {
	c := n.checkStateless(tx, nil)
	if c.err != nil {
		return c.hash, c.err
	}
	return c.hash, n.pool1(tx, c)
}

// checked is a transaction after the stateless checks: its encoding and
// hash, and why it was refused, if it was.
type checked struct {
	raw  []byte
	hash chain.Hash
	err  error
}

// checkStateless runs the checks that need no state: size, shape, chain
// id and the signature. raw is the transaction's canonical encoding if
// the caller has it (a CBOR batch item that decoded), else nil. It is
// safe to run on many goroutines at once; the signature checks of the
// node take turns for the node's check slots (see checkSlots).
//
// A transaction the mempool could not take now is refused before its
// signature is checked, unless it is already pooled or committed (then
// it is accepted again, as always): under overload, retries cost no
// verification.
func (n *Node) checkStateless(tx *chain.Tx, raw []byte) checked {
	if raw == nil {
		raw = tx.Encode()
	}
	c := checked{raw: raw, hash: chain.Sum(raw)}
	if n.stopping.Load() {
		c.err = ErrStopping
		return c
	}
	if len(raw) > chain.MaxTxSize {
		c.err = fmt.Errorf("%w: %d bytes, limit %d", chain.ErrInvalidTx, len(raw), chain.MaxTxSize)
		return c
	}
	if err := n.pool.Room(len(raw)); err != nil && !n.known(c.hash) {
		c.err = err
		return c
	}
	n.slots <- struct{}{}
	c.err = tx.ValidateBasicWith(n.chainID, n.keys)
	<-n.slots
	n.metrics.sigsSubmit.Inc()
	return c
}

// known reports whether a transaction is pooled or committed.
func (n *Node) known(hash chain.Hash) bool {
	if n.pool.Has(hash) {
		return true
	}
	_, err := n.store.Receipt(hash)
	return err == nil
}

// pool1 runs the stateful checks of a transaction that passed
// checkStateless, pools it and gossips it if it is new.
func (n *Node) pool1(tx *chain.Tx, c checked) error {
	added, err := n.admit(tx, c.raw, c.hash, false)
	if err != nil || !added || n.p2p == nil {
		return err
	}
	n.txs.add(c.raw) // gossiped with the next batch (txgossip.go)
	return nil
}

// admit runs the stateful checks of a transaction whose signature was
// verified and pools it. It reports whether the pool took a new
// transaction; one already committed is accepted again without effect.
//
// A committed transaction's nonce is used, so the pool refuses it (for
// its nonce, or first for want of room): only then is its receipt
// looked up, which spares every new transaction a read of the store.
func (n *Node) admit(tx *chain.Tx, raw []byte, hash chain.Hash, fromGossip bool) (bool, error) {
	sender := tx.Sender()
	latest := n.store.Latest()
	info := chain.BlockInfo{ChainID: n.chainID, Height: latest.Height + 1, Time: n.clock().UTC()}
	added, err := n.pool.Add(tx, hash, raw,
		func() (uint64, error) { return chain.Nonce(n.store, sender) },
		func(tx *chain.Tx, nonce uint64) error { return n.exec.CheckTx(n.store, info, tx, nonce) }, fromGossip)
	if errors.Is(err, chain.ErrBadNonce) || errors.Is(err, ErrMempoolFull) {
		if _, rerr := n.store.Receipt(hash); rerr == nil {
			return false, nil // already committed
		}
	}
	return added, err
}

// SubmitAnswer is the answer of POST /v1/txs.
type SubmitAnswer struct {
	Hash    chain.Hash `json:"hash"`
	Receipt *TxView    `json:"receipt,omitempty"`
}

// handleSubmit is POST /v1/txs: one transaction in its JSON form, or a
// batch (submit_batch.go). Its answers are JSON on one line, like every
// answer a program reads by the thousand.
func (n *Node) handleSubmit(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBatchBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			n.reject(w, http.StatusRequestEntityTooLarge, "too_large",
				fmt.Sprintf("request body is over the %d-byte limit of a batch", MaxBatchBytes))
			return
		}
		n.reject(w, http.StatusBadRequest, "bad_body", err.Error())
		return
	}
	if isCBOR(r) || bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
		n.handleBatch(w, r, body)
		return
	}
	if len(body) > MaxBodyBytes {
		n.reject(w, http.StatusRequestEntityTooLarge, "too_large",
			fmt.Sprintf("request body is over the %d-byte limit of one transaction; send a JSON array for a batch", MaxBodyBytes))
		return
	}
	var tx chain.Tx
	if err := json.Unmarshal(body, &tx); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			n.reject(w, http.StatusBadRequest, "malformed_json", "request body is not valid JSON: expected a signed transaction object")
			return
		}
		status, code := errorStatus(err)
		n.reject(w, status, code, err.Error())
		return
	}
	wait := r.URL.Query().Get("wait")
	if wait != "" && wait != "commit" {
		n.reject(w, http.StatusBadRequest, "bad_wait", fmt.Sprintf("wait=%q: the only value is \"commit\"", wait))
		return
	}
	timeout := DefaultWait
	if t := r.URL.Query().Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 || d > 5*time.Minute {
			n.reject(w, http.StatusBadRequest, "bad_timeout", fmt.Sprintf("timeout=%q: want a duration such as 10s, at most 5m", t))
			return
		}
		timeout = d
	}
	n.awaitIntake(r.Context())
	c := n.checkStateless(&tx, nil)
	if c.err != nil {
		status, code := errorStatus(c.err)
		n.reject(w, status, code, c.err.Error())
		return
	}
	hash := c.hash
	var ch chan chain.Receipt
	if wait == "commit" {
		ch = n.waiters.add(hash) // before pooling, so a fast commit is not missed
	}
	if err := n.pool1(&tx, c); err != nil {
		if ch != nil {
			n.waiters.remove(hash, ch)
		}
		status, code := errorStatus(err)
		n.reject(w, status, code, err.Error())
		return
	}
	if ch == nil {
		writeLine(w, http.StatusAccepted, SubmitAnswer{Hash: hash})
		return
	}
	// Already committed earlier: answer from the store.
	if raw, rc, err := n.store.Tx(hash); err == nil {
		n.waiters.remove(hash, ch)
		v := txView(raw, rc)
		writeLine(w, http.StatusOK, SubmitAnswer{Hash: hash, Receipt: &v})
		return
	}
	// The wait is on purpose: the answer's deadline starts after it.
	extendWriteDeadline(w, timeout+n.cfg.API.WriteTimeout.Duration)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case rc, ok := <-ch:
		if !ok {
			n.rejectLine(w, http.StatusServiceUnavailable, "shutting_down", "the node is stopping; the transaction may still commit after restart")
			return
		}
		v := txView(c.raw, &rc)
		writeLine(w, http.StatusOK, SubmitAnswer{Hash: hash, Receipt: &v})
	case <-timer.C:
		n.waiters.remove(hash, ch)
		n.rejectLine(w, http.StatusGatewayTimeout, "wait_timeout",
			fmt.Sprintf("transaction %s is pending but not committed after %s; ask GET /v1/txs/%s later", hash, timeout, hash))
	case <-r.Context().Done():
		n.waiters.remove(hash, ch)
	}
}

// reject answers a refused submission with the API's error body, on one
// line, and counts it by code.
func (n *Node) reject(w http.ResponseWriter, status int, code, msg string) {
	n.metrics.txRejected.WithLabelValues(code).Inc()
	n.rejectLine(w, status, code, msg)
}

// rejectLine writes the API's error body on one line without counting a
// refusal (the transaction was taken; only the wait failed).
func (n *Node) rejectLine(w http.ResponseWriter, status int, code, msg string) {
	var e APIError
	e.Error.Code, e.Error.Message = code, msg
	writeLine(w, status, e)
}

// eventPing is how often an idle event stream gets a comment line.
const eventPing = 15 * time.Second

// handleEvents streams events as Server-Sent Events: each message has an
// "event:" line with the type (block, tx, consensus) and a JSON "data:"
// line; ?types=block,consensus keeps only the types named. A comment
// line every 15 s keeps proxies from closing the stream.
//
// At most api.max_event_streams streams are open; the next is answered
// 503. Each message must be written within api.write_timeout, the
// deadline moved before each, so a stream lives as long as its client
// reads, and a client that stops reading is dropped once the system's
// buffers fill.
func (n *Node) handleEvents(w http.ResponseWriter, r *http.Request) {
	if _, ok := w.(http.Flusher); !ok {
		WriteError(w, http.StatusInternalServerError, "no_streaming", "this connection cannot stream")
		return
	}
	types, err := parseEventTypes(r.URL.Query().Get("types"))
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad_types", err.Error())
		return
	}
	done, ok := n.guard.openStream()
	if !ok {
		n.guard.refuse(w, r, http.StatusServiceUnavailable, "too_many_streams", int(eventPing.Seconds()),
			fmt.Sprintf("%d event streams are open, the limit of this node (api.max_event_streams); retry later", n.cfg.API.MaxEventStreams))
		return
	}
	defer done()
	rc := http.NewResponseController(w)
	write := func(format string, args ...any) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(n.cfg.API.WriteTimeout.Duration))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if !write(": citychain event stream, chain %s\n\n", n.chainID) {
		return
	}
	events, cancel := n.bus.Subscribe(256, types...)
	defer cancel()
	ping := time.NewTicker(eventPing)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-n.quit:
			return
		case ev, ok := <-events:
			if !ok || !write("event: %s\ndata: %s\n\n", ev.Type, ev.Data) {
				return
			}
		case <-ping.C:
			if !write(": ping\n\n") {
				return
			}
		}
	}
}

// intakeWait bounds how long awaitIntake holds a submission.
const intakeWait = 5 * time.Second

// awaitIntake holds a submission from the API (one transaction or a
// batch) while the mempool holds two full blocks or more, until it falls
// under that, the request ends or intakeWait passes. A client that
// submits faster than the chain commits then waits for its answers,
// instead of filling every node's mempool with transactions that each
// node checks now and commits much later, the checks taking the
// processors that the heights need. Gossip is not held: a peer's own
// clients wait at that peer.
func (n *Node) awaitIntake(ctx context.Context) {
	high := 2 * n.cfg.Block.MaxTxs
	if n.pool.Size() < high {
		return
	}
	deadline := time.NewTimer(intakeWait)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for n.pool.Size() >= high {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}
