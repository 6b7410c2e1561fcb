package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// What a Supervisor shows: each node's state, height and links, and its
// HTTP endpoint.

// DevnetView is the answer of GET /v1/devnet: each node and the links
// between them, as the explorer's network view draws them.
type DevnetView struct {
	ChainID string           `json:"chain_id"`
	Dir     string           `json:"dir"`
	Nodes   []DevnetNodeView `json:"nodes"`
	// Links are the open libp2p connections between devnet nodes, each
	// pair once, by node name.
	Links   [][2]string `json:"links"`
	Actions []string    `json:"actions"`
}

// DevnetNodeView is one node. State is running, paused, cut (running but
// isolated), stopped (by a control) or exited (by itself).
type DevnetNodeView struct {
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

func (s *Supervisor) view(ctx context.Context) DevnetView {
	s.mu.Lock()
	abs, _ := filepath.Abs(s.dir)
	v := DevnetView{ChainID: s.net.ChainID, Dir: abs, Links: [][2]string{}, Actions: DevnetActions}
	byID := map[string]string{}
	for i, nd := range s.net.Nodes {
		m := s.members[i]
		nv := DevnetNodeView{Name: nd.Name, API: nd.API, Validator: nd.Validator, PeerID: peerIDOf(nd.P2P), Peers: []string{}}
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
		go func(nv *DevnetNodeView) { // ends with ctx
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
func (s *Supervisor) probe(ctx context.Context, nv *DevnetNodeView, byID map[string]string) {
	var st struct {
		Height  uint64 `json:"height"`
		Syncing bool   `json:"syncing"`
	}
	var ps struct {
		Peers    []struct{ ID string } `json:"peers"`
		Isolated bool                  `json:"isolated"`
	}
	if fetchJSON(ctx, s.httpc, nv.API+"/v1/status", &st) != nil || fetchJSON(ctx, s.httpc, nv.API+"/v1/peers", &ps) != nil {
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

func fetchJSON(ctx context.Context, c *http.Client, url string, v any) error {
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

func (s *Supervisor) handleStatus(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, s.view(r.Context()))
}

// ActionResult is the answer to a control.
type ActionResult struct {
	Node    string `json:"node"`
	Action  string `json:"action"`
	Message string `json:"message"`
}

func (s *Supervisor) handleAction(w http.ResponseWriter, r *http.Request) {
	name, action := r.PathValue("name"), r.PathValue("action")
	var canonical, msg string
	var err error
	switch {
	case action == "split":
		canonical, msg, err = s.split(r.Context(), name)
	case name == "all":
		canonical, msg, err = s.actAll(r.Context(), action)
	default:
		canonical, msg, err = s.act(r.Context(), name, action)
	}
	if err != nil {
		var ce *ctlError
		if errors.As(err, &ce) {
			WriteError(w, ce.status, ce.code, ce.msg)
		} else {
			WriteError(w, http.StatusInternalServerError, "internal", err.Error())
		}
		return
	}
	fmt.Fprintf(s.out, "%s  %s\n", time.Now().Format("15:04:05"), msg)
	WriteJSON(w, http.StatusOK, ActionResult{Node: canonical, Action: action, Message: msg})
}
