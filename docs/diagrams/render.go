//go:build ignore

// Render draws the pictures of docs/en/architecture.md and
// docs/zh/architecture.md from their text sources in this folder:
//
//   - imports.txt: every package of the module and the packages of ours it
//     imports (tests left out), written by this program from `go list`;
//     drawn as imports.en.svg and imports.zh.svg, one layer per row,
//     arrows pointing down.
//   - *.seq: sequence pictures written by hand, each label in English and
//     Chinese ("English | 中文"); drawn as NAME.en.svg and NAME.zh.svg.
//
// From the repository root:
//
//	go run docs/diagrams/render.go          # rewrite imports.txt and every SVG
//	go run docs/diagrams/render.go -check   # only say what is out of date
//
// The output depends only on the sources: no fonts, scripts or network are
// fetched, and the same sources give the same bytes, so the test
// TestDocsDiagramsUpToDate (cmd/citychain) runs -check on every `make test`.
// Text widths are estimated, not measured: the pictures leave room for the
// usual sans-serif fonts of a browser.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

const module = "github.com/citychain/citychain"

const dir = "docs/diagrams"

func main() {
	check := flag.Bool("check", false, "write nothing; list the files that are out of date and exit 1 if any is")
	flag.Parse()
	if _, err := os.Stat("go.mod"); err != nil {
		fail("run from the repository root: go run docs/diagrams/render.go")
	}
	files, err := render()
	if err != nil {
		fail(err.Error())
	}
	var stale []string
	names := mapKeys(files)
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		old, _ := os.ReadFile(path)
		if bytes.Equal(old, files[name]) {
			continue
		}
		stale = append(stale, path)
		if !*check {
			if err := os.WriteFile(path, files[name], 0o644); err != nil {
				fail(err.Error())
			}
			fmt.Println("wrote", path)
		}
	}
	if *check && len(stale) > 0 {
		fail("out of date: " + strings.Join(stale, ", ") + "\nrun: go run docs/diagrams/render.go")
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}

func mapKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// render returns every generated file of the folder by name.
func render() (map[string][]byte, error) {
	files := map[string][]byte{}
	src, err := importsSource()
	if err != nil {
		return nil, err
	}
	files["imports.txt"] = []byte(src)
	g, err := parseImports(src)
	if err != nil {
		return nil, fmt.Errorf("imports.txt: %w", err)
	}
	for lang := range 2 {
		files[fmt.Sprintf("imports.%s.svg", langs[lang])] = []byte(drawImports(g, lang))
	}
	seqs, err := filepath.Glob(filepath.Join(dir, "*.seq"))
	if err != nil {
		return nil, err
	}
	for _, path := range seqs {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		s, err := parseSeq(string(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		base := strings.TrimSuffix(filepath.Base(path), ".seq")
		for lang := range 2 {
			files[fmt.Sprintf("%s.%s.svg", base, langs[lang])] = []byte(drawSeq(s, lang))
		}
	}
	return files, nil
}

var langs = [2]string{"en", "zh"}

// ---------------------------------------------------------------------------
// The import graph

// importsSource lists our packages and their imports of our packages.
func importsSource() (string, error) {
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		return "", fmt.Errorf("go list: %w", err)
	}
	var b strings.Builder
	b.WriteString("# The packages of CityChain and, after the colon, the packages of ours that\n")
	b.WriteString("# each one imports (tests left out). Written by go run docs/diagrams/render.go\n")
	b.WriteString("# from go list; imports.en.svg and imports.zh.svg are drawn from this file.\n")
	dec := json.NewDecoder(bytes.NewReader(out))
	var lines []string
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			return "", err
		}
		var deps []string
		for _, imp := range p.Imports {
			if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
				deps = append(deps, rel)
			}
		}
		sort.Strings(deps)
		lines = append(lines, strings.TrimSpace(strings.TrimPrefix(p.ImportPath, module+"/")+": "+strings.Join(deps, " ")))
	}
	sort.Slice(lines, func(i, j int) bool {
		a, _, _ := strings.Cut(lines[i], ":")
		b, _, _ := strings.Cut(lines[j], ":")
		return a < b
	})
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String(), nil
}

type graph struct {
	pkgs []string            // sorted
	deps map[string][]string // direct imports, sorted
}

