package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
)

// TestDocsRun runs every runnable block (```sh run) of the documentation
// the way a reader would, so that the docs never rot. Each document
// starts from a fresh 4-node devnet, as `citychain devnet` makes it, in
// a folder of its own that stands for the repository's root:
//
//   - .devnet/node0 ... .devnet/node3 are the nodes' homes;
//   - citychain is the freshly built binary, on PATH and as bin/citychain;
//   - go.mod and go.sum are copies of the repository's, so that `go run`
//     of a reader's program finds the modules the repository uses (the
//     source tree itself is not there: blocks that build or edit it are
//     plain ```sh);
//   - the devnet's ports are moved to a free range (8700 becomes 18700 or
//     28700 ...): every 127.0.0.1:87xx and :97xx in a block gets the same
//     prefix, and CITYCHAIN_NODE points the default --node at node0;
//   - /tmp/citylab, the students' folder, becomes a folder of the test.
//
// Each block runs in its own `bash -euo pipefail`, in order, with a time
// limit, and must leave no process behind. The first block that fails
// ends its document: the report names the file, the block, its text and
// what it printed. The devnet is stopped by PID after each document.
// English documents run with LANG=C.UTF-8, Chinese ones with
// LANG=zh_CN.UTF-8, so `citychain lab check` answers in each language.

var docsLangs = flag.String("docs-langs", "en,zh", "languages whose runnable blocks TestDocsRun runs (en, zh or en,zh)")

const (
	// docsBlockLimit is the time one block may take.
	docsBlockLimit = 90 * time.Second
	// docsRunLimit bounds the whole run: documents that would start after
	// it fail at once.
	docsRunLimit = 12 * time.Minute
	// docsMinHeight is the height the devnet reaches before the first
	// block runs, as a reader's devnet has long done: lab 2 reads block 2
	// and its commit.
	docsMinHeight = 2
	// docsWorkers is how many documents of one language run at once.
	docsWorkers = 2
)

// docsToRun returns the documents of lang with runnable blocks: for en,
// README.md and every file under docs/ but docs/zh; for zh, README.zh.md
// and docs/zh.
func docsToRun(t *testing.T, root, lang string) []*mdDoc {
	t.Helper()
	var names []string
	switch lang {
	case "en":
		names = append(names, "README.md")
		for _, f := range mdFiles(t, root, "docs") {
			if !strings.HasPrefix(f, "docs/zh/") {
				names = append(names, f)
			}
		}
	case "zh":
		names = append(names, "README.zh.md")
		names = append(names, mdFiles(t, root, "docs/zh")...)
	default:
		t.Fatalf("-docs-langs: language %q: want en or zh", lang)
	}
	var docs []*mdDoc
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(root, n)); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if d := loadDoc(t, root, n); len(d.blocks) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

func TestDocsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: runs every runnable block of the docs against a fresh 4-node devnet per document (TestDocsTwins and TestDocsLinks still run)")
	}
	// Most of a document's time is waiting (for its devnet's second
	// block, for a stopped node's timeouts), so the run goes on beside
	// the package's other parallel tests, and the languages run side by
	// side, each with docsWorkers documents at a time, each document on
	// its own devnet.
	t.Parallel()
	root := repoRoot(t)
	bin := citychainBin(t)
	deadline := time.Now().Add(docsRunLimit)
	start := time.Now()
	defer func() { t.Logf("the docs run took %s", time.Since(start).Round(time.Second)) }()
	var langs sync.WaitGroup
	defer langs.Wait()
	for _, lang := range strings.Split(*docsLangs, ",") {
		langs.Add(1)
		go t.Run(lang, func(t *testing.T) { // t.Run may be called from several goroutines
			defer langs.Done()
			docs := docsToRun(t, root, lang)
			if len(docs) == 0 {
				t.Fatalf("no document of %s has a runnable block", lang)
			}
			// The long documents first, so that no worker starts one last.
			slices.SortStableFunc(docs, func(a, b *mdDoc) int { return docWaits(b) - docWaits(a) })
			queue := make(chan *mdDoc)
			var wg sync.WaitGroup
			for range docsWorkers {
				wg.Add(1)
				go func() { // ends when the queue is closed and drained
					defer wg.Done()
					for d := range queue {
						t.Run(docsTestName(d.path), func(t *testing.T) {
							if time.Now().After(deadline) {
								t.Fatalf("not run: the docs run is past its limit of %s", docsRunLimit)
							}
							runDocBlocks(t, root, bin, lang, d, deadline)
						})
					}
				}()
			}
			for _, d := range docs {
				queue <- d
			}
			close(queue)
			wg.Wait()
		})
	}
}

