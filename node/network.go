package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/store"
	"github.com/citychain/citychain/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// stateAt reads the state as it was after a given height, through the
// Merkle tree of that height's state root. It only reads single keys.
type stateAt struct {
	s *store.Store
	h uint64
}

func (r stateAt) Get(key []byte) ([]byte, error) {
	v, _, err := r.s.GetAt(r.h, key)
	return v, err
}

func (r stateAt) Iterate([]byte, func(k, v []byte) error) error {
	return errors.New("iterating an old state is not supported")
}

// validatorsFor returns the validator set that signed block h: the one
// stored in the state after block h-1. It is safe beside a commit (the
// evidence topic's validator calls it from gossip's goroutines): the
// latest state is read from one snapshot, whose height is checked.
func (n *Node) validatorsFor(h uint64) (*chain.ValidatorSet, error) {
	if h == 0 {
		return n.genesis.ValidatorSet()
	}
	if h-1 == n.store.Latest().Height {
		snap := n.store.Snapshot()
		defer snap.Discard()
		if snap.Header().Height == h-1 {
			return chain.LoadValidators(snap)
		}
	}
	return chain.LoadValidators(stateAt{n.store, h - 1})
}

// applySynced checks and stores one block fetched by block sync: its
// commit must be signed by its validator set, and executing it must give
// the state root in its header. It decodes and checks everything itself,
// on the calling goroutine; the sync pipeline verifies blocks ahead and
// calls applyPrepared instead.
func (n *Node) applySynced(height uint64, blockBytes, commitBytes []byte) error {
	sb := &syncBlock{height: height, raw: [2][]byte{blockBytes, commitBytes}}
	if sb.height == n.store.Latest().Height+1 {
		sb.decode()
	}
	return n.applyPrepared(sb)
}

// errLocal marks a failure of this node (its store, its state) while it
// handled something from a peer: no fault of the peer's.
var errLocal = errors.New("this node failed")

// blockSource serves this node's blocks to peers that sync.
type blockSource struct{ n *Node }

func (s blockSource) Height() uint64 { return s.n.store.Latest().Height }

func (s blockSource) BlockAndCommit(h uint64) ([]byte, []byte, error) {
	b, c, err := s.n.store.EncodedBlock(h)
	if err != nil {
		return nil, nil, err
	}
	if c == nil {
		return nil, nil, fmt.Errorf("block %d has no commit certificate to serve", h)
	}
	return b, c, nil
}

func (s blockSource) LatestHash() []byte {
	h := s.n.store.Latest()
	hash := h.Hash()
	return hash[:]
}

// startNetwork starts the libp2p host and wires gossip to the mempool and
// the consensus engine.
func (n *Node) startNetwork() error {
	key, _, err := p2p.LoadOrCreateKey(n.homePath(NodeKeyFile))
	if err != nil {
		return err
	}
	pid, err := p2p.PeerID(key)
	if err != nil {
		return err
	}
	h, err := p2p.New(p2p.Config{
		ChainID:           n.chainID,
		Key:               key,
		ListenAddrs:       n.cfg.P2P.Listen,
		Bootstrap:         n.cfg.P2P.Bootstrap,
		MDNS:              n.cfg.P2P.MDNS,
		DHT:               n.cfg.P2P.DHT,
		Blocks:            blockSource{n},
		Txs:               txSource{n},
		Identity:          peerIdentity(n.chainID, n.key, pid),
		ValidateTx:        n.validateGossipTx,
		ValidateConsensus: n.validateGossipConsensus,
		OnTx:              n.onGossipTx,
		OnConsensus:       n.onGossipConsensus,
		ValidateEvidence:  n.validateGossipEvidence,
		Logger:            n.log.With("part", "p2p"),
		Metrics:           n.metrics.reg,
		StatusInterval:    2 * time.Second,
		RedialInterval:    3 * time.Second,
		PeerQueue:         n.cfg.P2P.PeerQueue,
		ValidateQueue:     n.cfg.P2P.ValidateQueue,
		SeenTTL:           n.cfg.P2P.SeenTTL.Duration,
	})
	if err != nil {
		return err
	}
	n.p2p = h
	return nil
}

