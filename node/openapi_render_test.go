package node

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// The rendering of the API reference from docs/openapi.yaml: one page per
// language, a section per route and per schema (see openapi_ref_test.go).

// typeOf describes a schema in a few words, with links to named schemas.
func (p *refPage) typeOf(s map[string]any) string {
	if ref := str(s["$ref"]); strings.HasPrefix(ref, "#/components/schemas/") {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		return link(name, "schema:"+name)
	}
	or := " or "
	if p.zh {
		or = " 或 "
	}
	if alts, ok := s["oneOf"].([]any); ok && s["type"] == nil {
		var parts []string
		for _, a := range alts {
			parts = append(parts, p.typeOf(obj(a)))
		}
		return strings.Join(parts, or)
	}
	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			types = append(types, str(x))
		}
	}
	if len(types) == 0 {
		return p.word("any JSON value")
	}
	var parts []string
	for _, t := range types {
		switch t {
		case "null":
			parts = append(parts, "null")
		case "array":
			item := p.typeOf(obj(s["items"]))
			if p.zh {
				parts = append(parts, item+" 数组")
			} else {
				parts = append(parts, "array of "+item)
			}
		case "object":
			parts = append(parts, p.word("object")+p.inlineFields(s))
		default:
			parts = append(parts, p.word(t))
		}
	}
	out := strings.Join(parts, or)
	colon, comma, listSep := ": ", ", ", ", "
	if p.zh {
		colon, comma, listSep = "：", "，", "、"
	}
	if enum, ok := s["enum"].([]any); ok {
		var vs []string
		for _, v := range enum {
			vs = append(vs, fmt.Sprintf("`%v`", v))
		}
		out += colon + strings.Join(vs, listSep)
	} else if pat := str(s["pattern"]); pat != "" {
		if p.zh {
			out += comma + "匹配 `" + pat + "`"
		} else {
			out += " matching `" + pat + "`"
		}
	}
	if str(s["format"]) == "date-time" {
		out += " (RFC 3339)"
	}
	return out
}

