package node

import (
	_ "embed"
	"net/http"
)

//go:embed explorer/index.html
var explorerHTML []byte

// handleExplorer serves the explorer page, embedded in the binary.
func (n *Node) handleExplorer(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'")
	_, _ = w.Write(explorerHTML)
}
