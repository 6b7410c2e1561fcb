package node

import (
	"net"
	"net/netip"
	"sync"

	"golang.org/x/net/netutil"
)

// The API's listener takes two bounds on connections. A client address
// (a /64 for IPv6) holds at most api.client_connections at once: one
// more is closed as soon as it is accepted, before it costs a goroutine
// or a slot. All clients together hold at most api.max_connections: the
// listener accepts no more until one closes, and the rest wait in the
// system's accept queue. So one client that opens a thousand connections
// and sends nothing keeps client_connections of them for
// api.read_header_timeout each, and the others are served meanwhile.

// listener bounds the connections of ln.
func (g *apiGuard) listener(ln net.Listener) net.Listener {
	per := &clientConnLimit{Listener: ln, max: g.cfg.ClientConnections, loopback: g.cfg.LimitLoopback,
		open: map[netip.Addr]int{}, refused: func() { g.refused.WithLabelValues("client_connections").Inc() }}
	return netutil.LimitListener(per, g.cfg.MaxConnections)
}

// clientConnLimit is a listener that closes a client's connections beyond
// max open at once.
type clientConnLimit struct {
	net.Listener
	max      int
	loopback bool // limit loopback clients too
	refused  func()

	mu   sync.Mutex
	open map[netip.Addr]int // open connections by client address; no zero counts
}

// Accept returns the next connection of a client under its bound.
func (l *clientConnLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr, ok := clientAddr(c.RemoteAddr().String())
		if !ok || (addr.IsLoopback() && !l.loopback) {
			return c, nil
		}
		l.mu.Lock()
		full := l.open[addr] >= l.max
		if !full {
			l.open[addr]++
		}
		l.mu.Unlock()
		if full {
			l.refused()
			c.Close()
			continue
		}
		return &clientConn{Conn: c, release: func() { l.release(addr) }}, nil
	}
}

func (l *clientConnLimit) release(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr]--; l.open[addr] <= 0 {
		delete(l.open, addr)
	}
}

// clientConn gives back its client's place once, when it is closed.
type clientConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *clientConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// warnIfExposed logs a warning when the API listens on addr beyond
// loopback, where other machines reach it.
func (n *Node) warnIfExposed(addr net.Addr) {
	if !listensBeyondLoopback(addr) {
		return
	}
	n.log.Warn("the API listens beyond this machine: whoever reaches it can read the chain, submit transactions and open the explorer; see docs/security.md",
		"api", addr.String(), "pprof", n.cfg.API.Pprof, "cors_origins", n.cfg.API.CORSOrigins,
		"client_rate", n.cfg.API.ClientRate, "client_connections", n.cfg.API.ClientConnections,
		"max_connections", n.cfg.API.MaxConnections)
}

// listensBeyondLoopback reports whether addr can be reached from other
// machines: any address but a loopback one.
func listensBeyondLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return !ok || !tcp.IP.IsLoopback()
}
