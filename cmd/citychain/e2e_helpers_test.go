package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
)

// The end-to-end tests run the real citychain binary as separate
// processes, the way a user does.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// citychainBin builds the binary once per test run.
func citychainBin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "citychain-e2e-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "citychain")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort(t testing.TB) int {
	t.Helper()
	// A dev node listens for libp2p on port+1000 too.
	return freeBasePort(t, 1)
}

// proc is a citychain process started by a test.
type proc struct {
	cmd *exec.Cmd
	out *bytes.Buffer
	mu  *sync.Mutex
}

type lockedBuffer struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// startDev starts `citychain dev` and waits until its API answers.
func startDev(t testing.TB, home string, port int) *proc {
	t.Helper()
	return startProc(t, port, "dev", "--home", home, "--base-port", fmt.Sprint(port), "--empty-every", "1s")
}

// startProc starts a citychain command that serves the API on port, and
// waits until the API answers. The test's cleanup kills it.
func startProc(t testing.TB, port int, args ...string) *proc {
	t.Helper()
	return startProcEnv(t, port, nil, args...)
}

// startProcEnv is startProc with extra environment variables (NAME=value).
func startProcEnv(t testing.TB, port int, env []string, args ...string) *proc {
	t.Helper()
	return startBin(t, citychainBin(t), port, env, args...)
}

