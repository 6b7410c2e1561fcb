package node

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/cors"
	"golang.org/x/time/rate"
)

// An API left listening on a network meets clients that open a thousand
// connections, send their headers a byte a minute, or ask a hundred
// times a second. Each bound below refuses one of them without slowing
// the node's own work (consensus and block production never wait for the
// API), and answers a request it refuses with the API's error body, so
// an honest client knows why:
//
//	connections   api.client_connections per client address, closed at
//	              once beyond; api.max_connections in all, beyond which
//	              the listener accepts no more (netutil.LimitListener)
//	              and the rest wait in the system's accept queue; idle
//	              ones are closed after api.read_header_timeout or
//	              api.idle_timeout (apilisten.go)
//	slow clients  api.read_header_timeout, api.read_timeout (headers and
//	              body), api.write_timeout (the answer)
//	one client    api.client_rate and api.client_burst, a token bucket
//	              per remote address (per /64 for IPv6): 429 with
//	              Retry-After
//	all clients   api.max_in_flight requests handled at once: 503 at
//	              once rather than a queue that grows without end
//	event streams api.max_event_streams open /v1/events: 503
//	web pages     no CORS unless api.cors_origins names origins
//
// Loopback clients (127.0.0.0/8, ::1) skip the per-client bounds (rate
// and connections) unless api.limit_loopback is set: devnets, `citychain
// bench` and the tests submit thousands of transactions a second from
// this machine, and whoever is on it can stop the node anyway. The other
// bounds hold for every client.

// clientLimiterSize bounds the token buckets kept, one per recent client
// address. The least recently seen goes first; a client whose bucket is
// dropped starts again with a full one, which costs it nothing it would
// not get by waiting.
const clientLimiterSize = 8192

// apiGuard holds the API's bounds and counts what they refuse.
type apiGuard struct {
	cfg      APIConfig
	inFlight chan struct{} // a slot per request being handled
	streams  atomic.Int64  // open /v1/events streams
	clients  *lru.Cache[netip.Addr, *rate.Limiter]
	refused  *prometheus.CounterVec
	now      func() time.Time
}

// newAPIGuard returns the guard of the settings cfg; refused counts the
// requests it refuses, by reason.
func newAPIGuard(cfg APIConfig, refused *prometheus.CounterVec) *apiGuard {
	g := &apiGuard{cfg: cfg, inFlight: make(chan struct{}, cfg.MaxInFlight), refused: refused, now: time.Now}
	if cfg.ClientRate > 0 {
		// lru.New fails only for a size below 1.
		g.clients, _ = lru.New[netip.Addr, *rate.Limiter](clientLimiterSize)
	}
	return g
}

// server returns the HTTP server of h with the configured timeouts.
// WriteTimeout is the deadline of every answer; the handlers that wait
// on purpose (a submission with wait=commit, the event stream) move it
// with extendWriteDeadline.
func (g *apiGuard) server(h http.Handler) *http.Server {
	return &http.Server{Handler: h,
		ReadHeaderTimeout: g.cfg.ReadHeaderTimeout.Duration,
		ReadTimeout:       g.cfg.ReadTimeout.Duration,
		WriteTimeout:      g.cfg.WriteTimeout.Duration,
		IdleTimeout:       g.cfg.IdleTimeout.Duration,
		MaxHeaderBytes:    64 << 10,
	}
}

// front wraps the whole API: CORS when configured, the nosniff header
// on every answer, then the per-client rate.
func (g *apiGuard) front(h http.Handler) http.Handler {
	h = g.limitClients(h)
	inner := h
	// Every answer is the type it says it is: a browser must not read a
	// JSON or CBOR answer that holds chain data as a page.
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		inner.ServeHTTP(w, r)
	})
	if len(g.cfg.CORSOrigins) > 0 {
		// Only the headers a transaction or a query needs: never the
		// devnet's control header, so no page of another origin can
		// drive a devnet (see ControlHeader).
		h = cors.New(cors.Options{
			AllowedOrigins: g.cfg.CORSOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost},
			AllowedHeaders: []string{"Content-Type", "Accept"},
			MaxAge:         600,
		}).Handler(h)
	}
	return h
}

