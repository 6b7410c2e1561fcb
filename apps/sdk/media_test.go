package sdk_test

import (
	"encoding/json"
	"testing"

	"github.com/citychain/citychain/apps/sdk"
)

func TestPrefersReadsTheAcceptHeader(t *testing.T) {
	cases := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"application/ld+json", true},
		{"Application/LD+JSON; charset=utf-8", true},
		{"application/json, application/ld+json", true},
		{"application/ld+json;q=0.5, application/json", false},
		{"application/ld+json, application/json;q=0.9", true},
		{"application/ld+json;q=0", false},
		{"application/ld+json;q=0.8, */*;q=0.1", true},
		{"application/ld+json;q=0.8, application/*", false},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
		{"application/ld+json;q=oops", true},
	}
	for _, tc := range cases {
		if got := sdk.Prefers(tc.accept, sdk.MediaJSONLD); got != tc.want {
			t.Errorf("Prefers(%q) = %v, want %v", tc.accept, got, tc.want)
		}
	}
}

func TestLinkedDataIsJSONLDOrJSONWithALink(t *testing.T) {
	doc := func(ctx ...any) map[string]any {
		return map[string]any{"@context": ctx, "id": "urn:x:1", "type": "Thing"}
	}
	const base = "http://node:8080"
	const link = `<http://node:8080/v1/apps/x/context/a.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`

	one := sdk.Document(doc("https://example.org/core.jsonld", "/v1/apps/x/context/a.jsonld"))
	body, h := one.Negotiate("application/ld+json", base)
	got, _ := json.Marshal(body)
	if h["Content-Type"] != sdk.MediaJSONLD || h["Link"] != "" ||
		string(got) != `{"@context":["https://example.org/core.jsonld","http://node:8080/v1/apps/x/context/a.jsonld"],"id":"urn:x:1","type":"Thing"}` {
		t.Errorf("as JSON-LD: %s %v", got, h)
	}
	body, h = one.Negotiate("application/json", base)
	got, _ = json.Marshal(body)
	if h["Content-Type"] != sdk.MediaJSON || h["Link"] != link || h["Vary"] != "Accept" || string(got) != `{"id":"urn:x:1","type":"Thing"}` {
		t.Errorf("as JSON: %s %v", got, h)
	}
	// In process, the answer is the JSON-LD form with the paths as given.
	if got, _ := json.Marshal(one); string(got) != `{"@context":["https://example.org/core.jsonld","/v1/apps/x/context/a.jsonld"],"id":"urn:x:1","type":"Thing"}` {
		t.Errorf("marshalled: %s", got)
	}

	same := sdk.Documents([]map[string]any{doc("/v1/apps/x/context/a.jsonld"), doc("/v1/apps/x/context/a.jsonld")})
	if body, h := same.Negotiate("", base); h["Link"] != link || len(body.([]map[string]any)) != 2 {
		t.Errorf("a list of one context: %v %v", body, h)
	}
	mixed := sdk.Documents([]map[string]any{doc("/v1/apps/x/context/a.jsonld"), doc("/v1/apps/x/context/b.jsonld")})
	if _, h := mixed.Negotiate("", base); h["Link"] != "" {
		t.Errorf("a list of two contexts has a Link: %v", h)
	}
	if body, _ := sdk.Documents(nil).Negotiate("", base); len(body.([]map[string]any)) != 0 {
		t.Errorf("an empty list: %v", body)
	}
}

func TestTypedKeepsItsMediaType(t *testing.T) {
	a := sdk.Typed{MediaType: sdk.MediaJSONLD, Body: map[string]any{"@context": map[string]any{"x": "https://example.org/x"}}}
	body, h := a.Negotiate("application/json", "http://node")
	got, _ := json.Marshal(body)
	if h["Content-Type"] != sdk.MediaJSONLD || string(got) != `{"@context":{"x":"https://example.org/x"}}` {
		t.Errorf("%s %v", got, h)
	}
}
