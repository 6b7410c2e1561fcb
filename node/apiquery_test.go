package node

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/sdk"
)

// TestAppQueryNegotiatesTheMediaType checks how a module's answer goes
// on the wire: plain answers as application/json whatever is asked; a
// JSON-LD answer (sdk.LinkedData) as application/ld+json with its
// @context to a client that asks for it, else as application/json with
// the context in a Link header; a context document always as JSON-LD.
func TestAppQueryNegotiatesTheMediaType(t *testing.T) {
	doc := sdk.Document(map[string]any{"@context": []string{"https://example.org/core.jsonld", "/v1/apps/m/context/a.jsonld"}, "id": "urn:x:1"})
	ctxDoc := sdk.Typed{MediaType: sdk.MediaJSONLD, Body: map[string]any{"@context": map[string]any{"a": "https://example.org/a"}}}
	cases := []struct {
		name   string
		ans    any
		accept string
		ctype  string
		link   string
		body   []string // substrings of the body
		absent string
	}{
		{"a plain answer", map[string]int{"height": 3}, "application/ld+json", "application/json", "", []string{`"height": 3`}, ""},
		{"JSON-LD asked for", doc, "application/ld+json", "application/ld+json", "",
			[]string{`"https://example.org/core.jsonld"`, `"http://node.test:8080/v1/apps/m/context/a.jsonld"`, `"id": "urn:x:1"`}, ""},
		{"no Accept header", doc, "", "application/json",
			`<http://node.test:8080/v1/apps/m/context/a.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`,
			[]string{`"id": "urn:x:1"`}, "@context"},
		{"a browser", doc, "text/html,*/*;q=0.8", "application/json", `<http://node.test:8080/v1/apps/m/context/a.jsonld>`, nil, "@context"},
		{"a context document", ctxDoc, "application/json", "application/ld+json", "", []string{`"a": "https://example.org/a"`}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://node.test:8080/v1/apps/m/x", nil)
			if tc.accept != "" {
				r.Header.Set("Accept", tc.accept)
			}
			w := httptest.NewRecorder()
			writeAnswer(w, r, tc.ans)
			body := w.Body.String()
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != tc.ctype {
				t.Errorf("%d %q, want 200 %q", w.Code, w.Header().Get("Content-Type"), tc.ctype)
			}
			if link := w.Header().Get("Link"); !strings.HasPrefix(link, tc.link) || (tc.link == "") != (link == "") {
				t.Errorf("Link %q, want %q", link, tc.link)
			}
			for _, want := range tc.body {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %s:\n%s", want, body)
				}
			}
			if tc.absent != "" && strings.Contains(body, tc.absent) {
				t.Errorf("body has %s:\n%s", tc.absent, body)
			}
		})
	}
}

// TestAppQueryRefusesArgumentsItCannotRead checks that a module query's
// arguments are read whole: one that does not decode, or one given twice,
// is answered 400 with a message naming it, never dropped or half kept.
func TestAppQueryRefusesArgumentsItCannotRead(t *testing.T) {
	_, url := testNode(t)
	cases := []struct {
		query  string
		status int
		says   string
	}{
		{"limit=5", http.StatusOK, ""},
		{"limit=5&&prefix=", http.StatusOK, ""},
		{"limit=%zz", http.StatusBadRequest, `query argument "limit": invalid URL escape "%zz"`},
		{"limit=5&limit=9999", http.StatusBadRequest, `query argument "limit" is given more than once`},
		{"limit=5&limit=5", http.StatusBadRequest, `"limit" is given more than once`},
		{"li%zzmit=5", http.StatusBadRequest, `query argument "li%zzmit"`},
		{"prefix=a;limit=3", http.StatusBadRequest, `query argument "prefix": invalid semicolon separator`},
		{"limit=9999", http.StatusBadRequest, "limit"},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			resp, err := http.Get(url + "/v1/apps/city/devices?" + c.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e APIError
			_ = json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d (%+v), want %d", resp.StatusCode, e.Error, c.status)
			}
			if c.status == http.StatusOK {
				return
			}
			if e.Error.Code != "bad_payload" || !strings.Contains(e.Error.Message, c.says) {
				t.Errorf("error %+v, want bad_payload saying %q", e.Error, c.says)
			}
		})
	}
}