// limitClients answers 429 to a client over its rate.
func (g *apiGuard) limitClients(h http.Handler) http.Handler {
	if g.clients == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, ok := clientAddr(r.RemoteAddr)
		if !ok || (addr.IsLoopback() && !g.cfg.LimitLoopback) {
			h.ServeHTTP(w, r)
			return
		}
		if wait := g.clientWait(addr); wait > 0 {
			secs := int(math.Ceil(wait.Seconds()))
			g.refuse(w, r, http.StatusTooManyRequests, "rate_limited", secs,
				fmt.Sprintf("more than %d requests a second from %s (api.client_rate %d, api.client_burst %d); retry after %d s",
					g.cfg.ClientRate, addr, g.cfg.ClientRate, g.cfg.ClientBurst, secs))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// clientWait takes a token from addr's bucket and returns zero, or
// returns how long addr must wait for one and takes nothing.
func (g *apiGuard) clientWait(addr netip.Addr) time.Duration {
	lim, ok := g.clients.Get(addr)
	if !ok {
		lim = rate.NewLimiter(rate.Limit(g.cfg.ClientRate), g.cfg.ClientBurst)
		if prev, found, _ := g.clients.PeekOrAdd(addr, lim); found {
			lim = prev
		}
	}
	now := g.now()
	res := lim.ReserveN(now, 1)
	if wait := res.DelayFrom(now); wait > 0 {
		res.CancelAt(now)
		return wait
	}
	return 0
}

// clientAddr returns the address that identifies the client at remote
// (host:port): the IPv4 address, or the /64 prefix of an IPv6 one, since
// one machine commonly holds a whole /64.
func clientAddr(remote string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}, false
	}
	a := ap.Addr().Unmap()
	if a.Is6() && !a.IsLoopback() {
		p, err := a.Prefix(64)
		if err != nil {
			return netip.Addr{}, false
		}
		a = p.Addr()
	}
	return a, true
}

// bound answers 503 at once when api.max_in_flight requests are being
// handled already, rather than queue a request behind them.
func (g *apiGuard) bound(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case g.inFlight <- struct{}{}:
		default:
			g.refuse(w, r, http.StatusServiceUnavailable, "busy", 1,
				fmt.Sprintf("the node is handling %d requests, its limit (api.max_in_flight); retry in a moment", g.cfg.MaxInFlight))
			return
		}
		defer func() { <-g.inFlight }()
		h.ServeHTTP(w, r)
	})
}

// openStream counts a new event stream and returns the function that
// ends it, or false when api.max_event_streams are open.
func (g *apiGuard) openStream() (func(), bool) {
	if g.streams.Add(1) > int64(g.cfg.MaxEventStreams) {
		g.streams.Add(-1)
		return nil, false
	}
	return func() { g.streams.Add(-1) }, true
}

// refuse writes the API's error body with a Retry-After of secs seconds
// and counts the refusal by its code. A refused request's body is not
// read: the connection is closed after the answer, since Go's server
// would otherwise read the rest of the body before answering, at the
// pace of a client that may send it a byte at a time.
func (g *apiGuard) refuse(w http.ResponseWriter, r *http.Request, status int, code string, secs int, msg string) {
	g.refused.WithLabelValues(code).Inc()
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	if r.ContentLength != 0 {
		w.Header().Set("Connection", "close")
	}
	WriteError(w, status, code, msg)
}

// extendWriteDeadline gives a request that waits on purpose d more to be
// answered. (Its read deadline needs no care: once a request's body is
// read, Go's server clears it, and watches the connection only to see the
// client leave.)
func extendWriteDeadline(w http.ResponseWriter, d time.Duration) {
	// Not supported by test recorders, which have no deadline to move.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
}
