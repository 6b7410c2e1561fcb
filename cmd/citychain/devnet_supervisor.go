package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/citychain/citychain/node"
)

// supervisor runs the node processes of a devnet and carries out the
// classroom controls: stop (SIGKILL), pause (SIGSTOP), resume (SIGCONT),
// start, restart, and cut or heal one node's links. It serves them on
// 127.0.0.1 to holders of its token (see node.DevnetControl).
type supervisor struct {
	dir   string
	exe   string
	out   io.Writer
	token string
	url   string
	httpc *http.Client

	mu      sync.Mutex // guards members, their flags, and net
	net     *node.Devnet
	members []*member
	closing bool

	srv  *http.Server
	lock *os.File // flock on DIR/supervisor.lock
}

// member is one node process: the current one, or the last one if it
// has ended.
type member struct {
	cmd    *exec.Cmd
	done   chan struct{}
	err    error  // from Wait, once done is closed
	paused bool   // stopped by SIGSTOP
	asked  string // the action that ended the process; "" if it died by itself
	busy   string // a control under way on this node (stop, restart), "" if none
}

func (m *member) running() bool {
	if m == nil || m.cmd == nil {
		return false
	}
	select {
	case <-m.done:
		return false
	default:
		return true
	}
}

func newSupervisor(dir, exe string, d *node.Devnet, out io.Writer) (*supervisor, error) {
	lock, err := lockDevnet(dir)
	if err != nil {
		return nil, err
	}
	if err := refuseOrphans(d); err != nil {
		lock.Close()
		return nil, err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		lock.Close()
		return nil, err
	}
	s := &supervisor{dir: dir, exe: exe, out: out, token: hex.EncodeToString(b[:]), net: d, lock: lock,
		members: make([]*member, len(d.Nodes)), httpc: &http.Client{Timeout: 5 * time.Second}}
	// A fresh file, so that it is 0600 even if an old one was not.
	tokenFile := filepath.Join(dir, node.ControlTokenFile)
	_ = os.Remove(tokenFile)
	if err := os.WriteFile(tokenFile, []byte(s.token+"\n"), 0o600); err != nil {
		lock.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		lock.Close()
		return nil, err
	}
	s.url = "http://" + ln.Addr().String()
	s.net.Control = s.url
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/devnet", s.handleStatus)
	mux.HandleFunc("POST /v1/devnet/nodes/{name}/{action}", s.handleAction)
	s.srv = &http.Server{Handler: s.auth(mux), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }() // exits when the server is closed
	return s, nil
}

// lockDevnet takes an exclusive lock on DIR/supervisor.lock for the life
// of this process: two supervisors would start every node twice.
func lockDevnet(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "supervisor.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another `citychain devnet` runs for %s; stop it with Ctrl-C first, or drive it with `citychain devnet ctl --dir %s`", dir, dir)
	}
	return f, nil
}

