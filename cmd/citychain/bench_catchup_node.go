package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
)

// catchupNode is the new full node of a catch-up run: its home, made by
// the node binary's own `init`, and its `node` process.
type catchupNode struct {
	bin     string
	home    string
	tmp     bool // home is a temporary folder of this run
	keep    bool // keep the home even so (something went wrong)
	api     string
	cl      *client.Client
	cmd     *exec.Cmd
	logFile *os.File
	started time.Time
	exited  chan error // gets Wait's result once the process has ended
}

// catchupProgress is when the new node got where, and the CPU time it
// had used when it caught up (zero where /proc cannot tell).
type catchupProgress struct {
	apiUp, firstBlock, caughtUp time.Duration // since the process started
	cpu                         time.Duration
}

// newCatchupNode makes the new node's home with the devnet's genesis and
// every devnet node as a bootstrap peer, on free ports of 127.0.0.1.
func newCatchupNode(ctx context.Context, d *node.Devnet, o *catchupOptions) (*catchupNode, error) {
	nn := &catchupNode{bin: o.nodeBinary, home: o.home}
	if nn.home == "" {
		dir, err := os.MkdirTemp("", "citychain-catchup-")
		if err != nil {
			return nil, err
		}
		nn.home, nn.tmp = dir, true
	}
	genesis := filepath.Join(d.Nodes[0].Home, node.GenesisFile)
	if homes := node.DevnetHomes(o.devnet); len(homes) > 0 {
		genesis = filepath.Join(homes[0], node.GenesisFile) // devnet.json may hold paths relative to elsewhere
	}
	var boot []string
	for _, n := range d.Nodes {
		boot = append(boot, n.P2P)
	}
	port, err := freeNodePort()
	if err != nil {
		nn.close(io.Discard)
		return nil, err
	}
	nn.api = fmt.Sprintf("http://127.0.0.1:%d", port)
	nn.cl = client.New(nn.api)
	out, err := exec.CommandContext(ctx, nn.bin, "init", "--home", nn.home, "--moniker", "catchup",
		"--base-port", fmt.Sprint(port), "--genesis", genesis, "--bootstrap", strings.Join(boot, ",")).CombinedOutput()
	if err != nil {
		nn.close(io.Discard)
		return nil, fmt.Errorf("%s init: %w\n%s", nn.bin, err, out)
	}
	return nn, nil
}

// freeNodePort finds a port P on 127.0.0.1 with TCP P free for the API
// and TCP and UDP P+1000 free for libp2p, as `citychain init` lays them out.
func freeNodePort() (int, error) {
	for range 100 {
		p := 20000 + rand.IntN(30000)
		if portFree("tcp", p) && portFree("tcp", p+1000) && portFree("udp", p+1000) {
			return p, nil
		}
	}
	return 0, errors.New("found no free ports on 127.0.0.1 for the new node")
}

func portFree(network string, port int) bool {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if network == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// start starts `node --home` and the clock of the run. The process's
// output goes to node.log in its home.
func (nn *catchupNode) start() error {
	f, err := os.Create(filepath.Join(nn.home, "node.log"))
	if err != nil {
		return err
	}
	nn.logFile = f
	nn.cmd = exec.Command(nn.bin, "node", "--home", nn.home)
	nn.cmd.Stdout, nn.cmd.Stderr = f, f
	nn.started = time.Now()
	if err := nn.cmd.Start(); err != nil {
		return fmt.Errorf("start %s node: %w", nn.bin, err)
	}
	nn.exited = make(chan error, 1)
	go func() { nn.exited <- nn.cmd.Wait() }() // exits when the process does; close makes sure it does
	return nil
}

func (nn *catchupNode) pid() int { return nn.cmd.Process.Pid }

// waitHeight reads the node's height every catchupPoll until it reaches
// target, and returns when it answered first, stored its first block and
// reached target. It fails if the process ends, ctx ends or limit passes.
func (nn *catchupNode) waitHeight(ctx context.Context, log io.Writer, target uint64, limit time.Duration, progress bool) (catchupProgress, error) {
	var p catchupProgress
	tick := time.NewTicker(catchupPoll)
	defer tick.Stop()
	deadline := nn.started.Add(limit)
	var height uint64
	var shown time.Time
	for {
		c, cancel := context.WithTimeout(ctx, time.Second)
		st, err := nn.cl.Status(c)
		cancel()
		since := time.Since(nn.started)
		if err == nil {
			if p.apiUp == 0 {
				p.apiUp = since
			}
			if st.Height > 0 && p.firstBlock == 0 {
				p.firstBlock = since
			}
			height = st.Height
			if height >= target {
				p.caughtUp = since
				p.cpu = processCPU(nn.pid())
				if progress {
					clearLine(log)
				}
				return p, nil
			}
		}
		if progress && time.Since(shown) >= benchProgressEvery {
			shown = time.Now()
			fmt.Fprintf(log, "\rcatching up: height %d of %d, %.1f s ", height, target, since.Seconds())
		}
		select {
		case <-ctx.Done():
			return p, fmt.Errorf("interrupted at height %d of %d: %w", height, target, ctx.Err())
		case err := <-nn.exited:
			nn.exited <- err // for close
			nn.keep = true
			return p, fmt.Errorf("the new node exited (%v) at height %d of %d; its log ends:\n%s", err, height, target, nn.logTail())
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			nn.keep = true
			return p, fmt.Errorf("the new node reached only height %d of %d within %s; its log ends:\n%s", height, target, limit, nn.logTail())
		}
	}
}

// close stops the process by its PID, SIGINT first as Ctrl-C does and
// SIGKILL if it has not ended within 15 s, and removes a temporary home
// unless it is to be kept.
func (nn *catchupNode) close(log io.Writer) {
	if nn.cmd != nil && nn.cmd.Process != nil {
		_ = syscall.Kill(nn.pid(), syscall.SIGINT)
		select {
		case <-nn.exited:
		case <-time.After(15 * time.Second):
			fmt.Fprintf(log, "the new node (pid %d) did not stop within 15 s of SIGINT; killing it\n", nn.pid())
			_ = syscall.Kill(nn.pid(), syscall.SIGKILL)
			<-nn.exited
		}
	}
	if nn.logFile != nil {
		nn.logFile.Close()
	}
	switch {
	case nn.tmp && !nn.keep:
		_ = os.RemoveAll(nn.home)
	case nn.keep:
		fmt.Fprintf(log, "the new node's home and node.log are kept in %s\n", nn.home)
	}
}

// processCPU returns the user and system CPU time process pid has used,
// from /proc/PID/stat (Linux), or zero if that cannot be read.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// After "pid (comm) ", the fields from the third on: utime and stime
	// are the 14th and 15th, in clock ticks of 1/100 s.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	user, err1 := strconv.ParseUint(f[11], 10, 64)
	sys, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(user+sys) * 10 * time.Millisecond
}

// logTail returns the last lines of the node's log.
func (nn *catchupNode) logTail() string {
	b, err := os.ReadFile(filepath.Join(nn.home, "node.log"))
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}
