package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The document's schemas, compiled for the checks, and the checks of the
// document itself: its schemas compile, every text has its Chinese twin,
// every error code the node writes is listed.

// schemaSet compiles the document's schemas for validation: each one is
// addressed by its JSON pointer inside the document, so that $refs to
// #/components/schemas resolve.
type schemaSet struct {
	d     *apiDoc
	c     *jsonschema.Compiler
	cache map[string]*jsonschema.Schema
}

const openAPIBase = "https://citychain.invalid/openapi.json"

func newSchemaSet(d *apiDoc) (*schemaSet, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(openAPIBase, d.root); err != nil {
		return nil, err
	}
	return &schemaSet{d: d, c: c, cache: map[string]*jsonschema.Schema{}}, nil
}

// schema compiles the schema at ptr.
func (s *schemaSet) schema(ptr string) (*jsonschema.Schema, error) {
	if sch, ok := s.cache[ptr]; ok {
		return sch, nil
	}
	sch, err := s.c.Compile(openAPIBase + "#" + (&url.URL{Fragment: ptr}).EscapedFragment())
	if err != nil {
		return nil, err
	}
	s.cache[ptr] = sch
	return sch, nil
}

// validate checks a JSON body against the schema at ptr.
func (s *schemaSet) validate(ptr string, body []byte) error {
	sch, err := s.schema(ptr)
	if err != nil {
		return fmt.Errorf("compile %s: %w", ptr, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return sch.Validate(v)
}

// responseSchema returns the pointer of the schema of an operation's
// answer with the given status and media type, or an error saying what
// the document lacks.
func (d *apiDoc) responseSchema(o apiOp, status int, mediaType string) (string, error) {
	resps := obj(o.op["responses"])
	code := fmt.Sprint(status)
	if _, ok := resps[code]; !ok {
		return "", fmt.Errorf("%s answered %d, which the document does not list (it lists %v)", o, status, d.keys(o.ptr+"/responses", resps))
	}
	resp, rptr := d.deref(resps[code], o.ptr+"/responses/"+code)
	content := obj(resp["content"])
	if _, ok := content[mediaType]; !ok {
		return "", fmt.Errorf("%s answered %d as %s, but the document gives %v", o, status, mediaType, d.keys(rptr+"/content", content))
	}
	return rptr + "/content/" + pointerEscape(mediaType) + "/schema", nil
}

// errorCode is one entry of the document's x-error-codes.
type errorCode struct {
	Code   string `json:"code"`
	Status []int  `json:"status"`
	En     string `json:"en"`
	Zh     string `json:"zh"`
}

// errorCodes returns the document's table of error codes by code.
func (d *apiDoc) errorCodes(t testing.TB) (map[string]errorCode, []errorCode) {
	t.Helper()
	b, err := json.Marshal(d.root["x-error-codes"])
	if err != nil {
		t.Fatal(err)
	}
	var list []errorCode
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatalf("x-error-codes: %v", err)
	}
	m := map[string]errorCode{}
	for _, e := range list {
		if _, dup := m[e.Code]; dup {
			t.Errorf("x-error-codes lists %q twice", e.Code)
		}
		if e.Code == "" || len(e.Status) == 0 || e.En == "" || e.Zh == "" {
			t.Errorf("x-error-codes: %+v lacks a code, a status or a text", e)
		}
		m[e.Code] = e
	}
	return m, list
}

// errorSourceRe finds the error codes the node writes with a literal
// status: WriteError, reject, refuse, ctlError and errorStatus.
var errorSourceRe = regexp.MustCompile(`(?:WriteError\(w, |reject(?:Line)?\(w, |refuse\(w, r, |ctlError\{|return )http\.Status(\w+), "([a-z_]+)"`)

// TestOpenAPIListsEveryErrorCode reads the node's source for the error
// codes it writes and checks that the document lists each with its
// status.
func TestOpenAPIListsEveryErrorCode(t *testing.T) {
	codes, _ := loadOpenAPI(t).errorCodes(t)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]int{"BadRequest": 400, "Unauthorized": 401, "Forbidden": 403, "NotFound": 404,
		"Conflict": 409, "RequestEntityTooLarge": 413, "TooManyRequests": 429, "InternalServerError": 500,
		"BadGateway": 502, "ServiceUnavailable": 503, "GatewayTimeout": 504}
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range errorSourceRe.FindAllStringSubmatch(string(src), -1) {
			found++
			status, ok := statuses[m[1]]
			if !ok {
				t.Errorf("%s: code %q with status %s, which this test does not know", f, m[2], m[1])
				continue
			}
			e, ok := codes[m[2]]
			if !ok {
				t.Errorf("%s writes the error code %q (%d), which x-error-codes in %s does not list", f, m[2], status, openAPIFile)
			} else if !slices.Contains(e.Status, status) {
				t.Errorf("%s writes %q with status %d; x-error-codes gives %v", f, m[2], status, e.Status)
			}
		}
	}
	if found < 30 {
		t.Fatalf("found only %d error codes in the source: has the way errors are written changed?", found)
	}
}

