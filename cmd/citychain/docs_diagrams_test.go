package main

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestDocsDiagramsUpToDate checks that the pictures of the architecture
// page are drawn from their sources as they stand: docs/diagrams/imports.txt
// from the real imports of the tree, and every SVG from its source. It runs
// the renderer in its -check mode, which writes nothing. After a change of
// imports or of a .seq source, redraw them from the repository root with
//
//	go run docs/diagrams/render.go
func TestDocsDiagramsUpToDate(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "docs/diagrams/render.go", "-check")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the diagrams are not up to date with their sources: %v\n%s", err, out)
	}
}