// docWaits counts the lines of d's runnable blocks that stop or start a
// node or sleep: the documents with the most take the longest.
func docWaits(d *mdDoc) int {
	n := 0
	for _, b := range d.blocks {
		for _, line := range strings.Split(b.text, "\n") {
			if strings.Contains(line, "devnet ctl") || strings.Contains(line, "sleep ") {
				n++
			}
		}
	}
	return n
}

// docsTestName names a document's subtest without slashes, which -run
// would take for levels: docs/en/labs/01-keys.md is labs_01-keys.md.
func docsTestName(path string) string {
	for _, p := range []string{"docs/en/", "docs/zh/"} {
		path = strings.TrimPrefix(path, p)
	}
	return strings.ReplaceAll(path, "/", "_")
}

// docsRig is the folder, devnet and environment one document runs in.
type docsRig struct {
	dir    string // the test's folder: work/, citylab/, home/, the scripts and logs
	work   string // the blocks' working folder, the stand-in for the repository's root
	lab    string // the stand-in for /tmp/citylab
	prefix int    // the port prefix: 1 moves 8700 to 18700
	env    []string
}

// runDocBlocks runs the runnable blocks of d in order against a fresh devnet.
func runDocBlocks(t *testing.T, root, bin, lang string, d *mdDoc, deadline time.Time) {
	began := time.Now()
	r := newDocsRig(t, root, bin, lang)
	// Other tests of the package run alongside and open ports of their
	// own; one may take a port of the range just found free before the
	// devnet binds it. Then the run moves to another range.
	for tries := 1; !startDocsDevnet(t, r, bin); tries++ {
		if tries == 3 {
			t.Fatalf("the devnet found a port of its range taken %d times:\n%s", tries, r.nodeLogTails(5))
		}
		t.Logf("a port of range %d was taken before the devnet bound it; moving to another range", docsBasePort(r.prefix))
		r = newDocsRig(t, root, bin, lang)
	}
	t.Logf("devnet on ports %d-%d up at height %d in %s", docsBasePort(r.prefix), docsBasePort(r.prefix)+3, docsMinHeight, time.Since(began).Round(100*time.Millisecond))
	for i, b := range d.blocks {
		limit := min(docsBlockLimit, time.Until(deadline))
		took, out, err := r.runBlock(i+1, rewriteBlock(b.text, r.prefix, r.lab), limit)
		if err != nil {
			t.Fatalf("%s, runnable block %d of %d (line %d): %v after %s\n"+
				"--- the block (run with 127.0.0.1:87xx/97xx moved to %d87xx/%d97xx and /tmp/citylab to %s):\n%s"+
				"--- what it printed:\n%s\n--- the devnet's logs, last lines:\n%s",
				d.path, i+1, len(d.blocks), b.line, err, took.Round(100*time.Millisecond),
				r.prefix, r.prefix, r.lab, b.text, out, r.nodeLogTails(12))
		}
		t.Logf("block %d (line %d): %s", i+1, b.line, took.Round(100*time.Millisecond))
	}
	t.Logf("%s: %d blocks in %s, devnet included", d.path, len(d.blocks), time.Since(began).Round(100*time.Millisecond))
}

