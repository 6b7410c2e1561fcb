package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
	"github.com/citychain/citychain/node/labs"
)

var labsLong = flag.Bool("labs-long", false, "also build a scaffolded module into a binary and run lab 7 with it (minutes)")

// parkingProxy serves the API of the node at api as if the chain ran a
// module "parking": GET /v1/apps lists it beside the built-in modules,
// and the first block the proxy is asked for holds a transaction of it. Everything else is the real node's answer.
func parkingProxy(t *testing.T, api string) string {
	t.Helper()
	target, err := url.Parse(api)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		chosen  string // the block path that carries the parking transaction
		forward = httputil.NewSingleHostReverseProxy(target)
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/apps" {
			apps := []map[string]string{}
			for _, m := range append(labs.BuiltinModules, "parking") {
				apps = append(apps, map[string]string{"name": m})
			}
			node.WriteJSON(w, http.StatusOK, map[string]any{"apps": apps})
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/v1/blocks/") {
			forward.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		if chosen == "" {
			chosen = r.URL.Path
		}
		mine := chosen == r.URL.Path
		mu.Unlock()
		resp, err := http.Get(api + r.URL.Path)
		if err != nil {
			node.WriteError(w, http.StatusBadGateway, "proxy", err.Error())
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var b map[string]any
		if resp.StatusCode != http.StatusOK || !mine || json.Unmarshal(body, &b) != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(resp.StatusCode)
			_, _ = w.Write(body)
			return
		}
		txs, _ := b["txs"].([]any)
		b["txs"] = append(txs, map[string]any{"hash": strings.Repeat("7", 64), "app": "parking", "action": "set",
			"sender": node.DevAccounts()[0].Address.String(), "nonce": 0})
		node.WriteJSON(w, http.StatusOK, b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestLab7ScaffoldedModule does lab 7 for real: it copies the source
// tree, scaffolds a module "parking" in the copy, builds the binary, runs
// a dev chain with it, sends the module's transaction, and checks the
// lab. It builds a whole binary, so it runs only with -args -labs-long.
func TestLab7ScaffoldedModule(t *testing.T) {
	if !*labsLong {
		t.Skip("builds a binary with a scaffolded module: run with -args -labs-long")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("list the source tree: %v", err)
	}
	tree := t.TempDir()
	for _, f := range strings.Split(strings.TrimSpace(string(files)), "\n") {
		if !(strings.HasPrefix(f, "apps/") || strings.HasPrefix(f, "chain/") || strings.HasPrefix(f, "node/") ||
			strings.HasPrefix(f, "p2p/") || strings.HasPrefix(f, "cmd/") || f == "go.mod" || f == "go.sum") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue // deleted in the work tree
		}
		dst := filepath.Join(tree, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, "scaffold", "module", "parking", "--repo", tree)
	bin := filepath.Join(t.TempDir(), "citychain")
	build := exec.Command("go", "build", "-o", bin, "./cmd/citychain")
	build.Dir = tree
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the binary with the scaffolded module: %v\n%s", err, out)
	}

	home := t.TempDir()
	port := freePort(t)
	api := fmt.Sprintf("http://127.0.0.1:%d", port)
	dev := &proc{out: &bytes.Buffer{}, mu: &sync.Mutex{}}
	dev.cmd = exec.Command(bin, "dev", "--home", home, "--base-port", fmt.Sprint(port), "--empty-every", "1s")
	dev.cmd.Stdout, dev.cmd.Stderr = lockedBuffer{dev.mu, dev.out}, lockedBuffer{dev.mu, dev.out}
	if err := dev.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dev.kill)
	waitHeightAPI(t, client.New(api), 1, 30*time.Second)

	out, code := labCheck(t, nil, "lab", "check", "7", "--node", api, "--module", "parking")
	mustFail(t, out, code, "✓ the network runs a module of your own", "✗ a transaction of your module was committed")
	send := exec.Command(bin, "tx", "parking", "set", "--key", "spot1", "--value", "taken",
		"--home", home, "--node", api, "--from", "dev0", "--wait")
	if b, err := send.CombinedOutput(); err != nil {
		t.Fatalf("tx parking set: %v\n%s\nnode:\n%s", err, b, dev.output())
	}
	out, code = labCheck(t, nil, "lab", "check", "7", "--node", api, "--module", "parking")
	mustPass(t, out, code, "Lab 7 is done")
}
