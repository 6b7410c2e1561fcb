package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
)

// TestScaffoldedModuleBuildsAndPasses copies the source tree, runs
// `citychain scaffold module parking` in the copy, and then nothing else
// than `go build ./...` and `go test ./apps/parking/...`. It then starts
// `citychain dev` built from the copy and checks that the new module is
// in the development genesis, answers its index at GET
// /v1/apps/parking/, has its commands under `citychain tx parking` and
// `citychain query parking`, is listed and linked by the explorer, and
// adds its step at the end of `citychain demo`.
func TestScaffoldedModuleBuildsAndPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a copy of the tree")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	tmp := t.TempDir()
	for _, f := range strings.Split(strings.TrimSpace(string(files)), "\n") {
		if strings.HasPrefix(f, "apps/") || strings.HasPrefix(f, "chain/") || strings.HasPrefix(f, "node/") ||
			strings.HasPrefix(f, "p2p/") || strings.HasPrefix(f, "cmd/") || f == "go.mod" || f == "go.sum" {
			src := filepath.Join(root, f)
			b, err := os.ReadFile(src)
			if err != nil {
				continue // deleted in the work tree
			}
			dst := filepath.Join(tmp, f)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := run(t, "scaffold", "module", "parking", "--repo", tmp)
	if !strings.Contains(out, "apps/parking/app.go") || !strings.Contains(out, "apps/parking/wiring.go") {
		t.Fatalf("scaffold output: %s", out)
	}
	reg, _ := os.ReadFile(filepath.Join(tmp, "apps", "apps.go"))
	if !strings.Contains(string(reg), "parking.New(),") {
		t.Fatalf("module not registered:\n%s", reg)
	}
	bin := filepath.Join(tmp, "citychain")
	start := time.Now()
	for _, args := range [][]string{
		{"build", "./..."}, {"test", "-count=1", "./apps/parking/..."}, // the promise
		{"vet", "./apps/parking/"},
		{"build", "-o", bin, "./cmd/citychain"}, // to run the module on a dev node
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = tmp
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s in the scaffolded tree: %v\n%s", strings.Join(args, " "), err, b)
		}
		t.Logf("go %s: %.1f s", strings.Join(args, " "), time.Since(start).Seconds())
		start = time.Now()
	}
	// A second run refuses to overwrite.
	cmd := exec.Command(citychainBin(t), "scaffold", "module", "parking", "--repo", tmp)
	if b, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("scaffolding an existing module succeeded: %s", b)
	}

	home := filepath.Join(tmp, "home")
	port := freePort(t)
	startBin(t, bin, port, nil, "dev", "--home", home, "--base-port", fmt.Sprint(port), "--empty-every", "1s")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	binRun := func(args ...string) string {
		t.Helper()
		b, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("citychain %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}

	t.Run("dev genesis", func(t *testing.T) {
		g, err := chain.LoadGenesis(filepath.Join(home, node.GenesisFile))
		if err != nil {
			t.Fatal(err)
		}
		if s := string(g.AppState["parking"]); !strings.Contains(s, `"welcome"`) {
			t.Errorf("app_state.parking = %q, want the welcome note", s)
		}
		var n struct{ Value string }
		getJSONTest(t, base+"/v1/apps/parking/note/"+node.DevAccounts()[0].Address.String()+"/welcome", &n)
		if !strings.Contains(n.Value, "parking") {
			t.Errorf("the welcome note on chain: %+v", n)
		}
	})
	t.Run("index", func(t *testing.T) {
		var ix sdk.Index
		getJSONTest(t, base+"/v1/apps/parking/", &ix) // fails the test unless 200
		if ix.Module != "parking" || len(ix.Actions) != 1 || ix.Actions[0].Name != "set" || len(ix.Queries) != 2 {
			t.Errorf("index = %+v", ix)
		}
	})
	t.Run("commands", func(t *testing.T) {
		if h := binRun("tx", "parking", "--help"); !strings.Contains(h, "set ") {
			t.Errorf("citychain tx parking --help lists no set:\n%s", h)
		}
		if h := binRun("query", "parking", "--help"); !strings.Contains(h, "note ") || !strings.Contains(h, "notes ") {
			t.Errorf("citychain query parking --help lists no note and notes:\n%s", h)
		}
		binRun("tx", "parking", "set", "--key", "bay-12", "--value", "Permit for the van", "--from", "dev3", "--wait", "--home", home, "--node", base)
		if got := binRun("query", "parking", "note", node.DevAccounts()[3].Address.String(), "bay-12", "--node", base); strings.TrimSpace(got) != "Permit for the van" {
			t.Errorf("query parking note: %q", got)
		}
	})
	t.Run("explorer list", func(t *testing.T) {
		var v node.AppsView
		getJSONTest(t, base+"/v1/apps", &v)
		i := slices.IndexFunc(v.Apps, func(a node.AppView) bool { return a.Name == "parking" })
		if i < 0 || v.Apps[i].Title == "" || len(v.Apps[i].Links) == 0 {
			t.Fatalf("GET /v1/apps = %+v, want parking with its title and links", v.Apps)
		}
	})
	t.Run("demo step", func(t *testing.T) {
		out := binRun("demo", "--node", base)
		if !strings.Contains(out, "The parking module: a note on chain") || !strings.Contains(out, "/#/apps/parking") {
			t.Errorf("the demo has no parking step:\n%s", out)
		}
	})
	t.Run("explorer", func(t *testing.T) {
		findBrowser(t)
		watch := &pageWatch{host: fmt.Sprintf("127.0.0.1:%d", port)}
		p := newBrowser(t, base, watch)
		p.do(20*time.Second, chromedp.Navigate(base+"/#/"))
		p.waitFor("the Modules link in the menu", `!!document.querySelector('#nav a[href="#/apps"]')`, 10*time.Second)
		p.open("#/apps")
		p.waitFor("parking in the module list", `!!document.querySelector('#apps-list a[href="#/apps/parking"]')`, 10*time.Second)
		p.shot("modules")
		p.open("#/apps/parking")
		p.waitFor("the parking page with its actions and queries",
			`(document.getElementById('app-actions')?.textContent || '').includes('set') && !!document.querySelector('#app-queries a[href="#/apps/parking/notes"]')`, 10*time.Second)
		p.shot("module-parking")
		p.waitFor("the link the module gives", `!!document.querySelector('#app-links a[href="#/apps/parking/notes"]')`, 5*time.Second)
		p.open("#/apps/parking/notes")
		p.waitFor("every note as JSON", `(document.getElementById('app-answer')?.textContent || '').includes('bay-12')`, 10*time.Second)
		p.shot("module-parking-notes")
		p.checkLayouts("#/apps", "#/apps/parking", "#/apps/parking/notes")
		watch.check(t)
	})
}
