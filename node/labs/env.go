package labs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
)

// Chain is the network as a check sees it: the node's HTTP API. Get
// fetches path (such as /v1/blocks/12) and decodes the JSON answer into
// out. An answer of 404 must be an error that wraps ErrNotFound.
type Chain interface {
	Get(ctx context.Context, path string, out any) error
}

// ErrNotFound marks an API answer of 404: no such block, account,
// record or module.
var ErrNotFound = errors.New("not found")

// Env is what a check runs against: the network, and the student's side
// when the student runs the check.
type Env struct {
	Chain Chain
	// Dev holds the addresses of the development accounts dev0..dev9,
	// which are everybody's: a student's own account is none of them.
	Dev []string
	// Student is the student's side; nil when the node checks alone.
	Student *Student
	// History keeps what the checks learnt about past blocks. A node
	// keeps one for all its checks; nil makes a new one.
	History *History

	mu      sync.Mutex
	st      *statusView
	window  []*fact
	cert    *verified
	certRes *Result
}

// Student is the student's side of a check.
type Student struct {
	// Keys are the keys in the student's keystore (--home).
	Keys []Key
	// Answer is the student's answer (--answer): the text itself, or the
	// content of the file it named.
	Answer string
	// Cert is the path of a certificate file (--cert).
	Cert string
	// Module names the student's own module (--module); empty means any
	// module that is not built in.
	Module string
	// Batch is the identifier lab 4 traces (--epc); empty means the
	// lab's own batch.
	Batch string
	// Verify checks a certificate file offline the way `citychain
	// verify` does and returns what that prints with --output json.
	Verify func(ctx context.Context, cert string) ([]byte, error)
}

// Key is a key in the student's keystore.
type Key struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// isDev says whether addr is one of the development accounts.
func (e *Env) isDev(addr string) bool { return slices.Contains(e.Dev, addr) }

// The shapes of the node's answers that the checks read: only the
// fields they use, under the names of DESIGN.md's HTTP API.

type statusView struct {
	ChainID    string          `json:"chain_id"`
	Height     uint64          `json:"height"`
	Validators []validatorView `json:"validators"`
}

type validatorView struct {
	Address string `json:"address"`
	Power   uint64 `json:"power"`
}

type validatorsView struct {
	Validators []validatorView `json:"validators"`
	Quorum     uint64          `json:"quorum"`
}

type commitView struct {
	Round      uint32 `json:"round"`
	BlockHash  string `json:"block_hash"`
	Signatures []struct {
		Validator string `json:"validator"`
	} `json:"signatures"`
}

type txSummary struct {
	Hash   string `json:"hash"`
	App    string `json:"app"`
	Action string `json:"action"`
	Sender string `json:"sender"`
	Nonce  uint64 `json:"nonce"`
}

type txView struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Height uint64 `json:"height"`
}

type accountView struct {
	Balance uint64 `json:"balance"`
	Nonce   uint64 `json:"nonce"`
}

// status returns GET /v1/status, asked once per Env.
func (e *Env) status(ctx context.Context) (*statusView, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st != nil {
		return e.st, nil
	}
	var s statusView
	if err := e.Chain.Get(ctx, "/v1/status", &s); err != nil {
		return nil, err
	}
	e.st = &s
	return e.st, nil
}

// block returns GET /v1/blocks/{h}.
func (e *Env) block(ctx context.Context, h uint64) (*blockView, error) {
	var b blockView
	if err := e.Chain.Get(ctx, fmt.Sprintf("/v1/blocks/%d", h), &b); err != nil {
		return nil, err
	}
	return &b, nil
}

func (e *Env) validators(ctx context.Context) (*validatorsView, error) {
	var v validatorsView
	return &v, e.Chain.Get(ctx, "/v1/validators", &v)
}

func (e *Env) account(ctx context.Context, addr string) (*accountView, error) {
	var a accountView
	return &a, e.Chain.Get(ctx, "/v1/accounts/"+url.PathEscape(addr), &a)
}

func (e *Env) txInfo(ctx context.Context, hash string) (*txView, error) {
	var t txView
	return &t, e.Chain.Get(ctx, "/v1/txs/"+url.PathEscape(hash), &t)
}

// history returns the facts of the last HistoryWindow blocks, oldest
// first, read once per Env.
func (e *Env) history(ctx context.Context) ([]*fact, error) {
	st, err := e.status(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.window != nil {
		return e.window, nil
	}
	if e.History == nil {
		e.History = NewHistory(e.Dev)
	}
	w, err := e.History.update(ctx, e.Chain, st.Height)
	if err != nil {
		return nil, err
	}
	e.window = w
	return w, nil
}
