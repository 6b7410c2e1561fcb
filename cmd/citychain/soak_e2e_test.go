package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/citychain/citychain/node"
)

// The soak: a 4-validator devnet under the city simulator and a steady
// stream of transfers for a long time (make test-soak, 30 minutes by
// default), sampled at regular intervals. It checks that nothing grows
// without bound: memory, goroutines, open files, and disk per committed
// block, and that Badger's value-log collection runs.

var soakFor = flag.Duration("soak", 0, "run the soak for this long (make test-soak); 0 skips it")

// soakSample is one look at one node.
type soakSample struct {
	at         time.Duration
	height     uint64
	rssMB      float64 // all resident memory
	anonMB     float64 // resident memory not backed by a file: heap, stacks
	heapMB     float64 // Go heap in use
	goroutines int
	fds        int // open files other than the store's own (sockets, logs, pipes)
	storeFDs   int // open files in the data folder: Badger's tables and logs
	diskMB     float64
}

// The soak's bounds, compared between the warm-up (the first quarter of
// the run) and the last quarter. Memory is judged by the anonymous part
// of RSS (heap, stacks): the file-backed part is Badger's memory-mapped
// tables and value log, pages the kernel gives back under pressure, and
// grows with the store.
const (
	soakRSSFactor  = 1.5 // RSS may grow by this factor ...
	soakRSSSlackMB = 64  // ... plus this
	soakGoroutines = 64  // more goroutines than at warm-up
	soakFDs        = 32  // more open files outside the store than at warm-up
	soakDiskFactor = 2.0 // disk per block, late over early
	soakDiskSlack  = 16  // KiB per block on top
)

func TestSoak(t *testing.T) {
	if *soakFor <= 0 {
		t.Skip("the soak runs only when asked: make test-soak (SOAK=30m by default)")
	}
	d := startDevnet(t, 4)
	gcEvery := max(*soakFor/6, 10*time.Second).Round(time.Second)
	for _, nd := range d.net.Nodes {
		p := filepath.Join(nd.Home, "config.toml")
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte("value_log_gc_every = '10m0s'")) {
			t.Fatalf("%s has no value_log_gc_every to change (%v)", p, err)
		}
		b = bytes.Replace(b, []byte("value_log_gc_every = '10m0s'"), []byte(fmt.Sprintf("value_log_gc_every = '%s'", gcEvery)), 1)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, ok := d.ctl(t, "restart", "all"); !ok {
		t.Fatalf("restart all: %s", out)
	}
	d.waitHeight(t, d.height(0)+1, 30*time.Second, 0, 1, 2, 3)

	// The load: transfers at 100 tx/s spread over the nodes, and a
	// district of 20 devices reading 10 times a second through node0.
	bin := citychainBin(t)
	var benchOut, benchErr bytes.Buffer
	bench := exec.Command(bin, "bench", "--devnet", d.dir, "--rate", "100", "--duration", soakFor.String(),
		"--senders", "100", "--output", "json")
	bench.Stdout, bench.Stderr = &benchOut, &lockedBuffer{mu: d.mu, buf: &benchErr}
	if err := bench.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopByPID(bench) })
	waitFor(t, 60*time.Second, "the bench to start sending", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return strings.Contains(benchErr.String(), "sending to")
	})
	var simOut bytes.Buffer
	sim := exec.Command(bin, "sim", "city", "--home", d.net.Nodes[0].Home, "--node", d.net.Nodes[0].API,
		"--from", "dev0", "--devices", "20", "--rate", "10", "--duration", soakFor.String())
	sim.Stdout, sim.Stderr = &simOut, &simOut
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopByPID(sim) })

	every := max(*soakFor/40, 5*time.Second)
	start := time.Now()
	samples := make([][]soakSample, 4)
	for time.Since(start) < *soakFor {
		time.Sleep(every)
		v := d.ctlStatus(t)
		for i, nd := range v.Nodes {
			s, err := sampleNode(nd.PID, d.net.Nodes[i].API, filepath.Join(d.net.Nodes[i].Home, node.DataDir))
			if err != nil {
				t.Fatalf("%s: %v", nd.Name, err)
			}
			s.at = time.Since(start)
			samples[i] = append(samples[i], s)
		}
	}
	if err := sim.Wait(); err != nil {
		t.Fatalf("sim city: %v\n%s", err, simOut.String())
	}
	if err := bench.Wait(); err != nil {
		t.Fatalf("bench: %v\n%s", err, benchErr.String())
	}
	var rep struct {
		Accepted             int     `json:"accepted"`
		Committed            int     `json:"committed"`
		AcceptedNotCommitted int     `json:"accepted_not_committed"`
		CommittedTPS         float64 `json:"committed_tps"`
	}
	if err := json.Unmarshal(benchOut.Bytes(), &rep); err != nil {
		t.Fatalf("bench report: %v\n%s", err, benchOut.String())
	}
	if rep.AcceptedNotCommitted != 0 || rep.Committed == 0 {
		t.Fatalf("bench: %d accepted, %d committed, %d accepted but not committed", rep.Accepted, rep.Committed, rep.AcceptedNotCommitted)
	}
	d.checkSameChain(t, 0, 1, 2, 3)

	report := soakReport(samples, rep.Committed, rep.CommittedTPS)
	t.Logf("soak of %s:\n%s", *soakFor, report)
	if out := os.Getenv("CITYCHAIN_SOAK_REPORT"); out != "" {
		if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
			t.Error(err)
		}
	}
	for i, ss := range samples {
		if err := checkSoak(ss); err != nil {
			t.Errorf("node%d: %v", i, err)
		}
		logb, err := os.ReadFile(filepath.Join(d.net.Nodes[i].Home, "node.log"))
		if err != nil {
			t.Fatal(err)
		}
		runs, failed := valueLogGCRuns(logb)
		if failed != "" {
			t.Errorf("node%d: a value-log GC failed: %s", i, failed)
		}
		if runs == 0 {
			t.Errorf("node%d: the value-log GC never ran to the end in %s (every %s)", i, *soakFor, gcEvery)
		}
	}
}

