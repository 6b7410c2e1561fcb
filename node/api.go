package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/store"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MaxBodyBytes bounds a request body: a transaction's JSON form.
const MaxBodyBytes = 64 << 10

// routes returns the HTTP API of DESIGN.md behind the bounds of the
// API's guard (apiguard.go).
func (n *Node) routes() http.Handler {
	mux, _ := n.apiMux()
	return n.guard.front(mux)
}

// apiMux registers every route of the API on a new ServeMux and returns
// it with the patterns registered, in order. docs/openapi.yaml documents
// each of them; openapi_test.go checks that it does.
func (n *Node) apiMux() (*http.ServeMux, []string) {
	mux := http.NewServeMux()
	var patterns []string
	register := func(pattern string, h http.Handler) {
		patterns = append(patterns, pattern)
		mux.Handle(pattern, h)
	}
	bound := n.guard.bound
	handle := func(pattern, route string, h http.HandlerFunc) {
		register(pattern, bound(n.instrument(route, h)))
	}
	handle("GET /v1/status", "status", n.handleStatus)
	handle("GET /v1/blocks/{height}", "blocks", n.handleBlock)
	handle("GET /v1/blocks/{height}/changes", "block_changes", n.handleBlockChanges)
	handle("GET /v1/txs/{hash}", "txs_get", n.handleTx)
	handle("POST /v1/txs", "txs_post", n.handleSubmit)
	handle("GET /v1/accounts/{address}", "accounts", n.handleAccount)
	handle("GET /v1/validators", "validators", n.handleValidators)
	handle("GET /v1/peers", "peers", n.handlePeers)
	handle("GET /v1/apps", "apps_list", n.handleApps)
	handle("GET /v1/apps/{app}/{path...}", "apps", n.handleAppQuery)
	handle("GET /v1/labs", "labs", n.labsHandler())
	handle("GET /v1/devnet", "devnet", n.handleDevnetStatus)
	handle("POST /v1/devnet/nodes/{name}/{action}", "devnet_action", n.handleDevnetAction)
	handle("POST /v1/devnet/links", "devnet_links", n.handleDevnetLinks)
	// Event streams last; they have a bound of their own
	// (api.max_event_streams) instead of holding an in-flight slot.
	register("GET /v1/events", http.HandlerFunc(n.handleEvents))
	register("GET /metrics", bound(promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{})))
	register("GET /{$}", bound(http.HandlerFunc(n.handleExplorer)))
	handle("GET /explorer/qr.svg", "qr", n.handleQR)
	if n.cfg.API.Pprof {
		register("/debug/pprof/", bound(http.HandlerFunc(pprof.Index)))
		// A CPU profile moves its own write deadline by its ?seconds=.
		register("/debug/pprof/profile", bound(http.HandlerFunc(pprof.Profile)))
	}
	// Not a route: the answer to every path that no route above takes.
	mux.Handle("/", bound(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route %s %s", r.Method, r.URL.Path))
	})))
	return mux, patterns
}

// statusRecorder remembers the status code for metrics.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) { s.code = code; s.ResponseWriter.WriteHeader(code) }

// Unwrap lets http.ResponseController reach the connection, to move the
// deadlines of a request that waits on purpose.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (n *Node) instrument(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h(rec, r)
		n.metrics.httpRequests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
	})
}

// APIError is the body of every error answer.
type APIError struct {
	Error ErrorCause `json:"error"`
}

// WriteJSON writes v as the indented JSON answer of the API.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	writeIndented(w, code, v)
}

