package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
)

// Supervisor runs the node processes of a devnet and carries out the
// classroom controls: stop (SIGKILL), pause (SIGSTOP), resume (SIGCONT),
// start, restart, and cut or heal one node's links. It serves them on
// 127.0.0.1 to holders of its token (see DevnetControl).
type Supervisor struct {
	dir   string
	exe   string
	out   io.Writer
	token string
	url   string
	httpc *http.Client

	mu      sync.Mutex // guards members, their flags, and net
	net     *Devnet
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

// SupervisorConfig is what a Supervisor needs: the devnet's folder and
// description, the citychain binary to run as each node, and where to
// report what happens.
type SupervisorConfig struct {
	Dir    string
	Exe    string
	Devnet *Devnet
	Out    io.Writer
}

// NewSupervisor locks the devnet's folder for this process, writes a new
// control token and starts serving the controls on 127.0.0.1. It fails if
// another supervisor holds the folder or a node of an earlier run still
// runs. StartAll starts the nodes; Close ends it all but the nodes, which
// StopAll stops.
func NewSupervisor(cfg SupervisorConfig) (*Supervisor, error) {
	dir, exe, d, out := cfg.Dir, cfg.Exe, cfg.Devnet, cfg.Out
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
	s := &Supervisor{dir: dir, exe: exe, out: out, token: hex.EncodeToString(b[:]), net: d, lock: lock,
		members: make([]*member, len(d.Nodes)), httpc: &http.Client{Timeout: 5 * time.Second}}
	// A fresh file, so that it is 0600 even if an old one was not.
	tokenFile := filepath.Join(dir, ControlTokenFile)
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
func refuseOrphans(d *Devnet) error {
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

func (s *Supervisor) auth(h http.Handler) http.Handler {
	ctl := &DevnetControl{Token: s.token}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ctl.Authorized(r) {
			WriteError(w, http.StatusUnauthorized, "unauthorized", "the devnet supervisor obeys holders of "+filepath.Join(s.dir, ControlTokenFile)+" only")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// StartAll starts every node.
func (s *Supervisor) StartAll() error {
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
func (s *Supervisor) start(i int) error {
	nd := &s.net.Nodes[i]
	logf, err := os.OpenFile(filepath.Join(nd.Home, "node.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	m := &member{done: make(chan struct{})}
	m.cmd = exec.Command(s.exe, "node", "--home", nd.Home)
	m.cmd.Stdout, m.cmd.Stderr = logf, logf
	m.cmd.Env = append(os.Environ(), EnvDevnetControl+"="+s.url, EnvDevnetToken+"="+s.token)
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
		// Report first: whoever waits on done (StopAll, a control) then
		// finds devnet.json written, and nothing writes to the folder
		// after StopAll returns.
		s.reportExit(i, m)
		close(m.done)
	}()
	return s.net.Save(s.dir)
}

// reportExit notes in devnet.json that node i no longer runs, and says
// why on the terminal.
func (s *Supervisor) reportExit(i int, m *member) {
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

// StopAll stops every node: SIGINT, then SIGKILL for any still running
// after 10 s. Paused nodes are resumed so that they can stop cleanly. No
// control is taken once it has begun.
func (s *Supervisor) StopAll() {
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

// Close stops serving controls and removes the token, so that ctl and
// the explorer say that no supervisor runs.
func (s *Supervisor) Close() {
	_ = s.srv.Close()
	_ = os.Remove(filepath.Join(s.dir, ControlTokenFile))
	s.mu.Lock()
	s.net.Control = ""
	_ = s.net.Save(s.dir)
	s.mu.Unlock()
	_ = s.lock.Close() // releases the flock
}

// exitText says how a process ended, from its Wait error.
func exitText(err error) string {
	if err == nil {
		return "clean exit"
	}
	return err.Error()
}