func parseImports(src string) (*graph, error) {
	g := &graph{deps: map[string][]string{}}
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pkg, deps, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("no colon in %q", line)
		}
		g.pkgs = append(g.pkgs, pkg)
		g.deps[pkg] = strings.Fields(deps)
	}
	for _, p := range g.pkgs {
		for _, d := range g.deps[p] {
			if _, ok := g.deps[d]; !ok {
				return nil, fmt.Errorf("%s imports %s, which is not listed", p, d)
			}
		}
	}
	sort.Strings(g.pkgs)
	return g, nil
}

// group is a package's top-level folder.
func group(pkg string) string { return strings.SplitN(pkg, "/", 2)[0] }

var groups = []struct{ name, fill, stroke string }{
	{"cmd", "#f8d7e3", "#a8476c"},
	{"node", "#d5e8f7", "#2f6fa5"},
	{"apps", "#dcf1dd", "#3d8b40"},
	{"p2p", "#fce6c4", "#b0741c"},
	{"chain", "#e6def4", "#6b4fa0"},
}

func groupIndex(pkg string) int {
	for i, g := range groups {
		if g.name == group(pkg) {
			return i
		}
	}
	return len(groups)
}

// reduce returns the edges of g that no longer path implies (its
// transitive reduction), by importer.
func reduce(g *graph) map[string][]string {
	reach := map[string]map[string]bool{}
	var visit func(p string) map[string]bool
	visit = func(p string) map[string]bool {
		if r, ok := reach[p]; ok {
			return r
		}
		r := map[string]bool{}
		reach[p] = r
		for _, d := range g.deps[p] {
			r[d] = true
			for x := range visit(d) {
				r[x] = true
			}
		}
		return r
	}
	out := map[string][]string{}
	for _, p := range g.pkgs {
		for _, d := range g.deps[p] {
			implied := false
			for _, o := range g.deps[p] {
				if o != d && visit(o)[d] {
					implied = true
					break
				}
			}
			if !implied {
				out[p] = append(out[p], d)
			}
		}
	}
	return out
}

// layers puts each package on a row: above everything it imports, and as
// close as it can to its highest importer's row, so that arrows are short.
func layers(g *graph) (map[string]int, int) {
	low := map[string]int{}
	var depth func(p string) int
	depth = func(p string) int {
		if l, ok := low[p]; ok {
			return l
		}
		l := 0
		for _, d := range g.deps[p] {
			l = max(l, depth(d)+1)
		}
		low[p] = l
		return l
	}
	top := 0
	for _, p := range g.pkgs {
		top = max(top, depth(p))
	}
	importers := map[string][]string{}
	for _, p := range g.pkgs {
		for _, d := range g.deps[p] {
			importers[d] = append(importers[d], p)
		}
	}
	order := slices.Clone(g.pkgs)
	sort.SliceStable(order, func(i, j int) bool { return low[order[i]] > low[order[j]] })
	layer := map[string]int{}
	for _, p := range order {
		l := low[p]
		if len(importers[p]) > 0 {
			hi := math.MaxInt
			for _, q := range importers[p] {
				hi = min(hi, layer[q]-1)
			}
			l = max(l, hi)
		}
		layer[p] = l
	}
	return layer, top
}

// vnode is a box of the drawing, or a bend point of a long arrow (dummy).
type vnode struct {
	name  string
	dummy bool
	layer int
	w     float64
	x     float64
	up    []*vnode // neighbours one row up (importers)
	down  []*vnode // neighbours one row down (imports)
}

type vedge struct{ path []*vnode } // from importer to import, top to bottom

const (
	boxH     = 38.0
	rowGap   = 92.0
	boxFont  = 16.0
	boxPad   = 30.0
	dummyW   = 16.0
	minSep   = 22.0
	marginX  = 30.0
	graphTop = 118.0
)

// importsText is the title and the key of the import graph, by language.
var importsText = [2][2]string{
	{"CityChain packages: an arrow goes from a package to one it imports",
		"cmd → node → apps, p2p → chain; an import that a longer path already implies is not drawn (imports.txt lists them all)"},
	{"CityChain 的包：箭头从一个包指向它导入的包",
		"cmd → node → apps、p2p → chain；已由更长路径隐含的导入不再画出（imports.txt 列出全部导入）"},
}

