package node

import (
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The scaling report: every size and gossip mode over several seeds, one
// table, and optionally the curves as an SVG for docs/scaling.md.

var (
	scalingFlag   = flag.Bool("scaling", false, "run TestScaling: the scaling runs of docs/scaling.md")
	scalingSeeds  = flag.Int("scaling-seeds", 3, "seeds per size and gossip mode in TestScaling")
	scalingHeight = flag.Int("scaling-heights", 6, "heights measured per run in TestScaling")
	scalingSizes  = flag.String("scaling-sizes", "4,7,16,31,64", "validator counts TestScaling runs")
	scalingModes  = flag.String("scaling-modes", "flood,mesh,direct", "gossip modes TestScaling runs")
	scalingSVG    = flag.String("scaling-svg", "", "TestScaling writes the curves to this SVG file")
)

// scaleCell is the runs of one size and mode, summed up.
type scaleCell struct {
	n       int
	mode    gossipMode
	runs    int
	samples []heightSample
	wall    time.Duration // summed over its runs
	slowest time.Duration // the longest run
}

// pick is the q-quantile (nearest rank) of the samples' f.
func (c *scaleCell) pick(q float64, f func(heightSample) float64) float64 {
	if len(c.samples) == 0 {
		return math.NaN()
	}
	v := make([]float64, len(c.samples))
	for i, x := range c.samples {
		v[i] = f(x)
	}
	slices.Sort(v)
	i := int(math.Ceil(q*float64(len(v)))) - 1
	return v[max(i, 0)]
}

func secs(d time.Duration) float64 { return d.Seconds() }

// Measures of a sample, as the table and the curves use them.
var (
	mBlockTime = func(x heightSample) float64 { return secs(x.blockTime) }
	mToCommit  = func(x heightSample) float64 { return secs(x.proposeToEnd) }
	mSpread    = func(x heightSample) float64 { return secs(x.spread) }
	mRounds    = func(x heightSample) float64 { return float64(x.round + 1) }
	mPublished = func(x heightSample) float64 { return float64(x.published) }
	mSends     = func(x heightSample) float64 { return float64(x.sends) }
	mKB        = func(x heightSample) float64 { return float64(x.bytes) / 1000 }
	mCommitKB  = func(x heightSample) float64 { return float64(x.commitBytes) / 1000 }
)

func parseSizes(t *testing.T) []int {
	var out []int
	for _, f := range strings.Split(*scalingSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 200 {
			t.Fatalf("-scaling-sizes: %q is not a validator count from 1 to 200", f)
		}
		out = append(out, n)
	}
	return out
}

func parseModes(t *testing.T) []gossipMode {
	var out []gossipMode
	for _, f := range strings.Split(*scalingModes, ",") {
		switch strings.TrimSpace(f) {
		case "flood":
			out = append(out, flood)
		case "mesh":
			out = append(out, mesh)
		case "direct":
			out = append(out, direct)
		default:
			t.Fatalf("-scaling-modes: %q is not flood, mesh or direct", f)
		}
	}
	return out
}

// TestScaling runs the simulation at every size and gossip mode, several
// seeds each, checks every run as TestScalingShort does, and prints the
// table of docs/scaling.md. It runs only with -scaling:
//
//	go test ./node/ -run 'TestScaling$' -timeout 60m -args -scaling -scaling-svg ../docs/scaling.svg
func TestScaling(t *testing.T) {
	if !*scalingFlag {
		t.Skip("the scaling runs take minutes; run them with -args -scaling (make test-scaling)")
	}
	sizes, modes := parseSizes(t), parseModes(t)
	var runs []scaleRun
	cells := map[[2]int]*scaleCell{}
	for _, n := range sizes {
		for _, m := range modes {
			cells[[2]int{n, int(m)}] = &scaleCell{n: n, mode: m}
			for k := range *scalingSeeds {
				runs = append(runs, scaleRun{n: n, mode: m, seed: uint64(1000*n + k + 1), heights: *scalingHeight})
			}
		}
	}
	// The big runs first, so that the two cores end together.
	slices.SortStableFunc(runs, func(a, b scaleRun) int { return b.n - a.n })
	start := time.Now()
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= len(runs) {
					mu.Unlock()
					return
				}
				r := runs[next]
				next++
				mu.Unlock()
				res := runScale(r)
				errs := checkScale(res)
				mu.Lock()
				for _, e := range errs {
					t.Errorf("%d validators, %s, seed %d: %s", r.n, r.mode, r.seed, e)
				}
				c := cells[[2]int{r.n, int(r.mode)}]
				c.runs++
				c.samples = append(c.samples, res.samples...)
				c.wall += res.wall
				c.slowest = max(c.slowest, res.wall)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var ordered []*scaleCell
	for _, n := range sizes {
		for _, m := range modes {
			ordered = append(ordered, cells[[2]int{n, int(m)}])
		}
	}
	fmt.Print(scalingTable(ordered, time.Since(start)))
	if *scalingSVG != "" {
		if err := os.WriteFile(*scalingSVG, []byte(scalingCurves(ordered, modes)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// scalingTable is the markdown table of the cells and the growth of their
// costs with the number of validators.
func scalingTable(cells []*scaleCell, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d seeds x %d heights per row; WAN %v-%v one-way per link, up to %v jitter, %.0f%% loss; a transfer every %v\n\n",
		*scalingSeeds, *scalingHeight, wanMinDelay, wanMaxDelay, wanJitter, 100*wanLoss, wanTxEvery)
	b.WriteString("| validators | gossip | block time p50 / p90 (s) | proposal to first commit p50 (s) | first to last node p50 (s) | rounds p50 / max | signed msgs per block p50 | transmissions per block p50 / p90 | per validator p50 | kB per block p50 | kB per validator p50 | commit certificate kB | blocks synced | wall time (s) |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range cells {
		synced := 0
		for _, x := range c.samples {
			synced += x.synced
		}
		n := float64(c.n)
		fmt.Fprintf(&b, "| %d | %s | %.2f / %.2f | %.2f | %.2f | %.0f / %.0f | %.0f | %.0f / %.0f | %.0f | %.1f | %.1f | %.1f | %d | %.1f |\n",
			c.n, c.mode, c.pick(.5, mBlockTime), c.pick(.9, mBlockTime), c.pick(.5, mToCommit), c.pick(.5, mSpread),
			c.pick(.5, mRounds), c.pick(1, mRounds), c.pick(.5, mPublished), c.pick(.5, mSends), c.pick(.9, mSends),
			c.pick(.5, mSends)/n, c.pick(.5, mKB), c.pick(.5, mKB)/n, c.pick(.5, mCommitKB), synced, c.wall.Seconds())
	}
	b.WriteString("\nGrowth with n (least-squares slope of log cost on log n; 1 is linear, 2 quadratic, 3 cubic):\n\n")
	b.WriteString("| gossip | signed msgs per block | transmissions per block | kB per block | block time |\n|---|---:|---:|---:|---:|\n")
	byMode := map[gossipMode][]*scaleCell{}
	var modes []gossipMode
	for _, c := range cells {
		if byMode[c.mode] == nil {
			modes = append(modes, c.mode)
		}
		byMode[c.mode] = append(byMode[c.mode], c)
	}
	for _, m := range modes {
		cs := byMode[m]
		fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.2f | %.2f |\n", m,
			slope(cs, mPublished), slope(cs, mSends), slope(cs, mKB), slope(cs, mBlockTime))
	}
	slowest := time.Duration(0)
	for _, c := range cells {
		slowest = max(slowest, c.slowest)
	}
	fmt.Fprintf(&b, "\nwall time %v on %d cores; the longest single run %v\n", took.Round(time.Second), runtime.GOMAXPROCS(0), slowest.Round(100*time.Millisecond))
	return b.String()
}

// slope fits log(median of f) = a + k log(n) over the cells by least
// squares and returns k.
func slope(cells []*scaleCell, f func(heightSample) float64) float64 {
	var sx, sy, sxx, sxy, k float64
	for _, c := range cells {
		y := c.pick(.5, f)
		if len(c.samples) == 0 || y <= 0 {
			continue
		}
		x, ly := math.Log(float64(c.n)), math.Log(y)
		sx, sy, sxx, sxy, k = sx+x, sy+ly, sxx+x*x, sxy+x*ly, k+1
	}
	if k < 2 || k*sxx-sx*sx == 0 {
		return math.NaN()
	}
	return (k*sxy - sx*sy) / (k*sxx - sx*sx)
}
