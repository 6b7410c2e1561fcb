package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The documentation comes in two trees with the same shape, docs/en and
// docs/zh, and README.md has its twin README.zh.md. These tests check,
// without starting anything, that the twins have the same files, the
// same headings (same number, levels and order; the texts are in their
// own language) and byte-identical runnable blocks in the same order, and
// that every relative link points at a file, and at a heading, that
// exists. docs_run_e2e_test.go runs the runnable blocks themselves.

// plannedDocs are documentation files that are linked before they are
// written: a link to one of them, or a missing twin of README.md, is
// logged rather than failed while the file does not exist. There are none
// now; every file of the two trees is checked in full.
var plannedDocs []string

// repoRoot is the root of the source tree, two folders above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// mdFiles returns the Markdown files under root/dir, as repository paths
// (slash-separated, relative to root), sorted.
func mdFiles(t testing.TB, root, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(root, dir), func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && strings.HasSuffix(p, ".md") {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// loadDoc parses the file at the repository path name.
func loadDoc(t testing.TB, root, name string) *mdDoc {
	t.Helper()
	d, err := readMarkdown(filepath.Join(root, filepath.FromSlash(name)), name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// twinPairs pairs each English document with its Chinese twin: the files
// of docs/en with those of docs/zh, README.md with README.zh.md. It
// returns the pairs and a line for each file that has no twin.
func twinPairs(t testing.TB, root string) (pairs [][2]string, missing []string) {
	t.Helper()
	en, zh := mdFiles(t, root, "docs/en"), mdFiles(t, root, "docs/zh")
	for _, f := range en {
		twin := "docs/zh/" + strings.TrimPrefix(f, "docs/en/")
		if slices.Contains(zh, twin) {
			pairs = append(pairs, [2]string{f, twin})
		} else {
			missing = append(missing, fmt.Sprintf("%s has no Chinese twin: %s is missing", f, twin))
		}
	}
	for _, f := range zh {
		twin := "docs/en/" + strings.TrimPrefix(f, "docs/zh/")
		if !slices.Contains(en, twin) {
			missing = append(missing, fmt.Sprintf("%s has no English twin: %s is missing", f, twin))
		}
	}
	if _, err := os.Stat(filepath.Join(root, "README.zh.md")); err == nil {
		pairs = append(pairs, [2]string{"README.md", "README.zh.md"})
	} else if !slices.Contains(plannedDocs, "README.zh.md") {
		missing = append(missing, "README.md has no Chinese twin: README.zh.md is missing")
	}
	return pairs, missing
}

// compareTwins returns what differs between two twins: the number and
// levels of their headings, and their runnable blocks. After the first
// heading whose level differs, the rest would differ too, so it stops
// there.
func compareTwins(en, zh *mdDoc) []string {
	var diffs []string
	for i := 0; i < min(len(en.headings), len(zh.headings)); i++ {
		a, b := en.headings[i], zh.headings[i]
		if a.level != b.level {
			diffs = append(diffs, fmt.Sprintf("heading %d: %s:%d is level %d %q, %s:%d is level %d %q",
				i+1, en.path, a.line, a.level, a.text, zh.path, b.line, b.level, b.text))
			break
		}
	}
	if len(en.headings) != len(zh.headings) {
		long, short := en, zh
		if len(zh.headings) > len(en.headings) {
			long, short = zh, en
		}
		extra := long.headings[len(short.headings)]
		diffs = append(diffs, fmt.Sprintf("%s has %d headings, %s has %d; the first one past the end of the shorter is heading %d, %s:%d %q",
			en.path, len(en.headings), zh.path, len(zh.headings), len(short.headings)+1, long.path, extra.line, extra.text))
	}
	for i := 0; i < min(len(en.blocks), len(zh.blocks)); i++ {
		a, b := en.blocks[i], zh.blocks[i]
		if a.text != b.text {
			diffs = append(diffs, fmt.Sprintf("runnable block %d: %s:%d and %s:%d differ%s",
				i+1, en.path, a.line, zh.path, b.line, firstLineDiff(a.text, b.text)))
		}
	}
	if len(en.blocks) != len(zh.blocks) {
		diffs = append(diffs, fmt.Sprintf("%s has %d runnable blocks, %s has %d",
			en.path, len(en.blocks), zh.path, len(zh.blocks)))
	}
	return diffs
}

// firstLineDiff says at which line of a block two texts first differ.
func firstLineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf(" at its line %d:\n\ten: %q\n\tzh: %q", i+1, x, y)
		}
	}
	return ""
}

// TestDocsTwins checks that docs/en and docs/zh, and README.md and
// README.zh.md, are twins: the same files, the same heading structure and
// the same runnable blocks.
func TestDocsTwins(t *testing.T) {
	root := repoRoot(t)
	pairs, missing := twinPairs(t, root)
	for _, m := range missing {
		t.Error(m)
	}
	if len(pairs) < 8 {
		t.Fatalf("found only %d pairs of twins in docs/en and docs/zh", len(pairs))
	}
	for _, p := range pairs {
		for _, d := range compareTwins(loadDoc(t, root, p[0]), loadDoc(t, root, p[1])) {
			t.Error(d)
		}
	}
}

// linkedDocs are the files whose links TestDocsLinks follows: every
// Markdown file under docs/ and the two READMEs at the root.
func linkedDocs(t testing.TB, root string) []string {
	t.Helper()
	files := mdFiles(t, root, "docs")
	for _, f := range []string{"README.md", "README.zh.md"} {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			files = append(files, f)
		}
	}
	return files
}

