package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	libp2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// apiCall is one request of the live check: the documented operation it
// exercises ("GET /v1/blocks/{height}"), the request, and the status it
// must get (0: any status the operation documents).
type apiCall struct {
	op     string
	path   string // with the query string
	body   []byte
	header map[string]string
	status int
}

// liveAPI sends requests to a running node and checks every answer
// against docs/openapi.yaml.
type liveAPI struct {
	t     *testing.T
	d     *apiDoc
	s     *schemaSet
	base  string
	ops   map[string]apiOp
	codes map[string]errorCode
	done  map[string]bool // operations exercised
}

func newLiveAPI(t *testing.T, base string) *liveAPI {
	d := loadOpenAPI(t)
	s, err := newSchemaSet(d)
	if err != nil {
		t.Fatal(err)
	}
	l := &liveAPI{t: t, d: d, s: s, base: base, ops: map[string]apiOp{}, done: map[string]bool{}}
	for _, o := range d.ops() {
		l.ops[o.String()] = o
	}
	l.codes, _ = d.errorCodes(t)
	return l
}

// do sends c and checks its answer; it returns the body.
func (l *liveAPI) do(c apiCall) []byte {
	l.t.Helper()
	o, ok := l.ops[c.op]
	if !ok {
		l.t.Fatalf("%s is not an operation of %s", c.op, openAPIFile)
	}
	l.done[c.op] = true
	method, _, _ := strings.Cut(c.op, " ")
	req, err := http.NewRequest(method, l.base+c.path, bytes.NewReader(c.body))
	if err != nil {
		l.t.Fatal(err)
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, c.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, c.path, err)
	}
	if c.status != 0 && resp.StatusCode != c.status {
		l.t.Errorf("%s %s: %d %s, want %d", method, c.path, resp.StatusCode, clip(body), c.status)
		return body
	}
	if err := l.check(o, resp.StatusCode, resp.Header, body); err != nil {
		l.t.Errorf("%s %s (%s): %v\nanswer: %s\n(if the answer is right, describe it in %s and run make api-docs)",
			method, c.path, o, err, clip(body), openAPIFile)
	}
	return body
}

// check validates one answer of operation o against the document.
func (l *liveAPI) check(o apiOp, status int, h http.Header, body []byte) error {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	ptr, err := l.d.responseSchema(o, status, mt)
	if err != nil {
		return err
	}
	if mt != "application/json" {
		return nil // text, HTML, SVG and profiles: the media type is the contract
	}
	if err := l.s.validate(ptr, body); err != nil {
		return err
	}
	if status >= 400 {
		return l.checkErrorCode(status, body)
	}
	return nil
}

// checkErrorCode checks that an error answer's code is in x-error-codes
// with this status.
func (l *liveAPI) checkErrorCode(status int, body []byte) error {
	var e APIError
	if err := json.Unmarshal(body, &e); err != nil {
		return err
	}
	c, ok := l.codes[e.Error.Code]
	if !ok {
		return fmt.Errorf("error code %q is not in x-error-codes", e.Error.Code)
	}
	if !slices.Contains(c.Status, status) {
		return fmt.Errorf("error code %q came with %d; x-error-codes gives %v", e.Error.Code, status, c.Status)
	}
	return nil
}

// events opens GET /v1/events, makes fire happen, and checks every event
// until it has seen one of each type, against the schemas of the
// operation's x-events.
func (l *liveAPI) events(fire func()) {
	l.t.Helper()
	const op = "GET /v1/events"
	o := l.ops[op]
	l.done[op] = true
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.base+"/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := l.check(o, resp.StatusCode, resp.Header, nil); err != nil || resp.StatusCode != http.StatusOK {
		l.t.Fatalf("GET /v1/events: %d %v", resp.StatusCode, err)
	}
	types := obj(o.op["x-events"])
	seen := map[string]int{}
	r := bufio.NewScanner(resp.Body)
	r.Buffer(make([]byte, 1<<20), 1<<20)
	event := ""
	fire()
	for len(seen) < len(types) && r.Scan() {
		line := r.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if _, ok := types[event]; !ok {
				l.t.Errorf("event %q is not in x-events of %s", event, op)
				continue
			}
			seen[event]++
			if err := l.s.validate(o.ptr+"/x-events/"+event, []byte(strings.TrimPrefix(line, "data: "))); err != nil {
				l.t.Errorf("event %s: %v\n%s", event, err, line)
			}
		}
	}
	if len(seen) < len(types) {
		l.t.Errorf("the stream gave the events %v before it ended (%v); want each of %v", seen, r.Err(), l.d.keys(o.ptr+"/x-events", types))
	}
}

