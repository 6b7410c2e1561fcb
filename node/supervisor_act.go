package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
)

// The classroom controls a Supervisor carries out on one node.

// ctlError is a refused control, with its HTTP status.
type ctlError struct {
	status int
	code   string
	msg    string
}

func (e *ctlError) Error() string { return e.msg }

func conflict(format string, args ...any) error {
	return &ctlError{http.StatusConflict, "conflict", fmt.Sprintf(format, args...)}
}

// act carries out one control on the named node and says what it did.
// mu is not held while it waits for a process to end, so that the
// status stays readable; the node is marked busy meanwhile.
func (s *Supervisor) act(ctx context.Context, name, action string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return name, "", conflict("the devnet is stopping")
	}
	i := s.index(name)
	if i < 0 {
		var names []string
		for _, nd := range s.net.Nodes {
			names = append(names, nd.Name)
		}
		return name, "", &ctlError{http.StatusNotFound, "not_found", fmt.Sprintf("no node %q in this devnet; it has %s", name, strings.Join(names, ", "))}
	}
	name = s.net.Nodes[i].Name
	m := s.members[i]
	if m != nil && m.busy != "" {
		return name, "", conflict("%s is busy with %s; try again in a moment", name, m.busy)
	}
	pid := 0
	if m.running() {
		pid = m.cmd.Process.Pid
	}
	// wait ends m's process with sig, then SIGKILL after grace (if any),
	// and releases mu meanwhile.
	wait := func(sig syscall.Signal, grace time.Duration) error {
		m.busy = action
		s.mu.Unlock()
		err := endProcess(m, sig, grace)
		s.mu.Lock()
		m.busy = ""
		m.paused = false
		return err
	}
	switch action {
	case "stop":
		if !m.running() {
			return name, "", conflict("%s is already stopped; start it with: start %s", name, name)
		}
		m.asked = "stop, SIGKILL"
		if err := wait(syscall.SIGKILL, 0); err != nil {
			return name, "", err
		}
		return name, fmt.Sprintf("%s stopped: SIGKILL to pid %d, as if the machine lost power", name, pid), nil
	case "pause":
		if !m.running() {
			return name, "", conflict("%s is stopped, not running; there is nothing to pause", name)
		}
		if m.paused {
			return name, "", conflict("%s is paused already; resume it with: resume %s", name, name)
		}
		if err := m.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			return name, "", err
		}
		m.paused = true
		return name, fmt.Sprintf("%s paused: SIGSTOP to pid %d; it holds its connections but answers nothing", name, pid), nil
	case "resume":
		if !m.running() || !m.paused {
			return name, "", conflict("%s is not paused", name)
		}
		if err := m.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			return name, "", err
		}
		m.paused = false
		return name, fmt.Sprintf("%s resumed: SIGCONT to pid %d", name, pid), nil
	case "start":
		if m.running() {
			return name, "", conflict("%s is running already (pid %d)", name, pid)
		}
		if err := s.start(i); err != nil {
			return name, "", err
		}
		return name, fmt.Sprintf("%s started as pid %d; it catches up by block sync", name, s.net.Nodes[i].PID), nil
	case "restart":
		if m.running() {
			m.asked = "restart"
			if m.paused {
				_ = m.cmd.Process.Signal(syscall.SIGCONT)
			}
			if err := wait(syscall.SIGTERM, 10*time.Second); err != nil {
				return name, "", err
			}
			if s.closing {
				return name, "", conflict("the devnet is stopping")
			}
		}
		if err := s.start(i); err != nil {
			return name, "", err
		}
		return name, fmt.Sprintf("%s restarted as pid %d", name, s.net.Nodes[i].PID), nil
	case "cut", "heal":
		if !m.running() {
			return name, "", conflict("%s is stopped; start it first", name)
		}
		if m.paused {
			return name, "", conflict("%s is paused and cannot take the order; resume it first", name)
		}
		if err := s.setLinks(ctx, i, action == "cut"); err != nil {
			return name, "", err
		}
		if action == "cut" {
			return name, fmt.Sprintf("%s cut off: it closed every link and refuses new ones, but keeps running", name), nil
		}
		return name, fmt.Sprintf("%s healed: it takes connections again and catches up", name), nil
	}
	return name, "", &ctlError{http.StatusBadRequest, "bad_request", fmt.Sprintf("unknown action %q; want one of %s", action, strings.Join(DevnetActions, ", "))}
}

