package labs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The lab documents are part of the labs: every lab has one in English
// and one in Chinese, where `citychain lab check` says it is, with the
// same headings and the same runnable commands in both languages.

var docsDir = filepath.Join("..", "..", "docs")

// sections are the headings every lab document has, in this order.
var sections = map[Lang][]string{
	En: {"Goal", "Background", "Steps", "The check", "Questions"},
	Zh: {"目标", "背景", "步骤", "检查", "思考题"},
}

var (
	headingLine = regexp.MustCompile(`(?m)^(#{1,6}) (.+)$`)
	fence       = regexp.MustCompile("(?ms)^```([^\n]*)\n(.*?)^```$")
)

// outline returns a document's headings outside code blocks, as their
// levels, and its level-2 titles.
func outline(doc string) (levels []int, titles []string) {
	prose := fence.ReplaceAllString(doc, "")
	for _, m := range headingLine.FindAllStringSubmatch(prose, -1) {
		levels = append(levels, len(m[1]))
		if len(m[1]) == 2 {
			titles = append(titles, m[2])
		}
	}
	return levels, titles
}

// runnable returns a document's blocks marked ```sh run.
func runnable(doc string) []string {
	var out []string
	for _, m := range fence.FindAllStringSubmatch(doc, -1) {
		if strings.TrimSpace(m[1]) == "sh run" {
			out = append(out, m[2])
		}
	}
	return out
}

func readDoc(t *testing.T, lang Lang, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(docsDir, string(lang), "labs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLabDocuments(t *testing.T) {
	for _, l := range All() {
		name := l.Slug + ".md"
		docs := map[Lang]string{En: readDoc(t, En, name), Zh: readDoc(t, Zh, name)}
		for lang, doc := range docs {
			levels, titles := outline(doc)
			if len(levels) == 0 || levels[0] != 1 || slices.Contains(levels[1:], 1) {
				t.Errorf("%s/%s: want one title (#) first, got heading levels %v", lang, name, levels)
			}
			if !slices.Equal(titles, sections[lang]) {
				t.Errorf("%s/%s: sections %q, want %q", lang, name, titles, sections[lang])
			}
			if !strings.Contains(doc, fmt.Sprintf("citychain lab check %d", l.Number)) {
				t.Errorf("%s/%s does not show its check, citychain lab check %d", lang, name, l.Number)
			}
			if !strings.Contains(doc, "```sh") {
				t.Errorf("%s/%s has no shell block", lang, name)
			}
		}
		enLevels, _ := outline(docs[En])
		zhLevels, _ := outline(docs[Zh])
		if !slices.Equal(enLevels, zhLevels) {
			t.Errorf("%s: headings differ between the languages: en %v, zh %v", name, enLevels, zhLevels)
		}
		en, zh := runnable(docs[En]), runnable(docs[Zh])
		if !slices.Equal(en, zh) {
			t.Errorf("%s: the runnable blocks differ between the languages (%d in English, %d in Chinese)", name, len(en), len(zh))
			for i := range min(len(en), len(zh)) {
				if en[i] != zh[i] {
					t.Errorf("first difference, block %d:\n%s\n---\n%s", i+1, en[i], zh[i])
					break
				}
			}
		}
	}
}

// Both languages hold the same files, and nothing but the labs and
// their index.
func TestLabDocumentsAreTwins(t *testing.T) {
	names := func(lang Lang) []string {
		es, err := os.ReadDir(filepath.Join(docsDir, string(lang), "labs"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return out
	}
	en, zh := names(En), names(Zh)
	if !slices.Equal(en, zh) {
		t.Errorf("docs/en/labs holds %v, docs/zh/labs %v", en, zh)
	}
	want := []string{"README.md"}
	for _, l := range All() {
		want = append(want, l.Slug+".md")
	}
	slices.Sort(want)
	if !slices.Equal(en, want) {
		t.Errorf("docs/en/labs holds %v, want the index and one document per lab: %v", en, want)
	}
	for _, lang := range []Lang{En, Zh} {
		index := readDoc(t, lang, "README.md")
		for _, l := range All() {
			if !strings.Contains(index, "("+l.Slug+".md)") {
				t.Errorf("%s/labs/README.md does not link lab %d", lang, l.Number)
			}
		}
	}
}

// A runnable block must run unattended and end: it may not start a
// program that keeps running, nor wait for a person.
func TestRunnableBlocksEnd(t *testing.T) {
	forbidden := []string{"citychain dev ", "citychain devnet --", "make devnet", "citychain node ", "read ", "&\n", "& \n"}
	for _, l := range All() {
		for _, lang := range []Lang{En, Zh} {
			for i, b := range runnable(readDoc(t, lang, l.Slug+".md")) {
				for _, f := range forbidden {
					if strings.Contains(b+"\n", f) {
						t.Errorf("%s/%s.md, runnable block %d contains %q, which does not end by itself:\n%s", lang, l.Slug, i+1, f, b)
					}
				}
			}
		}
	}
}