func drawImports(g *graph, lang int) string {
	edges := reduce(g)
	layer, top := layers(g)
	nodes := map[string]*vnode{}
	rows := make([][]*vnode, top+1)
	for _, p := range g.pkgs {
		n := &vnode{name: p, layer: layer[p], w: textWidth(p, boxFont) + boxPad}
		ins := 0
		for _, q := range g.pkgs {
			if slices.Contains(edges[q], p) {
				ins++
			}
		}
		n.w = max(n.w, 24+14*float64(max(ins, len(edges[p]))))
		nodes[p] = n
		rows[n.layer] = append(rows[n.layer], n)
	}
	for _, row := range rows {
		sort.SliceStable(row, func(i, j int) bool {
			gi, gj := groupIndex(row[i].name), groupIndex(row[j].name)
			if gi != gj {
				return gi < gj
			}
			return row[i].name < row[j].name
		})
	}
	var vedges []vedge
	for _, p := range g.pkgs {
		for _, d := range edges[p] {
			e := vedge{path: []*vnode{nodes[p]}}
			for l := layer[p] - 1; l > layer[d]; l-- {
				dn := &vnode{name: p + ">" + d, dummy: true, layer: l, w: dummyW}
				rows[l] = append(rows[l], dn)
				e.path = append(e.path, dn)
			}
			e.path = append(e.path, nodes[d])
			for i := 0; i+1 < len(e.path); i++ {
				e.path[i].down = append(e.path[i].down, e.path[i+1])
				e.path[i+1].up = append(e.path[i+1].up, e.path[i])
			}
			vedges = append(vedges, e)
		}
	}
	orderRows(rows)
	placeRows(rows)

	width := 0.0
	for _, row := range rows {
		for _, n := range row {
			width = max(width, n.x+n.w/2+marginX)
		}
	}
	width = max(width, 980)
	height := graphTop + float64(top)*rowGap + boxH + 34
	y := func(l int) float64 { return graphTop + float64(top-l)*rowGap }

	var b strings.Builder
	svgOpen(&b, width, height)
	fmt.Fprintf(&b, `<text x="%s" y="34" font-size="21" font-weight="bold">%s</text>`+"\n", f(marginX), esc(importsText[lang][0]))
	x := marginX
	for _, gr := range groups {
		fmt.Fprintf(&b, `<rect x="%s" y="52" width="22" height="18" rx="4" fill="%s" stroke="%s" stroke-width="1.5"/>`, f(x), gr.fill, gr.stroke)
		fmt.Fprintf(&b, `<text x="%s" y="66" font-size="16">%s/</text>`+"\n", f(x+30), gr.name)
		x += 30 + textWidth(gr.name+"/", 16) + 26
	}
	fmt.Fprintf(&b, `<text x="%s" y="96" font-size="15" fill="#444">%s</text>`+"\n", f(marginX), esc(importsText[lang][1]))

	// Where each edge leaves and enters a box: spread along its bottom and top.
	outX := map[*vnode]map[*vnode]float64{}
	inX := map[*vnode]map[*vnode]float64{}
	spread := func(n *vnode, others []*vnode) map[*vnode]float64 {
		s := slices.Clone(others)
		sort.SliceStable(s, func(i, j int) bool { return s[i].x < s[j].x })
		m := map[*vnode]float64{}
		if n.dummy {
			for _, o := range s {
				m[o] = n.x
			}
			return m
		}
		step := min(16.0, (n.w-20)/float64(max(1, len(s))))
		for i, o := range s {
			m[o] = n.x + (float64(i)-float64(len(s)-1)/2)*step
		}
		return m
	}
	for _, row := range rows {
		for _, n := range row {
			outX[n] = spread(n, n.down)
			inX[n] = spread(n, n.up)
		}
	}
	b.WriteString(`<g fill="none" stroke="#5d6470" stroke-width="1.7">` + "\n")
	for _, e := range vedges {
		var d strings.Builder
		for i := 0; i+1 < len(e.path); i++ {
			a, c := e.path[i], e.path[i+1]
			x1, y1 := outX[a][c], y(a.layer)+boxH
			if a.dummy {
				y1 = y(a.layer) + boxH/2
			}
			x2, y2 := inX[c][a], y(c.layer)
			if c.dummy {
				y2 = y(c.layer) + boxH/2
			} else {
				y2 -= 3 // room for the arrowhead
			}
			if i == 0 {
				fmt.Fprintf(&d, "M%s %s", f(x1), f(y1))
			} else if a.dummy {
				fmt.Fprintf(&d, " L%s %s", f(x1), f(y1))
			}
			dy := (y2 - y1) / 2
			fmt.Fprintf(&d, " C%s %s %s %s %s %s", f(x1), f(y1+dy), f(x2), f(y2-dy), f(x2), f(y2))
		}
		fmt.Fprintf(&b, `<path d="%s" marker-end="url(#arrow)"/>`+"\n", d.String())
	}
	b.WriteString("</g>\n")
	for _, row := range rows {
		for _, n := range row {
			if n.dummy {
				continue
			}
			gr := groups[min(groupIndex(n.name), len(groups)-1)]
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" rx="7" fill="%s" stroke="%s" stroke-width="1.6"/>`,
				f(n.x-n.w/2), f(y(n.layer)), f(n.w), f(boxH), gr.fill, gr.stroke)
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" font-size="%s">%s</text>`+"\n",
				f(n.x), f(y(n.layer)+boxH/2+boxFont*0.35), f(boxFont), esc(n.name))
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// orderRows orders each row so that few arrows cross: barycentre sweeps
// down and up, keeping the best order seen.
func orderRows(rows [][]*vnode) {
	best := math.MaxInt
	var bestRows [][]*vnode
	save := func() {
		if c := crossings(rows); c < best {
			best = c
			bestRows = make([][]*vnode, len(rows))
			for i, r := range rows {
				bestRows[i] = slices.Clone(r)
			}
		}
	}
	bary := func(row []*vnode, nb func(*vnode) []*vnode, pos map[*vnode]int) {
		key := map[*vnode]float64{}
		for i, n := range row {
			ns := nb(n)
			if len(ns) == 0 {
				key[n] = float64(i)
				continue
			}
			s := 0.0
			for _, o := range ns {
				s += float64(pos[o])
			}
			key[n] = s / float64(len(ns))
		}
		sort.SliceStable(row, func(i, j int) bool { return key[row[i]] < key[row[j]] })
	}
	index := func() map[*vnode]int {
		pos := map[*vnode]int{}
		for _, r := range rows {
			for i, n := range r {
				pos[n] = i
			}
		}
		return pos
	}
	save()
	for range 12 {
		for l := len(rows) - 2; l >= 0; l-- {
			bary(rows[l], func(n *vnode) []*vnode { return n.up }, index())
		}
		save()
		for l := 1; l < len(rows); l++ {
			bary(rows[l], func(n *vnode) []*vnode { return n.down }, index())
		}
		save()
	}
	copy(rows, bestRows)
}

func crossings(rows [][]*vnode) int {
	pos := map[*vnode]int{}
	for _, r := range rows {
		for i, n := range r {
			pos[n] = i
		}
	}
	c := 0
	for _, r := range rows {
		var segs [][2]int
		for _, n := range r {
			for _, d := range n.down {
				segs = append(segs, [2]int{pos[n], pos[d]})
			}
		}
		for i := range segs {
			for j := i + 1; j < len(segs); j++ {
				a, b := segs[i], segs[j]
				if (a[0]-b[0])*(a[1]-b[1]) < 0 {
					c++
				}
			}
		}
	}
	return c
}

// placeRows gives each box its x: rows packed side by side, then each box
// drawn towards the boxes it is linked to, keeping the order and the gaps.
func placeRows(rows [][]*vnode) {
	widest := 0.0
	for _, r := range rows {
		widest = max(widest, rowWidth(r))
	}
	for _, r := range rows {
		x := marginX + (widest-rowWidth(r))/2
		for _, n := range r {
			n.x = x + n.w/2
			x += n.w + minSep
		}
	}
	for range 40 {
		for _, r := range rows {
			want := make([]float64, len(r))
			for i, n := range r {
				ns := append(slices.Clone(n.up), n.down...)
				if len(ns) == 0 {
					want[i] = n.x
					continue
				}
				s := 0.0
				for _, o := range ns {
					s += o.x
				}
				want[i] = (n.x + s/float64(len(ns))) / 2
			}
			separate(r, want)
		}
	}
	lo := math.Inf(1)
	for _, r := range rows {
		for _, n := range r {
			lo = min(lo, n.x-n.w/2)
		}
	}
	for _, r := range rows {
		for _, n := range r {
			n.x += marginX - lo
		}
	}
}

func rowWidth(r []*vnode) float64 {
	w := 0.0
	for _, n := range r {
		w += n.w + minSep
	}
	return w - minSep
}

// separate moves the row's boxes as close to the wanted places as the order
// and the gaps allow, in the least-squares sense: with each box shifted by
// the room the boxes before it need, the order constraint becomes "never
// decreasing", which pooling adjacent violators solves exactly.
func separate(r []*vnode, want []float64) {
	n := len(r)
	off := make([]float64, n)
	for i := 1; i < n; i++ {
		off[i] = off[i-1] + (r[i-1].w+r[i].w)/2 + minSep
	}
	type pool struct {
		sum   float64
		count int
	}
	var pools []pool
	for i := range n {
		pools = append(pools, pool{want[i] - off[i], 1})
		for len(pools) > 1 {
			a, b := pools[len(pools)-2], pools[len(pools)-1]
			if a.sum/float64(a.count) <= b.sum/float64(b.count) {
				break
			}
			pools = append(pools[:len(pools)-2], pool{a.sum + b.sum, a.count + b.count})
		}
	}
	i := 0
	for _, p := range pools {
		for range p.count {
			r[i].x = p.sum/float64(p.count) + off[i]
			i++
		}
	}
}

// ---------------------------------------------------------------------------
// Sequence pictures

type seq struct {
	title [2]string
	lanes []lane
	steps []step
}

type lane struct {
	id    string
	label [2]string
}

type step struct {
	kind string // "section", "msg", "ret", "note"
	from int    // msg, ret: the sender; note: the first lane
	to   []int  // msg, ret: the receivers; note: the last lane, alone
	text [2]string
	line int
}

// parseSeq reads a sequence source. Each line is one of
//
//	title: TEXT
//	lane ID: TEXT
//	section: TEXT
//	msg FROM -> TO[, TO...]: TEXT      (ret: the same, drawn dashed: an answer)
//	note LANE: TEXT   or   note FIRST..LAST: TEXT
//
// where TEXT is "English | 中文" (or one text for both) and \n breaks a line.
func parseSeq(src string) (*seq, error) {
	s := &seq{}
	laneOf := func(id string) (int, error) {
		for i, l := range s.lanes {
			if l.id == id {
				return i, nil
			}
		}
		return 0, fmt.Errorf("no lane %q", id)
	}
	for n, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		head, text, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: no colon", n+1)
		}
		tt := texts(text)
		kind, args, _ := strings.Cut(strings.TrimSpace(head), " ")
		args = strings.TrimSpace(args)
		var err error
		switch kind {
		case "title":
			s.title = tt
		case "lane":
			s.lanes = append(s.lanes, lane{id: args, label: tt})
		case "section":
			s.steps = append(s.steps, step{kind: kind, text: tt})
		case "msg", "ret":
			from, to, ok := strings.Cut(args, "->")
			if !ok {
				return nil, fmt.Errorf("line %d: want FROM -> TO", n+1)
			}
			st := step{kind: kind, text: tt}
			if st.from, err = laneOf(strings.TrimSpace(from)); err != nil {
				return nil, fmt.Errorf("line %d: %w", n+1, err)
			}
			for _, t := range strings.Split(to, ",") {
				i, err := laneOf(strings.TrimSpace(t))
				if err != nil {
					return nil, fmt.Errorf("line %d: %w", n+1, err)
				}
				st.to = append(st.to, i)
			}
			s.steps = append(s.steps, st)
		case "note":
			first, last, span := strings.Cut(args, "..")
			st := step{kind: kind, text: tt}
			if st.from, err = laneOf(strings.TrimSpace(first)); err != nil {
				return nil, fmt.Errorf("line %d: %w", n+1, err)
			}
			l := st.from
			if span {
				if l, err = laneOf(strings.TrimSpace(last)); err != nil {
					return nil, fmt.Errorf("line %d: %w", n+1, err)
				}
			}
			if l < st.from {
				return nil, fmt.Errorf("line %d: the lanes of a note go left to right", n+1)
			}
			st.to = []int{l}
			s.steps = append(s.steps, st)
		default:
			return nil, fmt.Errorf("line %d: unknown %q", n+1, kind)
		}
	}
	if len(s.lanes) < 2 {
		return nil, fmt.Errorf("fewer than two lanes")
	}
	return s, nil
}

