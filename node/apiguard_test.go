package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// guardOnly returns the guard of cfg in front of a handler that answers
// 200, with a clock the test moves.
func guardOnly(cfg APIConfig) (*apiGuard, http.Handler, *time.Time) {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refused"}, []string{"code"})
	g := newAPIGuard(cfg, refused)
	now := time.Unix(1_700_000_000, 0)
	g.now = func() time.Time { return now }
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	return g, g.front(g.bound(ok)), &now
}

func getFrom(h http.Handler, remote string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/v1/status", nil)
	r.RemoteAddr = remote
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// A client over its rate is answered 429 with Retry-After and the API's
// error body; another client is not affected; the bucket refills with
// time. Loopback clients are exempt unless limit_loopback is set,
// and the addresses of one IPv6 /64 share a bucket.
func TestClientOverItsRateIsAnswered429(t *testing.T) {
	cfg := DefaultConfig("", 0).API
	cfg.ClientRate, cfg.ClientBurst = 2, 3
	g, h, now := guardOnly(cfg)

	for i := range 3 {
		if w := getFrom(h, "192.0.2.1:1000"); w.Code != http.StatusOK {
			t.Fatalf("request %d of a burst of 3: %d", i+1, w.Code)
		}
	}
	w := getFrom(h, "192.0.2.1:1001")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("the 4th request of a burst of 3: %d, want 429", w.Code)
	}
	if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q, want a whole number of seconds", w.Header().Get("Retry-After"))
	}
	if code := errCode(t, w); code != "rate_limited" {
		t.Errorf("error code %q, want rate_limited", code)
	}
	if !strings.Contains(w.Body.String(), "api.client_rate") {
		t.Errorf("the message does not name the setting: %s", w.Body)
	}
	if got := testutil.ToFloat64(g.refused.WithLabelValues("rate_limited")); got != 1 {
		t.Errorf("refusals counted: %v, want 1", got)
	}
	if w := getFrom(h, "192.0.2.2:1000"); w.Code != http.StatusOK {
		t.Errorf("another client: %d, want 200", w.Code)
	}
	*now = now.Add(500 * time.Millisecond) // one token at 2 a second
	if w := getFrom(h, "192.0.2.1:1002"); w.Code != http.StatusOK {
		t.Errorf("after half a second: %d, want 200", w.Code)
	}
	if w := getFrom(h, "192.0.2.1:1002"); w.Code != http.StatusTooManyRequests {
		t.Errorf("a second request after half a second: %d, want 429", w.Code)
	}

	for i := range 10 {
		if w := getFrom(h, "127.0.0.1:1000"); w.Code != http.StatusOK {
			t.Fatalf("loopback request %d: %d; loopback is exempt by default", i+1, w.Code)
		}
	}
	for i := range 4 {
		getFrom(h, fmt.Sprintf("[2001:db8:1:2::%x]:80", i+1))
	}
	if w := getFrom(h, "[2001:db8:1:2:ffff::1]:80"); w.Code != http.StatusTooManyRequests {
		t.Errorf("a fifth address of one IPv6 /64: %d, want 429", w.Code)
	}

	cfg.LimitLoopback = true
	_, h, _ = guardOnly(cfg)
	codes := []int{}
	for range 4 {
		codes = append(codes, getFrom(h, "127.0.0.1:1000").Code)
	}
	if codes[3] != http.StatusTooManyRequests {
		t.Errorf("loopback with limit_loopback: %v, want the 4th refused", codes)
	}

	cfg.ClientRate = 0
	_, h, _ = guardOnly(cfg)
	for i := range 100 {
		if w := getFrom(h, "192.0.2.1:1000"); w.Code != http.StatusOK {
			t.Fatalf("client_rate 0, request %d: %d", i+1, w.Code)
		}
	}
}

