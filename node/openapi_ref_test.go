package node

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// The API reference pages, docs/en/api.md and docs/zh/api.md, are made
// from docs/openapi.yaml by the code below: the English page from the
// document's descriptions, the Chinese one from their x-...-zh twins and
// the table of words refWords. TestOpenAPIReferenceIsUpToDate fails when a
// committed page differs from what the document makes now; run
//
//	make api-docs
//
// (go test ./node -run TestOpenAPIReference -update-api) to rewrite them.

var updateAPIRef = flag.Bool("update-api", false, "rewrite docs/en/api.md and docs/zh/api.md from docs/openapi.yaml")

// apiRefFiles are the generated pages, by language.
var apiRefFiles = map[string]string{"en": "../docs/en/api.md", "zh": "../docs/zh/api.md"}

// refWords are the words of the page's frame in Chinese; the English page
// uses the keys as they are.
var refWords = map[string]string{
	"HTTP API reference": "HTTP API 参考",
	"Routes":             "路由一览",
	"Errors":             "错误",
	"Schemas":            "数据结构",
	"Parameters":         "参数",
	"Request body":       "请求体",
	"Answers":            "应答",
	"Events":             "事件",
	"Metrics":            "指标",
	"Try it":             "试一试",
	"Type":               "类型",
	"route":              "路由",
	"what it gives":      "作用",
	"code":               "错误码",
	"status":             "状态码",
	"when":               "何时出现",
	"name":               "名称",
	"in":                 "位置",
	"type":               "类型",
	"description":        "说明",
	"body":               "内容",
	"field":              "字段",
	"event":              "事件",
	"data":               "数据",
	"metric":             "指标",
	"labels":             "标签",
	"meaning":            "含义",
	"path":               "路径",
	"query":              "查询参数",
	"header":             "请求头",
	"string":             "字符串",
	"integer":            "整数",
	"number":             "数值",
	"boolean":            "布尔值",
	"object":             "对象",
	"any JSON value":     "任意 JSON 值",
	"optional":           "可选",
	"generated":          "<!-- 本页由 docs/openapi.yaml 生成（make api-docs），请修改那个文件，不要直接编辑本页。 -->",
	"intro": "本页由 [openapi.yaml](../openapi.yaml) 生成。那是一份 OpenAPI 3.1 文档，" +
		"代码生成器、Swagger UI、Postman 等工具也能直接读取；测试会用它核对节点实际提供的路由和应答。",
	"routes intro":  "节点提供的全部路由，按主题分组：",
	"errors intro":  "出错时，应答的状态码为 4xx 或 5xx，主体如下。`code` 固定不变，供程序判断；`message` 供人阅读（英文）：",
	"schemas intro": "上文各应答和请求体的结构。标为“可选”的字段可能不出现。",
	"try intro":     "在 `citychain devnet` 运行时：",
	"shared intro":  "下文各节的应答表略去了下面几种大多数路由都可能给出的应答：",
}

var refEnglish = map[string]string{
	"generated": "<!-- Generated from docs/openapi.yaml (make api-docs): edit that file, not this page. -->",
	"intro": "This page is generated from [openapi.yaml](../openapi.yaml), an OpenAPI 3.1 document that " +
		"tools such as code generators, Swagger UI or Postman read as well; the tests check the node's " +
		"routes and answers against it.",
	"routes intro":  "Every route the node serves, by subject:",
	"errors intro":  "An error answer has a 4xx or 5xx status and the body below. `code` is stable, for programs; `message` is for people:",
	"schemas intro": "The shapes of the answers and bodies above. A field marked optional may be absent.",
	"try intro":     "With `citychain devnet` running:",
	"shared intro":  "The tables of answers below leave out these, which most routes may give:",
}

// refPage renders the reference in one language.
type refPage struct {
	d     *apiDoc
	zh    bool
	b     strings.Builder
	heads []refHead
}

// refHead is a heading of the page and the key links use for it.
type refHead struct{ key, text string }

func (p *refPage) word(en string) string {
	if p.zh {
		if w, ok := refWords[en]; ok {
			return w
		}
		panic("refWords has no Chinese for " + en)
	}
	if w, ok := refEnglish[en]; ok {
		return w
	}
	return en
}

// text returns the text of field (description, summary, x-title) in the
// page's language: its x-...-zh twin on the Chinese page, falling back
// to the English for texts that are only code.
func (p *refPage) text(m map[string]any, field string) string {
	en := strings.TrimSpace(str(m[field]))
	if p.zh {
		zf := "x-" + strings.TrimPrefix(field, "x-") + "-zh"
		if zh := strings.TrimSpace(str(m[zf])); zh != "" {
			return zh
		}
	}
	return en
}