// checkLink checks one relative link of the document from: that the file
// it names exists (a planned file may be missing: it is logged), and that
// a Markdown file has a heading for its anchor. It returns the problem,
// or "".
func checkLink(t testing.TB, root string, from *mdDoc, l mdLink, docs map[string]*mdDoc) string {
	t.Helper()
	where := fmt.Sprintf("%s:%d: link %q", from.path, l.line, l.target)
	p, anchor, err := splitTarget(l.target)
	if err != nil {
		return fmt.Sprintf("%s: %v", where, err)
	}
	target := from.path
	switch {
	case p == "":
	case strings.HasPrefix(p, "/"):
		target = strings.TrimPrefix(p, "/")
	default:
		target = filepath.ToSlash(filepath.Join(filepath.Dir(from.path), p))
	}
	target = strings.TrimSuffix(filepath.ToSlash(filepath.Clean(target)), "/")
	if target == ".." || strings.HasPrefix(target, "../") {
		return fmt.Sprintf("%s: points outside the repository", where)
	}
	info, err := os.Stat(filepath.Join(root, filepath.FromSlash(target)))
	if err != nil {
		if slices.Contains(plannedDocs, target) {
			t.Logf("%s: %s is planned and not written yet", where, target)
			return ""
		}
		return fmt.Sprintf("%s: there is no %s", where, target)
	}
	if anchor == "" || info.IsDir() || !strings.HasSuffix(target, ".md") {
		return ""
	}
	d, ok := docs[target]
	if !ok {
		d = loadDoc(t, root, target)
		docs[target] = d
	}
	if !d.anchors()[anchor] {
		var known []string
		for _, h := range d.headings {
			known = append(known, slug(h.text))
		}
		return fmt.Sprintf("%s: %s has no heading with the anchor #%s (it has #%s)", where, target, anchor, strings.Join(known, ", #"))
	}
	return ""
}

// TestDocsLinks follows every relative link of the documentation.
func TestDocsLinks(t *testing.T) {
	root := repoRoot(t)
	docs := map[string]*mdDoc{}
	checked := 0
	for _, f := range linkedDocs(t, root) {
		d := loadDoc(t, root, f)
		docs[f] = d
		for _, l := range d.links {
			if !isRelative(l.target) {
				continue
			}
			checked++
			if problem := checkLink(t, root, d, l, docs); problem != "" {
				t.Error(problem)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("followed only %d relative links", checked)
	}
}

func TestCompareTwins(t *testing.T) {
	parse := func(name, src string) *mdDoc {
		t.Helper()
		d, err := parseMarkdown(name, src)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	en := "# Lab\n## Goal\n## Steps\n```sh run\necho one\n```\n### A step\n```sh run\necho two\n```\n"
	for _, tc := range []struct {
		name, zh string
		want     []string // one substring per difference, in order
	}{
		{"twins", "# 实验\n## 目标\n## 步骤\n```sh run\necho one\n```\n### 一步\n```sh run\necho two\n```\n", nil},
		{"a heading one level up", "# 实验\n## 目标\n## 步骤\n```sh run\necho one\n```\n## 一步\n```sh run\necho two\n```\n",
			[]string{`heading 4: en.md:7 is level 3 "A step", zh.md:7 is level 2 "一步"`}},
		{"a heading missing", "# 实验\n## 目标\n## 步骤\n```sh run\necho one\n```\n```sh run\necho two\n```\n",
			[]string{`en.md has 4 headings, zh.md has 3; the first one past the end of the shorter is heading 4, en.md:7 "A step"`}},
		{"a block changed", "# 实验\n## 目标\n## 步骤\n```sh run\necho one\n```\n### 一步\n```sh run\necho 2\n```\n",
			[]string{"runnable block 2: en.md:8 and zh.md:8 differ at its line 1:\n\ten: \"echo two\"\n\tzh: \"echo 2\""}},
		{"a block left plain", "# 实验\n## 目标\n## 步骤\n```sh run\necho one\n```\n### 一步\n```sh\necho two\n```\n",
			[]string{"en.md has 2 runnable blocks, zh.md has 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := compareTwins(parse("en.md", en), parse("zh.md", tc.zh))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d differences, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("difference %d:\n%s\nwant it to say\n%s", i+1, got[i], w)
				}
			}
		})
	}
}
