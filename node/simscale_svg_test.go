package node

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// scalingCurves draws the measured medians as a self-contained SVG (no
// fonts or scripts fetched from anywhere): transmissions and signed
// messages per block on log-log axes, and the block time, each against
// the number of validators.
func scalingCurves(cells []*scaleCell, modes []gossipMode) string {
	var b strings.Builder
	const w, h = 980, 380
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	var sizes []int
	for _, c := range cells {
		if !slices.Contains(sizes, c.n) {
			sizes = append(sizes, c.n)
		}
	}
	slices.Sort(sizes)
	var msgs, times []curve
	for _, m := range modes {
		var sends, bt []point
		for _, c := range cells {
			if c.mode == m && len(c.samples) > 0 {
				sends = append(sends, point{float64(c.n), c.pick(.5, mSends)})
				bt = append(bt, point{float64(c.n), c.pick(.5, mBlockTime)})
			}
		}
		msgs = append(msgs, curve{name: "transmissions, " + m.String(), color: modeColor[m], points: sends})
		times = append(times, curve{name: m.String(), color: modeColor[m], points: bt})
	}
	var signed []point
	for _, c := range cells {
		if c.mode == modes[0] && len(c.samples) > 0 {
			signed = append(signed, point{float64(c.n), c.pick(.5, mPublished)})
		}
	}
	msgs = append(msgs, curve{name: "signed messages", color: "#555555", dashed: true, points: signed})
	drawPanel(&b, panel{x: 70, y: 40, w: 380, h: 280, title: "messages per block (median)", logY: true, sizes: sizes}, msgs)
	drawPanel(&b, panel{x: 580, y: 40, w: 380, h: 280, title: "block time, seconds (median)", sizes: sizes}, times)
	b.WriteString("</svg>\n")
	return b.String()
}

var modeColor = map[gossipMode]string{flood: "#c0392b", mesh: "#2471a3", direct: "#1e8449"}

type point struct{ x, y float64 }

type curve struct {
	name   string
	color  string
	dashed bool
	points []point
}

// panel is one chart: its place, title, and the validator counts on its
// logarithmic x axis; its y axis is logarithmic if logY.
type panel struct {
	x, y, w, h float64
	title      string
	logY       bool
	sizes      []int
}

func drawPanel(b *strings.Builder, p panel, curves []curve) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range curves {
		for _, q := range c.points {
			if q.y > 0 && !math.IsNaN(q.y) {
				lo, hi = math.Min(lo, q.y), math.Max(hi, q.y)
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 10
	}
	var ticks []float64
	if p.logY {
		lo, hi = math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
		if lo == hi {
			hi *= 10
		}
		for v := lo; v <= hi*1.001; v *= 10 {
			ticks = append(ticks, v)
		}
	} else {
		lo, hi = 0, niceCeil(hi*1.1)
		for i := range 6 {
			ticks = append(ticks, hi*float64(i)/5)
		}
	}
	xlo, xhi := math.Log(float64(p.sizes[0])*0.8), math.Log(float64(p.sizes[len(p.sizes)-1])*1.2)
	px := func(x float64) float64 { return p.x + (math.Log(x)-xlo)/(xhi-xlo)*p.w }
	py := func(y float64) float64 {
		if p.logY {
			return p.y + p.h - (math.Log(y)-math.Log(lo))/(math.Log(hi)-math.Log(lo))*p.h
		}
		return p.y + p.h - (y-lo)/(hi-lo)*p.h
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" font-size="14" font-weight="bold">%s</text>`+"\n", p.x, p.y-15, p.title)
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n", p.x, p.y, p.w, p.h)
	for _, v := range ticks {
		y := py(v)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`+"\n", p.x, y, p.x+p.w, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", p.x-6, y+4, shortNumber(v))
	}
	for _, n := range p.sizes {
		x := px(float64(n))
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`+"\n", x, p.y, x, p.y+p.h)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%d</text>`+"\n", x, p.y+p.h+16, n)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">validators</text>`+"\n", p.x+p.w/2, p.y+p.h+34)
	for i, c := range curves {
		var pts []string
		for _, q := range c.points {
			if q.y > 0 || !p.logY {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(q.x), py(q.y)))
			}
		}
		dash := ""
		if c.dashed {
			dash = ` stroke-dasharray="5,4"`
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), c.color, dash)
		for _, s := range pts {
			xy := strings.Split(s, ",")
			fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", xy[0], xy[1], c.color)
		}
		ly := p.y + 16 + float64(i)*16
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="2"%s/>`+"\n", p.x+10, ly-4, p.x+30, ly-4, c.color, dash)
		fmt.Fprintf(b, `<text x="%.0f" y="%.0f">%s</text>`+"\n", p.x+36, ly, c.name)
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}

// shortNumber writes v as 2.5, 10, 10k or 1M.
func shortNumber(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", math.Round(v*100)/100)
}

// The curves are well-formed XML with one line per gossip mode and one
// for the signed messages, each through every size measured.
func TestScalingCurvesAreWellFormed(t *testing.T) {
	var cells []*scaleCell
	modes := []gossipMode{flood, mesh}
	for _, n := range []int{4, 16, 64} {
		for _, m := range modes {
			k := float64(n * n)
			if m == flood {
				k *= float64(n)
			}
			cells = append(cells, &scaleCell{n: n, mode: m, samples: []heightSample{{
				blockTime: time.Duration(n) * 10 * time.Millisecond, published: 2*n + 1, sends: int(k)}}})
		}
	}
	svg := scalingCurves(cells, modes)
	dec := xml.NewDecoder(strings.NewReader(svg))
	lines := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			lines++
			for _, a := range se.Attr {
				if a.Name.Local == "points" && len(strings.Fields(a.Value)) != 3 {
					t.Errorf("a curve through %q, want 3 points", a.Value)
				}
			}
		}
	}
	// Two panels: (2 modes + signed) and 2 modes.
	if lines != 5 {
		t.Fatalf("%d curves, want 5", lines)
	}
	if strings.Count(svg, "http") != 1 || strings.Contains(svg, "href") {
		t.Fatal("the SVG refers to something beyond its namespace")
	}
}