func (p *refPage) line(format string, args ...any) {
	fmt.Fprintf(&p.b, format+"\n", args...)
}

func (p *refPage) heading(level int, key, text string) {
	p.heads = append(p.heads, refHead{key: key, text: text})
	p.line("%s %s\n", strings.Repeat("#", level), text)
}

// link returns a Markdown link to the heading of key, resolved once the
// page is written (anchors depend on every heading before).
func link(text, key string) string { return fmt.Sprintf("[%s](#@@%s@@)", text, key) }

// cell makes a text fit in a table cell.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// para writes a description as paragraphs, its lines joined.
func (p *refPage) para(s string) {
	if s == "" {
		return
	}
	for _, par := range strings.Split(strings.TrimSpace(s), "\n\n") {
		lines := strings.Split(par, "\n")
		for i := range lines {
			lines[i] = strings.TrimSpace(lines[i])
		}
		sep := " "
		if p.zh {
			sep = "" // Chinese lines join without a space, unless code or Latin words meet
			var b strings.Builder
			for i, l := range lines {
				if i > 0 && needsSpace(lines[i-1], l) {
					b.WriteByte(' ')
				}
				b.WriteString(l)
			}
			p.line("%s\n", b.String())
			continue
		}
		p.line("%s\n", strings.Join(lines, sep))
	}
}

// needsSpace reports whether two wrapped lines of Chinese text need a
// space where they join: not between two Chinese characters, nor next to
// Chinese punctuation, but between Chinese and Latin text or code.
func needsSpace(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 || len(rb) == 0 {
		return false
	}
	x, y := ra[len(ra)-1], rb[0]
	cjk := func(r rune) bool { return r >= 0x2E80 }
	punct := func(r rune) bool { return strings.ContainsRune("，。：；、（）“”！？《》", r) }
	return !(cjk(x) && cjk(y)) && !punct(x) && !punct(y)
}

// apiReference renders the reference page of a language ("en", "zh").
func apiReference(d *apiDoc, lang string) string {
	p := &refPage{d: d, zh: lang == "zh"}
	return strings.TrimRight(p.render(), "\n") + "\n"
}

// TestOpenAPIReferenceIsUpToDate checks that docs/en/api.md and
// docs/zh/api.md are what docs/openapi.yaml makes now, and rewrites them
// with -update-api.
func TestOpenAPIReferenceIsUpToDate(t *testing.T) {
	d := loadOpenAPI(t)
	for _, lang := range []string{"en", "zh"} {
		want := apiReference(d, lang)
		file := apiRefFiles[lang]
		if *updateAPIRef {
			if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (make api-docs writes it)", err)
		}
		if !bytes.Equal(got, []byte(want)) {
			t.Errorf("%s is not what %s makes now: run make api-docs (first difference at line %d)", file, openAPIFile, firstDiffLine(string(got), want))
		}
	}
}

// TestOpenAPIReferencePagesAreTwins checks that the two pages have the
// same headings (level and order; the texts of the Chinese page are its
// own) and the same runnable blocks, as the documentation's rules ask.
func TestOpenAPIReferencePagesAreTwins(t *testing.T) {
	d := loadOpenAPI(t)
	en, zh := apiReference(d, "en"), apiReference(d, "zh")
	shape := func(page string) (levels []int, runs []string) {
		inFence, run := false, ""
		for _, l := range strings.Split(page, "\n") {
			switch {
			case strings.HasPrefix(l, "```"):
				if inFence && run != "" {
					runs = append(runs, run)
				}
				inFence, run = !inFence, ""
				if inFence && strings.TrimSpace(strings.TrimPrefix(l, "```")) == "sh run" {
					run = "\n"
				}
			case inFence && run != "":
				run += l + "\n"
			case !inFence && strings.HasPrefix(l, "#"):
				levels = append(levels, len(l)-len(strings.TrimLeft(l, "#")))
			}
		}
		return levels, runs
	}
	el, er := shape(en)
	zl, zr := shape(zh)
	if fmt.Sprint(el) != fmt.Sprint(zl) {
		t.Errorf("heading levels differ:\nen %v\nzh %v", el, zl)
	}
	if strings.Join(er, "\x00") != strings.Join(zr, "\x00") || len(er) == 0 {
		t.Errorf("runnable blocks differ (or there are none): en %d, zh %d", len(er), len(zr))
	}
	if strings.Contains(zh, "@@") || strings.Contains(en, "@@") {
		t.Error("a link was left unresolved")
	}
}

func firstDiffLine(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}
