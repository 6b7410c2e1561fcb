package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/citychain/citychain/node"
)

// ctl runs `citychain devnet ctl ARGS --dir DIR` and returns its output
// and whether it succeeded.
func (d *devnetProc) ctl(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(citychainBin(t), append([]string{"devnet", "ctl", "--dir", d.dir}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err == nil
}

func (d *devnetProc) ctlStatus(t *testing.T) node.DevnetView {
	t.Helper()
	out, ok := d.ctl(t, "status", "--output", "json")
	if !ok {
		t.Fatalf("ctl status: %s", out)
	}
	var v node.DevnetView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("ctl status --output json: %v\n%s", err, out)
	}
	return v
}

// waitView polls ctl status until ok says the view is the one wanted.
func (d *devnetProc) waitView(t *testing.T, what string, limit time.Duration, ok func(node.DevnetView) bool) node.DevnetView {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		v := d.ctlStatus(t)
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			out, _ := d.ctl(t, "status")
			t.Fatalf("within %s, no %s:\n%s", limit, what, out)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func state(v node.DevnetView, name string) node.DevnetNodeView {
	for _, n := range v.Nodes {
		if n.Name == name {
			return n
		}
	}
	return node.DevnetNodeView{}
}

// TestDevnetCtl drives a running devnet from the command line: status
// shows 4 nodes fully linked; pause freezes a process (SIGSTOP) and
// resume wakes it; cut isolates node2, whose height stays while the
// others go on, and heal brings it back level; stop kills node3 and start
// runs a new process for it. Wrong actions, unknown nodes and a folder
// without a running supervisor are refused with an explanation.
func TestDevnetCtl(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	d := startDevnet(t, 4)
	v := d.waitView(t, "4 running nodes and 6 links", 20*time.Second, func(v node.DevnetView) bool {
		return len(v.Nodes) == 4 && len(v.Links) == 6 && state(v, "node3").State == "running"
	})
	if v.ChainID != node.DevnetChainID {
		t.Errorf("chain id %q", v.ChainID)
	}
	var st node.StatusView
	getJSONTest(t, d.net.Nodes[2].API+"/v1/status", &st)
	if !st.Devnet {
		t.Errorf("node2's status does not say devnet: true")
	}
	if b, err := os.Stat(filepath.Join(d.dir, node.ControlTokenFile)); err != nil || b.Mode().Perm() != 0o600 {
		t.Errorf("control token file: %v, mode %v; want mode 0600", err, b.Mode().Perm())
	}

	// Pause: the process is stopped by the kernel ("T" in /proc).
	pid := state(v, "node1").PID
	if out, ok := d.ctl(t, "pause", "node1"); !ok || !strings.Contains(out, "paused") {
		t.Fatalf("pause: %s", out)
	}
	if st := procState(t, pid); st != "T" {
		t.Errorf("node1 (pid %d) is in state %q after pause, want T", pid, st)
	}
	if out, ok := d.ctl(t, "pause", "node1"); ok || !strings.Contains(out, "paused already") {
		t.Errorf("a second pause: %s", out)
	}
	if out, ok := d.ctl(t, "resume", "1"); !ok {
		t.Fatalf("resume: %s", out)
	}
	if st := procState(t, pid); st == "T" {
		t.Errorf("node1 still stopped after resume")
	}

	// Cut node2 off: no links, its height stays while the others go on.
	if out, ok := d.ctl(t, "cut", "node2"); !ok || !strings.Contains(out, "cut off") {
		t.Fatalf("cut: %s", out)
	}
	v = d.waitView(t, "node2 cut off without links", 20*time.Second, func(v node.DevnetView) bool {
		return state(v, "node2").State == "cut" && len(state(v, "node2").Peers) == 0 && len(v.Links) == 3
	})
	cutAt := d.height(2)
	for i := 0; d.height(0) < cutAt+2; i++ {
		if i > 100 {
			t.Fatal("the other three did not go on while node2 was cut off")
		}
		transfer(t, d.nodes[0], 0, 1, true)
	}
	if h := d.height(2); h != cutAt {
		t.Errorf("node2 moved from %d to %d while cut off", cutAt, h)
	}
	if out, ok := d.ctl(t, "heal", "node2"); !ok {
		t.Fatalf("heal: %s", out)
	}
	top := d.height(0)
	d.waitHeight(t, top, 30*time.Second, 2)
	d.waitView(t, "node2 linked again", 30*time.Second, func(v node.DevnetView) bool {
		return state(v, "node2").State == "running" && len(v.Links) == 6
	})

	// Stop is SIGKILL; start runs a new process that catches up.
	old := state(d.ctlStatus(t), "node3").PID
	if out, ok := d.ctl(t, "stop", "node3"); !ok || !strings.Contains(out, "SIGKILL") {
		t.Fatalf("stop: %s", out)
	}
	if err := syscall.Kill(old, 0); err == nil {
		t.Errorf("node3's process %d still exists after stop", old)
	}
	if s := state(d.ctlStatus(t), "node3"); s.State != "stopped" || s.PID != 0 {
		t.Errorf("node3 after stop: %+v", s)
	}
	transfer(t, d.nodes[0], 0, 1, true) // three of four still commit
	if out, ok := d.ctl(t, "start", "node3"); !ok {
		t.Fatalf("start: %s", out)
	}
	v = d.waitView(t, "node3 running again", 30*time.Second, func(v node.DevnetView) bool {
		return state(v, "node3").State == "running" && state(v, "node3").Reachable
	})
	if p := state(v, "node3").PID; p == old || p == 0 {
		t.Errorf("node3 runs as pid %d after start, before it was %d", p, old)
	}
	d.waitHeight(t, d.height(0), 30*time.Second, 3)
	d.checkSameChain(t, 0, 1, 2, 3)

	// Restart: a clean stop (SIGTERM) and a new process.
	old = state(d.ctlStatus(t), "node0").PID
	if out, ok := d.ctl(t, "restart", "node0"); !ok || !strings.Contains(out, "restarted") {
		t.Fatalf("restart: %s", out)
	}
	v = d.waitView(t, "node0 back after restart", 30*time.Second, func(v node.DevnetView) bool {
		return state(v, "node0").State == "running" && state(v, "node0").Reachable && state(v, "node0").PID != old
	})
	d.waitHeight(t, d.height(1), 30*time.Second, 0)

	// The supervisor obeys its token only.
	var dn node.Devnet
	b, err := os.ReadFile(filepath.Join(d.dir, node.DevnetFile))
	if err != nil || json.Unmarshal(b, &dn) != nil || dn.Control == "" {
		t.Fatalf("devnet.json names no control address: %v %s", err, b)
	}
	for _, tok := range []string{"", "Bearer wrong"} {
		req, _ := http.NewRequest(http.MethodPost, dn.Control+"/v1/devnet/nodes/node1/stop", nil)
		if tok != "" {
			req.Header.Set("Authorization", tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("supervisor with authorization %q: %s, want 401", tok, resp.Status)
		}
	}
	if s := state(d.ctlStatus(t), "node1"); s.State != "running" {
		t.Errorf("node1 is %s after refused stops", s.State)
	}

	// Refusals, each with a reason.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"start", "node0"}, "running already"},
		{[]string{"resume", "node0"}, "not paused"},
		{[]string{"stop", "node9"}, `no node "node9"`},
		{[]string{"explode", "node0"}, "unknown action"},
		{[]string{"stop"}, "needs a node"},
	} {
		if out, ok := d.ctl(t, c.args...); ok || !strings.Contains(out, c.want) {
			t.Errorf("ctl %s: ok=%v %q, want a refusal with %q", strings.Join(c.args, " "), ok, out, c.want)
		}
	}
	// A second supervisor for the same folder is refused.
	second := exec.Command(citychainBin(t), "devnet", "--nodes", "4", "--dir", d.dir)
	if out, err := second.CombinedOutput(); err == nil || !strings.Contains(string(out), "another `citychain devnet` runs") {
		t.Errorf("a second devnet on the same folder: err=%v %s", err, out)
	}

	other := t.TempDir()
	cmd := exec.Command(citychainBin(t), "devnet", "ctl", "--dir", other, "status")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "no devnet in") {
		t.Errorf("ctl on a folder without a devnet: err=%v %s", err, out)
	}
}

// procState is the one-letter state of a process in /proc/PID/stat.
func procState(t *testing.T, pid int) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			t.Fatalf("read /proc/%d/stat: %v", pid, err)
		}
		// pid (comm) S ...: the state follows the last ')'.
		s := string(b)
		st := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
		if st != "R" || time.Now().After(deadline) {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDevnetStopsEveryNode stops a devnet with one node paused: Ctrl-C
// (SIGINT to the supervisor) ends every node process, paused or not, and
// the controls are gone with the supervisor.
func TestDevnetStopsEveryNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	d := startDevnet(t, 4)
	v := d.waitView(t, "4 running nodes", 20*time.Second, func(v node.DevnetView) bool {
		for _, n := range v.Nodes {
			if n.State != "running" {
				return false
			}
		}
		return len(v.Nodes) == 4
	})
	if out, ok := d.ctl(t, "pause", "node2"); !ok {
		t.Fatalf("pause: %s", out)
	}
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }() // ends when the supervisor does
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the supervisor exited with %v:\n%s", err, d.output())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the supervisor did not exit within 30 s of SIGINT:\n%s", d.output())
	}
	for _, n := range v.Nodes {
		if err := syscall.Kill(n.PID, 0); err == nil {
			t.Errorf("%s (pid %d) still runs after the devnet stopped", n.Name, n.PID)
		}
	}
	if _, err := os.Stat(filepath.Join(d.dir, node.ControlTokenFile)); err == nil {
		t.Errorf("%s is left behind", node.ControlTokenFile)
	}
	if out, ok := d.ctl(t, "status"); ok || !strings.Contains(out, "not running under `citychain devnet`") {
		t.Errorf("ctl after the devnet stopped: %s", out)
	}
}

