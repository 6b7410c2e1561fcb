package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/citychain/citychain/node/labs"
)

// LabsView is GET /v1/labs: every lab with each step's state on this
// chain, in English and Chinese, for the explorer's Labs page. Steps that
// need the student's side (a keystore, an answer, a file) are "local":
// `citychain lab check N` checks them.
type LabsView struct {
	Height uint64         `json:"height"`
	Labs   []*labs.Report `json:"labs"`
}

// labsHandler returns the handler of GET /v1/labs. The labs read the
// chain through the same API paths a student's client uses, answered
// here in process (labAPI); what they learnt of past blocks is kept
// between requests, and the answer is computed once per height, since
// only a new block can change it.
func (n *Node) labsHandler() http.HandlerFunc {
	api := n.labAPI()
	var dev []string
	for _, a := range DevAccounts() {
		dev = append(dev, a.Address.String())
	}
	hist := labs.NewHistory(dev)
	var (
		mu     sync.Mutex
		cached *LabsView
	)
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		h := n.store.Latest().Height
		if cached == nil || cached.Height != h {
			env := &labs.Env{Chain: api, Dev: dev, History: hist}
			v := &LabsView{Height: h, Labs: []*labs.Report{}}
			for _, l := range labs.All() {
				rep, err := l.Check(r.Context(), env)
				if err != nil {
					n.fail(w, fmt.Errorf("lab %d: %w", l.Number, err))
					return
				}
				v.Labs = append(v.Labs, rep)
			}
			cached = v
		}
		WriteJSON(w, http.StatusOK, cached)
	}
}

// labAPI serves the read routes the labs use, in process and outside
// the API's guard: the labs' requests are part of one request that the
// guard already admitted.
func (n *Node) labAPI() labs.Chain {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", n.handleStatus)
	mux.HandleFunc("GET /v1/blocks/{height}", n.handleBlock)
	mux.HandleFunc("GET /v1/txs/{hash}", n.handleTx)
	mux.HandleFunc("GET /v1/accounts/{address}", n.handleAccount)
	mux.HandleFunc("GET /v1/validators", n.handleValidators)
	mux.HandleFunc("GET /v1/apps", n.handleLabApps)
	mux.HandleFunc("GET /v1/apps/{app}/{path...}", n.handleAppQuery)
	return labAPI{mux}
}

// handleLabApps answers the labs' GET /v1/apps: the names of the
// modules this node runs, in the shape {"apps": [{"name": ...}]}.
func (n *Node) handleLabApps(w http.ResponseWriter, _ *http.Request) {
	type app struct {
		Name string `json:"name"`
	}
	out := struct {
		Apps []app `json:"apps"`
	}{Apps: []app{}}
	for _, a := range n.exec.Apps() {
		out.Apps = append(out.Apps, app{Name: a.Name()})
	}
	WriteJSON(w, http.StatusOK, out)
}

// labAPI is labs.Chain answered by handlers in process.
type labAPI struct{ h http.Handler }

func (l labAPI) Get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	rec := &labRecorder{header: http.Header{}, code: http.StatusOK}
	l.h.ServeHTTP(rec, req)
	if rec.code >= 400 {
		var e APIError
		msg := rec.body.String()
		if json.Unmarshal(rec.body.Bytes(), &e) == nil && e.Error.Message != "" {
			msg = e.Error.Message
		}
		if rec.code == http.StatusNotFound {
			return fmt.Errorf("%w: %s", labs.ErrNotFound, msg)
		}
		return fmt.Errorf("GET %s: %d %s", path, rec.code, msg)
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = append((*raw)[:0], rec.body.Bytes()...)
		return nil
	}
	if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
		return fmt.Errorf("decode answer of %s: %w", path, err)
	}
	return nil
}

// labRecorder keeps an in-process answer.
type labRecorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *labRecorder) Header() http.Header         { return r.header }
func (r *labRecorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *labRecorder) WriteHeader(code int)        { r.code = code }
