package netlab

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// netnsDir is where `ip netns add` mounts the namespaces it names.
const netnsDir = "/var/run/netns/"

// namePrefix starts the name of every namespace a Lab makes; the owner's
// PID follows it, so that sweepStale can tell a crashed run's leftovers
// from a running lab's namespaces.
const namePrefix = "cclab-"

// Config configures a Lab.
type Config struct {
	// Hosts is the number of namespaces to make, 1 to 240.
	Hosts int
	// Switch configures the switch between them.
	Switch SwitchConfig
	// Logf receives a line for each step; optional.
	Logf func(format string, args ...any)
}

// Lab is a set of network namespaces ("hosts") joined by a Switch. Make it
// with New and remove it with Close.
type Lab struct {
	// ID is the lab's random id, part of every name it makes.
	ID string
	// Switch joins the hosts: host i is port i.
	Switch *Switch
	// Hosts are the namespaces, in port order.
	Hosts []*Host

	logf func(string, ...any)
}

// Host is one namespace of a Lab, with one interface (eth0) on the lab's
// switch and one IPv4 address in the lab's /24.
type Host struct {
	// Index is the host's switch port.
	Index int
	// NS is the name of its network namespace, as `ip netns` shows it.
	NS string
	// Addr is its IPv4 address on eth0.
	Addr netip.Addr
}

// Interface is the name of each host's interface on the lab network.
const Interface = "eth0"

// Check reports, wrapped in ErrUnavailable, why a Lab cannot be made
// here, or nil if one can. It makes and removes one namespace to be sure.
func Check() error {
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("%w: no ip binary (install iproute2)", ErrUnavailable)
	}
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("%w: %v (TAP devices need it, and root)", ErrUnavailable, err)
	}
	f.Close()
	name := fmt.Sprintf("%s%d-check-%s", namePrefix, os.Getpid(), randomID())
	if err := ip("netns", "add", name); err != nil {
		return fmt.Errorf("%w: %v (run as root, or with CAP_NET_ADMIN and CAP_SYS_ADMIN)", ErrUnavailable, err)
	}
	if err := ip("netns", "del", name); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// New makes cfg.Hosts namespaces, each with a TAP device eth0 attached to
// a new switch, an address 10.213.S.(10+i)/24 (S drawn at random for the
// lab, only to tell labs apart in logs) and loopback up. On error it
// removes whatever it made. Namespaces left by labs whose process has
// died are removed first.
func New(cfg Config) (*Lab, error) {
	if cfg.Hosts < 1 || cfg.Hosts > 240 {
		return nil, fmt.Errorf("netlab: %d hosts, want 1 to 240", cfg.Hosts)
	}
	l := &Lab{ID: randomID(), Switch: NewSwitch(cfg.Switch), logf: cfg.Logf}
	if l.logf == nil {
		l.logf = func(string, ...any) {}
	}
	sweepStale(l.logf)
	id, _ := hex.DecodeString(l.ID)
	subnet := 1 + int(id[0])%254
	for i := 0; i < cfg.Hosts; i++ {
		h := &Host{Index: i, NS: fmt.Sprintf("%s%d-%s-%d", namePrefix, os.Getpid(), l.ID, i),
			Addr: netip.AddrFrom4([4]byte{10, 213, byte(subnet), byte(10 + i)})}
		if err := l.add(h); err != nil {
			l.Close()
			return nil, fmt.Errorf("netlab host %d: %w", i, err)
		}
	}
	l.logf("netlab %s: %d hosts on 10.213.%d.0/24", l.ID, cfg.Hosts, subnet)
	return l, nil
}

// add makes h's namespace and interface and attaches it to the switch.
func (l *Lab) add(h *Host) error {
	if err := ip("netns", "add", h.NS); err != nil {
		return err
	}
	l.Hosts = append(l.Hosts, h) // from now on Close removes it
	var tap *tapPort
	err := h.Do(func() error {
		var err error
		tap, err = openTap(Interface)
		return err
	})
	if err != nil {
		return err
	}
	if _, err := l.Switch.Attach(tap); err != nil {
		tap.Close()
		return err
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", h.Addr.String() + "/24", "dev", Interface},
		{"link", "set", Interface, "up"},
	} {
		if err := ip(append([]string{"-n", h.NS}, args...)...); err != nil {
			return err
		}
	}
	return nil
}

// Host returns the host with address a, or nil.
func (l *Lab) Host(a netip.Addr) *Host {
	for _, h := range l.Hosts {
		if h.Addr == a {
			return h
		}
	}
	return nil
}

// Close kills every process still running in the lab's namespaces (by
// PID, with SIGKILL), removes the namespaces, and closes the switch and
// with it the TAP devices. It returns the first error and carries on past
// it. Later calls do nothing but return nil.
func (l *Lab) Close() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, h := range l.Hosts {
		for _, pid := range h.PIDs() {
			l.logf("netlab %s: killing leftover process %d in %s", l.ID, pid, h.NS)
			keep(syscall.Kill(pid, syscall.SIGKILL))
		}
		keep(ip("netns", "del", h.NS))
	}
	l.Hosts = nil
	keep(l.Switch.Close())
	return first
}

// Command returns a command that runs name with args inside the host's
// namespace (through `ip netns exec`, which execs it: the command's PID is
// the program's).
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// PIDs returns the processes running in the host's namespace.
func (h *Host) PIDs() []int {
	out, err := exec.Command("ip", "netns", "pids", h.NS).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// sweepStale removes namespaces left by labs whose process is gone (a
// test binary killed by its timeout runs no cleanup).
func sweepStale(logf func(string, ...any)) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], namePrefix) {
			continue
		}
		name := fields[0]
		owner, _, _ := strings.Cut(strings.TrimPrefix(name, namePrefix), "-")
		pid, err := strconv.Atoi(owner)
		if err != nil || pid <= 0 || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue // not a lab's, or its owner still runs
		}
		h := &Host{NS: name}
		for _, p := range h.PIDs() {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		if ip("netns", "del", name) == nil {
			logf("netlab: removed %s, left by process %d", name, pid)
		}
	}
}

// ip runs the ip binary and returns its error output as the error.
func ip(args ...string) error {
	cmd := exec.Command("ip", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("ip %s: %w", strings.Join(args, " "), err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return nil
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("ip %s: no answer within 10 s", strings.Join(args, " "))
	}
}

// randomID returns 6 random hex digits.
func randomID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