func texts(s string) [2]string {
	en, zh, ok := strings.Cut(s, "|")
	en = strings.TrimSpace(en)
	if !ok {
		return [2]string{en, en}
	}
	return [2]string{en, strings.TrimSpace(zh)}
}

func lines(s string) []string { return strings.Split(s, `\n`) }

const (
	seqFont   = 16.0
	laneFont  = 16.0
	lineH     = 21.0
	seqMargin = 24.0
	notePad   = 12.0
	spanOut   = 34.0 // how far a note over several lanes reaches past them
)

func blockWidth(s string, size float64) float64 {
	w := 0.0
	for _, l := range lines(s) {
		w = max(w, textWidth(l, size))
	}
	return w
}

func drawSeq(s *seq, lang int) string {
	n := len(s.lanes)
	// Lane positions: gaps wide enough for every header, label and note.
	half := make([]float64, n) // what sticks out of a lane, left or right
	headW := make([]float64, n)
	headH := 0.0
	for i, l := range s.lanes {
		headW[i] = blockWidth(l.label[lang], laneFont)*1.08 + 2*notePad + 8 // bold
		half[i] = headW[i] / 2
		headH = max(headH, float64(len(lines(l.label[lang])))*lineH+16)
	}
	type need struct {
		a, b int
		w    float64
	}
	var needs []need
	for i := 0; i+1 < n; i++ {
		needs = append(needs, need{i, i + 1, (headW[i]+headW[i+1])/2 + 26})
	}
	for _, st := range s.steps {
		w := blockWidth(st.text[lang], seqFont)
		switch st.kind {
		case "msg", "ret":
			lo, hi := st.from, st.from
			for _, t := range st.to {
				lo, hi = min(lo, t), max(hi, t)
			}
			if lo == hi {
				continue
			}
			needs = append(needs, need{lo, hi, w + 40})
		case "note":
			a, b := st.from, st.to[0]
			nw := w + 2*notePad
			if a == b {
				half[a] = max(half[a], nw/2)
				if a > 0 {
					needs = append(needs, need{a - 1, a, nw/2 + 30})
				}
				if a < n-1 {
					needs = append(needs, need{a, a + 1, nw/2 + 30})
				}
				continue
			}
			needs = append(needs, need{a, b, nw - 2*spanOut})
			half[a] = max(half[a], spanOut)
			half[b] = max(half[b], spanOut)
		}
	}
	gaps := make([]float64, n-1)
	sort.SliceStable(needs, func(i, j int) bool { return needs[i].b-needs[i].a < needs[j].b-needs[j].a })
	for range 2 {
		for _, nd := range needs {
			have := 0.0
			for i := nd.a; i < nd.b; i++ {
				have += gaps[i]
			}
			if have < nd.w {
				for i := nd.a; i < nd.b; i++ {
					gaps[i] += (nd.w - have) / float64(nd.b-nd.a)
				}
			}
		}
	}
	x := make([]float64, n)
	x[0] = seqMargin + half[0]
	for i := 1; i < n; i++ {
		x[i] = x[i-1] + gaps[i-1]
	}
	titleW := textWidth(s.title[lang], 21) + 2*seqMargin
	width := max(x[n-1]+half[n-1]+seqMargin, titleW)

	// Rows.
	headY := 52.0
	y := headY + headH + 22
	var body strings.Builder
	for _, st := range s.steps {
		ls := lines(st.text[lang])
		switch st.kind {
		case "section":
			h := float64(len(ls))*lineH + 14
			fmt.Fprintf(&body, `<rect x="6" y="%s" width="%s" height="%s" fill="#eef1f6" stroke="#c4cad6"/>`+"\n", f(y), f(width-12), f(h))
			textLines(&body, seqMargin, y+(h-float64(len(ls))*lineH)/2+lineH-5, ls, "start", ` font-weight="bold"`)
			y += h + 14
		case "msg", "ret":
			labelH := float64(len(ls)) * lineH
			ly := y + labelH + 8
			lo, hi := x[st.from], x[st.from]
			for _, t := range st.to {
				lo, hi = min(lo, x[t]), max(hi, x[t])
			}
			dash := ""
			if st.kind == "ret" {
				dash = ` stroke-dasharray="7 5"`
			}
			fmt.Fprintf(&body, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#1f3b5b" stroke-width="2"%s/>`+"\n", f(lo), f(ly), f(hi), f(ly), dash)
			fmt.Fprintf(&body, `<circle cx="%s" cy="%s" r="4.5" fill="#1f3b5b"/>`+"\n", f(x[st.from]), f(ly))
			for _, t := range st.to {
				dir := 1.0
				if x[t] < x[st.from] {
					dir = -1
				}
				tip := x[t] - dir*2
				fmt.Fprintf(&body, `<path d="M%s %s L%s %s L%s %s Z" fill="#1f3b5b"/>`+"\n",
					f(tip), f(ly), f(tip-dir*13), f(ly-6), f(tip-dir*13), f(ly+6))
			}
			textLines(&body, (lo+hi)/2, y+lineH-4, ls, "middle", "")
			y = ly + 22
		case "note":
			a, b := st.from, st.to[0]
			w := blockWidth(st.text[lang], seqFont) + 2*notePad
			left, right := x[a]-w/2, x[a]+w/2
			if a != b {
				left, right = x[a]-spanOut, x[b]+spanOut
			}
			h := float64(len(ls))*lineH + 12
			fmt.Fprintf(&body, `<rect x="%s" y="%s" width="%s" height="%s" rx="6" fill="#fff6d5" stroke="#c7a93a" stroke-width="1.4"/>`+"\n",
				f(left), f(y), f(right-left), f(h))
			textLines(&body, (left+right)/2, y+(h-float64(len(ls))*lineH)/2+lineH-5, ls, "middle", "")
			y += h + 14
		}
	}
	height := y + 10

	var b strings.Builder
	svgOpen(&b, width, height)
	fmt.Fprintf(&b, `<text x="%s" y="32" font-size="21" font-weight="bold">%s</text>`+"\n", f(seqMargin), esc(s.title[lang]))
	for i, l := range s.lanes {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#9aa3b2" stroke-width="1.5" stroke-dasharray="5 5"/>`+"\n",
			f(x[i]), f(headY+headH), f(x[i]), f(height-8))
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" rx="7" fill="#d5e8f7" stroke="#2f6fa5" stroke-width="1.6"/>`+"\n",
			f(x[i]-headW[i]/2), f(headY), f(headW[i]), f(headH))
		ls := lines(l.label[lang])
		textLines(&b, x[i], headY+(headH-float64(len(ls))*lineH)/2+lineH-5, ls, "middle", ` font-weight="bold"`)
	}
	b.WriteString(body.String())
	b.WriteString("</svg>\n")
	return b.String()
}