// Beyond max_in_flight requests being handled, the next is answered 503
// at once, and is served again when a slot frees.
func TestBusyNodeAnswers503AtOnce(t *testing.T) {
	cfg := DefaultConfig("", 0).API
	cfg.MaxInFlight = 2
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refused"}, []string{"code"})
	g := newAPIGuard(cfg, refused)
	release := make(chan struct{})
	var entered sync.WaitGroup
	slow := g.bound(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("hold") != "" {
			entered.Done()
			<-release
		}
		w.WriteHeader(http.StatusOK)
	}))
	var held sync.WaitGroup
	for range 2 {
		entered.Add(1)
		held.Add(1)
		go func() {
			defer held.Done()
			slow.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/?hold=1", nil))
		}()
	}
	entered.Wait()
	start := time.Now()
	w := httptest.NewRecorder()
	slow.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusServiceUnavailable || errCode(t, w) != "busy" {
		t.Fatalf("a third request with two in flight: %d %s, want 503 busy", w.Code, w.Body)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the refusal took %s; it should not wait", took)
	}
	if w.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	close(release)
	held.Wait()
	w = httptest.NewRecorder()
	slow.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusOK {
		t.Errorf("after the two finished: %d, want 200", w.Code)
	}
}

// guardedNode is a dev node whose API settings edit changes, serving its
// routes on 127.0.0.1 through the guard's listener and server, without
// block production: the tests publish events and pool transactions by
// hand. It returns the node and the API's base URL.
func guardedNode(t *testing.T, edit func(*APIConfig)) (*Node, string) {
	t.Helper()
	home := t.TempDir()
	if _, err := InitDevHome(home, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	edit(&cfg.API)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n, err := New(Options{Home: home, Config: cfg, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := n.guard.server(n.routes())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(n.guard.listener(ln))
	}()
	t.Cleanup(func() {
		n.quitOnce.Do(func() { close(n.quit) })
		_ = srv.Close()
		<-done
		n.Stop()
	})
	return n, "http://" + ln.Addr().String()
}

// shortTimeouts makes every API timeout 300ms.
func shortTimeouts(c *APIConfig) {
	d := Duration{300 * time.Millisecond}
	c.ReadHeaderTimeout, c.ReadTimeout, c.WriteTimeout, c.IdleTimeout = d, d, d, d
}

// At most max_event_streams streams are open; the next is answered 503.
// An open stream outlives the read and write timeouts, since it moves
// its write deadline for every event, and a closed one frees its place.
func TestEventStreamsAreCappedAndOutliveTheTimeouts(t *testing.T) {
	n, base := guardedNode(t, func(c *APIConfig) {
		shortTimeouts(c)
		c.MaxEventStreams = 2
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func() (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/events?types=block", nil)
		return http.DefaultClient.Do(req)
	}
	var streams []*bufio.Reader
	var first *http.Response
	for i := range 2 {
		resp, err := open()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: %d", i+1, resp.StatusCode)
		}
		if first == nil {
			first = resp
		}
		streams = append(streams, bufio.NewReader(resp.Body))
	}
	resp, err := open()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !bytes.Contains(body, []byte(`"too_many_streams"`)) ||
		!bytes.Contains(body, []byte("api.max_event_streams")) {
		t.Fatalf("a third stream: %d %s, want 503 too_many_streams naming the setting", resp.StatusCode, body)
	}

	time.Sleep(time.Second) // past every timeout of 300ms
	n.bus.Publish(EventBlock, map[string]int{"height": 7})
	for i, s := range streams {
		got := make(chan string, 1)
		go func() {
			for {
				l, err := s.ReadString('\n')
				if err != nil {
					got <- "error: " + err.Error()
					return
				}
				if strings.HasPrefix(l, "data: ") {
					got <- l
					return
				}
			}
		}()
		select {
		case l := <-got:
			if !strings.Contains(l, `"height":7`) {
				t.Fatalf("stream %d, a second after it opened: %q, want the block event", i+1, l)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("stream %d got no event", i+1)
		}
	}

	first.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for n.guard.streams.Load() != 1 && time.Now().Before(deadline) {
		n.bus.Publish(EventBlock, map[string]int{"height": 8}) // the write that finds the stream closed
		time.Sleep(50 * time.Millisecond)
	}
	resp, err = open()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a stream after one closed: %d, want 200", resp.StatusCode)
	}
}

// POST /v1/txs?wait=commit waits longer than the read and write
// timeouts: it answers 504 wait_timeout after its own timeout, not a
// closed connection after the server's.
func TestWaitForCommitOutlivesTheTimeouts(t *testing.T) {
	n, base := guardedNode(t, shortTimeouts)
	tx := sendTx(t, DevKey(2), n.ChainID(), 0, DevAccounts()[9].Address, 1)
	start := time.Now()
	resp, err := http.Post(base+"/v1/txs?wait=commit&timeout=1500ms", "application/json", bytes.NewReader(mustJSON(t, tx)))
	if err != nil {
		t.Fatalf("after %s: %v", time.Since(start), err)
	}
	defer resp.Body.Close()
	var e APIError
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusGatewayTimeout || e.Error.Code != "wait_timeout" {
		t.Fatalf("after %s: %d %q, want 504 wait_timeout (no block producer runs)", time.Since(start), resp.StatusCode, body)
	}
	if took := time.Since(start); took < 1400*time.Millisecond {
		t.Errorf("answered after %s, before the wait of 1.5s", took)
	}
}

// The listener serves max_connections connections at once; the next is
// served when one of them closes.
func TestConnectionsBeyondTheLimitWait(t *testing.T) {
	_, base := guardedNode(t, func(c *APIConfig) { c.MaxConnections = 2 })
	addr := strings.TrimPrefix(base, "http://")
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	// The listener has accepted both once a request on a third waits.
	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if _, err := fmt.Fprintf(third, "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	answer := make(chan string, 1)
	go func() {
		l, err := bufio.NewReader(third).ReadString('\n')
		if err != nil {
			l = "error: " + err.Error()
		}
		answer <- l
	}()
	select {
	case l := <-answer:
		t.Fatalf("a third connection was served with two open and a limit of 2: %q", l)
	case <-time.After(500 * time.Millisecond):
	}
	idle[0].Close()
	select {
	case l := <-answer:
		if !strings.HasPrefix(l, "HTTP/1.1 200") {
			t.Fatalf("the third connection, once one closed: %q", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the third connection was not served after one closed")
	}
}

// CORS is off by default: no page of another origin may read an answer.
// With cors_origins set, the origins named may, for GET and POST with a
// JSON body, and never with the devnet's control header.
func TestCORSOnlyForConfiguredOrigins(t *testing.T) {
	preflight := func(h http.Handler, origin, header string) *httptest.ResponseRecorder {
		r := local(httptest.NewRequest(http.MethodOptions, "/v1/txs", nil))
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", http.MethodPost)
		r.Header.Set("Access-Control-Request-Headers", header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	get := func(h http.Handler, origin string) *httptest.ResponseRecorder {
		r := local(httptest.NewRequest(http.MethodGet, "/v1/status", nil))
		r.Header.Set("Origin", origin)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	const allowed = "Access-Control-Allow-Origin"

	off := idleDevNode(t, 100).routes()
	if w := get(off, "http://elsewhere.example"); w.Code != http.StatusOK || w.Header().Get(allowed) != "" {
		t.Errorf("default, GET from another origin: %d, %s %q", w.Code, allowed, w.Header().Get(allowed))
	}
	if w := preflight(off, "http://elsewhere.example", "content-type"); w.Header().Get(allowed) != "" || w.Code < 400 {
		t.Errorf("default, preflight: %d, %s %q; want it refused", w.Code, allowed, w.Header().Get(allowed))
	}

	n := idleDevNode(t, 100)
	n.cfg.API.CORSOrigins = []string{"http://localhost:3000"}
	n.guard = newAPIGuard(n.cfg.API, n.metrics.apiRefused)
	on := n.routes()
	if w := get(on, "http://localhost:3000"); w.Header().Get(allowed) != "http://localhost:3000" {
		t.Errorf("configured origin, GET: %s %q", allowed, w.Header().Get(allowed))
	}
	if w := get(on, "http://elsewhere.example"); w.Header().Get(allowed) != "" {
		t.Errorf("another origin, GET: %s %q", allowed, w.Header().Get(allowed))
	}
	if w := preflight(on, "http://localhost:3000", "content-type"); w.Code/100 != 2 || w.Header().Get(allowed) != "http://localhost:3000" {
		t.Errorf("configured origin, preflight of a JSON POST: %d, %s %q", w.Code, allowed, w.Header().Get(allowed))
	}
	w := preflight(on, "http://localhost:3000", strings.ToLower(ControlHeader))
	if w.Header().Get(allowed) != "" || strings.Contains(strings.ToLower(w.Header().Get("Access-Control-Allow-Headers")), strings.ToLower(ControlHeader)) {
		t.Errorf("configured origin, preflight with the devnet control header: %d %v; want it refused", w.Code, w.Header())
	}
}

// The node warns when its API listens beyond loopback, and not otherwise.
func TestWarningWhenTheAPIListensBeyondLoopback(t *testing.T) {
	cases := []struct {
		addr string
		warn bool
	}{
		{"127.0.0.1:8700", false},
		{"127.0.0.2:8700", false},
		{"[::1]:8700", false},
		{"0.0.0.0:8700", true},
		{"[::]:8700", true},
		{"192.168.1.20:8700", true},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			a, err := net.ResolveTCPAddr("tcp", c.addr)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			n := &Node{cfg: DefaultConfig("", 0), log: slog.New(slog.NewTextHandler(&buf, nil))}
			n.warnIfExposed(a)
			warned := strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "listens beyond this machine")
			if warned != c.warn {
				t.Errorf("warned %v, want %v: %q", warned, c.warn, buf.String())
			}
		})
	}
	if got := DefaultConfig("", 8700).API.Listen; got != "127.0.0.1:8700" {
		t.Errorf("default api.listen %q, want 127.0.0.1:8700", got)
	}
	if DefaultConfig("", 8700).API.Pprof {
		t.Error("pprof is on by default")
	}
}

// Every bad API setting is refused with an error that names its key.
func TestValidateRefusesBadAPISettings(t *testing.T) {
	cases := []struct {
		key  string
		edit func(*APIConfig)
	}{
		{"api.listen", func(c *APIConfig) { c.Listen = "8700" }},
		{"api.read_header_timeout", func(c *APIConfig) { c.ReadHeaderTimeout = Duration{0} }},
		{"api.read_timeout", func(c *APIConfig) { c.ReadTimeout = Duration{time.Second} }},
		{"api.write_timeout", func(c *APIConfig) { c.WriteTimeout = Duration{2 * time.Hour} }},
		{"api.idle_timeout", func(c *APIConfig) { c.IdleTimeout = Duration{time.Millisecond} }},
		{"api.max_connections", func(c *APIConfig) { c.MaxConnections = 0 }},
		{"api.client_connections", func(c *APIConfig) { c.ClientConnections = 0 }},
		{"api.max_in_flight", func(c *APIConfig) { c.MaxInFlight = -1 }},
		{"api.max_event_streams", func(c *APIConfig) { c.MaxEventStreams = 0 }},
		{"api.client_rate", func(c *APIConfig) { c.ClientRate = -5 }},
		{"api.client_burst", func(c *APIConfig) { c.ClientBurst = 0 }},
		{"api.cors_origins", func(c *APIConfig) { c.CORSOrigins = []string{"localhost:3000"} }},
		{"api.cors_origins", func(c *APIConfig) { c.CORSOrigins = []string{"http://a.example/path"} }},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			cfg := DefaultConfig("", 8700)
			c.edit(&cfg.API)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), c.key) {
				t.Fatalf("error %v, want one naming %s", err, c.key)
			}
		})
	}
	ok := DefaultConfig("", 8700)
	ok.API.CORSOrigins = []string{"*", "https://wallet.example:8443"}
	ok.API.ClientRate, ok.API.ClientBurst = 0, 0
	if err := ok.Validate(); err != nil {
		t.Errorf("valid settings refused: %v", err)
	}
}

// A config.toml without the API's limits takes their defaults.
func TestOldConfigTakesAPIDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte("[api]\nlisten = '127.0.0.1:8800'\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := defaultAPIConfig("127.0.0.1:8800")
	if fmt.Sprint(cfg.API) != fmt.Sprint(want) {
		t.Errorf("api %+v, want %+v", cfg.API, want)
	}
}

// A new home's config.toml has every API setting, each with its comment.
func TestSavedConfigExplainsTheAPISettings(t *testing.T) {
	b, err := toml.Marshal(DefaultConfig("n", 8700))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for _, key := range []string{"read_header_timeout", "read_timeout", "write_timeout", "idle_timeout",
		"max_connections", "client_connections", "max_in_flight", "max_event_streams", "client_rate", "client_burst",
		"limit_loopback", "cors_origins"} {
		found := false
		for i, l := range lines {
			if strings.HasPrefix(l, key+" = ") {
				found = true
				if i == 0 || !strings.HasPrefix(lines[i-1], "# ") {
					t.Errorf("%s has no comment", key)
				}
			}
		}
		if !found {
			t.Errorf("%s missing from config.toml", key)
		}
	}
}

// dialFrom opens a connection to addr from the loopback address ip.
func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// statusOn asks GET /v1/status on c and returns the status line, or the
// read error.
func statusOn(c net.Conn) string {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(c, "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return "error: " + err.Error()
	}
	l, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(l)
}

// A client address holds at most client_connections at once: one more is
// closed at once, other clients are served, and a closed connection
// gives its place back. Loopback clients are exempt unless
// limit_loopback is set.
func TestOneClientsConnectionsAreBounded(t *testing.T) {
	n, base := guardedNode(t, func(c *APIConfig) {
		c.ClientConnections, c.LimitLoopback = 2, true
	})
	addr := strings.TrimPrefix(base, "http://")
	held := []net.Conn{dialFrom(t, "127.0.0.2", addr), dialFrom(t, "127.0.0.2", addr)}
	for i, c := range held {
		if l := statusOn(c); !strings.HasPrefix(l, "HTTP/1.1 200") {
			t.Fatalf("connection %d of 2: %q", i+1, l)
		}
	}
	if l := statusOn(dialFrom(t, "127.0.0.2", addr)); !strings.HasPrefix(l, "error: ") {
		t.Fatalf("a third connection from the same address: %q, want it closed", l)
	}
	if l := statusOn(dialFrom(t, "127.0.0.3", addr)); !strings.HasPrefix(l, "HTTP/1.1 200") {
		t.Fatalf("another address meanwhile: %q", l)
	}
	if got := testutil.ToFloat64(n.metrics.apiRefused.WithLabelValues("client_connections")); got != 1 {
		t.Errorf("refused connections counted: %v, want 1", got)
	}
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l := statusOn(dialFrom(t, "127.0.0.2", addr))
		if strings.HasPrefix(l, "HTTP/1.1 200") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after one of its two closed, a new connection from the address: %q", l)
		}
		time.Sleep(50 * time.Millisecond) // the node may not have seen the close yet
	}

	_, base = guardedNode(t, func(c *APIConfig) { c.ClientConnections = 2 })
	addr = strings.TrimPrefix(base, "http://")
	for i := range 4 {
		if l := statusOn(dialFrom(t, "127.0.0.2", addr)); !strings.HasPrefix(l, "HTTP/1.1 200") {
			t.Fatalf("loopback connection %d with a limit of 2 and limit_loopback off: %q", i+1, l)
		}
	}
}

// Every API answer says that its type is to be believed: JSON, CBOR, an
// error, a refusal by the per-client limit alike.
func TestEveryAnswerForbidsSniffing(t *testing.T) {
	h := idleDevNode(t, 100).routes()
	for _, c := range []struct{ method, path, accept string }{
		{http.MethodGet, "/v1/status", ""},
		{http.MethodGet, "/v1/blocks/1", "application/cbor"},
		{http.MethodGet, "/v1/blocks/999999", ""},
		{http.MethodPost, "/v1/txs", ""},
		{http.MethodGet, "/no/such/route", ""},
	} {
		r := local(httptest.NewRequest(c.method, c.path, nil))
		if c.accept != "" {
			r.Header.Set("Accept", c.accept)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s (%d): X-Content-Type-Options %q, want nosniff", c.method, c.path, w.Code, got)
		}
	}
}