// startBin is startProcEnv with another citychain binary, such as one
// built from a changed copy of the tree.
func startBin(t testing.TB, bin string, port int, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{out: &bytes.Buffer{}, mu: &sync.Mutex{}}
	p.cmd = exec.Command(bin, args...)
	if len(env) > 0 {
		p.cmd.Env = append(os.Environ(), env...)
	}
	w := lockedBuffer{p.mu, p.out}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	cl := client.New(fmt.Sprintf("http://127.0.0.1:%d", port))
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := cl.Status(ctx)
		cancel()
		if err == nil {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("node did not answer within 20 s: %v\n%s", err, p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// kill sends SIGKILL to the process, by its PID, and reaps it.
func (p *proc) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// stop sends SIGINT, as Ctrl-C does, and waits for a clean exit.
func (p *proc) stop(t testing.TB) {
	t.Helper()
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("node exited with %v\n%s", err, p.output())
		}
	case <-time.After(15 * time.Second):
		p.kill()
		t.Errorf("node did not stop within 15 s of SIGINT")
	}
}

// run runs a citychain client command and returns its standard output.
func run(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(citychainBin(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("citychain %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// devnetProc is a `citychain devnet` supervisor started by a test.
type devnetProc struct {
	proc
	dir   string
	net   *node.Devnet
	nodes []*client.Client
}

// startDevnet runs `citychain devnet --nodes n` in a new folder on free
// ports and waits until every node answers. The supervisor is stopped
// with SIGINT at the end of the test, which stops every node.
func startDevnet(t testing.TB, n int) *devnetProc {
	t.Helper()
	return startDevnetIn(t, t.TempDir(), freeBasePort(t, n), n)
}

// startDevnetIn is startDevnet in dir on ports from base: a dir that
// node.PrepareDevnet already filled (with a genesis file the test
// changed, say) is resumed as it is.
func startDevnetIn(t testing.TB, dir string, base, n int) *devnetProc {
	t.Helper()
	d := &devnetProc{proc: proc{out: &bytes.Buffer{}, mu: &sync.Mutex{}}, dir: dir}
	d.cmd = exec.Command(citychainBin(t), "devnet", "--nodes", fmt.Sprint(n), "--dir", dir, "--base-port", fmt.Sprint(base))
	w := lockedBuffer{d.mu, d.out}
	d.cmd.Stdout, d.cmd.Stderr = w, w
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			_ = d.cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = d.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				d.kill()
			}
		}
		// Nodes restarted by the test are stopped by their own cleanups;
		// any node the supervisor started is gone with it.
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, node.DevnetFile)); err == nil {
			var nd node.Devnet
			if json.Unmarshal(b, &nd) == nil && len(nd.Nodes) == n && nd.Nodes[n-1].PID != 0 {
				d.net = &nd
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("devnet.json did not appear:\n%s", d.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, nd := range d.net.Nodes {
		d.nodes = append(d.nodes, client.New(nd.API))
	}
	for i := range d.nodes {
		d.waitAPI(t, i, 30*time.Second)
	}
	return d
}

// freeBasePort finds a base port with n free API ports and n free
// libp2p ports (base+1000+i), all below the system's ephemeral range:
// a port found free there can be taken, before the node binds it, by any
// outgoing connection of the tests running alongside.
func freeBasePort(t testing.TB, n int) int {
	t.Helper()
	lo, hi := portsBelowEphemeral(n)
	for try := 0; try < 50; try++ {
		base := lo + rand.Intn(hi-lo)
		ok := true
		for i := 0; i < n && ok; i++ {
			for _, p := range []int{base + i, base + 1000 + i} {
				if docsPort(p) {
					ok = false
					break
				}
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					ok = false
					break
				}
				l.Close()
				u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					ok = false
					break
				}
				u.Close()
			}
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

// portsBelowEphemeral returns the bases [lo, hi) from which n API ports
// and their libp2p ports (base+1000+i) stay under the first port of the
// ephemeral range in /proc/sys/net/ipv4/ip_local_port_range (32768 where
// it cannot be read), and above the ports that services and the docs'
// default devnet (8700) use.
func portsBelowEphemeral(n int) (lo, hi int) {
	first := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil {
				first = v
			}
		}
	}
	lo, hi = 10000, first-1000-n
	if hi-lo < 2000 {
		return 20000, 40000 // a narrow or odd range: the old spread
	}
	return lo, hi
}

func (d *devnetProc) waitAPI(t testing.TB, i int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := d.nodes[i].Status(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node%d did not answer: %v\n%s", i, err, d.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// height returns node i's height, or 0 if it does not answer.
func (d *devnetProc) height(i int) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := d.nodes[i].Status(ctx)
	if err != nil {
		return 0
	}
	return s.Height
}

// waitHeight waits until every listed node reached at least h.
func (d *devnetProc) waitHeight(t testing.TB, h uint64, limit time.Duration, nodes ...int) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		low := uint64(1<<63 - 1)
		for _, i := range nodes {
			low = min(low, d.height(i))
		}
		if low >= h {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes %v did not reach height %d within %s (lowest %d)", nodes, h, limit, low)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// killNode sends SIGKILL to node i by its PID.
func (d *devnetProc) killNode(t testing.TB, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
}

// startNode starts `citychain node --home` for a node of the devnet (after
// a kill); the test's cleanup stops it.
func (d *devnetProc) startNode(t testing.TB, i int) *proc {
	t.Helper()
	p := &proc{out: &bytes.Buffer{}, mu: &sync.Mutex{}}
	p.cmd = exec.Command(citychainBin(t), "node", "--home", d.net.Nodes[i].Home)
	w := lockedBuffer{p.mu, p.out}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	d.waitAPI(t, i, 30*time.Second)
	return p
}

// checkSameChain compares every node's block hash and state root at every
// height up to the lowest common height, and returns that height.
func (d *devnetProc) checkSameChain(t testing.TB, nodes ...int) uint64 {
	t.Helper()
	ctx := context.Background()
	low := uint64(1<<63 - 1)
	for _, i := range nodes {
		low = min(low, d.height(i))
	}
	for h := uint64(1); h <= low; h++ {
		var first *node.BlockView
		for _, i := range nodes {
			b, err := d.nodes[i].Block(ctx, fmt.Sprint(h))
			if err != nil {
				t.Fatalf("node%d block %d: %v", i, h, err)
			}
			if first == nil {
				first = b
				continue
			}
			if b.Hash != first.Hash || b.StateRoot != first.StateRoot {
				t.Fatalf("FORK at height %d: node%d has %s/%s, node%d has %s/%s",
					h, nodes[0], first.Hash, first.StateRoot, i, b.Hash, b.StateRoot)
			}
		}
	}
	return low
}

// The ports a test's nodes get lie under the ephemeral range, where no
// outgoing connection takes them between the check and the bind.
func TestFreeBasePortStaysBelowTheEphemeralRange(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Skipf("no ephemeral range to read: %v", err)
	}
	var first, last int
	if _, err := fmt.Sscan(string(b), &first, &last); err != nil {
		t.Fatalf("ip_local_port_range %q: %v", b, err)
	}
	if first-1000-4 < 12000 {
		t.Skipf("ephemeral range starts at %d: too low to stay under", first)
	}
	for range 20 {
		base := freeBasePort(t, 4)
		if base < 10000 || base+1000+3 >= first {
			t.Fatalf("base port %d: its ports %d..%d and %d..%d are not all in [10000, %d)", base, base, base+3, base+1000, base+1003, first)
		}
	}
}