// validateGossipConsensus is the consensus topic's validator. It judges
// a message only by the validator set of the message's own height, and
// rejects (which costs the peer that passed it on gossip score, and in
// the end a ban) only what is provably wrong whoever forwarded it:
//
//   - malformed bytes, or a message for the height being decided, signed
//     in the name of a member of that height's set, whose signature does
//     not verify under the member's key: rejected;
//   - a message for the height being decided from a member, with a good
//     signature (a proposal only from the round's proposer): accepted;
//   - a message for the next height, signed by a member of the current
//     set and verified under it (a proposal only from the proposer the
//     current set would name): accepted, since sets rarely change; when
//     they do, it is ignored instead; a vote of the next height in a
//     member's name whose signature does not verify: rejected, since the
//     member's address names its key in every set;
//   - anything else: ignored, which forwards nothing and costs no one
//     anything. That covers older and later heights, signers outside the
//     set, and proposals from the wrong proposer: an honest peer one
//     height behind may have passed those on in good faith, under the
//     set it knew. The engine drops them too. It covers as well rounds
//     beyond the machine's window (roundTooFar) and copies of a signed
//     statement let through less than resendGap before, whatever their
//     Resend number (resendGate): both are ignored before any signature
//     is checked.
//
// An accepted message goes on, decoded, to onGossipConsensus.
func (n *Node) validateGossipConsensus(data []byte) (any, error) {
	m, err := chain.DecodeConsensusMessage(n.chainID, data)
	if err != nil {
		return nil, err
	}
	cur := n.current.Load()
	if cur == nil {
		return nil, p2p.ErrIgnore // not started yet
	}
	h := m.Height()
	if h != cur.height && h != cur.height+1 {
		if h > cur.height+1 {
			// Someone may be ahead: let block sync look, which trusts
			// commits, not this message. The message itself goes nowhere.
			if eng := n.engine.Load(); eng != nil {
				eng.sync.poke()
			}
		}
		return nil, p2p.ErrIgnore
	}
	if roundTooFar(n.engine.Load(), h, m.Round()) {
		return nil, p2p.ErrIgnore
	}
	s, now := statementOf(m), n.clock()
	if n.resends.recent(cur.height, s, now) {
		return nil, p2p.ErrIgnore // a copy renumbered too soon (resendgate.go)
	}
	err = judgeAtHeight(n.chainID, cur.vals, m)
	switch {
	case err == nil:
		n.resends.pass(cur.height, s, now)
		return m, nil
	case h == cur.height, m.Vote != nil && !errors.Is(err, p2p.ErrIgnore):
		// A vote of the next height from a member whose signature does not
		// verify is forged under any set: an address is the hash of its
		// key. (A proposal's proposer and POL may differ under the next
		// set, so those are only ignored.)
		return nil, err
	}
	return nil, p2p.ErrIgnore
}

// roundTooFar reports whether a message of height h and round r lies
// beyond the window of rounds the consensus machine keeps
// (consensus.DefaultMaxRoundsAhead past the round being decided, or past
// round 0 for a later height): the machine would drop it, so it is
// neither checked nor forwarded. A validator signs few rounds that far;
// one that does cannot make the network carry them.
func roundTooFar(e *engine, h uint64, r uint32) bool {
	base := uint64(0)
	if e != nil {
		if v := e.view.Load(); v != nil && v.Height == h {
			base = uint64(v.Round)
		}
	}
	return uint64(r) > base+consensus.DefaultMaxRoundsAhead
}