func textLines(b *strings.Builder, x, y float64, ls []string, anchor, attrs string) {
	for i, l := range ls {
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="%s"%s>%s</text>`+"\n", f(x), f(y+float64(i)*lineH), anchor, attrs, esc(l))
	}
}

// ---------------------------------------------------------------------------
// Shared

func svgOpen(b *strings.Builder, w, h float64) {
	w, h = math.Ceil(w), math.Ceil(h)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="'Noto Sans', 'DejaVu Sans', Arial, 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif" font-size="16" fill="#1d1d1f">`+"\n", f(w), f(h), f(w), f(h))
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 Z" fill="#5d6470"/></marker></defs>` + "\n")
	fmt.Fprintf(b, `<rect width="%s" height="%s" fill="white"/>`+"\n", f(w), f(h))
}

// textWidth estimates the width of s in a sans-serif font of the given
// size: wide for CJK characters, narrow for i, l, dots and the like.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case r >= 0x2e80:
			w += 1.0
		case strings.ContainsRune("iljtfrI.,:;|!'()[] /", r):
			w += 0.36
		case strings.ContainsRune("mwMW@%", r):
			w += 0.9
		case r >= 'A' && r <= 'Z':
			w += 0.68
		case r == '→' || r == '←':
			w += 1.0
		default:
			w += 0.58
		}
	}
	return w * size
}

func f(v float64) string { return fmt.Sprintf("%.1f", v) }

func esc(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
