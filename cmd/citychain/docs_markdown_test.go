package main

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// The docs tests read Markdown the way GitHub shows it, as far as they
// need: fenced code blocks (whose lines are never headings or links),
// ATX headings (# to ######), the runnable blocks (fenced with the info
// string "sh run"), and the targets of links. mdDoc holds what one file
// gives.

// runInfo is the info string of a runnable block: the docs test runs it.
const runInfo = "sh run"

// mdDoc is what the docs tests read from one Markdown file.
type mdDoc struct {
	path     string // as the repository names it, e.g. docs/en/labs/01-keys-and-transfer.md
	headings []mdHeading
	blocks   []mdBlock // the runnable blocks, in order
	links    []mdLink
}

// mdHeading is one heading: its level (1 for #) and its text.
type mdHeading struct {
	line  int
	level int
	text  string
}

// mdBlock is one runnable block: the line of its opening fence and its
// text, each line ending in a newline.
type mdBlock struct {
	line int
	text string
}

// mdLink is the target of a link or an image, as written.
type mdLink struct {
	line   int
	target string
}

var (
	fenceRe   = regexp.MustCompile("^( {0,3})(`{3,}|~{3,})(.*)$")
	headingRe = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$`)
	// A closing sequence of #s is not part of the heading's text.
	closingHashesRe = regexp.MustCompile(`(^|[ \t]+)#+$`)
	// Inline links and images: [text](target "title"), ![alt](target).
	inlineLinkRe = regexp.MustCompile(`\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)`)
	// Reference definitions: [name]: target.
	refDefRe = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*(\S+)`)
	// Links in raw HTML.
	htmlLinkRe = regexp.MustCompile(`(?i)\b(?:href|src)="([^"]*)"`)
	codeSpanRe = regexp.MustCompile("``.*?``|`[^`]*`")
	schemeRe   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// readMarkdown reads the file at path (on disk) and names it name.
func readMarkdown(path, name string) (*mdDoc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseMarkdown(name, string(b))
}

// parseMarkdown reads the headings, runnable blocks and links of src. An
// unclosed fence is an error: everything after it would be code.
func parseMarkdown(name, src string) (*mdDoc, error) {
	d := &mdDoc{path: name}
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := fenceRe.FindStringSubmatch(line); m != nil && !(m[2][0] == '`' && strings.Contains(m[3], "`")) {
			open := i
			fence, info := m[2], strings.TrimSpace(m[3])
			var body strings.Builder
			closed := false
			for i++; i < len(lines); i++ {
				if c := fenceRe.FindStringSubmatch(lines[i]); c != nil && c[2][0] == fence[0] &&
					len(c[2]) >= len(fence) && strings.TrimSpace(c[3]) == "" {
					closed = true
					break
				}
				body.WriteString(strings.TrimPrefix(lines[i], m[1]))
				body.WriteByte('\n')
			}
			if !closed {
				return nil, fmt.Errorf("%s:%d: the code block opened here is never closed", name, open+1)
			}
			if info == runInfo {
				d.blocks = append(d.blocks, mdBlock{line: open + 1, text: body.String()})
			}
			continue
		}
		if m := headingRe.FindStringSubmatch(line); m != nil {
			text := closingHashesRe.ReplaceAllString(m[2], "")
			d.headings = append(d.headings, mdHeading{line: i + 1, level: len(m[1]), text: strings.TrimSpace(text)})
			continue
		}
		if m := refDefRe.FindStringSubmatch(line); m != nil {
			d.links = append(d.links, mdLink{line: i + 1, target: m[1]})
			continue
		}
		prose := codeSpanRe.ReplaceAllString(line, "")
		for _, m := range inlineLinkRe.FindAllStringSubmatch(prose, -1) {
			d.links = append(d.links, mdLink{line: i + 1, target: strings.Trim(m[1], "<>")})
		}
		for _, m := range htmlLinkRe.FindAllStringSubmatch(prose, -1) {
			d.links = append(d.links, mdLink{line: i + 1, target: m[1]})
		}
	}
	return d, nil
}

// isRelative reports whether a link target points into the repository:
// not a URL with a scheme (https:, mailto:) and not protocol-relative.
func isRelative(target string) bool {
	return !schemeRe.MatchString(target) && !strings.HasPrefix(target, "//")
}