// judgeAtHeight judges a message by the validator set of its height: nil
// if it is a member's and its signature verifies (for a proposal, the
// round's proposer's, with a compact block that is the block it names and
// a POL that proves its round: checkSigned), p2p.ErrIgnore if the signer
// is not a member or not the round's proposer, and the error otherwise.
// The transactions of a proposal are not looked for here: forwarding
// never waits for them.
func judgeAtHeight(chainID string, vals *chain.ValidatorSet, m *chain.ConsensusMessage) error {
	if _, ok := vals.Find(m.Signer()); !ok {
		return p2p.ErrIgnore
	}
	if m.Vote != nil {
		return vals.VerifyVote(m.Vote)
	}
	p := m.Proposal.Proposal
	if consensus.Proposer(vals, p.Height, p.Round) != p.Proposer {
		return p2p.ErrIgnore
	}
	// The proposer's signature covers the proposal, not the compact block
	// or the POL beside it: those must prove themselves, or anyone could
	// forward an honest proposal with another body.
	_, err := checkSigned(chainID, vals, m.Proposal)
	return err
}

// onGossipConsensus hands a consensus message from a peer to the engine,
// as validateGossipConsensus decoded and judged it (checked).
func (n *Node) onGossipConsensus(from peer.ID, _ []byte, checked any) {
	m, _ := checked.(*chain.ConsensusMessage)
	eng := n.engine.Load()
	if m == nil || eng == nil {
		return
	}
	eng.deliver(&inbound{msg: m, from: from})
}

// validateGossipEvidence is the evidence topic's validator
// (keepGossipedEvidence, against this node's pool and the validator sets
// of its store).
func (n *Node) validateGossipEvidence(data []byte) error {
	ev, err := keepGossipedEvidence(n.evpool, data, n.validatorsFor, n.chainID)
	if err == nil {
		n.log.Warn("misbehaviour reported by a peer; evidence kept for the next block", "offence", ev.Offence().String())
	}
	return err
}

// keepGossipedEvidence judges gossiped evidence and keeps it in pool when
// it proves an offence the pool does not hold yet: then it returns nil,
// and gossip forwards it. Evidence that does not decode, is for another
// chain, or does not prove its offence (chain.ErrInvalidEvidence:
// malformed, a signer outside the set of the offence's height, a
// signature that fails) is rejected, whoever passed it on; evidence the
// pool would not take (known, too old, above this node's height, the pool
// full or enough against that validator pending) or cannot judge (the set
// of its height unreadable) is ignored (p2p.ErrIgnore). The pool refuses
// before any signature is checked wherever it can (evidencePool.add).
func keepGossipedEvidence(pool *evidencePool, data []byte, valsAt func(uint64) (*chain.ValidatorSet, error), chainID string) (*chain.Evidence, error) {
	ev, err := chain.DecodeEvidence(data)
	if err != nil {
		return nil, err
	}
	switch err := pool.add(*ev, valsAt, chainID); {
	case err == nil:
		return ev, nil
	case errors.Is(err, chain.ErrInvalidEvidence), errors.Is(err, chain.ErrWrongChain):
		return nil, err
	default:
		return nil, p2p.ErrIgnore
	}
}

// NodeKeyFile is the libp2p identity key in the home; it is separate from
// the validator key.
const NodeKeyFile = "node_key"

// PeerView is one connected peer in /v1/peers.
type PeerView struct {
	ID      string   `json:"id"`
	Addrs   []string `json:"addrs"`
	Height  uint64   `json:"height"`
	Latency string   `json:"latency"`
	Score   float64  `json:"score"`
}

func (n *Node) peerViews() []PeerView {
	out := []PeerView{}
	if n.p2p == nil {
		return out
	}
	for _, p := range n.p2p.Peers() {
		v := PeerView{ID: p.ID.String(), Height: p.Height, Latency: p.Latency.String(), Score: p.Score}
		for _, a := range p.Addrs {
			v.Addrs = append(v.Addrs, a.String())
		}
		out = append(out, v)
	}
	return out
}