// newDocsRig makes the folders of one document's run and its environment.
func newDocsRig(t *testing.T, root, bin, lang string) *docsRig {
	t.Helper()
	dir := t.TempDir()
	r := &docsRig{dir: dir, work: filepath.Join(dir, "work"), lab: filepath.Join(dir, "citylab")}
	if err := os.MkdirAll(filepath.Join(r.work, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.work, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(bin, filepath.Join(r.work, "bin", "citychain")); err != nil {
		t.Fatal(err)
	}
	r.prefix = docsPortPrefix(t)
	locale := map[string]string{"en": "C.UTF-8", "zh": "zh_CN.UTF-8"}[lang]
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "PATH", "LANG", "LC_ALL", "LC_MESSAGES", "CITYCHAIN_HOME", "CITYCHAIN_NODE":
			continue
		}
		r.env = append(r.env, kv)
	}
	r.env = append(r.env,
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"LANG="+locale,
		// A block that forgets --home must not touch the reader's ~/.citychain.
		"CITYCHAIN_HOME="+filepath.Join(dir, "home"),
		fmt.Sprintf("CITYCHAIN_NODE=http://127.0.0.1:%d", docsBasePort(r.prefix)),
	)
	return r
}

// startDocsDevnet runs `citychain devnet --nodes 4 --dir .devnet` in the
// rig's working folder on its ports, waits until every node answers and
// node0 is at docsMinHeight, and stops it at the end of the test. If a
// node could not bind one of its ports, it stops the devnet at once and
// returns false; any other failure ends the test.
func startDocsDevnet(t *testing.T, r *docsRig, bin string) bool {
	t.Helper()
	log, err := os.Create(filepath.Join(r.dir, "devnet.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(bin, "devnet", "--nodes", "4", "--dir", ".devnet", "--base-port", fmt.Sprint(docsBasePort(r.prefix)))
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = r.work, r.env, log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stop sync.Once
	t.Cleanup(func() { stop.Do(func() { stopDocsDevnet(t, r, cmd) }) })
	portTaken := func() bool {
		if !strings.Contains(r.nodeLogTails(5), "address already in use") {
			return false
		}
		stop.Do(func() { stopDocsDevnet(t, r, cmd) })
		return true
	}
	fail := func(format string, args ...any) {
		t.Helper()
		printed, _ := os.ReadFile(filepath.Join(r.dir, "devnet.log"))
		t.Fatalf(format+"\n--- citychain devnet printed:\n%s\n--- node logs:\n%s", append(args, printed, r.nodeLogTails(20))...)
	}
	deadline := time.Now().Add(60 * time.Second)
	var d *node.Devnet
	for d == nil {
		if b, err := os.ReadFile(filepath.Join(r.work, ".devnet", node.DevnetFile)); err == nil {
			var nd node.Devnet
			if json.Unmarshal(b, &nd) == nil && len(nd.Nodes) == 4 && nd.Nodes[3].PID != 0 {
				d = &nd
			}
		}
		if d == nil && portTaken() {
			return false
		}
		if d == nil && time.Now().After(deadline) {
			fail("the devnet did not write devnet.json within 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i, nd := range d.Nodes {
		cl := client.New(nd.API)
		for want := uint64(0); ; time.Sleep(200 * time.Millisecond) {
			if i == 0 {
				want = docsMinHeight
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := cl.Status(ctx)
			cancel()
			if err == nil && st.Height >= want {
				break
			}
			if portTaken() {
				return false
			}
			if time.Now().After(deadline) {
				fail("%s at %s was not up at height %d within 60 s: %v", nd.Name, nd.API, want, err)
			}
		}
	}
	return true
}

// stopDocsDevnet stops the supervisor by its PID with SIGINT, as Ctrl-C
// does, which stops every node; then it kills, by PID, any node of
// devnet.json still running in the rig's folder (a node started again by
// a block outlives nothing).
func stopDocsDevnet(t *testing.T, r *docsRig, cmd *exec.Cmd) {
	began := time.Now()
	defer func() { t.Logf("devnet stopped in %s", time.Since(began).Round(100*time.Millisecond)) }()
	_ = syscall.Kill(cmd.Process.Pid, syscall.SIGINT)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Errorf("citychain devnet (pid %d) did not stop within 20 s of SIGINT: killed", cmd.Process.Pid)
	}
	b, err := os.ReadFile(filepath.Join(r.work, ".devnet", node.DevnetFile))
	if err != nil {
		return
	}
	var d node.Devnet
	if json.Unmarshal(b, &d) != nil {
		return
	}
	for _, nd := range d.Nodes {
		// The PID is ours only if the process still runs in our folder.
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", nd.PID)); err == nil && cwd == r.work {
			_ = syscall.Kill(nd.PID, syscall.SIGKILL)
			t.Errorf("%s (pid %d) outlived its devnet: killed", nd.Name, nd.PID)
		}
	}
}

// runBlock runs one block in `bash -euo pipefail`, in its own process
// group, within limit. It returns how long the block took, what it
// printed, and why it failed: its exit status, the time limit, or
// processes it left running (they are killed).
func (r *docsRig) runBlock(n int, text string, limit time.Duration) (time.Duration, string, error) {
	script := filepath.Join(r.dir, fmt.Sprintf("block%d.sh", n))
	if err := os.WriteFile(script, []byte(text), 0o644); err != nil {
		return 0, "", err
	}
	outPath := filepath.Join(r.dir, fmt.Sprintf("block%d.out", n))
	out, err := os.Create(outPath)
	if err != nil {
		return 0, "", err
	}
	defer out.Close()
	cmd := exec.Command("bash", "-euo", "pipefail", script)
	// Output goes to a file, not a pipe: a process left in the background
	// cannot hold Wait up.
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = r.work, r.env, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, "", err
	}
	pgid := cmd.Process.Pid
	var timedOut atomic.Bool
	timer := time.AfterFunc(limit, func() {
		timedOut.Store(true)
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
	err = cmd.Wait()
	timer.Stop()
	took := time.Since(start)
	leftover := syscall.Kill(-pgid, 0) == nil
	if leftover {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	printed, _ := os.ReadFile(outPath)
	switch {
	case timedOut.Load():
		err = fmt.Errorf("did not finish within %s", limit.Round(time.Second))
	case err != nil:
		err = fmt.Errorf("bash -euo pipefail: %v", err)
	case leftover:
		err = errors.New("left processes running (a runnable block must finish on its own; they were killed)")
	}
	return took, string(printed), err
}

// nodeLogTails returns the last n lines of each node's log.
func (r *docsRig) nodeLogTails(n int) string {
	var b strings.Builder
	logs, _ := filepath.Glob(filepath.Join(r.work, ".devnet", "node*", "node.log"))
	slices.Sort(logs)
	for _, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		rel, _ := filepath.Rel(r.work, l)
		fmt.Fprintf(&b, "== %s\n%s\n", rel, strings.Join(lines[max(0, len(lines)-n):], "\n"))
	}
	return b.String()
}

// TestDocsBlockRunner checks how a block can fail: its exit status, the
// time limit, and a process left running.
func TestDocsBlockRunner(t *testing.T) {
	dir := t.TempDir()
	r := &docsRig{dir: dir, work: dir, env: os.Environ()}
	for _, tc := range []struct {
		name, block string
		limit       time.Duration
		want        string // in the error; "" for none
		printed     string
	}{
		{"passes", "echo hello\n", 10 * time.Second, "", "hello\n"},
		{"a failing command", "echo before\nfalse\necho after\n", 10 * time.Second, "exit status 1", "before\n"},
		{"a failing command in a pipe", "false | cat\n", 10 * time.Second, "exit status 1", ""},
		{"an unset variable", "echo \"$NOT_SET_ANYWHERE\"\n", 10 * time.Second, "exit status 1", ""},
		{"too slow", "sleep 30\n", 500 * time.Millisecond, "did not finish within", ""},
		{"a process left behind", "sleep 30 &\n", 10 * time.Second, "left processes running", ""},
		{"waits for no typing", "read -r line\n", 10 * time.Second, "exit status 1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			took, printed, err := r.runBlock(1, tc.block, tc.limit)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v\n%s", err, printed)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got error %v, want %q", err, tc.want)
			}
			if tc.printed != "" && printed != tc.printed {
				t.Errorf("printed %q, want %q", printed, tc.printed)
			}
			if took > 5*time.Second {
				t.Errorf("took %s", took)
			}
		})
	}
}