// splitTarget splits a relative link target into its path and its
// anchor (the part after #), both percent-decoded.
func splitTarget(target string) (path, anchor string, err error) {
	path, anchor, _ = strings.Cut(target, "#")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path, err = url.PathUnescape(path); err != nil {
		return "", "", err
	}
	if anchor, err = url.PathUnescape(anchor); err != nil {
		return "", "", err
	}
	return path, anchor, nil
}

var (
	mdLinkTextRe = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	htmlTagRe    = regexp.MustCompile(`<[^>]+>`)
)

// anchors returns the anchors GitHub gives the file's headings: the text
// as shown (links reduced to their text, tags dropped), in lower case,
// with every character that is not a letter, a mark, a digit, "_", "-"
// or a space dropped, and spaces turned into "-". A text seen before
// gets "-1", "-2" and so on.
func (d *mdDoc) anchors() map[string]bool {
	seen := map[string]bool{}
	for _, h := range d.headings {
		base := slug(h.text)
		s := base
		for n := 1; seen[s]; n++ {
			s = fmt.Sprintf("%s-%d", base, n)
		}
		seen[s] = true
	}
	return seen
}

// slug is the anchor GitHub makes of a heading's text.
func slug(text string) string {
	text = mdLinkTextRe.ReplaceAllString(text, "$1")
	text = htmlTagRe.ReplaceAllString(text, "")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) ||
			unicode.IsNumber(r) || unicode.Is(unicode.Pc, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestParseMarkdown(t *testing.T) {
	src := "# Lab 9: a title #\n" +
		"\n" +
		"Text with a [link](other.md#steps), an ![image](pic.svg \"title\") and `[code](not-a-link.md)`.\n" +
		"[ref]: ../README.md\n" +
		"<a href=\"notes.md\">notes</a>\n" +
		"\n" +
		"## Steps\n" +
		"\n" +
		"```sh run\n" +
		"# a comment, not a heading\n" +
		"citychain status\n" +
		"```\n" +
		"\n" +
		"```sh\n" +
		"make devnet\n" +
		"```\n" +
		"\n" +
		"    # indented code, not a heading\n" +
		"~~~~sh run\n" +
		"echo '```'\n" +
		"~~~~\n" +
		"### Done\n"
	d, err := parseMarkdown("x.md", src)
	if err != nil {
		t.Fatal(err)
	}
	wantHeadings := []mdHeading{{1, 1, "Lab 9: a title"}, {7, 2, "Steps"}, {22, 3, "Done"}}
	if !slices.Equal(d.headings, wantHeadings) {
		t.Errorf("headings: got %v, want %v", d.headings, wantHeadings)
	}
	wantBlocks := []mdBlock{{9, "# a comment, not a heading\ncitychain status\n"}, {19, "echo '```'\n"}}
	if !slices.Equal(d.blocks, wantBlocks) {
		t.Errorf("runnable blocks: got %+v, want %+v", d.blocks, wantBlocks)
	}
	wantLinks := []mdLink{{3, "other.md#steps"}, {3, "pic.svg"}, {4, "../README.md"}, {5, "notes.md"}}
	if !slices.Equal(d.links, wantLinks) {
		t.Errorf("links: got %v, want %v", d.links, wantLinks)
	}
	if _, err := parseMarkdown("open.md", "text\n```sh run\necho\n"); err == nil || !strings.Contains(err.Error(), "open.md:2") {
		t.Errorf("an unclosed fence: got %v, want an error naming open.md:2", err)
	}
}

func TestSlug(t *testing.T) {
	for _, tc := range []struct{ heading, want string }{
		{"Goal", "goal"},
		{"Lab 1: Keys, accounts and a transfer", "lab-1-keys-accounts-and-a-transfer"},
		{"The `prev_hash` link", "the-prev_hash-link"},
		{"See [the API](api.md) (HTTP)", "see-the-api-http"},
		{"实验 1：密钥、账户与转账", "实验-1密钥账户与转账"},
		{"What 2f+1 means", "what-2f1-means"},
	} {
		if got := slug(tc.heading); got != tc.want {
			t.Errorf("slug(%q) = %q, want %q", tc.heading, got, tc.want)
		}
	}
	d := &mdDoc{headings: []mdHeading{{1, 2, "Steps"}, {2, 2, "Steps"}, {3, 2, "Steps"}}}
	for _, a := range []string{"steps", "steps-1", "steps-2"} {
		if !d.anchors()[a] {
			t.Errorf("three headings \"Steps\": no anchor #%s in %v", a, d.anchors())
		}
	}
}
