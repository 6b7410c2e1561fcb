package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// The API's OpenAPI document (docs/openapi.yaml) is checked against the
// node: its paths against the routes the node registers (this file); its
// schemas and error codes (openapi_schema_test.go); the answers of running
// nodes against its schemas (openapi_live_test.go, openapi_more_test.go);
// and the API reference pages against what the document makes
// (openapi_ref_test.go, openapi_render_test.go).

// openAPIFile is the document, from this package's folder.
const openAPIFile = "../docs/openapi.yaml"

// apiDoc is the OpenAPI document as JSON values (maps, slices, strings,
// json.Number, bools), with the order of every object's keys as written,
// which the reference keeps.
type apiDoc struct {
	root  map[string]any
	order map[string][]string // JSON pointer of an object -> its keys in order
}

var (
	openAPIOnce   sync.Once
	openAPIShared *apiDoc
	openAPIErr    error
)

// loadOpenAPI reads docs/openapi.yaml once per test binary.
func loadOpenAPI(t testing.TB) *apiDoc {
	t.Helper()
	openAPIOnce.Do(func() {
		src, err := os.ReadFile(openAPIFile)
		if err != nil {
			openAPIErr = err
			return
		}
		openAPIShared, openAPIErr = parseAPIDoc(src)
	})
	if openAPIErr != nil {
		t.Fatalf("%s: %v", openAPIFile, openAPIErr)
	}
	return openAPIShared
}

// parseAPIDoc reads a YAML (or JSON) OpenAPI document.
func parseAPIDoc(src []byte) (*apiDoc, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(src, &n); err != nil {
		return nil, err
	}
	order := map[string][]string{}
	v, err := yamlValue(&n, "", order)
	if err != nil {
		return nil, err
	}
	// A round trip through JSON gives the value types jsonschema expects.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	j, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	root, ok := j.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the document is not an object")
	}
	return &apiDoc{root: root, order: order}, nil
}

// yamlValue converts a YAML node to plain values, noting the key order of
// every mapping under its JSON pointer.
func yamlValue(n *yaml.Node, ptr string, order map[string][]string) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, fmt.Errorf("want one YAML document, have %d", len(n.Content))
		}
		return yamlValue(n.Content[0], ptr, order)
	case yaml.AliasNode:
		return yamlValue(n.Alias, ptr, order)
	case yaml.MappingNode:
		m := map[string]any{}
		var keys []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("line %d: key %q twice", n.Content[i].Line, k)
			}
			v, err := yamlValue(n.Content[i+1], ptr+"/"+pointerEscape(k), order)
			if err != nil {
				return nil, err
			}
			m[k] = v
			keys = append(keys, k)
		}
		order[ptr] = keys
		return m, nil
	case yaml.SequenceNode:
		s := []any{}
		for i, c := range n.Content {
			v, err := yamlValue(c, fmt.Sprintf("%s/%d", ptr, i), order)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		return v, nil
	}
}