// TestOpenAPISchemasCompile checks that every schema of the document is
// valid JSON Schema 2020-12, its $refs included, and that the document
// holds what the reference needs: a Chinese text beside every English
// one, an id, a tag and a summary for every operation.
func TestOpenAPISchemasCompile(t *testing.T) {
	d := loadOpenAPI(t)
	if v := str(d.root["openapi"]); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi: %q, want 3.1.x", v)
	}
	s, err := newSchemaSet(d)
	if err != nil {
		t.Fatal(err)
	}
	schemas := obj(obj(d.root["components"])["schemas"])
	for _, name := range d.keys("/components/schemas", schemas) {
		if _, err := s.schema("/components/schemas/" + pointerEscape(name)); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
	tags := map[string]bool{}
	for _, tg := range d.root["tags"].([]any) {
		tags[str(obj(tg)["name"])] = true
	}
	ids := map[string]bool{}
	for _, o := range d.ops() {
		id := str(o.op["operationId"])
		if id == "" || ids[id] {
			t.Errorf("%s: operationId %q missing or used twice", o, id)
		}
		ids[id] = true
		if tl, _ := o.op["tags"].([]any); len(tl) != 1 || !tags[str(tl[0])] {
			t.Errorf("%s: want one of the document's tags, have %v", o, o.op["tags"])
		}
		if str(o.op["summary"]) == "" || str(o.op["x-summary-zh"]) == "" {
			t.Errorf("%s: a summary and x-summary-zh are needed", o)
		}
		if len(obj(o.op["responses"])) == 0 {
			t.Errorf("%s: no responses", o)
		}
	}
	walkDescriptions(d.root, "", func(ptr, en, zh string) {
		if zh == "" && needsTranslation(en) {
			t.Errorf("%s: description %q has no x-description-zh", ptr, en)
		}
	})
}

// walkDescriptions calls f for every object of v that has a description.
func walkDescriptions(v any, ptr string, f func(ptr, en, zh string)) {
	switch v := v.(type) {
	case map[string]any:
		if en, ok := v["description"].(string); ok {
			f(ptr, en, str(v["x-description-zh"]))
		}
		for k, c := range v {
			walkDescriptions(c, ptr+"/"+pointerEscape(k), f)
		}
	case []any:
		for i, c := range v {
			walkDescriptions(c, fmt.Sprintf("%s/%d", ptr, i), f)
		}
	}
}

var codeSpanRe = regexp.MustCompile("`[^`]*`")

// needsTranslation reports whether an English text has words outside
// its code spans: "`bad_height`" reads the same in Chinese.
func needsTranslation(en string) bool {
	return regexp.MustCompile(`[A-Za-z]{2,}`).MatchString(codeSpanRe.ReplaceAllString(en, ""))
}

// TestOpenAPIValidationCatchesMistakes checks the schema check itself on
// answers that break the document: a wrong type, an unknown field, a
// missing one, a malformed hash.
func TestOpenAPIValidationCatchesMistakes(t *testing.T) {
	d := loadOpenAPI(t)
	s, err := newSchemaSet(d)
	if err != nil {
		t.Fatal(err)
	}
	var status *apiOp
	for _, o := range d.ops() {
		if o.path == "/v1/status" {
			status = &o
		}
	}
	ptr, err := d.responseSchema(*status, 200, "application/json")
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]any{"chain_id": "c", "node_id": "n", "moniker": "m", "height": 3,
		"latest_block_hash": strings.Repeat("ab", 32), "latest_block_time": time.Unix(0, 0).UTC().Format(time.RFC3339Nano),
		"state_root": strings.Repeat("00", 32), "syncing": false, "peers": 0, "validators": []any{},
		"validator": "city1wvkfr2lsc3u5had5vkj9kt55adqhsnnps8ejcc", "mempool_txs": 0, "devnet": false}
	if err := s.validate(ptr, mustJSON(t, good)); err != nil {
		t.Fatalf("a good answer is refused: %v", err)
	}
	for name, change := range map[string]func(m map[string]any){
		"height as a string":  func(m map[string]any) { m["height"] = "3" },
		"an unknown field":    func(m map[string]any) { m["extra"] = 1 },
		"no chain_id":         func(m map[string]any) { delete(m, "chain_id") },
		"a short hash":        func(m map[string]any) { m["state_root"] = "abcd" },
		"a time not RFC 3339": func(m map[string]any) { m["latest_block_time"] = "yesterday" },
		"a hex address":       func(m map[string]any) { m["validator"] = strings.Repeat("ab", 20) },
	} {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		change(m)
		if err := s.validate(ptr, mustJSON(t, m)); err == nil {
			t.Errorf("%s: the answer passed the schema", name)
		}
	}
	if _, err := d.responseSchema(*status, 418, "application/json"); err == nil {
		t.Error("a status the document does not list was accepted")
	}
	if _, err := d.responseSchema(*status, 200, "text/html"); err == nil {
		t.Error("a media type the document does not list was accepted")
	}
}