// refuseOrphans fails if a node of an earlier run still runs (its
// supervisor was killed): a second copy could not open its store.
func refuseOrphans(d *node.Devnet) error {
	for _, nd := range d.Nodes {
		if nd.PID <= 0 {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", fmt.Sprint(nd.PID), "cmdline"))
		if err != nil {
			continue // gone
		}
		if strings.Contains(string(cmdline), "node\x00--home\x00"+nd.Home) {
			return fmt.Errorf("%s of an earlier run still runs as pid %d (its supervisor was killed); stop it first: kill %d", nd.Name, nd.PID, nd.PID)
		}
	}
	return nil
}

func (s *supervisor) auth(h http.Handler) http.Handler {
	ctl := &node.DevnetControl{Token: s.token}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ctl.Authorized(r) {
			node.WriteError(w, http.StatusUnauthorized, "unauthorized", "the devnet supervisor obeys holders of "+filepath.Join(s.dir, node.ControlTokenFile)+" only")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// startAll starts every node.
func (s *supervisor) startAll() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.net.Nodes {
		if err := s.start(i); err != nil {
			return err
		}
	}
	return nil
}

// start runs node i as a new process. The caller holds mu.
func (s *supervisor) start(i int) error {
	nd := &s.net.Nodes[i]
	logf, err := os.OpenFile(filepath.Join(nd.Home, "node.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	m := &member{done: make(chan struct{})}
	m.cmd = exec.Command(s.exe, "node", "--home", nd.Home)
	m.cmd.Stdout, m.cmd.Stderr = logf, logf
	m.cmd.Env = append(os.Environ(), node.EnvDevnetControl+"="+s.url, node.EnvDevnetToken+"="+s.token)
	// Own process group: Ctrl-C in the terminal reaches the supervisor
	// only, which stops each node itself. If the supervisor dies without
	// doing so (kill -9), the kernel sends each node SIGTERM.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := m.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", nd.Name, err)
	}
	nd.PID = m.cmd.Process.Pid
	s.members[i] = m
	go func() { // exits when the process does
		m.err = m.cmd.Wait()
		logf.Close()
		close(m.done)
		s.reportExit(i, m)
	}()
	return s.net.Save(s.dir)
}

// reportExit notes in devnet.json that node i no longer runs, and says
// why on the terminal.
func (s *supervisor) reportExit(i int, m *member) {
	s.mu.Lock()
	asked, closing, name := m.asked, s.closing, s.net.Nodes[i].Name
	if s.members[i] == m {
		s.net.Nodes[i].PID = 0
		_ = s.net.Save(s.dir)
	}
	s.mu.Unlock()
	if closing {
		return
	}
	why := exitText(m.err)
	if asked != "" {
		why = "by request (" + asked + ")"
	}
	fmt.Fprintf(s.out, "%s  %s (pid %d) exited %s\n", time.Now().Format("15:04:05"), name, m.cmd.Process.Pid, why)
}

// stopAll stops every node: SIGINT, then SIGKILL for any still running
// after 10 s. Paused nodes are resumed so that they can stop cleanly. No
// control is taken once it has begun.
func (s *supervisor) stopAll() {
	s.mu.Lock()
	s.closing = true
	ms := append([]*member(nil), s.members...)
	paused := make([]bool, len(ms))
	for i, m := range ms {
		paused[i] = m != nil && m.paused
	}
	s.mu.Unlock()
	for i, m := range ms {
		if m.running() {
			_ = m.cmd.Process.Signal(syscall.SIGINT)
			if paused[i] {
				_ = m.cmd.Process.Signal(syscall.SIGCONT)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, m := range ms {
		if m == nil || m.cmd == nil {
			continue
		}
		select {
		case <-m.done:
		case <-ctx.Done():
			_ = m.cmd.Process.Kill()
			<-m.done
		}
	}
}

// close stops serving controls and removes the token, so that ctl and
// the explorer say that no supervisor runs.
func (s *supervisor) close() {
	_ = s.srv.Close()
	_ = os.Remove(filepath.Join(s.dir, node.ControlTokenFile))
	s.mu.Lock()
	s.net.Control = ""
	_ = s.net.Save(s.dir)
	s.mu.Unlock()
	_ = s.lock.Close() // releases the flock
}

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
func (s *supervisor) act(ctx context.Context, name, action string) (string, string, error) {
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
	return name, "", &ctlError{http.StatusBadRequest, "bad_request", fmt.Sprintf("unknown action %q; want one of %s", action, strings.Join(node.DevnetActions, ", "))}
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
func (s *supervisor) setLinks(ctx context.Context, i int, cut bool) error {
	body, _ := json.Marshal(node.LinksRequest{Cut: cut})
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
func (s *supervisor) index(name string) int {
	for i, nd := range s.net.Nodes {
		if nd.Name == name || fmt.Sprint(i) == name {
			return i
		}
	}
	return -1
}

// ---- status ---------------------------------------------------------------

// devnetView is the answer of GET /v1/devnet: each node and the links
// between them, as the explorer's network view draws them.
type devnetView struct {
	ChainID string           `json:"chain_id"`
	Dir     string           `json:"dir"`
	Nodes   []devnetNodeView `json:"nodes"`
	// Links are the open libp2p connections between devnet nodes, each
	// pair once, by node name.
	Links   [][2]string `json:"links"`
	Actions []string    `json:"actions"`
}

// devnetNodeView is one node. State is running, paused, cut (running but
// isolated), stopped (by a control) or exited (by itself).
type devnetNodeView struct {
	Name      string   `json:"name"`
	State     string   `json:"state"`
	PID       int      `json:"pid"`
	API       string   `json:"api"`
	PeerID    string   `json:"peer_id"`
	Validator string   `json:"validator"`
	Height    uint64   `json:"height"`
	Syncing   bool     `json:"syncing"`
	Peers     []string `json:"peers"`       // devnet nodes it is connected to
	Others    int      `json:"other_peers"` // connected peers outside the devnet
	Reachable bool     `json:"reachable"`   // its API answered just now
	Exit      string   `json:"exit,omitempty"`
}

func (s *supervisor) view(ctx context.Context) devnetView {
	s.mu.Lock()
	abs, _ := filepath.Abs(s.dir)
	v := devnetView{ChainID: s.net.ChainID, Dir: abs, Links: [][2]string{}, Actions: node.DevnetActions}
	byID := map[string]string{}
	for i, nd := range s.net.Nodes {
		m := s.members[i]
		nv := devnetNodeView{Name: nd.Name, API: nd.API, Validator: nd.Validator, PeerID: peerIDOf(nd.P2P), Peers: []string{}}
		switch {
		case m.running() && m.paused:
			nv.State, nv.PID = "paused", m.cmd.Process.Pid
		case m.running():
			nv.State, nv.PID = "running", m.cmd.Process.Pid
		case m != nil && m.asked != "":
			nv.State, nv.Exit = "stopped", m.asked
		default:
			nv.State = "exited"
			if m != nil {
				nv.Exit = exitText(m.err)
			}
		}
		byID[nv.PeerID] = nd.Name
		v.Nodes = append(v.Nodes, nv)
	}
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, 800*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for i := range v.Nodes {
		if v.Nodes[i].State != "running" {
			continue
		}
		wg.Add(1)
		go func(nv *devnetNodeView) { // ends with ctx
			defer wg.Done()
			s.probe(ctx, nv, byID)
		}(&v.Nodes[i])
	}
	wg.Wait()
	seen := map[[2]string]bool{}
	for _, nv := range v.Nodes {
		for _, p := range nv.Peers {
			pair := [2]string{nv.Name, p}
			if p < nv.Name {
				pair = [2]string{p, nv.Name}
			}
			if !seen[pair] {
				seen[pair] = true
				v.Links = append(v.Links, pair)
			}
		}
	}
	return v
}

// probe asks a running node for its height and peers.
func (s *supervisor) probe(ctx context.Context, nv *devnetNodeView, byID map[string]string) {
	var st struct {
		Height  uint64 `json:"height"`
		Syncing bool   `json:"syncing"`
	}
	var ps struct {
		Peers    []struct{ ID string } `json:"peers"`
		Isolated bool                  `json:"isolated"`
	}
	if getJSON(ctx, s.httpc, nv.API+"/v1/status", &st) != nil || getJSON(ctx, s.httpc, nv.API+"/v1/peers", &ps) != nil {
		return
	}
	nv.Reachable, nv.Height, nv.Syncing = true, st.Height, st.Syncing
	if ps.Isolated {
		nv.State = "cut"
	}
	for _, p := range ps.Peers {
		if name, ok := byID[p.ID]; ok {
			nv.Peers = append(nv.Peers, name)
		} else {
			nv.Others++
		}
	}
}

func getJSON(ctx context.Context, c *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

// peerIDOf takes the peer ID from a multiaddress ending in /p2p/ID.
func peerIDOf(addr string) string {
	if i := strings.LastIndex(addr, "/p2p/"); i >= 0 {
		return addr[i+len("/p2p/"):]
	}
	return ""
}

// ---- HTTP -------------------------------------------------------------------

func (s *supervisor) handleStatus(w http.ResponseWriter, r *http.Request) {
	node.WriteJSON(w, http.StatusOK, s.view(r.Context()))
}

// actionResult is the answer to a control.
type actionResult struct {
	Node    string `json:"node"`
	Action  string `json:"action"`
	Message string `json:"message"`
}

func (s *supervisor) handleAction(w http.ResponseWriter, r *http.Request) {
	name, action := r.PathValue("name"), r.PathValue("action")
	canonical, msg, err := s.act(r.Context(), name, action)
	if err != nil {
		var ce *ctlError
		if errors.As(err, &ce) {
			node.WriteError(w, ce.status, ce.code, ce.msg)
		} else {
			node.WriteError(w, http.StatusInternalServerError, "internal", err.Error())
		}
		return
	}
	fmt.Fprintf(s.out, "%s  %s\n", time.Now().Format("15:04:05"), msg)
	node.WriteJSON(w, http.StatusOK, actionResult{Node: canonical, Action: action, Message: msg})
}
