package main

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/citychain/citychain"

type pkgInfo struct {
	ImportPath     string
	Dir            string
	GoFiles        []string
	IgnoredGoFiles []string // left out by build constraints, still ours
	TestGoFiles    []string
	XTestGoFiles   []string
	Imports        []string
}

func listPackages(t *testing.T) []pkgInfo {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkgInfo
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkgInfo
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// layer returns the top-level folder of one of our packages: chain, apps,
// p2p, node or cmd.
func layer(path string) string {
	rest := strings.TrimPrefix(path, module+"/")
	return strings.SplitN(rest, "/", 2)[0]
}

// TestArchitectureImports checks the dependency direction of DESIGN.md:
// cmd -> node -> {p2p, apps, chain}; apps and p2p -> chain; chain imports
// nothing of ours above it.
func TestArchitectureImports(t *testing.T) {
	allowed := map[string][]string{
		"chain": {"chain"},
		"apps":  {"apps", "chain"},
		"p2p":   {"p2p", "chain"},
		"node":  {"node", "p2p", "apps", "chain"},
		"cmd":   {"cmd", "node", "p2p", "apps", "chain"},
	}
	for _, p := range listPackages(t) {
		from := layer(p.ImportPath)
		ok, known := allowed[from]
		if !known {
			t.Errorf("package %s is outside the fixed top-level layout", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := layer(imp)
			if !contains(ok, to) {
				t.Errorf("%s imports %s: %s may only import %v", p.ImportPath, imp, from, ok)
			}
		}
	}
}

// TestArchitectureDeterminism checks the determinism rule mechanically in
// chain and apps: no goroutines, no wall clock, no math/rand outside tests.
func TestArchitectureDeterminism(t *testing.T) {
	checked := 0
	for _, p := range listPackages(t) {
		l := layer(p.ImportPath)
		if l != "chain" && l != "apps" {
			continue
		}
		for _, imp := range p.Imports {
			if imp == "math/rand" || imp == "math/rand/v2" {
				t.Errorf("%s imports %s: randomness has no place in the state machine", p.ImportPath, imp)
			}
		}
		for _, f := range p.GoFiles {
			path := filepath.Join(p.Dir, f)
			file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			ast.Inspect(file, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.GoStmt:
					t.Errorf("%s: go statement; goroutines live in node and p2p only", path)
				case *ast.SelectorExpr:
					if id, ok := x.X.(*ast.Ident); ok && id.Name == "time" && x.Sel.Name == "Now" {
						t.Errorf("%s: time.Now; the state machine reads block time only", path)
					}
				}
				return true
			})
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d files", checked)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestBinaryLeavesOutUnusedLibp2p checks that the node binary links only
// the parts of go-libp2p a node runs (p2p/libp2p.go says why). libp2p.New
// and its config package bring in every transport go-libp2p has and a
// dependency-injection framework, about 8 MB of binary that each node
// process would map and mostly keep resident.
func TestBinaryLeavesOutUnusedLibp2p(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", module+"/cmd/citychain").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !contains(deps, "github.com/libp2p/go-libp2p/p2p/host/basic") {
		t.Fatalf("go list -deps did not list go-libp2p's basic host among %d packages; the check is broken", len(deps))
	}
	unwanted := []string{
		"github.com/libp2p/go-libp2p",
		"github.com/libp2p/go-libp2p/config",
		"github.com/libp2p/go-libp2p/p2p/transport/webrtc",
		"github.com/libp2p/go-libp2p/p2p/transport/webtransport",
		"github.com/libp2p/go-libp2p/p2p/transport/websocket",
		"go.uber.org/fx",
		"github.com/pion/webrtc/v4",
	}
	for _, u := range unwanted {
		if contains(deps, u) {
			t.Errorf("cmd/citychain links %s; build the libp2p host from its parts (p2p/libp2p.go)", u)
		}
	}
}
