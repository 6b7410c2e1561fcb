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
// stored in the state after block h-1.
func (n *Node) validatorsFor(h uint64) (*chain.ValidatorSet, error) {
	if h == 0 {
		return n.genesis.ValidatorSet()
	}
	if h-1 == n.store.Latest().Height {
		return chain.LoadValidators(n.store)
	}
	return chain.LoadValidators(stateAt{n.store, h - 1})
}

// applySynced checks and stores one block fetched by block sync: its
// commit must be signed by its validator set, and executing it must give
// the state root in its header.
func (n *Node) applySynced(height uint64, blockBytes, commitBytes []byte) error {
	parent := n.store.Latest()
	if height != parent.Height+1 {
		return fmt.Errorf("synced block %d does not follow %d", height, parent.Height)
	}
	b, err := chain.DecodeBlock(blockBytes)
	if err != nil {
		return err
	}
	var c chain.Commit
	if err := chain.Decode(commitBytes, &c); err != nil {
		return fmt.Errorf("commit %d: %w", height, err)
	}
	vals, err := chain.LoadValidators(n.store)
	if err != nil {
		return err
	}
	if err := vals.VerifyCommit(n.chainID, height, b.Hash(), &c); err != nil {
		return err
	}
	parentVals, err := n.validatorsFor(parent.Height)
	if err != nil {
		return err
	}
	res, err := n.checkBlock(b, parent, parentVals, vals, false)
	if err != nil {
		return err
	}
	return n.commitBlock(b, &c, res)
}

// blockSource serves this node's blocks to peers that sync.
type blockSource struct{ n *Node }

func (s blockSource) Height() uint64 { return s.n.store.Latest().Height }

func (s blockSource) BlockAndCommit(h uint64) ([]byte, []byte, error) {
	b, err := s.n.store.Block(h)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.n.store.Commit(h)
	if err != nil {
		return nil, nil, err
	}
	return b.Encode(), c.Encode(), nil
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
	h, err := p2p.New(p2p.Config{
		ChainID:           n.chainID,
		Key:               key,
		ListenAddrs:       n.cfg.P2P.Listen,
		Bootstrap:         n.cfg.P2P.Bootstrap,
		MDNS:              n.cfg.P2P.MDNS,
		DHT:               n.cfg.P2P.DHT,
		Blocks:            blockSource{n},
		ValidateTx:        n.validateGossipTx,
		ValidateConsensus: n.validateGossipConsensus,
		OnTx:              n.onGossipTx,
		OnConsensus:       n.onGossipConsensus,
		Logger:            n.log.With("part", "p2p"),
		Metrics:           n.metrics.reg,
		StatusInterval:    2 * time.Second,
		RedialInterval:    3 * time.Second,
	})
	if err != nil {
		return err
	}
	n.p2p = h
	return nil
}

// validateGossipTx is the tx topic's validator. It verifies the
// signature, and remembers that it did, so that neither the mempool nor
// the check of a proposal that includes the transaction verifies it again.
func (n *Node) validateGossipTx(data []byte) error {
	h := chain.Sum(data)
	if n.verified(h) {
		return nil
	}
	tx, err := chain.DecodeTx(data)
	if err != nil {
		return err
	}
	if err := tx.ValidateBasic(n.chainID); err != nil {
		return err
	}
	n.sigs.add(h)
	return nil
}

// onGossipTx adds a transaction from a peer to the mempool. Its signature
// was checked by validateGossipTx, so it is not checked again.
func (n *Node) onGossipTx(_ peer.ID, data []byte) {
	tx, err := chain.DecodeTx(data)
	if err != nil {
		return
	}
	if _, err := n.admit(tx, data, chain.Sum(data), true); err != nil {
		n.log.Debug("gossiped tx not admitted", "err", err)
	}
}

// validateGossipConsensus is the consensus topic's validator. It judges
// a message only by the validator set of the message's own height, and
// punishes (rejects, which costs the forwarding peer gossip score) only
// what is provably wrong:
//
//   - malformed bytes, or a message for the height being decided whose
//     signature does not verify under that height's set, or a proposal
//     from a validator who is not the round's proposer: rejected;
//   - a message for the next height signed by a member of the current
//     set, verified under it: accepted (sets rarely change; when they do,
//     it fails to verify and is ignored);
//   - anything else (older heights, later heights, signers this node
//     cannot judge yet): ignored, which forwards nothing and costs no one
//     anything. A node that is behind or ahead never bans honest peers.
func (n *Node) validateGossipConsensus(data []byte) error {
	m, err := DecodeMessage(n.chainID, data)
	if err != nil {
		return err
	}
	cur := n.current.Load()
	if cur == nil {
		return p2p.ErrIgnore // not started yet
	}
	switch h := msgHeight(m); {
	case h == cur.height:
		return checkAtHeight(n.chainID, cur.vals, m)
	case h == cur.height+1:
		if _, ok := cur.vals.Find(msgSigner(m)); ok && verifySigned(n.chainID, cur.vals, m) == nil {
			return nil
		}
	}
	return p2p.ErrIgnore
}

// checkAtHeight checks a message against the validator set of its own
// height: the signature, and for a proposal that its signer is the
// round's proposer.
func checkAtHeight(chainID string, vals *chain.ValidatorSet, m *Message) error {
	if m.Vote != nil {
		return verifyVote(vals, m.Vote)
	}
	p := m.Proposal.Proposal
	if want := consensus.Proposer(vals, p.Height, p.Round); p.Proposer != want {
		return fmt.Errorf("%w: %s is not the proposer of height %d round %d (%s is)", chain.ErrUnauthorized, p.Proposer, p.Height, p.Round, want)
	}
	return verifyProposal(chainID, vals, m.Proposal)
}

func (n *Node) onGossipConsensus(_ peer.ID, data []byte) {
	m, err := DecodeMessage(n.chainID, data)
	eng := n.engine.Load()
	if err != nil || eng == nil {
		return
	}
	eng.deliver(&inbound{msg: m})
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
