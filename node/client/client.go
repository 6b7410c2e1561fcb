package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
)

// Client talks to one node.
type Client struct {
	base string
	http *http.Client
}

// New returns a client for the node at base, e.g. http://127.0.0.1:8700.
func New(base string) *Client {
	return &Client{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 6 * time.Minute}}
}

// NewWithHTTP returns a client for the node at base that sends its
// requests through hc, for callers that reach nodes their own way, such
// as tests that dial into a network namespace.
func NewWithHTTP(base string, hc *http.Client) *Client {
	return &Client{base: strings.TrimRight(base, "/"), http: hc}
}

// Error is an error answer from the node.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("node answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Get fetches path and decodes the JSON answer into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	return c.do(req, out)
}

func (c *Client) do(req *http.Request, out any) error {
	body, _, err := c.send(req)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = append((*raw)[:0], body...)
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode answer of %s: %w", req.URL.Path, err)
	}
	return nil
}

// send sends req and returns the body of a successful answer and its
// media type; an error answer becomes an *Error.
func (c *Client) send(req *http.Request) ([]byte, string, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("cannot reach node at %s (is it running? see --node): %w", c.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, "", fmt.Errorf("read answer from %s: %w", c.base, err)
	}
	if resp.StatusCode >= 400 {
		var e node.APIError
		if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
			return nil, "", &Error{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
		}
		return nil, "", &Error{Status: resp.StatusCode, Code: "http", Message: strings.TrimSpace(string(body))}
	}
	t, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return body, t, nil
}

// Status returns GET /v1/status.
func (c *Client) Status(ctx context.Context) (*node.StatusView, error) {
	var s node.StatusView
	return &s, c.Get(ctx, "/v1/status", &s)
}

// Block returns GET /v1/blocks/{height}; height "latest" is allowed.
func (c *Client) Block(ctx context.Context, height string) (*node.BlockView, error) {
	var b node.BlockView
	return &b, c.Get(ctx, "/v1/blocks/"+url.PathEscape(height), &b)
}

// ErrNoCBOR is EncodedBlock's error when the node answers in JSON: a node
// older than the CBOR form of GET /v1/blocks/{height}. Block gives the
// same block as JSON.
var ErrNoCBOR = errors.New("the node answers blocks in JSON only")

// EncodedBlock returns GET /v1/blocks/{height} ("latest" is allowed) in
// its CBOR form: the block and its commit certificate decoded from their
// canonical encodings, the commit nil at height 0. It is the cheap way to
// read every transaction of every block; the commit is checked to be
// that block's, not its signatures.
func (c *Client) EncodedBlock(ctx context.Context, height string) (*chain.Block, *chain.Commit, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/blocks/"+url.PathEscape(height), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/cbor")
	body, mediaType, err := c.send(req)
	if err != nil {
		return nil, nil, err
	}
	if mediaType != "application/cbor" {
		return nil, nil, fmt.Errorf("block %s from %s: %w (answered %q)", height, c.base, ErrNoCBOR, mediaType)
	}
	b, commit, err := node.DecodeBlockAnswer(body)
	if err != nil {
		return nil, nil, fmt.Errorf("block %s from %s: %w", height, c.base, err)
	}
	return b, commit, nil
}

// Header returns the header of block height ("latest" is allowed),
// rebuilt from its JSON (chain.HeaderJSON) and checked against the hash
// the node sent with it: what a client that trusts no node compares with
// a second source.
func (c *Client) Header(ctx context.Context, height string) (*chain.Header, error) {
	b, err := c.Block(ctx, height)
	if err != nil {
		return nil, err
	}
	return b.Header()
}

// Tx returns GET /v1/txs/{hash}.
func (c *Client) Tx(ctx context.Context, hash string) (*node.TxView, error) {
	var t node.TxView
	return &t, c.Get(ctx, "/v1/txs/"+url.PathEscape(hash), &t)
}

// Account returns GET /v1/accounts/{address}.
func (c *Client) Account(ctx context.Context, addr chain.Address) (*node.AccountView, error) {
	var a node.AccountView
	return &a, c.Get(ctx, "/v1/accounts/"+addr.String(), &a)
}

// Submit posts a signed transaction. With wait it returns once the
// transaction is committed, with its receipt.
func (c *Client) Submit(ctx context.Context, tx *chain.Tx, wait bool) (*node.SubmitAnswer, error) {
	body, err := json.Marshal(tx)
	if err != nil {
		return nil, err
	}
	return c.SubmitJSON(ctx, body, wait)
}

// SubmitJSON posts a transaction already in its JSON form.
func (c *Client) SubmitJSON(ctx context.Context, body []byte, wait bool) (*node.SubmitAnswer, error) {
	path := "/v1/txs"
	if wait {
		path += "?wait=commit"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	var a node.SubmitAnswer
	return &a, c.do(req, &a)
}

// SubmitJSONTimeout is SubmitJSON with the node's wait bounded by timeout.
func (c *Client) SubmitJSONTimeout(ctx context.Context, body []byte, wait bool, timeout time.Duration) (*node.SubmitAnswer, error) {
	path := "/v1/txs"
	if wait {
		path += "?wait=commit&timeout=" + url.QueryEscape(timeout.String())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	var a node.SubmitAnswer
	return &a, c.do(req, &a)
}

// SubmitBatch posts signed transactions as one batch: a CBOR array of
// their canonical encodings (application/cbor), the cheapest form for
// the node to read. The node answers per transaction, in order; a
// refusal of one transaction is in its BatchResult, not in the error,
// which reports only a batch refused as a whole or no answer.
func (c *Client) SubmitBatch(ctx context.Context, raws [][]byte) ([]node.BatchResult, error) {
	body, err := chain.Encode(raws)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/txs", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/cbor")
	var out []node.BatchResult
	if err := c.do(req, &out); err != nil {
		return nil, err
	}
	if len(out) != len(raws) {
		return nil, fmt.Errorf("node %s answered %d results for a batch of %d transactions", c.base, len(out), len(raws))
	}
	return out, nil
}

// StreamEvent is one message of the node's event stream.
type StreamEvent struct {
	Type string
	Data []byte
}

// Events reads GET /v1/events and sends each event to fn until ctx ends,
// the stream breaks, or fn returns false. With types, the node sends
// only events of those types (block, tx, consensus).
func (c *Client) Events(ctx context.Context, fn func(StreamEvent) bool, types ...string) error {
	path := "/v1/events"
	if len(types) > 0 {
		path += "?types=" + url.QueryEscape(strings.Join(types, ","))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return fmt.Errorf("event stream of %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("event stream of %s: status %d", c.base, resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var ev StreamEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev.Type = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			ev.Data = []byte(line[len("data: "):])
		case line == "" && ev.Type != "":
			if !fn(ev) {
				return nil
			}
			ev = StreamEvent{}
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}