func pointerEscape(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

// obj and str read a JSON value as an object or a string, empty if it is
// something else.
func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// keys returns the keys of the object m at ptr in the document's order;
// keys the document did not have (a test added them) come last, sorted.
func (d *apiDoc) keys(ptr string, m map[string]any) []string {
	var ks, extra []string
	seen := map[string]bool{}
	for _, k := range d.order[ptr] {
		if _, ok := m[k]; ok && !seen[k] {
			ks = append(ks, k)
			seen[k] = true
		}
	}
	for k := range m {
		if !seen[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return append(ks, extra...)
}

// at returns the value at a JSON pointer of the document ("" is the root).
func (d *apiDoc) at(ptr string) any {
	var v any = d.root
	if ptr == "" {
		return v
	}
	for _, p := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		p = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
		v = obj(v)[p]
	}
	return v
}

// deref follows a local $ref ("#/components/...") and returns the object
// referred to and its pointer; an object without $ref is returned as is.
func (d *apiDoc) deref(v any, ptr string) (map[string]any, string) {
	for i := 0; i < 8; i++ {
		ref := str(obj(v)["$ref"])
		if !strings.HasPrefix(ref, "#/") {
			break
		}
		ptr = ref[1:]
		v = d.at(ptr)
	}
	return obj(v), ptr
}

// apiOp is one documented operation.
type apiOp struct {
	method string // GET, POST
	path   string // as documented: /v1/blocks/{height}
	ptr    string // JSON pointer of the operation object
	op     map[string]any
}

func (o apiOp) String() string { return o.method + " " + o.path }

var apiMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// ops returns every documented operation, in the document's order.
func (d *apiDoc) ops() []apiOp {
	var out []apiOp
	paths := obj(d.root["paths"])
	for _, p := range d.keys("/paths", paths) {
		item := obj(paths[p])
		for _, m := range apiMethods {
			if op := obj(item[m]); op != nil {
				out = append(out, apiOp{method: strings.ToUpper(m), path: p,
					ptr: "/paths/" + pointerEscape(p) + "/" + m, op: op})
			}
		}
	}
	return out
}

// params returns an operation's parameters, path-level ones included,
// with their $refs followed.
func (d *apiDoc) params(o apiOp) []map[string]any {
	var out []map[string]any
	itemPtr := "/paths/" + pointerEscape(o.path)
	for _, ptr := range []string{itemPtr + "/parameters", o.ptr + "/parameters"} {
		list, _ := d.at(ptr).([]any)
		for i, p := range list {
			m, _ := d.deref(p, fmt.Sprintf("%s/%d", ptr, i))
			out = append(out, m)
		}
	}
	return out
}

var pathParamRe = regexp.MustCompile(`\{([^}]+)\}`)

// examplePath fills the path's {parameters} with their examples.
func (d *apiDoc) examplePath(o apiOp) (string, error) {
	ex := map[string]string{}
	for _, p := range d.params(o) {
		if str(p["in"]) == "path" {
			ex[str(p["name"])] = fmt.Sprint(p["example"])
		}
	}
	var missing []string
	path := pathParamRe.ReplaceAllStringFunc(o.path, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := ex[name]
		if !ok || v == "" || v == "<nil>" {
			missing = append(missing, name)
		}
		return url.PathEscape(v)
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%s: path parameters without an example: %v", o, missing)
	}
	return path, nil
}

// routeProblems compares the documented operations with the patterns a
// node registers on mux: every pattern must serve at least one documented
// operation, and every documented operation, its path filled with the
// examples, must reach one of the patterns (not the not-found fallback).
func routeProblems(d *apiDoc, mux *http.ServeMux, patterns []string) []string {
	var problems []string
	served := map[string][]string{}
	for _, o := range d.ops() {
		path, err := d.examplePath(o)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		_, pattern := mux.Handler(httptest.NewRequest(o.method, path, nil))
		if !slices.Contains(patterns, pattern) {
			problems = append(problems, fmt.Sprintf("%s is documented but the node serves no route for it (%s %s reaches %q)",
				o, o.method, path, pattern))
			continue
		}
		served[pattern] = append(served[pattern], o.String())
	}
	for _, p := range patterns {
		if len(served[p]) == 0 {
			problems = append(problems, fmt.Sprintf("the node serves %q, which %s does not document (add it there, then run make api-docs)", p, openAPIFile))
		}
	}
	return problems
}

// allRoutes returns the API of a node with every optional route on
// (api.pprof), and the patterns it registers.
func allRoutes(t *testing.T) (*http.ServeMux, []string) {
	n := &Node{metrics: newMetrics(func() float64 { return 0 })}
	n.cfg.API = DefaultConfig("", 0).API
	n.cfg.API.Pprof = true
	n.guard = newAPIGuard(n.cfg.API, n.metrics.apiRefused)
	return n.apiMux()
}

// TestOpenAPIDocumentsEveryRoute checks that docs/openapi.yaml and the
// node's router agree: no route undocumented, no documented path that
// the node does not serve.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	d := loadOpenAPI(t)
	mux, patterns := allRoutes(t)
	if len(patterns) < 15 {
		t.Fatalf("the node registers only %d patterns: %v", len(patterns), patterns)
	}
	for _, p := range routeProblems(d, mux, patterns) {
		t.Error(p)
	}
}

// TestOpenAPIRouteCheckCatchesMistakes checks the route check itself: a
// route left out of the document, and a documented path that nothing
// serves, are both reported.
func TestOpenAPIRouteCheckCatchesMistakes(t *testing.T) {
	src, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	mux, patterns := allRoutes(t)

	d, err := parseAPIDoc(src)
	if err != nil {
		t.Fatal(err)
	}
	delete(obj(d.root["paths"]), "/v1/peers")
	obj(d.root["paths"])["/v1/nothing/{id}"] = map[string]any{"get": map[string]any{
		"parameters": []any{map[string]any{"name": "id", "in": "path", "example": "7"}}}}
	got := strings.Join(routeProblems(d, mux, patterns), "\n")
	for _, want := range []string{`serves "GET /v1/peers", which`, "GET /v1/nothing/{id} is documented but the node serves no route"} {
		if !strings.Contains(got, want) {
			t.Errorf("the check did not report %q; it said:\n%s", want, got)
		}
	}

	d, _ = parseAPIDoc(src)
	params := obj(obj(obj(d.root["paths"])["/v1/txs/{hash}"])["get"])["parameters"].([]any)
	delete(obj(params[0]), "example")
	if got := strings.Join(routeProblems(d, mux, patterns), "\n"); !strings.Contains(got, "without an example: [hash]") {
		t.Errorf("a path parameter without an example was not reported; the check said:\n%s", got)
	}
}