// TestOpenAPIAnswersMatchTheSchemas runs a node of a network (one
// validator, consensus and libp2p on), started as by `citychain devnet`
// with a supervisor, and calls every documented operation, answers and
// errors, each answer checked against docs/openapi.yaml.
func TestOpenAPIAnswersMatchTheSchemas(t *testing.T) {
	sup, _ := fakeDevnet(t, 2)
	n, base := openAPINode(t, &DevnetControl{URL: sup.url, Token: sup.token})
	l := newLiveAPI(t, base)
	chainID := n.ChainID()
	dev0 := chain.AddressOf(DevKey(0).PublicKey()).String()
	dev1 := chain.AddressOf(DevKey(1).PublicKey())
	tx := sendTx(t, DevKey(0), chainID, 0, dev1, 5)

	// Transactions: committed, resent, refused, in a batch.
	l.do(apiCall{op: "POST /v1/txs", path: "/v1/txs?wait=commit&timeout=20s", body: mustJSON(t, tx), status: 200})
	l.do(apiCall{op: "POST /v1/txs", path: "/v1/txs", body: mustJSON(t, tx), status: 202})
	forged := sendTx(t, DevKey(0), chainID, 1, dev1, 5)
	forged.Signature[3] ^= 1
	l.do(apiCall{op: "POST /v1/txs", path: "/v1/txs", body: mustJSON(t, forged), status: 400})
	l.do(apiCall{op: "POST /v1/txs", path: "/v1/txs", body: []byte(`{"chain_id":`), status: 400})
	l.do(apiCall{op: "POST /v1/txs", path: "/v1/txs", body: mustJSON(t, sendTx(t, DevKey(0), chainID, 0, dev1, 6)), status: 409})
	l.do(apiCall{op: "POST /v1/txs", path: "/v1/txs?wait=later", body: mustJSON(t, tx), status: 400})
	batch := []*chain.Tx{sendTx(t, DevKey(0), chainID, 1, dev1, 1), sendTx(t, DevKey(2), "another-chain", 0, dev1, 1)}
	l.do(apiCall{op: "POST /v1/txs", path: "/v1/txs", body: mustJSON(t, batch), status: 200})

	// Blocks and state.
	var receipt struct {
		Height uint64 `json:"height"`
	}
	if err := json.Unmarshal(l.do(apiCall{op: "GET /v1/txs/{hash}", path: "/v1/txs/" + tx.Hash().String(), status: 200}), &receipt); err != nil || receipt.Height == 0 {
		t.Fatalf("the receipt of the first transaction: %+v %v", receipt, err)
	}
	h := fmt.Sprint(receipt.Height)
	l.do(apiCall{op: "GET /v1/txs/{hash}", path: "/v1/txs/xyz", status: 400})
	l.do(apiCall{op: "GET /v1/txs/{hash}", path: "/v1/txs/" + chain.Hash{}.String(), status: 404})
	l.do(apiCall{op: "GET /v1/status", path: "/v1/status", status: 200})
	for _, p := range []string{"latest", "0", "1", h} {
		l.do(apiCall{op: "GET /v1/blocks/{height}", path: "/v1/blocks/" + p, status: 200})
		l.do(apiCall{op: "GET /v1/blocks/{height}/changes", path: "/v1/blocks/" + p + "/changes", status: 200})
	}
	l.do(apiCall{op: "GET /v1/blocks/{height}", path: "/v1/blocks/tall", status: 400})
	l.do(apiCall{op: "GET /v1/blocks/{height}", path: "/v1/blocks/99999999", status: 404})
	l.do(apiCall{op: "GET /v1/blocks/{height}/changes", path: "/v1/blocks/-1/changes", status: 400})
	l.do(apiCall{op: "GET /v1/accounts/{address}", path: "/v1/accounts/" + dev1.String(), status: 200})
	l.do(apiCall{op: "GET /v1/accounts/{address}", path: "/v1/accounts/city1nobody", status: 400})
	l.do(apiCall{op: "GET /v1/validators", path: "/v1/validators", status: 200})

	// Modules: the list, each index, each query that needs no value.
	var apps AppsView
	if err := json.Unmarshal(l.do(apiCall{op: "GET /v1/apps", path: "/v1/apps", status: 200}), &apps); err != nil || len(apps.Apps) == 0 {
		t.Fatalf("GET /v1/apps: %+v %v", apps, err)
	}
	for _, a := range apps.Apps {
		var ix sdk.Index
		if err := json.Unmarshal(l.do(apiCall{op: "GET /v1/apps/{app}/", path: "/v1/apps/" + a.Name + "/", status: 200}), &ix); err != nil {
			t.Fatalf("index of %s: %v", a.Name, err)
		}
		for _, q := range ix.Queries {
			path := strings.ReplaceAll(q.Name, "{address}", dev0)
			if strings.Contains(path, "{") || (a.Name == "bank" && !strings.Contains(q.Name, "{")) {
				continue // needs a value this test does not have; the bank's are below
			}
			op := "GET /v1/apps/{app}/{path}"
			if a.Name == "bank" {
				op = "GET /v1/apps/bank/balance/{address}"
			}
			l.do(apiCall{op: op, path: "/v1/apps/" + a.Name + "/" + path})
		}
	}
	l.do(apiCall{op: "GET /v1/apps/{app}/", path: "/v1/apps/nothing/", status: 404})
	l.do(apiCall{op: "GET /v1/apps/{app}/{path}", path: "/v1/apps/bank/nothing", status: 404})
	l.do(apiCall{op: "GET /v1/apps/bank/supply", path: "/v1/apps/bank/supply", status: 200})
	l.do(apiCall{op: "GET /v1/apps/bank/balance/{address}", path: "/v1/apps/bank/balance/nobody", status: 400})

	// The node. A ban, so that the peers' answer and the metrics show one.
	n.p2p.BanPeer(someoneElse(t), "openapi_test")
	l.do(apiCall{op: "GET /v1/peers", path: "/v1/peers", status: 200})
	l.do(apiCall{op: "GET /v1/events", path: "/v1/events?types=block,nothing", status: 400})
	l.events(func() {
		// The node takes one stream (openAPINode), and this test holds it.
		l.do(apiCall{op: "GET /v1/events", path: "/v1/events", status: 503})
		l.do(apiCall{op: "POST /v1/txs", path: "/v1/txs", body: mustJSON(t, sendTx(t, DevKey(0), chainID, 2, dev1, 1)), status: 202})
	})
	l.metrics(l.do(apiCall{op: "GET /metrics", path: "/metrics", status: 200}))

	// The classroom.
	l.do(apiCall{op: "GET /v1/labs", path: "/v1/labs", status: 200})
	l.do(apiCall{op: "GET /v1/devnet", path: "/v1/devnet", status: 200})
	control := map[string]string{ControlHeader: "1"}
	const act = "POST /v1/devnet/nodes/{name}/{action}"
	l.do(apiCall{op: act, path: "/v1/devnet/nodes/node1/pause", header: control, status: 200})
	l.do(apiCall{op: act, path: "/v1/devnet/nodes/node1/pause", header: control, status: 409})
	l.do(apiCall{op: act, path: "/v1/devnet/nodes/node1/resume", header: control, status: 200})
	l.do(apiCall{op: act, path: "/v1/devnet/nodes/node1/resume", status: 403})
	l.do(apiCall{op: act, path: "/v1/devnet/nodes/node9/stop", header: control, status: 404})
	l.do(apiCall{op: act, path: "/v1/devnet/nodes/node1/dance", header: control, status: 400})
	token := map[string]string{"Authorization": "Bearer " + sup.token}
	l.do(apiCall{op: "POST /v1/devnet/links", path: "/v1/devnet/links", body: []byte(`{"cut": false}`), header: token, status: 200})
	l.do(apiCall{op: "POST /v1/devnet/links", path: "/v1/devnet/links", body: []byte(`{"cut": "yes"}`), header: token, status: 400})
	l.do(apiCall{op: "POST /v1/devnet/links", path: "/v1/devnet/links", body: []byte(`{"cut": true}`), status: 401})

	// The explorer and the profiles.
	l.do(apiCall{op: "GET /", path: "/", status: 200})
	l.do(apiCall{op: "GET /explorer/qr.svg", path: "/explorer/qr.svg?text=" + "http%3A%2F%2F127.0.0.1%3A8700%2F", status: 200})
	l.do(apiCall{op: "GET /explorer/qr.svg", path: "/explorer/qr.svg", status: 400})
	l.do(apiCall{op: "GET /debug/pprof/", path: "/debug/pprof/", status: 200})
	l.do(apiCall{op: "GET /debug/pprof/{profile}", path: "/debug/pprof/heap", status: 200})
	l.do(apiCall{op: "GET /debug/pprof/{profile}", path: "/debug/pprof/goroutine?debug=1", status: 200})
	l.do(apiCall{op: "GET /debug/pprof/{profile}", path: "/debug/pprof/nothing", status: 404})
	l.do(apiCall{op: "GET /debug/pprof/profile", path: "/debug/pprof/profile?seconds=1", status: 200})

	// A path no route takes answers the API's error.
	if err := l.notFound("/v1/nothing"); err != nil {
		t.Error(err)
	}

	for _, o := range l.d.ops() {
		if !l.done[o.String()] {
			t.Errorf("%s is documented but this test never calls it: add a call", o)
		}
	}
}