// writeIndented writes v as indented JSON under the header fields
// already set.
func writeIndented(w http.ResponseWriter, code int, v any) {
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeLine writes v as a JSON answer on one line: the form of the
// answers to submissions, which programs read by the thousand and
// people seldom do. The other answers stay indented, for reading.
func writeLine(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// WriteError writes the API's error body: {"error": {code, message}}.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	var e APIError
	e.Error.Code, e.Error.Message = code, msg
	WriteJSON(w, status, e)
}

// errorStatus maps an error kind to an HTTP status and a stable code.
func errorStatus(err error) (int, string) {
	switch {
	case errors.Is(err, ErrMempoolFull):
		return http.StatusServiceUnavailable, "mempool_full"
	case errors.Is(err, ErrStopping):
		return http.StatusServiceUnavailable, "stopping"
	case errors.Is(err, crypto.ErrHighS):
		return http.StatusBadRequest, "high_s_signature"
	case errors.Is(err, crypto.ErrBadSignature), errors.Is(err, crypto.ErrMalformedSignature):
		return http.StatusBadRequest, "bad_signature"
	case errors.Is(err, crypto.ErrMalformedPublicKey):
		return http.StatusBadRequest, "bad_pubkey"
	case errors.Is(err, chain.ErrWrongChain):
		return http.StatusBadRequest, "wrong_chain"
	case errors.Is(err, chain.ErrBadNonce):
		return http.StatusConflict, "bad_nonce"
	case errors.Is(err, chain.ErrUnknownApp):
		return http.StatusBadRequest, "unknown_app"
	case errors.Is(err, chain.ErrUnknownAction):
		return http.StatusBadRequest, "unknown_action"
	case errors.Is(err, chain.ErrBadPayload):
		return http.StatusBadRequest, "bad_payload"
	case errors.Is(err, chain.ErrInsufficientFunds):
		return http.StatusBadRequest, "insufficient_funds"
	case errors.Is(err, chain.ErrUnauthorized):
		return http.StatusForbidden, "unauthorized"
	case errors.Is(err, chain.ErrOverflow):
		return http.StatusBadRequest, "overflow"
	case errors.Is(err, chain.ErrNotFound), errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, chain.ErrInvalidTx), errors.Is(err, chain.ErrDecode), errors.Is(err, chain.ErrNonCanonical):
		return http.StatusBadRequest, "invalid_tx"
	case errors.Is(err, chain.ErrRejected):
		return http.StatusBadRequest, "rejected"
	}
	return http.StatusInternalServerError, "internal"
}

func (n *Node) fail(w http.ResponseWriter, err error) {
	status, code := errorStatus(err)
	if status >= 500 && status != http.StatusServiceUnavailable {
		n.log.Error("api", "err", err)
	}
	WriteError(w, status, code, err.Error())
}

// StatusView is GET /v1/status.
type StatusView struct {
	ChainID         string            `json:"chain_id"`
	NodeID          string            `json:"node_id"`
	Moniker         string            `json:"moniker"`
	Height          uint64            `json:"height"`
	LatestBlockHash chain.Hash        `json:"latest_block_hash"`
	LatestBlockTime time.Time         `json:"latest_block_time"`
	StateRoot       chain.Hash        `json:"state_root"`
	Syncing         bool              `json:"syncing"`
	Peers           int               `json:"peers"`
	Validators      []chain.Validator `json:"validators"`
	Validator       chain.Address     `json:"validator"`
	MempoolTxs      int               `json:"mempool_txs"`
	// Devnet is true when a `citychain devnet` supervisor started this
	// node: the classroom controls under /v1/devnet answer.
	Devnet bool `json:"devnet"`
}

func (n *Node) handleStatus(w http.ResponseWriter, _ *http.Request) {
	h := n.store.Latest()
	vs, err := chain.LoadValidators(n.store)
	if err != nil {
		n.fail(w, err)
		return
	}
	id := n.PeerID()
	if id == "" {
		id = n.valAddr.String()
	}
	peers := 0
	if n.p2p != nil {
		peers = len(n.p2p.Peers())
	}
	WriteJSON(w, http.StatusOK, StatusView{ChainID: n.chainID, NodeID: id,
		Moniker: n.cfg.Moniker, Height: h.Height, LatestBlockHash: h.Hash(),
		LatestBlockTime: h.BlockTime(), StateRoot: h.StateRoot, Syncing: n.syncing.Load(),
		Peers: peers, Validators: vs.Validators, Validator: n.valAddr, MempoolTxs: n.pool.Size(),
		Devnet: n.control != nil})
}

