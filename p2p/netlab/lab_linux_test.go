package netlab

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newTestLab makes a lab of n hosts removed at the end of the test, or
// skips the test where namespaces cannot be made.
func newTestLab(t *testing.T, n int, p Profile) *Lab {
	t.Helper()
	if err := Check(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	l, err := New(Config{Hosts: n, Switch: SwitchConfig{Seed: 1, Default: p}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close lab: %v", err)
		}
	})
	return l
}

// echo serves one TCP echo listener inside h until the test ends.
func echo(t *testing.T, h *Host) string {
	t.Helper()
	ln, err := h.Listen("tcp", h.Addr.String()+":7000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() { // ends when the listener is closed
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }() // ends when the peer closes
		}
	}()
	return ln.Addr().String()
}

// TestLabTCPThroughSwitch connects two hosts over a link with 20 ms of
// one-way delay: the handshake takes at least one round trip, a megabyte
// crosses intact (checksums and frame sizes right), and a partition stops
// new connections until it heals.
func TestLabTCPThroughSwitch(t *testing.T) {
	const delay = 20 * time.Millisecond
	l := newTestLab(t, 3, Profile{Delay: delay})
	addr := echo(t, l.Hosts[1])

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := l.Hosts[0].DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// ARP asks and is answered, then SYN and SYN-ACK: two round trips.
	if took := time.Since(start); took < 2*delay || took > 2*time.Second {
		t.Fatalf("connect took %s, want at least %s", took, 2*delay)
	}

	data := make([]byte, 1<<20)
	_, _ = rand.Read(data)
	go func() { _, _ = c.Write(data) }() // ends when written or c is closed
	back := make([]byte, len(data))
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, back); err != nil {
		t.Fatalf("echo of 1 MiB: %v (switch stats %+v)", err, l.Switch.Stats())
	}
	if !bytes.Equal(data, back) {
		t.Fatal("1 MiB came back changed")
	}

	l.Switch.Partition([]int{0}, []int{1, 2})
	ctx2, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	if c2, err := l.Hosts[0].DialContext(ctx2, "tcp", addr); err == nil {
		c2.Close()
		t.Fatal("connected across a partition")
	}
	if c3, err := l.Hosts[2].DialContext(context.Background(), "tcp", addr); err != nil {
		t.Fatalf("same side of the partition: %v", err)
	} else {
		c3.Close()
	}
	l.Switch.Heal()
	ctx4, cancel4 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel4()
	c4, err := l.Hosts[0].DialContext(ctx4, "tcp", addr)
	if err != nil {
		t.Fatalf("after heal: %v", err)
	}
	c4.Close()
}

// TestLabMulticast sends to the mDNS group from one host: the others hear
// it, and hear nothing while the switch blocks multicast.
func TestLabMulticast(t *testing.T) {
	l := newTestLab(t, 3, Profile{})
	group := &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}
	var conns []*net.UDPConn
	for _, h := range l.Hosts[1:] {
		err := h.Do(func() error {
			ifi, err := net.InterfaceByName(Interface)
			if err != nil {
				return err
			}
			c, err := net.ListenMulticastUDP("udp4", ifi, group)
			if err != nil {
				return err
			}
			conns = append(conns, c)
			t.Cleanup(func() { c.Close() })
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var send *net.UDPConn
	err := l.Hosts[0].Do(func() error {
		ifi, err := net.InterfaceByName(Interface)
		if err != nil {
			return err
		}
		send, err = net.ListenUDP("udp4", &net.UDPAddr{IP: l.Hosts[0].Addr.AsSlice()})
		if err != nil {
			return err
		}
		raw, err := send.SyscallConn()
		if err != nil {
			return err
		}
		var serr error
		err = raw.Control(func(fd uintptr) {
			serr = unix.SetsockoptIPMreqn(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_IF, &unix.IPMreqn{Ifindex: int32(ifi.Index)})
		})
		if err == nil {
			err = serr
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()

	hear := func(c *net.UDPConn, msg string) bool {
		buf := make([]byte, 1500)
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return false
			}
			if string(buf[:n]) == msg {
				return true
			}
		}
	}
	if _, err := send.WriteToUDP([]byte("hello"), group); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		if !hear(c, "hello") {
			t.Fatalf("host %d did not hear the multicast", i+1)
		}
	}
	l.Switch.BlockMulticast(true)
	if _, err := send.WriteToUDP([]byte("blocked"), group); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		if hear(c, "blocked") {
			t.Fatalf("host %d heard multicast through a switch that blocks it", i+1)
		}
	}
}

// TestLabCloseRemovesEverything starts a process in a host and leaves it
// running: Close kills it and removes every namespace.
func TestLabCloseRemovesEverything(t *testing.T) {
	if err := Check(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	l, err := New(Config{Hosts: 2})
	if err != nil {
		t.Fatal(err)
	}
	cmd := l.Hosts[1].Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		l.Close()
		t.Fatal(err)
	}
	names := []string{l.Hosts[0].NS, l.Hosts[1].NS}
	// ip netns exec enters the namespace a moment after it starts.
	pids := l.Hosts[1].PIDs()
	for deadline := time.Now().Add(5 * time.Second); len(pids) == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		pids = l.Hosts[1].PIDs()
	}
	if len(pids) != 1 || pids[0] != cmd.Process.Pid {
		l.Close()
		t.Fatalf("PIDs in %s: %v, want [%d]", names[1], pids, cmd.Process.Pid)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("sleep 60 ended cleanly: Close did not kill it")
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the process left in the lab still runs after Close")
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.Contains(string(out), n) {
			t.Fatalf("namespace %s still exists after Close:\n%s", n, out)
		}
	}
}
