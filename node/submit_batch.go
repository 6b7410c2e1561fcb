package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
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
	items, err := decodeBatch(body, isCBOR(r))
	if errors.Is(err, errBatchTooLong) {
		n.reject(w, http.StatusRequestEntityTooLarge, "too_large", err.Error())
		return
	}
	if err != nil {
		n.reject(w, http.StatusBadRequest, "bad_batch", err.Error())
		return
	}
	out := make([]BatchResult, len(items))
	n.awaitIntake(r.Context())
	for i, c := range n.submitItems(items) {
		out[i].Hash = c.hash
		if c.err != nil {
			_, code := errorStatus(c.err)
			n.metrics.txRejected.WithLabelValues(code).Inc()
			out[i].Error = &ErrorCause{Code: code, Message: c.err.Error()}
		}
	}
	writeLine(w, http.StatusOK, out)
}

// batchItem is one transaction of a batch as decoded: the transaction,
// its canonical encoding when the batch carried it (CBOR), or why it
// could not be read.
type batchItem struct {
	tx  *chain.Tx
	raw []byte
	err error
}

// errBatchTooLong refuses a batch of more than MaxBatchTxs transactions.
var errBatchTooLong = errors.New("too many transactions in one batch")

// decodeBatch parses a batch body. A transaction that does not parse
// gets its error in its item; the batch as a whole fails if the body is
// not an array or holds more than MaxBatchTxs elements (errBatchTooLong),
// which is found before any element is decoded into a transaction, so a
// body of many tiny elements costs no more than its own bytes.
func decodeBatch(body []byte, cbor bool) ([]batchItem, error) {
	if cbor {
		var raws [][]byte
		if err := chain.Decode(body, &raws); err != nil {
			return nil, fmt.Errorf("body is not a CBOR array of encoded transactions: %w", err)
		}
		if len(raws) > MaxBatchTxs {
			return nil, tooLong(len(raws))
		}
		items := make([]batchItem, len(raws))
		for i, raw := range raws {
			// DecodeTx accepts only the canonical encoding, so raw is
			// the transaction's encoding and need not be made again.
			items[i].tx, items[i].err = chain.DecodeTx(raw)
			if items[i].err == nil {
				items[i].raw = raw
			}
		}
		return items, nil
	}
	raws, err := jsonElements(body)
	if err != nil {
		return nil, err
	}
	items := make([]batchItem, len(raws))
	for i, r := range raws {
		var tx chain.Tx
		if err := json.Unmarshal(r, &tx); err != nil {
			items[i].err = fmt.Errorf("%w: transaction %d: %w", chain.ErrDecode, i, err)
			continue
		}
		items[i].tx = &tx
	}
	return items, nil
}

// jsonElements splits a JSON array into its elements without decoding
// them, and stops at the first element past MaxBatchTxs.
func jsonElements(body []byte) ([]json.RawMessage, error) {
	notArray := func(err error) error {
		return fmt.Errorf("body is not a JSON array of signed transactions: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil {
		return nil, notArray(err)
	} else if tok != json.Delim('[') {
		return nil, notArray(fmt.Errorf("it starts with %v", tok))
	}
	var raws []json.RawMessage
	for dec.More() {
		if len(raws) == MaxBatchTxs {
			return nil, fmt.Errorf("%w: more than %d; the limit is %d", errBatchTooLong, MaxBatchTxs, MaxBatchTxs)
		}
		var r json.RawMessage
		if err := dec.Decode(&r); err != nil {
			return nil, notArray(err)
		}
		raws = append(raws, r)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, notArray(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, notArray(errors.New("data after the array"))
	}
	return raws, nil
}

func tooLong(n int) error {
	return fmt.Errorf("%w: a batch of %d transactions; the limit is %d", errBatchTooLong, n, MaxBatchTxs)
}

// SubmitBatch submits txs as Submit does each, and returns each one's
// error (nil when pooled or already known). A non-nil errs[i] is kept as
// the answer for txs[i], which is then skipped.
func (n *Node) SubmitBatch(txs []*chain.Tx, errs []error) []error {
	items := make([]batchItem, len(txs))
	for i, tx := range txs {
		items[i].tx = tx
		if errs != nil {
			items[i].err = errs[i]
		}
	}
	out := make([]error, len(txs))
	for i, c := range n.submitItems(items) {
		out[i] = c.err
	}
	return out
}

// submitItems submits the items of a batch and returns each one's
// outcome: its hash (zero if it did not decode) and its error. The
// stateless checks, signatures included, run in the node's check slots
// (checkSlots), one worker per slot; the transactions then enter the
// mempool one by one in the order given, so a sender's consecutive
// nonces may come in one batch.
func (n *Node) submitItems(items []batchItem) []checked {
	checks := make([]checked, len(items))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(cap(n.slots), max(len(items), 1)) {
		wg.Add(1)
		go func() { // exits when work is closed
			defer wg.Done()
			for i := range work {
				checks[i] = n.checkStateless(items[i].tx, items[i].raw)
			}
		}()
	}
	for i, it := range items {
		switch {
		case it.err != nil:
			checks[i].err = it.err
		case it.tx == nil:
			checks[i].err = fmt.Errorf("%w: transaction %d is missing", chain.ErrDecode, i)
		default:
			work <- i
		}
	}
	close(work)
	wg.Wait()
	for i, it := range items {
		if checks[i].err == nil {
			checks[i].err = n.pool1(it.tx, checks[i])
		}
	}
	return checks
}
