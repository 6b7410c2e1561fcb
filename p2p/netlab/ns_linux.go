package netlab

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Do runs fn on an operating system thread that has entered the host's
// network namespace, and returns fn's error. Sockets fn creates belong to
// the namespace for their whole life, whichever thread uses them later.
// The thread goes back to its own namespace afterwards; if it cannot, it
// is left locked and exits with its goroutine, so no other goroutine ever
// runs in the wrong namespace.
func (h *Host) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- h.do(fn)
	}()
	return <-errc
}

// do is Do on the current, locked thread; it unlocks it when it is back
// in its own namespace.
func (h *Host) do(fn func() error) error {
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open own namespace: %w", err)
	}
	defer unix.Close(self)
	target, err := unix.Open(netnsDir+h.NS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open namespace %s: %w", h.NS, err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter namespace %s: %w", h.NS, err)
	}
	ferr := fn()
	if unix.Setns(self, unix.CLONE_NEWNET) == nil {
		runtime.UnlockOSThread()
	}
	return ferr
}

// DialContext dials address from inside the host's namespace, as a
// program running there would.
func (h *Host) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var c net.Conn
	err := h.Do(func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, address)
		return err
	})
	return c, err
}

// Listen listens on address inside the host's namespace.
func (h *Host) Listen(network, address string) (net.Listener, error) {
	var l net.Listener
	err := h.Do(func() error {
		var err error
		l, err = net.Listen(network, address)
		return err
	})
	return l, err
}

// HTTPClient returns an HTTP client for the lab's hosts: a request to a
// host's address is dialled from inside that host's namespace, so it
// reaches a server listening there without crossing the switch (the
// switch's delay, loss and partitions are for traffic between hosts, not
// for the test watching them). Other addresses are refused with
// ErrNotInLab. timeout bounds each request.
func (l *Lab) HTTPClient(timeout time.Duration) *http.Client {
	hosts := map[netip.Addr]*Host{}
	for _, h := range l.Hosts {
		hosts[h.Addr] = h
	}
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || hosts[ap.Addr()] == nil {
			return nil, fmt.Errorf("%w: %s", ErrNotInLab, address)
		}
		return hosts[ap.Addr()].DialContext(ctx, network, address)
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: dial, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second,
	}}
}
