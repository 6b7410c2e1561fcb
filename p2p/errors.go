package p2p

import "errors"

// Error kinds of package p2p. Callers compare with errors.Is; errors are
// wrapped with context where they arise.
var (
	// ErrIgnore is returned by a validator (Config.ValidateTx,
	// Config.ValidateConsensus or Config.ValidateEvidence) for a message that is not wrong but not
	// useful either, such as a transaction already in the mempool. The
	// message is dropped without relaying it and without lowering the
	// sender's score. Any other error rejects the message and counts
	// against the peer that sent it.
	//
	// Either way gossip remembers the message ID for Config.SeenTTL and
	// drops further copies from other peers unseen. A message that will be
	// useful later (a vote for the next height) should therefore be
	// accepted and kept by the node, not ignored.
	ErrIgnore = errors.New("ignore message")

	// ErrConfig means a Config field is missing or out of range.
	ErrConfig = errors.New("invalid p2p config")
	// ErrClosed means the host has been closed.
	ErrClosed = errors.New("p2p host closed")
	// ErrNoPeers means a transaction was not gossiped because no peer is
	// known to follow the transaction topic yet (see Host.PublishTx).
	ErrNoPeers = errors.New("no peer follows the topic yet")
	// ErrNoEvidenceTopic means evidence was not gossiped because the host
	// is not on the evidence topic (no Config.ValidateEvidence).
	ErrNoEvidenceTopic = errors.New("not on the evidence topic")
	// ErrTooLarge means a message or frame exceeds its size limit.
	ErrTooLarge = errors.New("message too large")
	// ErrProtocol means a peer sent bytes that break a wire protocol.
	ErrProtocol = errors.New("protocol violation")
	// ErrWrongChain means a peer reported a different chain id.
	ErrWrongChain = errors.New("peer is on another chain")
	// ErrNoBlocks means a peer answered a request for blocks without any:
	// it has none of them (yet).
	ErrNoBlocks = errors.New("peer sent no blocks")
	// ErrBadKey means a node key file is malformed or not Ed25519.
	ErrBadKey = errors.New("bad node key")
)