func (n *Node) handleBlock(w http.ResponseWriter, r *http.Request) {
	h, ok := blockHeight(w, r, n.store.Latest().Height)
	if !ok {
		return
	}
	if acceptsCBOR(r) {
		raw, rawCommit, err := n.store.EncodedBlock(h)
		if err != nil {
			n.fail(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/cbor")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(EncodeBlockAnswer(raw, rawCommit))
		return
	}
	b, err := n.store.Block(h)
	if err != nil {
		n.fail(w, err)
		return
	}
	var c *chain.Commit
	if h > 0 {
		if c, err = n.store.Commit(h); err != nil {
			n.fail(w, err)
			return
		}
	}
	WriteJSON(w, http.StatusOK, blockView(b, c))
}

func (n *Node) handleTx(w http.ResponseWriter, r *http.Request) {
	hash, err := chain.ParseHash(r.PathValue("hash"))
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad_hash", err.Error())
		return
	}
	raw, rc, err := n.store.Tx(hash)
	if errors.Is(err, store.ErrNotFound) {
		if n.pool.Has(hash) {
			WriteJSON(w, http.StatusOK, TxView{Hash: hash, Status: "pending", Events: []chain.Event{}})
			return
		}
		WriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("transaction %s is neither committed nor pending", hash))
		return
	}
	if err != nil {
		n.fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, txView(raw, rc))
}

// AccountView is GET /v1/accounts/{address}.
type AccountView struct {
	Address chain.Address `json:"address"`
	Balance uint64        `json:"balance"`
	Nonce   uint64        `json:"nonce"`
	// PendingNonce is the nonce the sender's next transaction must carry,
	// counting transactions waiting in this node's mempool.
	PendingNonce uint64 `json:"pending_nonce"`
	Height       uint64 `json:"height"`
}

func (n *Node) handleAccount(w http.ResponseWriter, r *http.Request) {
	addr, err := chain.ParseAddress(r.PathValue("address"))
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad_address", err.Error())
		return
	}
	snap := n.store.Snapshot()
	defer snap.Discard()
	nonce, err := chain.Nonce(snap, addr)
	if err != nil {
		n.fail(w, err)
		return
	}
	h := snap.Header()
	bal, err := n.balance(addr, snap, &h)
	if err != nil {
		n.fail(w, err)
		return
	}
	pending := nonce
	if p, ok := n.pool.NextNonce(addr); ok && p > nonce {
		pending = p
	}
	WriteJSON(w, http.StatusOK, AccountView{Address: addr, Balance: bal, Nonce: nonce,
		PendingNonce: pending, Height: h.Height})
}

// ValidatorsView is GET /v1/validators.
type ValidatorsView struct {
	Height     uint64            `json:"height"`
	Validators []chain.Validator `json:"validators"`
	Quorum     uint64            `json:"quorum"`
	Total      uint64            `json:"total_power"`
	LastCommit *CommitView       `json:"last_commit"`
	// Consensus is the round in progress on this node (networked nodes):
	// proposer, step and the prevotes and precommits received so far.
	Consensus *ConsensusView `json:"consensus,omitempty"`
}

func (n *Node) handleValidators(w http.ResponseWriter, _ *http.Request) {
	vs, err := chain.LoadValidators(n.store)
	if err != nil {
		n.fail(w, err)
		return
	}
	h := n.store.Latest().Height
	v := ValidatorsView{Height: h + 1, Validators: vs.Validators, Quorum: vs.Quorum(), Total: vs.TotalPower()}
	if h > 0 {
		if c, err := n.store.Commit(h); err == nil {
			v.LastCommit = commitView(n.chainID, c)
		}
	}
	if eng := n.engine.Load(); eng != nil {
		v.Consensus = eng.view.Load()
	}
	WriteJSON(w, http.StatusOK, v)
}

