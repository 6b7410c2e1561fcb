package main

import (
	"fmt"
	"go/parser"
	"go/token"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The module rules of the architecture: the node and the command know
// modules only through the registry (apps.All) and the optional
// interfaces of apps/sdk, and modules know each other only through what
// apps/apps.go hands them. So a new module is one folder plus one line in
// apps/apps.go, and removing one breaks nothing but that line.

// storyFiles may name modules outside tests: the workshop story, which
// tells of the modules' own transactions, and the load generator, which
// signs bank transfers by the thousand.
var storyFiles = []string{"cmd/citychain/demo*.go", "cmd/citychain/bench*.go"}

// pendingImports are module imports of the node or the command that have
// yet to go, each with why it is still there. The test fails when one is
// no longer used, so that it goes from this list too.
// There are none: the list is for a move that takes more than one step.
var pendingImports = map[string]string{}

// goFile is one Go file of the tree and what it imports.
type goFile struct {
	path    string // from the repository root: "cmd/citychain/root.go"
	imports []string
}

func (f goFile) test() bool { return strings.HasSuffix(f.path, "_test.go") }

// moduleOf returns the module a package belongs to ("apps/trace/epcis"
// belongs to "trace"), or "" when it is none: the registry (apps), the
// SDK (apps/sdk and below), or a package outside apps.
func moduleOf(pkg string) string {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(pkg, module+"/"), "apps/")
	if !ok {
		return ""
	}
	m, _, _ := strings.Cut(rest, "/")
	if m == "sdk" {
		return ""
	}
	return m
}

// checkModuleRules returns a line for each broken module rule in files:
//   - no file of node/ or cmd/ outside tests imports a module, except
//     storyFiles and the pending imports;
//   - a module imports no other module and not the registry; its tests
//     may, to wire the modules a test needs the way apps/apps.go does;
//   - apps/sdk and its packages import no module outside their tests.
//
// A pending import that no file makes any more is reported too.
func checkModuleRules(files []goFile, pending map[string]string) []string {
	var bad []string
	used := map[string]bool{}
	for _, f := range files {
		dir := path.Dir(f.path)
		for _, imp := range f.imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			rel := strings.TrimPrefix(imp, module+"/")
			to := moduleOf(imp)
			switch top := strings.SplitN(dir, "/", 2)[0]; {
			case (top == "node" || top == "cmd") && to != "" && !f.test():
				if _, ok := pending[f.path+" "+rel]; ok {
					used[f.path+" "+rel] = true
				} else if !slices.ContainsFunc(storyFiles, func(p string) bool { ok, _ := path.Match(p, f.path); return ok }) {
					bad = append(bad, fmt.Sprintf("%s imports the module %s: the node and the command reach modules through apps.All() and the interfaces of apps/sdk", f.path, rel))
				}
			case top == "apps" && moduleOf(module+"/"+dir) != "":
				from := moduleOf(module + "/" + dir)
				if rel == "apps" {
					bad = append(bad, fmt.Sprintf("%s imports the module list (apps): a module is wired, it does not wire", f.path))
				} else if to != "" && to != from && !f.test() {
					bad = append(bad, fmt.Sprintf("%s imports the module %s: a module reaches another only through an interface of its own, handed over in apps/apps.go", f.path, rel))
				}
			case top == "apps" && strings.HasPrefix(dir+"/", "apps/sdk/") && to != "" && !f.test():
				bad = append(bad, fmt.Sprintf("%s imports the module %s: the SDK serves every module and knows none", f.path, rel))
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(pending)) {
		if !used[k] {
			bad = append(bad, fmt.Sprintf("the pending import %q is made by no file any more: remove it from pendingImports", k))
		}
	}
	return bad
}

// treeFiles parses the imports of every Go file of our packages, tests
// and files left out by build constraints included.
func treeFiles(t *testing.T) []goFile {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var files []goFile
	for _, p := range listPackages(t) {
		for _, name := range slices.Concat(p.GoFiles, p.IgnoredGoFiles, p.TestGoFiles, p.XTestGoFiles) {
			full := filepath.Join(p.Dir, name)
			f, err := parser.ParseFile(token.NewFileSet(), full, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			rel, err := filepath.Rel(root, full)
			if err != nil {
				t.Fatal(err)
			}
			gf := goFile{path: filepath.ToSlash(rel)}
			for _, is := range f.Imports {
				imp, err := strconv.Unquote(is.Path.Value)
				if err != nil {
					t.Fatal(err)
				}
				gf.imports = append(gf.imports, imp)
			}
			files = append(files, gf)
		}
	}
	return files
}

// TestArchitectureModules checks the module rules on the tree.
func TestArchitectureModules(t *testing.T) {
	files := treeFiles(t)
	if len(files) < 100 {
		t.Fatalf("found only %d Go files", len(files))
	}
	for _, b := range checkModuleRules(files, pendingImports) {
		t.Error(b)
	}
}

// TestArchitectureModuleRulesCatchBreaches runs the checker of
// TestArchitectureModules on a made-up tree: each file breaks one rule or
// keeps to it.
func TestArchitectureModuleRulesCatchBreaches(t *testing.T) {
	const m = module + "/"
	cases := []struct {
		path, imp string
		breach    bool
	}{
		{"node/api.go", m + "apps/bank", true},
		{"node/api_test.go", m + "apps/bank", false},
		{"node/api.go", m + "apps/sdk", false},
		{"node/devhome.go", m + "apps", false},
		{"node/client/client.go", m + "apps/trace/epcis", true},
		{"cmd/citychain/tx.go", m + "apps/commerce", true},
		{"cmd/citychain/demo_trace.go", m + "apps/trace", false},
		{"cmd/citychain/bench_load.go", m + "apps/bank", false},
		{"cmd/citychain/root.go", m + "apps/city", true},
		{"apps/commerce/app.go", m + "apps/bank", true},
		{"apps/commerce/app_test.go", m + "apps/bank", false},
		{"apps/trace/trace_test.go", m + "apps/city", false}, // a test may wire another module
		{"apps/trace/trace_test.go", m + "apps/sdk/sdktest", false},
		{"apps/trace/app.go", m + "apps", true},
		{"apps/trace/epcis/doc.go", m + "apps/trace", false},
		{"apps/trace/app.go", m + "chain", false},
		{"apps/sdk/cli.go", m + "apps/bank", true},
		{"apps/sdk/proof_test.go", m + "apps/bank", false},
		{"apps/apps.go", m + "apps/bank", false},
		{"p2p/host.go", "fmt", false},
	}
	pending := map[string]string{"cmd/citychain/root.go apps/copyright": "a test case"}
	for _, tc := range cases {
		files := []goFile{{tc.path, []string{tc.imp}}, {"cmd/citychain/root.go", []string{m + "apps/copyright"}}}
		got := checkModuleRules(files, pending)
		if breach := len(got) > 0; breach != tc.breach {
			t.Errorf("%s importing %s: breaches %v, want breach %v", tc.path, tc.imp, got, tc.breach)
		}
	}
	if got := checkModuleRules(nil, pending); len(got) != 1 || !strings.Contains(got[0], "pendingImports") {
		t.Errorf("an unused pending import: %v, want it reported", got)
	}
}
