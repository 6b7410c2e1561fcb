package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestScaffoldedModuleBuildsAndPasses copies the source tree, runs
// `citychain scaffold module parking` in the copy, and checks that the
// whole tree builds and the new module's own test passes, without edits.
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
	if !strings.Contains(out, "apps/parking/app.go") {
		t.Fatalf("scaffold output: %s", out)
	}
	reg, _ := os.ReadFile(filepath.Join(tmp, "apps", "apps.go"))
	if !strings.Contains(string(reg), "parking.New(),") {
		t.Fatalf("module not registered:\n%s", reg)
	}
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./apps/parking/"}, {"test", "-count=1", "./apps/parking/"}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = tmp
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s in the scaffolded tree: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	// A second run refuses to overwrite.
	cmd := exec.Command(citychainBin(t), "scaffold", "module", "parking", "--repo", tmp)
	if b, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("scaffolding an existing module succeeded: %s", b)
	}
}
