package node

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// fakeDevnet makes a devnet description of n nodes whose "binary" is a
// shell script that sleeps, so the Supervisor's process handling can be
// tested (with -race) without real nodes. Their APIs never answer.
func fakeDevnet(t *testing.T, n int) (*Supervisor, *Devnet) {
	t.Helper()
	dir := t.TempDir()
	exe := filepath.Join(dir, "fake-node")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := &Devnet{ChainID: "fake"}
	for i := 0; i < n; i++ {
		home := filepath.Join(dir, "node"+string(rune('0'+i)))
		if err := os.MkdirAll(home, 0o700); err != nil {
			t.Fatal(err)
		}
		d.Nodes = append(d.Nodes, DevnetNode{Name: "node" + string(rune('0'+i)), Home: home, API: "http://127.0.0.1:1"})
	}
	s, err := NewSupervisor(SupervisorConfig{Dir: dir, Exe: exe, Devnet: d, Out: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.StopAll()
		s.Close()
	})
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	return s, d
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (s *Supervisor) stateOf(t *testing.T, name string) DevnetNodeView {
	t.Helper()
	for _, n := range s.view(context.Background()).Nodes {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no %s in the view", name)
	return DevnetNodeView{}
}

func TestSupervisorControlsProcesses(t *testing.T) {
	s, d := fakeDevnet(t, 3)
	ctx := context.Background()
	pid := s.stateOf(t, "node1").PID
	if pid == 0 || d.Nodes[1].PID != pid {
		t.Fatalf("node1 pid %d, devnet.json says %d", pid, d.Nodes[1].PID)
	}

	steps := []struct {
		action, node, state string
		refused             bool
	}{
		{"pause", "node1", "paused", false},
		{"pause", "1", "paused", true}, // already paused
		{"cut", "node1", "paused", true},
		{"resume", "node1", "running", false},
		{"resume", "node1", "running", true},
		{"stop", "node1", "stopped", false},
		{"stop", "node1", "stopped", true},
		{"pause", "node1", "stopped", true},
		{"start", "node1", "running", false},
		{"restart", "node2", "running", false},
		{"explode", "node2", "running", true},
	}
	for _, st := range steps {
		_, _, err := s.act(ctx, st.node, st.action)
		if (err != nil) != st.refused {
			t.Fatalf("%s %s: err = %v, refused want %v", st.action, st.node, err, st.refused)
		}
		name := st.node
		if !strings.HasPrefix(name, "node") {
			name = "node" + name
		}
		if got := s.stateOf(t, name).State; got != st.state {
			t.Fatalf("after %s %s: %s is %s, want %s", st.action, st.node, name, got, st.state)
		}
	}
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("node1's first process %d still exists after stop", pid)
	}
	if _, _, err := s.act(ctx, "node9", "stop"); err == nil || !strings.Contains(err.Error(), "node0, node1, node2") {
		t.Errorf("an unknown node: %v", err)
	}
}

// Controls from several clients at once, and the status read meanwhile,
// leave every node in a state the view can name, and StopAll ends every
// process, paused or not.
func TestSupervisorUnderConcurrentControls(t *testing.T) {
	s, _ := fakeDevnet(t, 3)
	ctx := context.Background()
	var wg sync.WaitGroup
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func(c int) { // ends after its 20 controls
			defer wg.Done()
			actions := []string{"pause", "resume", "stop", "start", "restart"}
			for i := 0; i < 20; i++ {
				_, _, _ = s.act(ctx, "node"+string(rune('0'+(c+i)%3)), actions[(c*7+i)%len(actions)])
				_ = s.view(ctx)
			}
		}(c)
	}
	wg.Wait()
	var pids []int
	for _, n := range s.view(ctx).Nodes {
		switch n.State {
		case "running", "paused", "stopped":
		default:
			t.Errorf("%s is %q after the controls", n.Name, n.State)
		}
		if n.PID != 0 {
			pids = append(pids, n.PID)
		}
	}
	if _, _, err := s.act(ctx, "node0", "pause"); err != nil && !strings.Contains(err.Error(), "paused already") && !strings.Contains(err.Error(), "stopped") {
		t.Fatal(err)
	}
	s.StopAll()
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("pid %d still runs after StopAll", pid)
		}
	}
	if _, _, err := s.act(ctx, "node0", "start"); err == nil || !strings.Contains(err.Error(), "stopping") {
		t.Errorf("a control after StopAll: %v", err)
	}
}

// The supervisor's endpoint obeys its token only, and a second
// supervisor cannot take the same folder.
func TestSupervisorEndpointAndLock(t *testing.T) {
	s, d := fakeDevnet(t, 1)
	for _, c := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer nope", http.StatusUnauthorized}, {"Bearer " + s.token, http.StatusOK}} {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/v1/devnet", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("authorization %q: %s, want %d", c.auth, resp.Status, c.want)
		}
	}
	info, err := os.Stat(filepath.Join(s.dir, ControlTokenFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("token file: %v %v", err, info)
	}
	if _, err := NewSupervisor(SupervisorConfig{Dir: s.dir, Exe: s.exe, Devnet: d, Out: testWriter{t}}); err == nil || !strings.Contains(err.Error(), "another") {
		t.Errorf("a second supervisor on the same folder: %v", err)
	}
}

// StopAll returns only once every node's exit is in devnet.json, so that
// nothing writes to the devnet's folder after it (a test's temporary
// folder is removed right then, and `citychain devnet` saves the file a
// last time as it closes).
func TestSupervisorStopAllReturnsAfterTheExitsAreSaved(t *testing.T) {
	for round := range 5 {
		s, _ := fakeDevnet(t, 3)
		s.StopAll()
		b, err := os.ReadFile(filepath.Join(s.dir, DevnetFile))
		if err != nil {
			t.Fatal(err)
		}
		var d Devnet
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("round %d: devnet.json: %v", round, err)
		}
		for _, nd := range d.Nodes {
			if nd.PID != 0 {
				t.Fatalf("round %d: %s still has pid %d in devnet.json after StopAll", round, nd.Name, nd.PID)
			}
		}
	}
}