// valueLogGCRuns reads a node's log and counts the value-log collections
// that ran to the end, which the node logs at INFO (a pass that found no
// file worth rewriting, Badger's ErrNoRewrite, is one of them: the store
// takes it as "nothing to collect" and the node logs rewritten_files=0).
// A collection that failed for any other reason is logged at WARN with
// its error under the same message; failed is the first such line.
func valueLogGCRuns(log []byte) (runs int, failed string) {
	for _, line := range strings.Split(string(log), "\n") {
		if !strings.Contains(line, `msg="value-log GC"`) {
			continue
		}
		if strings.Contains(line, " level=INFO ") {
			runs++
		} else if failed == "" {
			failed = line
		}
	}
	return runs, failed
}

// checkSoak compares a node's last quarter of samples with its warm-up
// quarter.
func checkSoak(ss []soakSample) error {
	q := len(ss) / 4
	if q < 1 {
		return fmt.Errorf("only %d samples: run the soak longer", len(ss))
	}
	early, late := ss[:q], ss[len(ss)-q:]
	// The median of a window: compactions and bursts make single
	// samples spike, while a leak moves the whole window.
	peak := func(xs []soakSample, f func(soakSample) float64) float64 {
		v := make([]float64, len(xs))
		for i, x := range xs {
			v[i] = f(x)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	rss := func(s soakSample) float64 { return s.anonMB }
	gor := func(s soakSample) float64 { return float64(s.goroutines) }
	fds := func(s soakSample) float64 { return float64(s.fds) }
	if e, l := peak(early, rss), peak(late, rss); l > e*soakRSSFactor+soakRSSSlackMB {
		return fmt.Errorf("anonymous RSS (heap, stacks), median of a quarter, grew from %.0f MB at warm-up to %.0f MB", e, l)
	}
	if e, l := peak(early, gor), peak(late, gor); l > e+soakGoroutines {
		return fmt.Errorf("goroutines grew from %.0f at warm-up to %.0f", e, l)
	}
	if e, l := peak(early, fds), peak(late, fds); l > e+soakFDs {
		return fmt.Errorf("open files outside the store grew from %.0f at warm-up to %.0f", e, l)
	}
	// Disk per block: the second half of the run against the first.
	mid := ss[len(ss)/2]
	first, last := ss[0], ss[len(ss)-1]
	if mid.height > first.height && last.height > mid.height {
		a := (mid.diskMB - first.diskMB) * 1024 / float64(mid.height-first.height)
		b := (last.diskMB - mid.diskMB) * 1024 / float64(last.height-mid.height)
		if b > max(a, 0)*soakDiskFactor+soakDiskSlack {
			return fmt.Errorf("disk per block grew from %.1f KiB in the first half to %.1f KiB in the second", a, b)
		}
	}
	return nil
}

// soakReport prints, per node, the samples at the start, the middle and
// the end, and the disk used per committed block.
func soakReport(samples [][]soakSample, committed int, tps float64) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tAT\tHEIGHT\tRSS MB\tANON MB\tHEAP MB\tGOROUTINES\tFILES\tSTORE FILES\tDISK MB\tKiB/BLOCK SINCE START")
	for i, ss := range samples {
		if len(ss) == 0 {
			continue
		}
		for _, k := range []int{0, len(ss) / 4, len(ss) / 2, len(ss) - 1} {
			s := ss[k]
			per := "-"
			if s.height > ss[0].height {
				per = fmt.Sprintf("%.1f", (s.diskMB-ss[0].diskMB)*1024/float64(s.height-ss[0].height))
			}
			fmt.Fprintf(tw, "node%d\t%s\t%d\t%.0f\t%.0f\t%.0f\t%d\t%d\t%d\t%.1f\t%s\n", i, s.at.Round(time.Second), s.height, s.rssMB, s.anonMB, s.heapMB, s.goroutines, s.fds, s.storeFDs, s.diskMB, per)
		}
	}
	tw.Flush()
	fmt.Fprintf(&b, "transfers committed: %d (%.1f tx/s)\n", committed, tps)
	return b.String()
}

// sampleNode reads a node's RSS and open files from /proc, its goroutines
// and heap from its /metrics, its height from /v1/status and the size of its data
// folder.
func sampleNode(pid int, api, data string) (soakSample, error) {
	var s soakSample
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(st), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
		switch name {
		case "VmRSS":
			s.rssMB = kb / 1024
		case "RssAnon":
			s.anonMB = kb / 1024
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "go_goroutines":
			s.goroutines = int(v)
		case "go_memstats_heap_inuse_bytes":
			s.heapMB = v / (1 << 20)
		}
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, err
	}
	for _, e := range ents {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if strings.HasPrefix(target, data+string(filepath.Separator)) {
			s.storeFDs++
		} else {
			s.fds++
		}
	}
	var sv node.StatusView
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, api+"/v1/status", nil)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, err
	}
	defer resp2.Body.Close()
	if err := json.NewDecoder(resp2.Body).Decode(&sv); err != nil {
		return s, err
	}
	s.height = sv.Height
	// Blocks actually allocated, so that sparse preallocated files count
	// for what they hold.
	var bytes int64
	err = filepath.WalkDir(data, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return nil // gone meanwhile (compaction)
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			bytes += st.Blocks * 512
		}
		return nil
	})
	s.diskMB = float64(bytes) / (1 << 20)
	return s, err
}

// waitFor polls ok every 200 ms until it holds or limit passes.
func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stopByPID ends a helper process the test started, by its PID.
func stopByPID(c *exec.Cmd) {
	if c.Process == nil || c.ProcessState != nil {
		return
	}
	_ = syscall.Kill(c.Process.Pid, syscall.SIGINT)
	done := make(chan struct{})
	go func() { _ = c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(c.Process.Pid, syscall.SIGKILL)
		<-done
	}
}
