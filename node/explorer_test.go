package node

import (
	"slices"
	"strings"
	"testing"
)

// Every script in explorer/ is part of the page, in a known order: a new
// file that is not listed would be embedded and never run.
func TestExplorerScriptsAreAllListed(t *testing.T) {
	entries, err := explorerFiles.ReadDir("explorer")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".js") && !slices.Contains(scriptFiles, e.Name()) {
			t.Errorf("explorer/%s is not in scriptFiles", e.Name())
		}
	}
	if _, err := buildExplorerPage(); err != nil {
		t.Fatal(err)
	}
}