// TestDevnetNodesEndWithAKilledSupervisor kills the supervisor with
// SIGKILL, so it cannot stop its nodes: the kernel sends each one SIGTERM
// (the parent-death signal), and a new `citychain devnet` on the same
// folder resumes the chain.
func TestDevnetNodesEndWithAKilledSupervisor(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	d := startDevnet(t, 4)
	v := d.waitView(t, "4 running nodes", 20*time.Second, func(v node.DevnetView) bool {
		return len(v.Nodes) == 4 && state(v, "node3").State == "running"
	})
	transfer(t, d.nodes[0], 0, 1, true)
	top := d.height(0)
	d.kill()
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range v.Nodes {
		for syscall.Kill(n.PID, 0) == nil {
			if time.Now().After(deadline) {
				t.Fatalf("%s (pid %d) still runs 20 s after its supervisor was killed", n.Name, n.PID)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	again := exec.Command(citychainBin(t), "devnet", "--nodes", "4", "--dir", d.dir)
	var out bytes.Buffer
	again.Stdout, again.Stderr = &out, &out
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = again.Process.Signal(os.Interrupt)
		_ = again.Wait()
	}()
	for i := range d.nodes {
		d.waitAPI(t, i, 30*time.Second)
	}
	transfer(t, d.nodes[1], 1, 1, true)
	if h := d.height(1); h <= top {
		t.Errorf("the resumed devnet is at height %d, before it was %d\n%s", h, top, out.String())
	}
}