func (n *Node) handlePeers(w http.ResponseWriter, _ *http.Request) {
	banned := []string{}
	if n.p2p != nil {
		for _, id := range n.p2p.Banned() {
			banned = append(banned, id.String())
		}
	}
	isolated := n.p2p != nil && n.p2p.Isolated()
	WriteJSON(w, http.StatusOK, map[string]any{"peers": n.peerViews(), "banned": banned, "isolated": isolated})
}

func (n *Node) handleAppQuery(w http.ResponseWriter, r *http.Request) {
	app := r.PathValue("app")
	path := strings.Split(strings.Trim(r.PathValue("path"), "/"), "/")
	args, err := queryArgs(r.URL.RawQuery)
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad_payload", err.Error())
		return
	}
	snap := n.store.Snapshot()
	defer snap.Discard()
	h := snap.Header()
	ans, err := n.queryApp(app, path, args, snap, &h)
	if err != nil {
		n.fail(w, err)
		return
	}
	writeAnswer(w, r, ans)
}

// queryArgs reads a module query's arguments from the raw query string.
// An argument that does not decode, or one given twice, is an error that
// names it, rather than dropped or half read.
func queryArgs(raw string) (map[string]string, error) {
	args := map[string]string{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		name, _, _ := strings.Cut(part, "=")
		if k, err := url.QueryUnescape(name); err == nil {
			name = k
		}
		vals, err := url.ParseQuery(part)
		if err != nil {
			return nil, fmt.Errorf("query argument %q: %v", name, err)
		}
		for k, v := range vals {
			if _, dup := args[k]; dup || len(v) > 1 {
				return nil, fmt.Errorf("query argument %q is given more than once", k)
			}
			args[k] = v[0]
		}
	}
	return args, nil
}

// writeAnswer writes a module's answer: as application/json, or in the
// form an sdk.Negotiator chooses for the request's Accept header.
func writeAnswer(w http.ResponseWriter, r *http.Request, ans any) {
	neg, ok := ans.(sdk.Negotiator)
	if !ok {
		WriteJSON(w, http.StatusOK, ans)
		return
	}
	body, header := neg.Negotiate(r.Header.Get("Accept"), "http://"+r.Host)
	w.Header().Set("Content-Type", "application/json")
	for k, v := range header {
		w.Header().Set(k, v)
	}
	writeIndented(w, http.StatusOK, body)
}

// balance asks the module that keeps balances (sdk.Balances) what addr
// holds; without such a module it is 0.
func (n *Node) balance(addr chain.Address, kv chain.Reader, h *chain.Header) (uint64, error) {
	for _, a := range n.exec.Apps() {
		if b, ok := a.(sdk.Balances); ok {
			return b.Balance(n.queryContext(a.Name(), kv, h), addr)
		}
	}
	return 0, nil
}

// handleApps answers GET /v1/apps: every module in the order of the
// chain, with what it tells the explorer about itself (sdk.Explorer).
func (n *Node) handleApps(w http.ResponseWriter, _ *http.Request) {
	v := AppsView{Apps: []AppView{}}
	for _, a := range n.exec.Apps() {
		av := AppView{Name: a.Name(), Links: []sdk.Link{}}
		if e, ok := a.(sdk.Explorer); ok {
			entry := e.Explorer()
			av.Title = entry.Title
			av.Links = append(av.Links, entry.Links...)
		}
		v.Apps = append(v.Apps, av)
	}
	WriteJSON(w, http.StatusOK, v)
}

func (n *Node) queryContext(name string, kv chain.Reader, h *chain.Header) *chain.QueryContext {
	prove := func(key []byte) (any, error) { return n.store.Prove(h.StateRoot, key) }
	return chain.NewQueryContext(name, n.chainID, h, kv, prove)
}

func (n *Node) queryApp(name string, path []string, args map[string]string, kv chain.Reader, h *chain.Header) (any, error) {
	app, ok := n.exec.App(name)
	if !ok {
		return nil, fmt.Errorf("%w: %q", chain.ErrNotFound, name)
	}
	return app.Query(n.queryContext(name, kv, h), path, args)
}