// actAll carries out one control on every node in turn, in order: "stop
// all" then "start all" restarts a whole devnet at once, as a power cut
// would. It stops at the first node that refuses and says which.
func (s *Supervisor) actAll(ctx context.Context, action string) (string, string, error) {
	s.mu.Lock()
	n := len(s.net.Nodes)
	s.mu.Unlock()
	var done []string
	for i := 0; i < n; i++ {
		_, msg, err := s.act(ctx, fmt.Sprint(i), action)
		if err != nil {
			if len(done) > 0 {
				return "all", "", fmt.Errorf("%w (done before it: %s)", err, strings.Join(done, "; "))
			}
			return "all", "", err
		}
		done = append(done, msg)
	}
	return "all", strings.Join(done, "; "), nil
}

// split partitions the devnet in two: the nodes named in list (comma
// separated names or numbers) on one side, the rest on the other. Each
// running node refuses links to the other side's nodes, keeping its own
// side's; "heal all" (or heal on each node) ends it.
func (s *Supervisor) split(ctx context.Context, list string) (string, string, error) {
	s.mu.Lock()
	side := make([]bool, len(s.net.Nodes))
	var left, right []string
	for _, name := range strings.Split(list, ",") {
		i := s.index(strings.TrimSpace(name))
		if i < 0 {
			s.mu.Unlock()
			return list, "", &ctlError{http.StatusNotFound, "not_found", fmt.Sprintf("split: no node %q in this devnet", name)}
		}
		side[i] = true
	}
	ids := make([]string, len(s.net.Nodes))
	for i, nd := range s.net.Nodes {
		if side[i] {
			left = append(left, nd.Name)
		} else {
			right = append(right, nd.Name)
		}
		_, id, ok := strings.Cut(nd.P2P, "/p2p/")
		if !ok {
			s.mu.Unlock()
			return list, "", fmt.Errorf("split: %s has no peer ID in its address %q", nd.Name, nd.P2P)
		}
		ids[i] = id
	}
	if len(left) == 0 || len(right) == 0 {
		s.mu.Unlock()
		return list, "", &ctlError{http.StatusBadRequest, "bad_request", "split: name the nodes of one side, leaving at least one node on the other: split node0,node1"}
	}
	var run []int
	for i, m := range s.members {
		if m.running() && !m.paused {
			run = append(run, i)
		}
	}
	s.mu.Unlock()
	for _, i := range run {
		var other []string
		for j := range ids {
			if side[j] != side[i] {
				other = append(other, ids[j])
			}
		}
		if err := s.setLinksTo(ctx, i, LinksRequest{Cut: true, Peers: other}); err != nil {
			return list, "", err
		}
	}
	l, r := strings.Join(left, ","), strings.Join(right, ",")
	return l + "|" + r, fmt.Sprintf("devnet split: %s | %s; end it with: heal all", l, r), nil
}

// endProcess signals m's process and waits for it to end; with a grace
// period it sends SIGKILL once that runs out. Signals go through
// os.Process, which never reaches another process that reused the PID.
func endProcess(m *member, sig syscall.Signal, grace time.Duration) error {
	if err := m.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	if grace > 0 {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-m.done:
			return nil
		case <-t.C:
			_ = m.cmd.Process.Kill()
		}
	}
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-m.done:
		return nil
	case <-t.C:
		return fmt.Errorf("pid %d did not end within 10 s of %s", m.cmd.Process.Pid, sig)
	}
}

// setLinks asks node i to cut or heal its links.
func (s *Supervisor) setLinks(ctx context.Context, i int, cut bool) error {
	return s.setLinksTo(ctx, i, LinksRequest{Cut: cut})
}

// setLinksTo sends node i a links order.
func (s *Supervisor) setLinksTo(ctx context.Context, i int, lr LinksRequest) error {
	body, _ := json.Marshal(lr)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.net.Nodes[i].API+"/v1/devnet/links", strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.httpc.Do(req)
	if err != nil {
		return &ctlError{http.StatusBadGateway, "node_unreachable", fmt.Sprintf("%s does not answer at %s: %v", s.net.Nodes[i].Name, s.net.Nodes[i].API, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return &ctlError{http.StatusBadGateway, "node_refused", fmt.Sprintf("%s refused: %s %s", s.net.Nodes[i].Name, resp.Status, strings.TrimSpace(string(b)))}
	}
	return nil
}

// index finds a node by name ("node2") or number ("2"); -1 if none.
func (s *Supervisor) index(name string) int {
	for i, nd := range s.net.Nodes {
		if nd.Name == name || fmt.Sprint(i) == name {
			return i
		}
	}
	return -1
}
