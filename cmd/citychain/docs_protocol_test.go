package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The protocol reference quotes the golden vectors of chain/testdata/golden
// in fenced blocks whose info string names the file:
//
//	```golden chain/testdata/golden/tx.json
//	sign_bytes_hex     a6636170...
//	hash               e58a3611...
//	```
//
// Each line is a path into the file's JSON (dots between keys, [i] for
// the i-th element of a list) and the value found there. The test below
// checks every line against its file, so a change of format that rewrites
// the golden files fails here until the pages follow.
//
//	go test ./cmd/citychain -run TestDocsProtocolVectors -docs-update
//
// fills in the values from the files (a new line needs only its path).

var docsUpdate = flag.Bool("docs-update", false, "rewrite the golden values quoted in docs/{en,zh}/protocol.md from chain/testdata/golden")

// protocolPages are the pages that quote golden vectors, in every language.
var protocolPages = []string{"docs/en/protocol.md", "docs/zh/protocol.md"}

// goldenBlock is one quoted block: its file and its lines.
type goldenBlock struct {
	file  string
	lines []string
}

// goldenBlocks finds the golden blocks of a page; lines outside them are
// returned too, for the check that no hex is quoted elsewhere.
func goldenBlocks(page string) (blocks []goldenBlock, outside []string) {
	var cur *goldenBlock
	for _, line := range strings.Split(page, "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```golden "):
			cur = &goldenBlock{file: strings.TrimSpace(strings.TrimPrefix(line, "```golden "))}
		case cur != nil && strings.HasPrefix(line, "```"):
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, line)
		default:
			outside = append(outside, line)
		}
	}
	return blocks, outside
}

// jsonAt returns the value at path in v as the page writes it: a string as
// it is, a number in its JSON form.
func jsonAt(v any, path string) (string, error) {
	for _, part := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return "", fmt.Errorf("%s: %q is not in an object", path, key)
			}
			if v, ok = m[key]; !ok {
				return "", fmt.Errorf("%s: no field %q", path, key)
			}
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(idx)
			if !ok || err != nil {
				return "", fmt.Errorf("%s: bad index in %q", path, part)
			}
			l, isList := v.([]any)
			if !isList || i < 0 || i >= len(l) {
				return "", fmt.Errorf("%s: no element %d", path, i)
			}
			v = l[i]
			rest = strings.TrimPrefix(after, "[")
		}
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	}
	return "", fmt.Errorf("%s is not a string or a number", path)
}

func loadGoldenJSON(root, file string) (any, []byte, error) {
	raw, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
	if err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	return v, raw, nil
}

var longHex = regexp.MustCompile(`[0-9a-f]{40,}`)

// TestDocsProtocolVectors checks the golden vectors quoted in the protocol
// reference: each value is the one in the file it names, both languages
// quote the same blocks, and no long hex string outside those blocks is
// missing from the golden files.
func TestDocsProtocolVectors(t *testing.T) {
	root := filepath.Join("..", "..")
	var first []goldenBlock
	for pi, name := range protocolPages {
		raw, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		blocks, outside := goldenBlocks(string(raw))
		if len(blocks) < 5 {
			t.Errorf("%s: %d golden blocks, want the vectors of every golden file", name, len(blocks))
		}
		out := string(raw)
		var golden [][]byte
		for _, b := range blocks {
			v, fileRaw, err := loadGoldenJSON(root, b.file)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			golden = append(golden, fileRaw)
			width := 0
			for _, l := range b.lines {
				if f := strings.Fields(l); len(f) > 0 {
					width = max(width, len(f[0]))
				}
			}
			for _, l := range b.lines {
				f := strings.Fields(l)
				if len(f) == 0 {
					continue
				}
				want, err := jsonAt(v, f[0])
				if err != nil {
					t.Errorf("%s, %s: %v", name, b.file, err)
					continue
				}
				if *docsUpdate {
					out = strings.Replace(out, "\n"+l+"\n", fmt.Sprintf("\n%-*s  %s\n", width, f[0], want), 1)
					continue
				}
				if len(f) != 2 || f[1] != want {
					t.Errorf("%s quotes %s %s as %q; the file holds %q (go test ./cmd/citychain -run TestDocsProtocolVectors -docs-update)",
						name, b.file, f[0], strings.Join(f[1:], " "), want)
				}
			}
		}
		if *docsUpdate && out != string(raw) {
			if err := os.WriteFile(filepath.Join(root, name), []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, l := range outside {
			for _, h := range longHex.FindAllString(l, -1) {
				if !slices.ContainsFunc(golden, func(g []byte) bool { return bytes.Contains(g, []byte(h)) }) {
					t.Errorf("%s quotes %s... outside a golden block, and no golden file it names holds it", name, h[:16])
				}
			}
		}
		if pi == 0 {
			first = blocks
			continue
		}
		if !*docsUpdate && !slices.EqualFunc(first, blocks, func(a, b goldenBlock) bool {
			return a.file == b.file && slices.Equal(a.lines, b.lines)
		}) {
			t.Errorf("%s and %s quote different golden blocks; they must be identical", protocolPages[0], name)
		}
	}
}
