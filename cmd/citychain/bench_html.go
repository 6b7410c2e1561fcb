package main

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"
)

// The --report page: one self-contained HTML file with inline SVG charts
// and inline CSS. Its Content-Security-Policy forbids every outside
// request, and it has no script at all, so it opens the same from a
// laptop, a mail attachment or a CI artifact.

var benchPageTmpl = template.Must(template.New("bench").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>citychain bench {{.Started}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:800px;color:#222;padding:0 12px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;white-space:nowrap;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}
td.v{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.a{color:#666;font-size:13px;white-space:normal}
svg{display:block;margin:6px 0 4px;background:#fcfcfc;border:1px solid #eee}p.note{color:#666;font-size:13px}
</style></head><body>
<h1>citychain bench</h1>
<p>Run started {{.Started}} against {{.NodeCount}} node(s) of chain <b>{{.Chain}}</b>.</p>
<h2>Summary</h2>
<table>{{range .Summary}}<tr><th>{{.Name}}</th><td class="v">{{.Value}}</td><td class="a">{{.About}}</td></tr>{{end}}</table>
<h2>Parameters</h2>
<table>{{range .Params}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>
<h2>Throughput</h2>{{.Throughput}}
<p class="note">Bars: transactions of this run committed in each second. Line: submissions begun in each second (the offered load).</p>
<h2>Latency over time</h2>{{.Latency}}
<p class="note">Submit-to-commit percentiles of the transactions committed in each second.</p>
<h2>Block size</h2>{{.BlockSize}}
<p class="note">Transactions in each block (anyone's), at the time the bench saw the block on {{.First}}.</p>
<h2>Mempool size</h2>{{.Mempool}}
<p class="note">Transactions waiting in each node's mempool (mempool_txs of GET /v1/status), sampled every {{.SampleEvery}}.</p>
</body></html>
`))

type benchRow struct{ Name, Value, About string }

// benchPage renders the report page of a run.
func benchPage(o *benchOptions, targets []benchTarget, chainID string, rec *benchRecord, r benchReport, c *benchCeiling) ([]byte, error) {
	s := series(rec)
	xMax := float64(s.Seconds)
	rejected := "none"
	if len(r.Rejected) > 0 {
		var parts []string
		for k, v := range r.Rejected {
			parts = append(parts, fmt.Sprintf("%s: %d", k, v))
		}
		sort.Strings(parts)
		rejected = strings.Join(parts, ", ")
	}
	sum := []benchRow{
		{"committed_tps", fmt.Sprintf("%.1f tx/s", r.CommittedTPS), "committed / duration_s"},
		{"offered_tps", fmt.Sprintf("%.1f tx/s", r.OfferedTPS), "submitted / seconds spent sending"},
		{"submitted", fmt.Sprint(r.Submitted), "transactions posted to /v1/txs, each attempt"},
		{"accepted", fmt.Sprint(r.Accepted), "distinct transactions a node accepted"},
		{"rejected", rejected, "refusals by reason"},
		{"committed", fmt.Sprint(r.Committed), "accepted transactions of this run found in a block"},
		{"accepted_not_committed", fmt.Sprint(r.AcceptedNotCommitted), "accepted minus committed after the settle wait"},
		{"latency_ms", fmt.Sprintf("p50 %.0f, p95 %.0f, p99 %.0f, max %.0f", r.LatencyMS.P50, r.LatencyMS.P95, r.LatencyMS.P99, r.LatencyMS.Max), "submit to commit, ms"},
		{"duration_s", fmt.Sprintf("%.2f s", r.DurationS), "first submission to last commit"},
		{"blocks", fmt.Sprint(r.Blocks), "blocks holding transactions of this run"},
		{"max_block_txs", fmt.Sprint(r.MaxBlockTxs), "largest of those blocks"},
	}
	if c != nil {
		sum = append(sum,
			benchRow{"verification limit", fmt.Sprintf("%.0f tx/s", c.LimitTPS), fmt.Sprintf("%d cores / (%d nodes x %.1f µs per verify of a known sender)", c.Cores, c.Nodes, c.VerifyUS)},
			benchRow{"share of the limit", fmt.Sprintf("%.1f%%", 100*r.CommittedTPS/math.Max(c.LimitTPS, 1)), "committed_tps / verification limit"})
	}
	orNone := func(v int, unit string) string {
		if v == 0 {
			return "none"
		}
		return fmt.Sprintf("%d%s", v, unit)
	}
	rate := "as fast as the nodes take them"
	if o.rate > 0 {
		rate = fmt.Sprintf("%d tx/s", o.rate)
	}
	dur := "none"
	if o.duration > 0 {
		dur = o.duration.String()
	}
	params := []benchRow{
		{Name: "nodes", Value: targetList(targets)},
		{Name: "--mix", Value: o.mix},
		{Name: "--rate", Value: rate},
		{Name: "--duration", Value: dur},
		{Name: "--count", Value: orNone(o.count, "")},
		{Name: "--senders", Value: fmt.Sprint(o.senders)},
		{Name: "--concurrency", Value: fmt.Sprint(o.concurrency)},
		{Name: "--batch", Value: fmt.Sprint(o.batch)},
		{Name: "--settle", Value: o.settle.String()},
	}

	var committed, submitted, p50, p95, p99, secs []float64
	for i := 0; i < s.Seconds; i++ {
		secs = append(secs, float64(i))
		committed = append(committed, float64(s.Committed[i]))
		submitted = append(submitted, float64(s.Submitted[i]))
		p50, p95, p99 = append(p50, s.P50[i]), append(p95, s.P95[i]), append(p99, s.P99[i])
	}
	mid := make([]float64, len(secs))
	for i, x := range secs {
		mid[i] = x + 0.5
	}
	var bx, by []float64
	for _, b := range rec.Blocks {
		bx = append(bx, b.Seen.Sub(rec.Start).Seconds())
		by = append(by, float64(b.Txs))
	}
	var mem []chartSeries
	colors := []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"}
	for i := range targets {
		cs := chartSeries{name: fmt.Sprintf("node %d", i), color: colors[i%len(colors)], kind: "line"}
		for _, m := range rec.Mempool {
			y := math.NaN()
			if i < len(m.Sizes) && m.Sizes[i] >= 0 {
				y = float64(m.Sizes[i])
			}
			cs.xs, cs.ys = append(cs.xs, m.At.Sub(rec.Start).Seconds()), append(cs.ys, y)
		}
		mem = append(mem, cs)
	}
	for _, m := range rec.Mempool {
		xMax = math.Max(xMax, m.At.Sub(rec.Start).Seconds())
	}
	data := map[string]any{
		"Started": rec.Start.Format(time.RFC3339), "Chain": chainID, "NodeCount": len(targets), "First": targets[0].url,
		"SampleEvery": benchSampleEvery.String(), "Summary": sum, "Params": params,
		"Throughput": template.HTML(svgChart("transactions per second", xMax, []chartSeries{
			{name: "committed", color: "#2ca02c", kind: "bars", xs: secs, ys: committed},
			{name: "submitted", color: "#1f77b4", kind: "line", xs: mid, ys: submitted}})),
		"Latency": template.HTML(svgChart("latency, ms", xMax, []chartSeries{
			{name: "p50", color: "#2ca02c", kind: "line", xs: mid, ys: p50},
			{name: "p95", color: "#ff7f0e", kind: "line", xs: mid, ys: p95},
			{name: "p99", color: "#d62728", kind: "line", xs: mid, ys: p99}})),
		"BlockSize": template.HTML(svgChart("transactions per block", xMax, []chartSeries{
			{name: "block", color: "#9467bd", kind: "stems", xs: bx, ys: by}})),
		"Mempool": template.HTML(svgChart("transactions in the mempool", xMax, mem)),
	}
	var b bytes.Buffer
	if err := benchPageTmpl.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("bench report: %w", err)
	}
	return b.Bytes(), nil
}

// chartSeries is one series of a chart: a line (NaN breaks it), bars one
// second wide starting at each x, or stems (a vertical line per point).
type chartSeries struct {
	name, color, kind string
	xs, ys            []float64
}

// Chart geometry.
const (
	chartW, chartH                   = 760, 220
	chartL, chartR, chartT, chartB   = 56, 14, 26, 34
	chartPlotW, chartPlotH           = chartW - chartL - chartR, chartH - chartT - chartB
	chartYTicks                      = 4
	chartXTicksWanted                = 8
	chartLegendStep, chartLegendLeft = 80, chartW - chartR
)

// svgChart draws series over seconds 0..xMax with a y axis from 0.
func svgChart(title string, xMax float64, ss []chartSeries) string {
	xMax = math.Max(xMax, 1)
	yMax := 0.0
	for _, s := range ss {
		for _, y := range s.ys {
			if !math.IsNaN(y) {
				yMax = math.Max(yMax, y)
			}
		}
	}
	yMax = niceCeil(yMax)
	px := func(x float64) float64 { return chartL + x/xMax*chartPlotW }
	py := func(y float64) float64 { return chartT + chartPlotH - y/yMax*chartPlotH }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`, chartW, chartH, chartW, chartH, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="16" font-size="13" font-weight="bold">%s</text>`, chartL, html.EscapeString(title))
	for i := 0; i <= chartYTicks; i++ {
		y := yMax * float64(i) / chartYTicks
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e6e6e6"/>`, chartL, chartW-chartR, py(y), py(y))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end">%s</text>`, chartL-6, py(y)+4, tickLabel(y))
	}
	step := niceCeil(xMax / chartXTicksWanted)
	for x := 0.0; x <= xMax+1e-9; x += step {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#999"/>`, px(x), px(x), chartT+chartPlotH, chartT+chartPlotH+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle">%s</text>`, px(x), chartT+chartPlotH+16, tickLabel(x))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end">seconds since the start</text>`, chartW-chartR, chartH-4)
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#999"/>`, chartL, chartW-chartR, chartT+chartPlotH, chartT+chartPlotH)
	for i, s := range ss {
		drawSeries(&b, s, px, py, xMax)
		lx := chartLegendLeft - (len(ss)-i)*chartLegendStep
		fmt.Fprintf(&b, `<rect x="%d" y="7" width="10" height="10" fill="%s"/><text x="%d" y="16" font-size="11">%s</text>`,
			lx, s.color, lx+14, html.EscapeString(s.name))
	}
	if yMax == 1 && len(ss) > 0 && allEmpty(ss) {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#999" text-anchor="middle">no data</text>`, chartL+chartPlotW/2, chartT+chartPlotH/2)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func drawSeries(b *strings.Builder, s chartSeries, px, py func(float64) float64, xMax float64) {
	switch s.kind {
	case "bars":
		w := math.Max(chartPlotW/xMax*0.8, 1)
		for i, x := range s.xs {
			if y := s.ys[i]; !math.IsNaN(y) && y > 0 {
				fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" opacity="0.8"/>`,
					px(x)+chartPlotW/xMax*0.1, py(y), w, py(0)-py(y), s.color)
			}
		}
	case "stems":
		for i, x := range s.xs {
			if y := s.ys[i]; !math.IsNaN(y) {
				fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`, px(x), px(x), py(0), py(y), s.color)
				fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, px(x), py(y), s.color)
			}
		}
	default:
		var pts []string
		flush := func() {
			if len(pts) == 1 {
				fmt.Fprintf(b, `<circle cx="%s" r="2" fill="%s"/>`, strings.Replace(pts[0], ",", `" cy="`, 1), s.color)
			} else if len(pts) > 1 {
				fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.8"/>`, strings.Join(pts, " "), s.color)
			}
			pts = pts[:0]
		}
		for i, x := range s.xs {
			if math.IsNaN(s.ys[i]) {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(x), py(s.ys[i])))
		}
		flush()
	}
}

func allEmpty(ss []chartSeries) bool {
	for _, s := range ss {
		for _, y := range s.ys {
			if !math.IsNaN(y) && y > 0 {
				return false
			}
		}
	}
	return true
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func tickLabel(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
