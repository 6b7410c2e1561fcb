package node

import (
	"context"
	"crypto/sha256"
)

// Evidence gossip in the seeded simulation: the evidence topic of
// docs/en/protocol.md "Evidence", over the same simulated links as
// consensus messages.

// gossipEvidence is a node publishing evidence on the evidence topic.
func (s *simNet) gossipEvidence(from *simNode, data []byte) {
	from.seen[sha256.Sum256(data)] = true
	for _, o := range s.nodes {
		s.sendVia(from.id, o.id, data, s.receiveEvidence)
	}
}

// receiveEvidence runs a node's real evidence validator, which keeps what
// it accepts, and forwards what it accepted.
func (s *simNet) receiveEvidence(r *simNode, from int, data []byte) {
	if !s.firstAccepted(r, from, data, "evidence", &s.stats.evIgnored, func() error { return r.n.validateGossipEvidence(data) }) {
		return
	}
	s.stats.evKept++
	s.tracef("%s <- %s: evidence kept", r.name, s.nodes[from].name)
	s.forward(r, from, data, s.receiveEvidence)
}

// forward passes on what r accepted from peer from: to r's mesh peers,
// or to every node without a mesh, except from.
func (s *simNet) forward(r *simNode, from int, data []byte, recv func(r *simNode, from int, data []byte)) {
	if s.mesh != nil {
		for _, o := range s.mesh[r.id] {
			if o != from {
				s.sendVia(r.id, o, data, recv)
			}
		}
		return
	}
	for _, o := range s.nodes {
		if o.id != from {
			s.sendVia(r.id, o.id, data, recv)
		}
	}
}

// PublishEvidence gossips evidence the node kept, unless it is down or
// silent.
func (g simGossip) PublishEvidence(_ context.Context, data []byte) error {
	if g.n.up && g.n.fault != silent {
		g.s.gossipEvidence(g.n, data)
	}
	return nil
}
