package trace_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain/chaintest"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// shared returns the path of a file or folder in the testdata kept next
// to the repository (shared/testdata/...), which holds material nobody
// may copy into it: GS1's EPCIS 2.0 JSON schema and example documents.
// ok is false when it is absent (the repository built elsewhere); the
// tests then run on the module's own fixtures only.
func shared(t testing.TB, parts ...string) (path string, ok bool) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for { // walk up to the repository root, the folder with go.mod
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
	path = filepath.Join(append([]string{filepath.Dir(dir), "shared", "testdata"}, parts...)...)
	_, err = os.Stat(path)
	return path, err == nil
}

// The official EPCIS 2.0 JSON schema, compiled once for all tests.
var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// epcisSchema returns the official EPCIS 2.0 JSON schema (document and
// events), or nil when the shared folder is absent.
func epcisSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	path, ok := shared(t, "schemas", "epcis", "EPCIS-JSON-Schema.json")
	if !ok {
		return nil
	}
	schemaOnce.Do(func() {
		f, err := os.Open(path)
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.UseRegexpEngine(lookaheadEngine)
		const url = "https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json"
		if schemaErr = c.AddResource(url, doc); schemaErr == nil {
			schema, schemaErr = c.Compile(url)
		}
	})
	if schemaErr != nil {
		t.Fatalf("EPCIS 2.0 JSON schema: %v", schemaErr)
	}
	return schema
}

// lookaheadEngine compiles the schema's patterns. Two of them are
// negative look-aheads, ^(?!(...)), which Go's regexp (RE2) does not
// have: "does not start with ..."; the engine turns those into the
// negation of ^(...). Every other pattern is an ordinary Go regexp.
func lookaheadEngine(pattern string) (jsonschema.Regexp, error) {
	if inner, ok := strings.CutPrefix(pattern, "^(?!"); ok && strings.HasSuffix(inner, ")") {
		re, err := regexp.Compile("^" + strings.TrimSuffix(inner, ")"))
		return notRegexp{re}, err
	}
	return regexp.Compile(pattern)
}

type notRegexp struct{ re *regexp.Regexp }

func (n notRegexp) MatchString(s string) bool { return !n.re.MatchString(s) }
func (n notRegexp) String() string            { return "^(?!" + n.re.String()[1:] + ")" }

// answeredDocument is an answered event as an EPCIS document would carry
// it: the event in an eventList, under the @context it was captured
// with (the standard one when the capture had none).
func answeredDocument(v trace.EventView) map[string]any {
	var event, context any = nil, []any{"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"}
	dec := json.NewDecoder(bytes.NewReader(v.Event))
	dec.UseNumber()
	_ = dec.Decode(&event)
	if len(v.Context) > 0 {
		dec := json.NewDecoder(bytes.NewReader(v.Context))
		dec.UseNumber()
		_ = dec.Decode(&context)
	}
	return map[string]any{"@context": context, "type": "EPCISDocument", "schemaVersion": "2.0",
		"creationDate": v.Time.Format("2006-01-02T15:04:05.000Z"), "epcisBody": map[string]any{"eventList": []any{event}}}
}

// checkAnswer checks one answered event: always the rules this module
// promises (a decimal is a JSON number, a CBV word is bare), and the
// official EPCIS 2.0 JSON schema when it is at hand. It returns what is
// wrong, or "".
func checkAnswer(t testing.TB, v trace.EventView) string {
	t.Helper()
	doc := answeredDocument(v)
	if problem := speaksEPCIS(doc["epcisBody"].(map[string]any)["eventList"].([]any)[0], ""); problem != "" {
		return problem
	}
	sch := epcisSchema(t)
	if sch == nil {
		return ""
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return err.Error()
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err.Error()
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Sprintf("not valid against the EPCIS 2.0 JSON schema: %v", err)
	}
	return ""
}

// decimalFields are the fields the EPCIS 2.0 JSON schema types as
// numbers; cbvFields those whose standard values it wants bare.
var (
	decimalFields = map[string]bool{"quantity": true, "value": true, "minValue": true, "maxValue": true,
		"meanValue": true, "sDev": true, "percRank": true, "percValue": true}
	cbvFields = map[string]bool{"bizStep": true, "disposition": true, "set": true, "unset": true, "reason": true}
)

// speaksEPCIS walks an answered event and reports the first decimal
// written as a string, or CBV value written as a URN or a web URI of the
// CBV namespaces, that it finds; path says where.
func speaksEPCIS(v any, path string) string {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, isStr := x.(string); isStr && decimalFields[k] {
				return fmt.Sprintf("%s.%s is the string %q, not a number", path, k, s)
			}
			if problem := speaksEPCIS(x, path+"."+k); problem != "" {
				return problem
			}
			if cbvFields[k] || k == "type" {
				for _, w := range asStrings(x) {
					if strings.HasPrefix(w, "urn:epcglobal:cbv:") || strings.Contains(w, "ns.gs1.org/cbv/") || strings.Contains(w, "gs1.org/voc/") {
						return fmt.Sprintf("%s.%s is %q, not the bare CBV word", path, k, w)
					}
				}
			}
		}
	case []any:
		for i, x := range t {
			if problem := speaksEPCIS(x, fmt.Sprintf("%s[%d]", path, i)); problem != "" {
				return problem
			}
		}
	}
	return ""
}

func asStrings(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// checkAllAnswers reads every event on the chain back through the query
// API, a page at a time, and checks each answer (checkAnswer). newChain
// runs it when a test ends, so every event any test captures is checked.
func checkAllAnswers(t testing.TB, c *chaintest.Chain) {
	t.Helper()
	args := map[string]string{"limit": "500"}
	for {
		a, err := c.Query(trace.Name, "events", args)
		if err != nil {
			t.Errorf("reading the events back: %v", err)
			return
		}
		page := a.(*trace.EventsAnswer)
		for _, v := range page.Events {
			if problem := checkAnswer(t, v); problem != "" {
				t.Errorf("event %d (%s) as answered: %s\n%s", v.Seq, v.Type, problem, v.Event)
			}
		}
		if page.Next == "" {
			return
		}
		args["after"] = page.Next
	}
}
