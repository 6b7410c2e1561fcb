package node

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A node that no supervisor started refuses the classroom controls, and
// one that has a supervisor passes only its own page's requests on, with
// the supervisor's token.
func TestDevnetControlsAreRefusedWithoutASupervisor(t *testing.T) {
	n := &Node{metrics: newMetrics(func() float64 { return 0 })}
	n.guard = newAPIGuard(DefaultConfig("", 0).API, n.metrics.apiRefused)
	for _, r := range []*http.Request{
		local(httptest.NewRequest(http.MethodGet, "/v1/devnet", nil)),
		controlRequest("node1", "stop", ""),
		httptest.NewRequest(http.MethodPost, "/v1/devnet/links", strings.NewReader(`{"cut":true}`)),
	} {
		w := httptest.NewRecorder()
		n.routes().ServeHTTP(w, r)
		if w.Code != http.StatusNotFound || errCode(t, w) != "not_devnet" {
			t.Errorf("%s %s without a supervisor: %d %s, want 404 not_devnet", r.Method, r.URL.Path, w.Code, w.Body)
		}
	}
}

func TestDevnetControlsGoToTheSupervisorWithItsToken(t *testing.T) {
	var got []string
	sup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte(`{"error":{"code":"conflict","message":"node1 is already stopped"}}`))
	}))
	defer sup.Close()
	n := &Node{control: &DevnetControl{URL: sup.URL, Token: "s3cret"}, metrics: newMetrics(func() float64 { return 0 })}
	n.guard = newAPIGuard(DefaultConfig("", 0).API, n.metrics.apiRefused)

	cases := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"no control header", func() *http.Request {
			r := controlRequest("node1", "stop", "")
			r.Header.Del(ControlHeader)
			return r
		}(), http.StatusForbidden, "forbidden"},
		{"another origin", controlRequest("node1", "stop", "http://evil.example"), http.StatusForbidden, "forbidden"},
		{"own page", controlRequest("node1", "stop", "http://127.0.0.1:8700"), http.StatusConflict, "conflict"},
		{"opaque origin", controlRequest("node1", "stop", "null"), http.StatusForbidden, "forbidden"},
		{"DNS rebinding", func() *http.Request {
			r := controlRequest("node1", "stop", "http://attacker.example:8700")
			r.Host = "attacker.example:8700"
			return r
		}(), http.StatusForbidden, "forbidden"},
		{"from another machine", func() *http.Request {
			r := controlRequest("node1", "stop", "")
			r.RemoteAddr = "192.0.2.7:40000"
			return r
		}(), http.StatusForbidden, "forbidden"},
		{"status read through a rebound name", func() *http.Request {
			r := local(httptest.NewRequest(http.MethodGet, "/v1/devnet", nil))
			r.Host = "attacker.example:8700"
			return r
		}(), http.StatusForbidden, "forbidden"},
		{"no origin (a tool)", controlRequest("node1", "stop", ""), http.StatusConflict, "conflict"},
		{"links without token", httptest.NewRequest(http.MethodPost, "/v1/devnet/links", strings.NewReader(`{"cut":true}`)), http.StatusUnauthorized, "unauthorized"},
		{"links with a wrong token", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/v1/devnet/links", strings.NewReader(`{"cut":true}`))
			r.Header.Set("Authorization", "Bearer s3creT")
			return r
		}(), http.StatusUnauthorized, "unauthorized"},
		{"links on a node without libp2p", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/v1/devnet/links", strings.NewReader(`{"cut":true}`))
			r.Header.Set("Authorization", "Bearer s3cret")
			return r
		}(), http.StatusConflict, "no_network"},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		n.routes().ServeHTTP(w, c.req)
		if w.Code != c.status || errCode(t, w) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, w.Code, w.Body, c.status, c.code)
		}
	}
	want := []string{"POST /v1/devnet/nodes/node1/stop Bearer s3cret", "POST /v1/devnet/nodes/node1/stop Bearer s3cret"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("the supervisor saw %q, want %q", got, want)
	}

	sup.Close()
	w := httptest.NewRecorder()
	n.routes().ServeHTTP(w, local(httptest.NewRequest(http.MethodGet, "/v1/devnet", nil)))
	if w.Code != http.StatusBadGateway || errCode(t, w) != "supervisor_unreachable" {
		t.Errorf("with the supervisor gone: %d %s, want 502 supervisor_unreachable", w.Code, w.Body)
	}
}

func controlRequest(name, action, origin string) *http.Request {
	r := local(httptest.NewRequest(http.MethodPost, "/v1/devnet/nodes/"+name+"/"+action, nil))
	r.Header.Set(ControlHeader, "1")
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	return r
}

// local makes r come from this machine to its explorer at 127.0.0.1:8700.
func local(r *http.Request) *http.Request {
	r.RemoteAddr, r.Host = "127.0.0.1:50123", "127.0.0.1:8700"
	return r
}

func errCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var e APIError
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("answer %q is not an error body: %v", w.Body, err)
	}
	return e.Error.Code
}