// metrics checks that the metrics named citychain_... in an answer of
// GET /metrics are those x-metrics documents. This test makes each of
// them count something, so that those with labels appear too.
func (l *liveAPI) metrics(body []byte) {
	l.t.Helper()
	documented := map[string]bool{}
	for _, m := range l.ops["GET /metrics"].op["x-metrics"].([]any) {
		documented[str(obj(m)["name"])] = true
	}
	served := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" && strings.HasPrefix(f[2], "citychain_") {
			served[f[2]] = true
		}
	}
	for name := range documented {
		if !served[name] {
			l.t.Errorf("GET /metrics has no %s, which x-metrics documents", name)
		}
	}
	for name := range served {
		if !documented[name] {
			l.t.Errorf("GET /metrics has %s, which x-metrics does not document", name)
		}
	}
}

// notFound checks the answer to a path that no route takes: 404 with the
// API's error body.
func (l *liveAPI) notFound(path string) error {
	resp, err := http.Get(l.base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
	}
	if err := l.s.validate("/components/schemas/Error", body); err != nil {
		return fmt.Errorf("GET %s: %v", path, err)
	}
	return l.checkErrorCode(resp.StatusCode, body)
}

// openAPINode starts a one-validator network node in a temporary home,
// with libp2p on 127.0.0.1, the profiles served and control as its devnet
// supervisor.
func openAPINode(t *testing.T, control *DevnetControl) (*Node, string) {
	t.Helper()
	home := t.TempDir()
	if _, err := InitDevHome(home, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.API.Listen = "127.0.0.1:0"
	cfg.API.Pprof = true
	cfg.API.MaxEventStreams = 1
	cfg.P2P.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.P2P.MDNS, cfg.P2P.DHT = false, false
	n, err := New(Options{Home: home, Config: cfg, Logger: discardLogger(), Network: true, Control: control})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	return n, "http://" + n.APIAddr()
}

// someoneElse returns the peer id of a new libp2p key.
func someoneElse(t *testing.T) peer.ID {
	_, pub, err := libp2pcrypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func clip(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "..."
	}
	return string(b)
}

// TestOpenAPIAgainstARunningNode checks the read routes of a node that
// runs elsewhere, such as node0 of `citychain devnet`, against the
// document: CITYCHAIN_OPENAPI_NODE=http://127.0.0.1:8700 go test ./node
// -run TestOpenAPIAgainstARunningNode. Without the variable it skips.
func TestOpenAPIAgainstARunningNode(t *testing.T) {
	base := os.Getenv("CITYCHAIN_OPENAPI_NODE")
	if base == "" {
		t.Skip("set CITYCHAIN_OPENAPI_NODE to a node's API URL to check it")
	}
	l := newLiveAPI(t, strings.TrimRight(base, "/"))
	dev0 := chain.AddressOf(DevKey(0).PublicKey()).String()
	for _, c := range []apiCall{
		{op: "GET /v1/status", path: "/v1/status"},
		{op: "GET /v1/blocks/{height}", path: "/v1/blocks/latest"},
		{op: "GET /v1/blocks/{height}/changes", path: "/v1/blocks/latest/changes"},
		{op: "GET /v1/accounts/{address}", path: "/v1/accounts/" + dev0},
		{op: "GET /v1/validators", path: "/v1/validators"},
		{op: "GET /v1/peers", path: "/v1/peers"},
		{op: "GET /v1/apps", path: "/v1/apps"},
		{op: "GET /v1/apps/bank/supply", path: "/v1/apps/bank/supply"},
		{op: "GET /v1/labs", path: "/v1/labs"},
		{op: "GET /v1/devnet", path: "/v1/devnet"},
		{op: "GET /metrics", path: "/metrics"},
	} {
		l.do(c)
	}
}
