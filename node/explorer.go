package node

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// The explorer is one HTML page served at GET /. Its style, UI strings
// and script live in their own files under explorer/ so that they read
// as CSS and JavaScript, and are inlined into the page when the binary
// starts. The page then needs no second request, and the
// Content-Security-Policy can name the exact inline script and style by
// their SHA-256 instead of allowing any inline code: a browser runs
// nothing else, and talks to no host but this node.

//go:embed explorer/index.html explorer/style.css explorer/*.js
var explorerFiles embed.FS

// scriptFiles are joined, in this order, into the page's one script.
// strings.js turns on strict mode and defines STRINGS; core.js holds the
// helpers and the live state the others use; router.js starts the page.
var scriptFiles = []string{"strings.js", "core.js", "dashboard.js", "chain.js", "modules.js", "apps.js", "verify.js", "network.js", "labs.js", "router.js"}

// explorerPage is the assembled page and the policy that allows exactly
// its inline script and style.
type explorerPage struct {
	html []byte
	csp  string
}

// page is built once from the embedded files; they are part of the
// binary, so a failure here is a broken build, not bad input.
var page = mustBuildExplorerPage()

func mustBuildExplorerPage() explorerPage {
	p, err := buildExplorerPage()
	if err != nil {
		panic(fmt.Sprintf("explorer: %v", err))
	}
	return p
}

// buildExplorerPage replaces the /*STYLE*/ and /*SCRIPT*/ markers of
// index.html with style.css and with the scriptFiles joined, and
// returns a CSP that allows only those two inline blocks and requests to
// this origin.
func buildExplorerPage() (explorerPage, error) {
	read := func(name string) (string, error) {
		b, err := explorerFiles.ReadFile("explorer/" + name)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", name, err)
		}
		return string(b), nil
	}
	html, err := read("index.html")
	if err != nil {
		return explorerPage{}, err
	}
	style, err := read("style.css")
	if err != nil {
		return explorerPage{}, err
	}
	var parts []string
	for _, name := range scriptFiles {
		js, err := read(name)
		if err != nil {
			return explorerPage{}, err
		}
		parts = append(parts, js)
	}
	script := strings.Join(parts, "\n")
	for _, marker := range []string{"/*STYLE*/", "/*SCRIPT*/"} {
		if strings.Count(html, marker) != 1 {
			return explorerPage{}, fmt.Errorf("index.html must hold %s exactly once", marker)
		}
	}
	html = strings.Replace(html, "/*STYLE*/", style, 1)
	html = strings.Replace(html, "/*SCRIPT*/", script, 1)
	csp := "default-src 'none'; connect-src 'self'; img-src 'self' data:; " +
		"script-src " + cspHash(script) + "; style-src " + cspHash(style) + "; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	return explorerPage{html: []byte(html), csp: csp}, nil
}

// cspHash is the CSP source expression that allows one inline block.
func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// handleExplorer serves the explorer page, embedded in the binary.
func (n *Node) handleExplorer(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", page.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(page.html)
}
