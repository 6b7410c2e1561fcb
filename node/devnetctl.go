package node

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Classroom controls. `citychain devnet` runs a supervisor that can stop,
// pause, resume, restart and cut off the nodes it started. It listens on
// 127.0.0.1 only and obeys a random token that it writes to
// DIR/control.token (mode 0600) and hands to its nodes in the
// environment, so only this machine's user can drive it. A node passes
// the explorer's requests on to it; a node started any other way has no
// supervisor and refuses them.

// Environment variables through which the supervisor reaches its nodes.
const (
	EnvDevnetControl = "CITYCHAIN_DEVNET_CONTROL" // http://127.0.0.1:PORT
	EnvDevnetToken   = "CITYCHAIN_DEVNET_TOKEN"
)

// ControlTokenFile holds the supervisor's token in the devnet's folder.
const ControlTokenFile = "control.token"

// ControlHeader must be set on the explorer's control requests. A page of
// another origin cannot set it without a CORS preflight, which this API
// never grants, so a web page elsewhere cannot drive the devnet.
const ControlHeader = "X-CityChain-Control"

// DevnetActions are the classroom controls, in the order a page shows them.
var DevnetActions = []string{"stop", "pause", "resume", "start", "restart", "cut", "heal"}

// DevnetControl is how a devnet node reaches its supervisor.
type DevnetControl struct {
	URL   string
	Token string
}

// DevnetControlFromEnv reads the supervisor's address and token from the
// environment; nil when the node was not started by a supervisor.
func DevnetControlFromEnv() *DevnetControl {
	u, tok := strings.TrimSpace(os.Getenv(EnvDevnetControl)), strings.TrimSpace(os.Getenv(EnvDevnetToken))
	if u == "" || tok == "" {
		return nil
	}
	return &DevnetControl{URL: strings.TrimRight(u, "/"), Token: tok}
}

// Authorized reports whether r carries the supervisor's token.
func (c *DevnetControl) Authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(c.Token)) == 1
}

// LinksRequest is the body of POST /v1/devnet/links, which only the
// supervisor may send. Cut true with no Peers isolates this node from
// every peer; cut true with Peers (libp2p IDs) refuses only those, which
// is how the supervisor splits a devnet in two; cut false lets it connect
// to everyone again.
type LinksRequest struct {
	Cut   bool     `json:"cut"`
	Peers []string `json:"peers,omitempty"`
}

var errNotDevnet = errors.New("classroom controls exist only on a devnet that `citychain devnet` started on this machine; this node has no supervisor")

// handleDevnetStatus passes GET /v1/devnet to the supervisor: the nodes,
// their state and height, and the links between them.
func (n *Node) handleDevnetStatus(w http.ResponseWriter, r *http.Request) {
	if err := fromThisMachine(r); err != nil {
		WriteError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	n.toSupervisor(w, r, http.MethodGet, "/v1/devnet")
}

// handleDevnetAction passes POST /v1/devnet/nodes/{name}/{action} to the
// supervisor, after checking that the request comes from this machine,
// through this node's own page or a tool that sets ControlHeader.
func (n *Node) handleDevnetAction(w http.ResponseWriter, r *http.Request) {
	if err := fromThisMachine(r); err != nil {
		WriteError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	if r.Header.Get(ControlHeader) == "" {
		WriteError(w, http.StatusForbidden, "forbidden", "a control request must carry the header "+ControlHeader)
		return
	}
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			WriteError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("control requests are taken from this node's own page only, not from %s", o))
			return
		}
	}
	name, action := r.PathValue("name"), r.PathValue("action")
	n.toSupervisor(w, r, http.MethodPost, "/v1/devnet/nodes/"+url.PathEscape(name)+"/"+url.PathEscape(action))
}

// fromThisMachine accepts a request that came over loopback and named a
// loopback host. The name matters as much as the address: a hostile page
// whose own name resolves to 127.0.0.1 (DNS rebinding) is same-origin in
// the browser's eyes, but its requests carry its name in Host.
func fromThisMachine(r *http.Request) error {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("classroom controls are taken from this machine only, not from %s", r.RemoteAddr)
	}
	name := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		name = h
	}
	if ip := net.ParseIP(name); (ip == nil || !ip.IsLoopback()) && name != "localhost" {
		return fmt.Errorf("classroom controls answer to 127.0.0.1 or localhost only, not to the host name %q", name)
	}
	return nil
}

// toSupervisor makes the request to the supervisor and copies its answer.
func (n *Node) toSupervisor(w http.ResponseWriter, r *http.Request, method, path string) {
	c := n.control
	if c == nil {
		WriteError(w, http.StatusNotFound, "not_devnet", errNotDevnet.Error())
		return
	}
	// A control may stop this very node, whose Stop then waits for its
	// open requests: this one ends when the node stops, not after the
	// supervisor, which is waiting for the node.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() { // ends with the request, or cancels it when the node stops
		select {
		case <-n.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, nil)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	cl := &http.Client{Timeout: 20 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		WriteError(w, http.StatusBadGateway, "supervisor_unreachable",
			fmt.Sprintf("the devnet supervisor at %s does not answer (was `citychain devnet` stopped?): %v", c.URL, err))
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, 1<<20))
}

// handleDevnetLinks carries out the supervisor's cut and heal: it
// isolates this node from every peer, or ends the isolation.
func (n *Node) handleDevnetLinks(w http.ResponseWriter, r *http.Request) {
	if n.control == nil {
		WriteError(w, http.StatusNotFound, "not_devnet", errNotDevnet.Error())
		return
	}
	if !n.control.Authorized(r) {
		WriteError(w, http.StatusUnauthorized, "unauthorized", "only the devnet supervisor may cut or heal this node's links")
		return
	}
	if n.p2p == nil {
		WriteError(w, http.StatusConflict, "no_network", "this node runs no libp2p host, so it has no links to cut")
		return
	}
	var req LinksRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		WriteError(w, http.StatusBadRequest, "bad_request", "body: want {\"cut\": true|false, \"peers\": [ID...]}: "+err.Error())
		return
	}
	ids := make([]peer.ID, 0, len(req.Peers))
	for _, s := range req.Peers {
		id, err := peer.Decode(s)
		if err != nil {
			WriteError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("peers: %q is not a libp2p peer ID: %v", s, err))
			return
		}
		ids = append(ids, id)
	}
	switch {
	case req.Cut && len(ids) > 0:
		n.p2p.SetBlocked(ids)
		n.log.Warn("links to some peers cut by the devnet supervisor: the devnet is split", "peers", len(ids))
	case req.Cut:
		n.p2p.BlockAll(true)
		n.log.Warn("links cut by the devnet supervisor: this node is isolated")
	default:
		n.p2p.BlockAll(false)
		n.p2p.SetBlocked(nil)
		n.log.Info("links healed by the devnet supervisor")
	}
	WriteJSON(w, http.StatusOK, map[string]any{"isolated": n.p2p.Isolated(), "blocked": len(n.p2p.Blocked()), "peers": len(n.p2p.Peers())})
}
