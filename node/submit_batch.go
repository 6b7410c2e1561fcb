package node

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"runtime"
	"sync"

	"github.com/citychain/citychain/chain"
)

// Limits of one batch of POST /v1/txs.
const (
	// MaxBatchTxs bounds the transactions of one batch.
	MaxBatchTxs = 5000
	// MaxBatchBytes bounds the body of one batch.
	MaxBatchBytes = 8 << 20
)

// BatchResult is one transaction's answer in a batch, in the order sent:
// its hash, and the error that refused it, if any, with the same code a
// single submission would get.
type BatchResult struct {
	Hash  chain.Hash  `json:"hash"`
	Error *ErrorCause `json:"error,omitempty"`
}

// ErrorCause is the code and message of a refusal, the inside of the
// API's {"error": {...}} answers.
type ErrorCause struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// isCBOR reports whether the request says its body is CBOR.
func isCBOR(r *http.Request) bool {
	t, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && t == "application/cbor"
}

// handleBatch takes a batch: a JSON array of signed transactions, or,
// with Content-Type application/cbor, a CBOR array of byte strings, each
// the canonical encoding of a signed transaction. It answers 200 with one
// BatchResult per transaction, in order, once each is pooled or refused.
// A body that is not an array, or a batch over the limits, is refused as
// a whole with 400 or 413.
func (n *Node) handleBatch(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.URL.Query().Get("wait") != "" {
		n.reject(w, http.StatusBadRequest, "bad_wait", "wait=commit takes one transaction, not a batch")
		return
	}
	txs, errs, err := decodeBatch(body, isCBOR(r))
	if err != nil {
		n.reject(w, http.StatusBadRequest, "bad_batch", err.Error())
		return
	}
	if len(txs) > MaxBatchTxs {
		n.reject(w, http.StatusRequestEntityTooLarge, "too_large",
			fmt.Sprintf("a batch of %d transactions; the limit is %d", len(txs), MaxBatchTxs))
		return
	}
	out := make([]BatchResult, len(txs))
	for i, err := range n.SubmitBatch(txs, errs) {
		if txs[i] != nil {
			out[i].Hash = txs[i].Hash()
		}
		if err != nil {
			_, code := errorStatus(err)
			n.metrics.txRejected.WithLabelValues(code).Inc()
			out[i].Error = &ErrorCause{Code: code, Message: err.Error()}
		}
	}
	WriteJSON(w, http.StatusOK, out)
}

// decodeBatch parses a batch body. A transaction that does not parse
// gets its error in errs (and a nil entry in txs); the batch as a whole
// fails only if the body is not an array.
func decodeBatch(body []byte, cbor bool) ([]*chain.Tx, []error, error) {
	var items [][]byte
	if cbor {
		if err := chain.Decode(body, &items); err != nil {
			return nil, nil, fmt.Errorf("body is not a CBOR array of encoded transactions: %w", err)
		}
	} else {
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, nil, fmt.Errorf("body is not a JSON array of signed transactions: %w", err)
		}
		for _, r := range raws {
			items = append(items, r)
		}
	}
	txs := make([]*chain.Tx, len(items))
	errs := make([]error, len(items))
	for i, it := range items {
		if cbor {
			txs[i], errs[i] = chain.DecodeTx(it)
			continue
		}
		var tx chain.Tx
		if err := json.Unmarshal(it, &tx); err != nil {
			errs[i] = fmt.Errorf("%w: transaction %d: %w", chain.ErrDecode, i, err)
			continue
		}
		txs[i] = &tx
	}
	return txs, errs, nil
}

// SubmitBatch submits txs as Submit does each, and returns each one's
// error (nil when pooled or already known). A non-nil errs[i] is kept as
// the answer for txs[i], which is then skipped. The stateless checks,
// signatures included, run on every core at once; the transactions then
// enter the mempool one by one in the order given, so a sender's
// consecutive nonces may come in one batch.
func (n *Node) SubmitBatch(txs []*chain.Tx, errs []error) []error {
	out := make([]error, len(txs))
	checks := make([]checked, len(txs))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.NumCPU(), max(len(txs), 1)) {
		wg.Add(1)
		go func() { // exits when work is closed
			defer wg.Done()
			for i := range work {
				checks[i] = n.checkStateless(txs[i])
			}
		}()
	}
	for i := range txs {
		if errs != nil && errs[i] != nil || txs[i] == nil {
			continue
		}
		work <- i
	}
	close(work)
	wg.Wait()
	for i, tx := range txs {
		switch {
		case errs != nil && errs[i] != nil:
			out[i] = errs[i]
		case tx == nil:
			out[i] = fmt.Errorf("%w: transaction %d is missing", chain.ErrDecode, i)
		case checks[i].err != nil:
			out[i] = checks[i].err
		default:
			out[i] = n.pool1(tx, checks[i])
		}
	}
	return out
}