// inlineFields lists the fields of an object schema written in place
// (not a named schema): " {`a`: T, `b`: U}".
func (p *refPage) inlineFields(s map[string]any) string {
	props := obj(s["properties"])
	if len(props) == 0 {
		return ""
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	var fs []string
	for _, k := range names {
		fs = append(fs, fmt.Sprintf("`%s`: %s", k, p.typeOf(obj(props[k]))))
	}
	return " {" + strings.Join(fs, ", ") + "}"
}

// render writes the whole page.
func (p *refPage) render() string {
	d := p.d
	p.line("%s\n", p.word("generated"))
	p.heading(1, "title", p.word("HTTP API reference"))
	p.para(p.text(obj(d.root["info"]), "description"))
	p.para(p.word("intro"))

	// The routes by tag, first as a table, then one section each.
	var tags []map[string]any
	for _, t := range d.root["tags"].([]any) {
		tags = append(tags, obj(t))
	}
	byTag := map[string][]apiOp{}
	for _, o := range d.ops() {
		tl, _ := o.op["tags"].([]any)
		if len(tl) > 0 {
			byTag[str(tl[0])] = append(byTag[str(tl[0])], o)
		}
	}
	p.heading(2, "routes", p.word("Routes"))
	p.para(p.word("routes intro"))
	p.line("| %s | %s |\n|---|---|", p.word("route"), p.word("what it gives"))
	for _, t := range tags {
		for _, o := range byTag[str(t["name"])] {
			p.line("| %s | %s |", link("`"+o.String()+"`", "op:"+o.String()), cell(p.text(o.op, "summary")))
		}
	}
	p.line("")

	p.errors()
	for _, t := range tags {
		p.heading(2, "tag:"+str(t["name"]), p.text(t, "x-title"))
		p.para(p.text(t, "description"))
		for _, o := range byTag[str(t["name"])] {
			p.operation(o)
		}
	}
	p.schemas()
	return p.resolveLinks(p.b.String())
}

// errors writes the section on error answers: the body and every code.
func (p *refPage) errors() {
	p.heading(2, "errors", p.word("Errors"))
	p.para(p.word("errors intro"))
	p.line("```json\n{\"error\": {\"code\": \"insufficient_funds\", \"message\": \"insufficient funds: city1... has 5, needs 10\"}}\n```\n")
	p.line("| %s | %s | %s |\n|---|---|---|", p.word("code"), p.word("status"), p.word("when"))
	var list []errorCode
	b, _ := json.Marshal(p.d.root["x-error-codes"])
	_ = json.Unmarshal(b, &list)
	for _, e := range list {
		var st []string
		for _, s := range e.Status {
			st = append(st, fmt.Sprint(s))
		}
		when := e.En
		if p.zh {
			when = e.Zh
		}
		p.line("| `%s` | %s | %s |", e.Code, strings.Join(st, ", "), cell(when))
	}
	p.line("")
	p.para(p.word("shared intro"))
	shared := obj(obj(p.d.root["components"])["responses"])
	names := p.d.keys("/components/responses", shared)
	sort.Slice(names, func(i, j int) bool {
		return fmt.Sprint(obj(shared[names[i]])["x-status"]) < fmt.Sprint(obj(shared[names[j]])["x-status"])
	})
	for _, name := range names {
		r := obj(shared[name])
		p.line("- %v: %s", r["x-status"], strings.Join(strings.Fields(p.text(r, "description")), " "))
	}
	p.line("")
}

// operation writes the section of one route.
func (p *refPage) operation(o apiOp) {
	p.heading(3, "op:"+o.String(), "`"+o.String()+"`")
	summary := p.text(o.op, "summary")
	if p.zh {
		p.para("**" + summary + "。**")
	} else {
		p.para("**" + summary + ".**")
	}
	p.para(p.text(o.op, "description"))
	if try := strings.TrimSpace(str(o.op["x-try"])); try != "" {
		p.para(p.word("try intro"))
		p.line("```sh run\n%s\n```\n", try)
	}
	if params := p.d.params(o); len(params) > 0 {
		p.line("**%s**\n", p.word("Parameters"))
		p.line("| %s | %s | %s | %s |\n|---|---|---|---|", p.word("name"), p.word("in"), p.word("type"), p.word("description"))
		for _, prm := range params {
			typ := p.typeOf(obj(prm["schema"]))
			if req, _ := prm["required"].(bool); !req {
				typ += ", " + p.word("optional")
				if p.zh {
					typ = strings.Replace(typ, ", "+p.word("optional"), "，"+p.word("optional"), 1)
				}
			}
			p.line("| `%s` | %s | %s | %s |", str(prm["name"]), p.word(str(prm["in"])), cell(typ), cell(p.text(prm, "description")))
		}
		p.line("")
	}
	if rb, _ := p.d.deref(o.op["requestBody"], o.ptr+"/requestBody"); rb != nil {
		intro := "**" + p.word("Request body") + "**"
		if desc := p.text(rb, "description"); desc != "" {
			sep := ": "
			if p.zh {
				sep = "："
			}
			intro += sep + desc
		}
		p.line("%s\n", intro)
		p.mediaList(rb, o.ptr+"/requestBody")
	}
	p.line("**%s**\n", p.word("Answers"))
	p.line("| %s | %s | %s |\n|---|---|---|", p.word("status"), p.word("body"), p.word("description"))
	resps := obj(o.op["responses"])
	codes := p.d.keys(o.ptr+"/responses", resps)
	sort.Strings(codes)
	for _, code := range codes {
		if sharedResponse(resps[code]) {
			continue // listed once, in the section on errors
		}
		r, rptr := p.d.deref(resps[code], o.ptr+"/responses/"+code)
		p.line("| %s | %s | %s |", code, cell(p.mediaCell(r, rptr)), cell(p.text(r, "description")))
	}
	p.line("")
	if ev := obj(o.op["x-events"]); len(ev) > 0 {
		p.line("**%s**\n", p.word("Events"))
		p.line("| %s | %s |\n|---|---|", p.word("event"), p.word("data"))
		for _, k := range p.d.keys(o.ptr+"/x-events", ev) {
			p.line("| `%s` | %s |", k, p.typeOf(obj(ev[k])))
		}
		p.line("")
	}
	if ms, _ := o.op["x-metrics"].([]any); len(ms) > 0 {
		p.line("**%s**\n", p.word("Metrics"))
		p.line("| %s | %s | %s |\n|---|---|---|", p.word("metric"), p.word("labels"), p.word("meaning"))
		for _, m := range ms {
			m := obj(m)
			var labels []string
			ls, _ := m["labels"].([]any)
			for _, l := range ls {
				labels = append(labels, "`"+str(l)+"`")
			}
			meaning := str(m["en"])
			if p.zh {
				meaning = str(m["zh"])
			}
			p.line("| `%s` | %s | %s |", str(m["name"]), strings.Join(labels, ", "), cell(meaning))
		}
		p.line("")
	}
}

// sharedResponse reports whether a response is one of those in
// components/responses, which many routes give and the page lists once.
func sharedResponse(r any) bool {
	return strings.HasPrefix(str(obj(r)["$ref"]), "#/components/responses/")
}

// mediaCell describes the bodies of an answer: each media type with its
// schema (JSON) or alone (text, HTML, images, profiles).
func (p *refPage) mediaCell(r map[string]any, ptr string) string {
	content := obj(r["content"])
	var parts []string
	for _, mt := range p.d.keys(ptr+"/content", content) {
		s := obj(obj(content[mt])["schema"])
		if mt == "application/json" {
			parts = append(parts, p.typeOf(s))
		} else {
			parts = append(parts, "`"+mt+"`")
		}
	}
	if p.zh {
		return strings.Join(parts, "；")
	}
	return strings.Join(parts, "; ")
}

// mediaList lists the media types of a request body with their schemas.
func (p *refPage) mediaList(rb map[string]any, ptr string) {
	content := obj(rb["content"])
	for _, mt := range p.d.keys(ptr+"/content", content) {
		s := obj(obj(content[mt])["schema"])
		colon := ": "
		if p.zh {
			colon = "："
		}
		line := fmt.Sprintf("- `%s`%s%s", mt, colon, p.typeOf(s))
		if desc := strings.TrimRight(p.text(s, "description"), ".。"); desc != "" && str(s["$ref"]) == "" {
			if p.zh {
				line += "（" + desc + "）"
			} else {
				line += " (" + desc + ")"
			}
		}
		p.line("%s", line)
	}
	p.line("")
}

// schemas writes a section per named schema, with a table of its fields.
func (p *refPage) schemas() {
	p.heading(2, "schemas", p.word("Schemas"))
	p.para(p.word("schemas intro"))
	all := obj(obj(p.d.root["components"])["schemas"])
	for _, name := range p.d.keys("/components/schemas", all) {
		s := obj(all[name])
		p.heading(3, "schema:"+name, "`"+name+"`")
		p.para(p.text(s, "description"))
		props := obj(s["properties"])
		if len(props) == 0 {
			sep := ": "
			if p.zh {
				sep = "："
			}
			p.para(p.word("Type") + sep + p.typeOf(s) + ".")
			continue
		}
		required := map[string]bool{}
		req, _ := s["required"].([]any)
		for _, r := range req {
			required[str(r)] = true
		}
		p.line("| %s | %s | %s |\n|---|---|---|", p.word("field"), p.word("type"), p.word("description"))
		ptr := "/components/schemas/" + pointerEscape(name) + "/properties"
		for _, f := range p.d.keys(ptr, props) {
			fs := obj(props[f])
			typ := p.typeOf(fs)
			if !required[f] {
				if p.zh {
					typ += "，" + p.word("optional")
				} else {
					typ += ", " + p.word("optional")
				}
			}
			desc := p.text(fs, "description")
			if desc == "" {
				if target, _ := p.d.deref(fs, ""); target != nil {
					desc = p.text(target, "description")
				}
			}
			p.line("| `%s` | %s | %s |", f, cell(typ), cell(desc))
		}
		p.line("")
	}
}

var refLinkRe = regexp.MustCompile(`#@@([^@]+)@@`)

// resolveLinks replaces the keys of in-page links with the anchors
// GitHub gives the headings: the text in lower case, without what is
// not a letter, digit, "-" or "_", spaces as "-", "-1", "-2" on repeats.
func (p *refPage) resolveLinks(page string) string {
	anchors := map[string]string{}
	seen := map[string]bool{}
	for _, h := range p.heads {
		base := githubSlug(h.text)
		a := base
		for n := 1; seen[a]; n++ {
			a = fmt.Sprintf("%s-%d", base, n)
		}
		seen[a] = true
		anchors[h.key] = a
	}
	return refLinkRe.ReplaceAllStringFunc(page, func(m string) string {
		key := refLinkRe.FindStringSubmatch(m)[1]
		a, ok := anchors[key]
		if !ok {
			panic("a link to " + key + ", which has no heading")
		}
		return "#" + a
	})
}

func githubSlug(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) || unicode.IsNumber(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
