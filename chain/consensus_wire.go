package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/citychain/citychain/chain/crypto"
)

// Consensus messages are what validators send each other while they agree
// on a block: a proposal per round and prevotes and precommits (Vote, in
// commit.go), gossiped on one topic per chain; the transaction fetch
// protocol, through which a validator asks a peer for the transactions of
// a proposed block that it does not hold; and the block sync protocol,
// through which a node that fell behind fetches finished blocks with their
// commits. This file defines their bytes, so that every
// implementation and every layer (the consensus engine in node, the
// transport in p2p) uses the same ones. docs/protocol.md ("Consensus
// messages") describes them as tables, and testdata/golden/consensus.json
// pins them.

// Proposal is the proposer's message of a round: which block (by hash) it
// proposes for Height and Round, and POLRound, the round of the
// proof-of-lock (+2/3 prevotes) that justifies proposing it again, or -1
// for a fresh block. It is what the proposer signs (ProposalSignBytes)
// and what the consensus state machine reasons about; the block itself
// travels next to it, in compact form, in a SignedProposal. BlockHash is
// the hash of the full block's header, which is also the compact block's.
type Proposal struct {
	Height    uint64  `cbor:"height"`
	Round     uint32  `cbor:"round"`
	BlockHash Hash    `cbor:"block_hash"`
	POLRound  int32   `cbor:"pol_round"`
	Proposer  Address `cbor:"proposer"`
}

// ProposalSignBytes returns the bytes a proposer signs: the canonical
// encoding of {chain_id, proposal}. The chain id is inside, as in a vote,
// so a proposal signed for one chain is worthless on another.
func ProposalSignBytes(chainID string, p Proposal) []byte {
	return MustEncode(&struct {
		ChainID  string   `cbor:"chain_id"`
		Proposal Proposal `cbor:"proposal"`
	}{chainID, p})
}

// SignedProposal is a proposer's signed proposal together with the block
// it proposes, in compact form, and, when it proposes a block again
// (POLRound >= 0), the prevotes of that round that justify it, so that a
// validator who missed them can still accept the proposal. Block and POL
// are outside what was signed: the signature covers the block's hash,
// which binds the header, which binds the body (CompactBlock.ValidateBasic);
// each POL vote carries its own signature.
type SignedProposal struct {
	Proposal  Proposal     `cbor:"proposal"`
	Signature []byte       `cbor:"signature"`
	Block     CompactBlock `cbor:"block"`
	POL       []Vote       `cbor:"pol"`
}

// CompactBlock is a block with its transactions replaced by their hashes,
// in block order: what a proposal carries. The transactions reach every
// validator by gossip before they reach a block, so a validator rebuilds
// the block from the transactions it holds (Rebuild) and fetches only the
// ones it lacks (TxRequest). A block of 2,000 bank transfers, 472 KB
// encoded, travels as a 69 KB proposal (34 bytes a transaction).
//
// The header is the full block's header, so the compact block and the
// full block have one hash, and a commit for one is a commit for the
// other. The header commits to the body: TxRoot is the Merkle root over
// the transaction hashes, so the hash list can be checked against it
// before any transaction is at hand.
type CompactBlock struct {
	Header     Header     `cbor:"header"`
	TxHashes   []Hash     `cbor:"tx_hashes"`
	LastCommit *Commit    `cbor:"last_commit"`
	Evidence   []Evidence `cbor:"evidence,omitempty"`
}

// Compact returns b in compact form. It shares b's last commit and
// evidence.
func (b *Block) Compact() CompactBlock {
	return CompactBlock{Header: b.Header, TxHashes: b.TxHashes(), LastCommit: b.LastCommit, Evidence: b.Evidence}
}

// Hash returns the block hash: the hash of the header.
func (c *CompactBlock) Hash() Hash { return c.Header.Hash() }

// ValidateBasic checks that the body is the one the header commits to: at
// most MaxBlockTxs transaction hashes whose Merkle root is the header's
// TxRoot, and a last commit and evidence whose hashes are the header's.
// It fails with ErrInvalidBlock. With the proposer's signature over the
// header's hash, this proves that the compact block is the proposer's;
// the other rules of a block run on the rebuilt block
// (Block.ValidateBasic and the node's checks).
func (c *CompactBlock) ValidateBasic() error {
	h := &c.Header
	if len(c.TxHashes) > MaxBlockTxs {
		return fmt.Errorf("%w: %d txs, limit %d", ErrInvalidBlock, len(c.TxHashes), MaxBlockTxs)
	}
	if got := txRootOf(c.TxHashes); got != h.TxRoot {
		return fmt.Errorf("%w: tx root %s, header says %s", ErrInvalidBlock, got, h.TxRoot)
	}
	if got := c.LastCommit.Hash(); got != h.LastCommitHash {
		return fmt.Errorf("%w: last commit hash %s, header says %s", ErrInvalidBlock, got, h.LastCommitHash)
	}
	if got := ComputeEvidenceHash(c.Evidence); got != h.EvidenceHash {
		return fmt.Errorf("%w: evidence hash %s, header says %s", ErrInvalidBlock, got, h.EvidenceHash)
	}
	return nil
}

// txRootOf is ComputeTxRoot from the transaction hashes.
func txRootOf(hashes []Hash) Hash {
	leaves := make([][]byte, len(hashes))
	for i := range hashes {
		leaves[i] = hashes[i][:]
	}
	return MerkleRoot(leaves)
}

// Rebuild returns the full block, given the canonical bytes of its
// transactions in block order. It checks what it is given before it
// trusts it: one transaction per listed hash, each hashing to the hash at
// its place, the Merkle root over the transactions themselves equal to
// the header's TxRoot, and the encoded block within MaxBlockSize. So the
// rebuilt block has the header, and therefore the hash, that the proposer
// signed, or Rebuild fails with ErrInvalidBlock. The block shares c's
// last commit and evidence and the transactions' bytes.
func (c *CompactBlock) Rebuild(txs [][]byte) (*Block, error) {
	if len(txs) != len(c.TxHashes) {
		return nil, fmt.Errorf("%w: %d transactions for %d hashes", ErrInvalidBlock, len(txs), len(c.TxHashes))
	}
	for i, raw := range txs {
		if got := Sum(raw); got != c.TxHashes[i] {
			return nil, fmt.Errorf("%w: tx %d is %s, the block lists %s", ErrInvalidBlock, i, got, c.TxHashes[i])
		}
	}
	b := &Block{Header: c.Header, Txs: txs, LastCommit: c.LastCommit, Evidence: c.Evidence}
	if got := ComputeTxRoot(b.Txs); got != b.Header.TxRoot {
		return nil, fmt.Errorf("%w: tx root %s, header says %s", ErrInvalidBlock, got, b.Header.TxRoot)
	}
	if size := len(b.Encode()); size > MaxBlockSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidBlock, size, MaxBlockSize)
	}
	return b, nil
}

// Sign signs the proposal for chainID with key.
func (sp *SignedProposal) Sign(chainID string, key *crypto.PrivateKey) {
	sp.Signature = key.Sign(ProposalSignBytes(chainID, sp.Proposal))
}

// ConsensusMessage is what validators gossip on the consensus topic:
// exactly one of a signed proposal (with its compact block) or a signed
// vote.
type ConsensusMessage struct {
	Proposal *SignedProposal `cbor:"proposal,omitempty"`
	Vote     *Vote           `cbor:"vote,omitempty"`
	// Resend numbers a repeated sending of the same proposal or vote. It is
	// outside what was signed; it only makes the gossip message new, since
	// gossip drops a message whose bytes it has seen before (see
	// GossipMessageID), and a peer that was down when the original went
	// out still needs it. Zero, the first sending, is left out.
	Resend uint64 `cbor:"resend,omitempty"`
}

// Limits of a consensus message, checked by DecodeConsensusMessage.
const (
	// MaxConsensusMessageSize bounds an encoded consensus message. The
	// largest a proposal can be is a compact block of MaxBlockTxs hashes
	// (about 140 KB) with its header, last commit and evidence
	// (MaxBlockEvidence pieces), and MaxPOLVotes votes (about 200 KB): well
	// inside. It is also the gossip layer's default bound on a message.
	MaxConsensusMessageSize = 4 << 20
	// MaxPOLVotes bounds the prevotes a proposal carries as its POL.
	MaxPOLVotes = 1000
)

// Encode returns the canonical encoding of m.
func (m *ConsensusMessage) Encode() []byte { return MustEncode(m) }

// Height returns the height the message is about. m must hold a proposal
// or a vote, as every message from DecodeConsensusMessage does.
func (m *ConsensusMessage) Height() uint64 {
	if m.Vote != nil {
		return m.Vote.Height
	}
	return m.Proposal.Proposal.Height
}

// Round returns the round the message is about, with the same
// precondition as Height.
func (m *ConsensusMessage) Round() uint32 {
	if m.Vote != nil {
		return m.Vote.Round
	}
	return m.Proposal.Proposal.Round
}

// Signer returns who signed the message: the voter or the proposer, with
// the same precondition as Height.
func (m *ConsensusMessage) Signer() Address {
	if m.Vote != nil {
		return m.Vote.Validator
	}
	return m.Proposal.Proposal.Proposer
}

// DecodeConsensusMessage parses a consensus message of chain chainID and
// runs its stateless checks: at most MaxConsensusMessageSize bytes, the
// canonical encoding, exactly one of a proposal or a vote, a vote of a
// known type for this chain, a POLRound of -1 or below the proposal's
// round, at most MaxPOLVotes POL votes, each for this chain, and at most
// MaxBlockTxs transaction hashes in the compact block. It fails with
// ErrDecode or ErrNonCanonical for bytes that are not such a message and
// ErrWrongChain for a vote of another chain. Signatures are not checked
// here, see VerifyVote and VerifyProposal, nor is the compact block
// against its header, see CompactBlock.ValidateBasic.
func DecodeConsensusMessage(chainID string, data []byte) (*ConsensusMessage, error) {
	if len(data) > MaxConsensusMessageSize {
		return nil, fmt.Errorf("%w: consensus message of %d bytes", ErrDecode, len(data))
	}
	var m ConsensusMessage
	if err := Decode(data, &m); err != nil {
		return nil, err
	}
	switch {
	case (m.Proposal == nil) == (m.Vote == nil):
		return nil, fmt.Errorf("%w: a consensus message holds exactly one proposal or vote", ErrDecode)
	case m.Vote != nil:
		if m.Vote.ChainID != chainID {
			return nil, fmt.Errorf("%w: vote for %q", ErrWrongChain, m.Vote.ChainID)
		}
		if m.Vote.Type != Prevote && m.Vote.Type != Precommit {
			return nil, fmt.Errorf("%w: vote type %d", ErrDecode, m.Vote.Type)
		}
	default:
		p := m.Proposal.Proposal
		// POLRound is a signed 32-bit field and Round an unsigned one:
		// compare them as 64-bit integers so neither wraps.
		if p.POLRound < -1 || p.POLRound >= 0 && int64(p.POLRound) >= int64(p.Round) {
			return nil, fmt.Errorf("%w: pol_round %d in round %d", ErrDecode, p.POLRound, p.Round)
		}
		if n := len(m.Proposal.Block.TxHashes); n > MaxBlockTxs {
			return nil, fmt.Errorf("%w: %d transaction hashes, limit %d", ErrDecode, n, MaxBlockTxs)
		}
		if n := len(m.Proposal.Block.Evidence); n > MaxBlockEvidence {
			return nil, fmt.Errorf("%w: %d pieces of evidence, limit %d", ErrDecode, n, MaxBlockEvidence)
		}
		if len(m.Proposal.POL) > MaxPOLVotes {
			return nil, fmt.Errorf("%w: %d POL votes", ErrDecode, len(m.Proposal.POL))
		}
		for _, v := range m.Proposal.POL {
			if v.ChainID != chainID {
				return nil, fmt.Errorf("%w: POL vote for %q", ErrWrongChain, v.ChainID)
			}
		}
	}
	return &m, nil
}

// VerifyVote checks that v is signed by a member of vs. It fails with
// ErrUnauthorized if the voter is not in the set, and with the error of
// crypto.PublicKey.Verify (ErrBadSignature, ErrMalformedSignature or
// ErrHighS), wrapped, if the signature is not the voter's. Pass the
// validator set of the vote's own height.
func (vs *ValidatorSet) VerifyVote(v *Vote) error {
	return vs.verifySigned(v.Validator, "voter", v.SignBytes(), v.Signature)
}

// VerifyProposal checks the proposer's signature on sp for chainID against
// vs, the validator set of the proposal's height, with the same errors as
// VerifyVote. It does not check that the signer is the proposer the
// proposer rule picks for the round (consensus.Proposer does that), nor
// the block or the POL votes.
func (vs *ValidatorSet) VerifyProposal(chainID string, sp *SignedProposal) error {
	return vs.verifySigned(sp.Proposal.Proposer, "proposer", ProposalSignBytes(chainID, sp.Proposal), sp.Signature)
}

// verifySigned checks that who is in vs and signed msg with sig.
func (vs *ValidatorSet) verifySigned(who Address, role string, msg, sig []byte) error {
	val, ok := vs.Find(who)
	if !ok {
		return fmt.Errorf("%w: %s %s is not a validator", ErrUnauthorized, role, who)
	}
	pub, err := validatorKey(val.PubKey)
	if err != nil {
		return fmt.Errorf("key of %s %s: %w", role, who, err)
	}
	if err := pub.Verify(msg, sig); err != nil {
		return fmt.Errorf("signature of %s %s: %w", role, who, err)
	}
	return nil
}

// Names of the gossip topics and stream protocols of a chain. The chain id
// is inside each, so nodes of different chains never mix messages; the
// trailing number is the version of the message format.

// TxTopic is the gossip topic on which a chain's transactions travel, each
// message one transaction in its canonical encoding or a batch of them
// (EncodeTxBatch).
func TxTopic(chainID string) string { return "/citychain/" + chainID + "/txs/1" }

// ConsensusTopic is the gossip topic of a chain's ConsensusMessages.
// Version 2: proposals carry a CompactBlock (version 1 carried the whole
// block's bytes).
func ConsensusTopic(chainID string) string { return "/citychain/" + chainID + "/consensus/2" }

// EvidenceTopic is the gossip topic of evidence (one Evidence in its
// canonical encoding per message), so that a misbehaviour seen by one
// node reaches every validator's pool.
func EvidenceTopic(chainID string) string { return "/citychain/" + chainID + "/evidence/1" }

// TxFetchProtocolID is the stream protocol through which a node asks a
// peer for transactions by hash (see TxRequest).
func TxFetchProtocolID(chainID string) string { return "/citychain/" + chainID + "/txfetch/1" }

// SyncProtocolID is the stream protocol of a chain's block sync (see
// SyncRequest).
func SyncProtocolID(chainID string) string { return "/citychain/" + chainID + "/sync/1" }

// GossipMessageID names a gossip message by SHA-256(topic ‖ 0x00 ‖ data),
// so equal bytes on one topic are one message however often and by
// whomever they are published, and a node drops a message it has seen.
// The topic is inside because one "seen" cache serves every topic; topic
// names never contain a zero byte.
func GossipMessageID(topic string, data []byte) Hash {
	h := sha256.New()
	h.Write([]byte(topic))
	h.Write([]byte{0})
	h.Write(data)
	return Hash(h.Sum(nil))
}

// Block sync. A node that is behind opens a stream of SyncProtocolID to a
// peer and writes one frame holding an encoded SyncRequest, then closes
// its side. A frame is a 4-byte big-endian length followed by that many
// bytes. The peer answers with two frames per height from From on, the
// canonical block and then the canonical commit that finalised it, in
// increasing height order, and ends the answer with an empty frame (length
// 0). It may stop before To: when it has no more blocks, or before an
// entry that would take the answer above MaxSyncAnswerSize (the first
// entry is always sent). A peer that cannot or will not answer resets the
// stream. The asker checks each block and commit as it applies them; the
// frames are only transport.
const (
	// SyncRequestSize is the length of an encoded SyncRequest.
	SyncRequestSize = 16
	// MaxSyncRange is the largest number of heights one request asks for.
	MaxSyncRange = 100
	// MaxSyncEntrySize bounds one block or one commit frame of an answer.
	MaxSyncEntrySize = 16 << 20
	// MaxSyncAnswerSize bounds the block and commit bytes of one answer.
	MaxSyncAnswerSize = 64 << 20
)

// SyncRequest asks a peer for the blocks from From to To, both included.
type SyncRequest struct {
	From, To uint64
}

// Encode returns From and To as two 8-byte big-endian integers.
func (r SyncRequest) Encode() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, SyncRequestSize), r.From)
	return binary.BigEndian.AppendUint64(b, r.To)
}

// ValidateBasic checks that r is a range of 1 to MaxSyncRange heights
// starting at height 1 or later, or fails with ErrDecode.
func (r SyncRequest) ValidateBasic() error {
	if r.From == 0 || r.To < r.From || r.To-r.From >= MaxSyncRange {
		return fmt.Errorf("%w: sync range [%d, %d]", ErrDecode, r.From, r.To)
	}
	return nil
}

// Count returns the number of heights in a request that passed
// ValidateBasic.
func (r SyncRequest) Count() uint64 { return r.To - r.From + 1 }

// DecodeSyncRequest parses exactly SyncRequestSize bytes and checks the
// range (ValidateBasic). It fails with ErrDecode.
func DecodeSyncRequest(b []byte) (SyncRequest, error) {
	if len(b) != SyncRequestSize {
		return SyncRequest{}, fmt.Errorf("%w: sync request of %d bytes", ErrDecode, len(b))
	}
	r := SyncRequest{From: binary.BigEndian.Uint64(b), To: binary.BigEndian.Uint64(b[8:])}
	if err := r.ValidateBasic(); err != nil {
		return SyncRequest{}, err
	}
	return r, nil
}

// Transaction fetch. A validator that cannot rebuild a proposed block
// from the transactions it holds opens a stream of TxFetchProtocolID to a
// peer and writes one frame holding an encoded TxRequest, then closes its
// side. The peer answers with exactly one frame per requested hash, in
// the order of the request: the transaction's canonical bytes, or an
// empty frame if it does not hold that transaction. A frame holds at most
// MaxTxSize bytes, and the non-empty frames of one answer at most
// MaxTxAnswerSize bytes together (a peer leaves empty the frames that
// would cross it). A peer that cannot or will not answer resets the
// stream. The asker checks that each transaction hashes to the hash it
// asked for; the frames are only transport.
const (
	// MaxTxRequest is the most hashes one request asks for: a block's
	// worth.
	MaxTxRequest = MaxBlockTxs
	// MaxTxRequestSize is the length of the longest encoded TxRequest.
	MaxTxRequestSize = MaxTxRequest * HashSize
	// MaxTxAnswerSize bounds the transaction bytes of one answer: a
	// block's worth.
	MaxTxAnswerSize = MaxBlockSize
)

// TxRequest asks a peer for the transactions with the given hashes.
type TxRequest struct {
	Hashes []Hash
}

// Encode returns the hashes one after the other, 32 bytes each.
func (r TxRequest) Encode() []byte {
	b := make([]byte, 0, len(r.Hashes)*HashSize)
	for _, h := range r.Hashes {
		b = append(b, h[:]...)
	}
	return b
}

// ValidateBasic checks that r asks for 1 to MaxTxRequest transactions, or
// fails with ErrDecode.
func (r TxRequest) ValidateBasic() error {
	if len(r.Hashes) == 0 || len(r.Hashes) > MaxTxRequest {
		return fmt.Errorf("%w: tx request for %d transactions, want 1 to %d", ErrDecode, len(r.Hashes), MaxTxRequest)
	}
	return nil
}

// DecodeTxRequest parses a request: a whole number of 32-byte hashes,
// 1 to MaxTxRequest of them. It fails with ErrDecode.
func DecodeTxRequest(b []byte) (TxRequest, error) {
	if len(b)%HashSize != 0 || len(b) > MaxTxRequestSize {
		return TxRequest{}, fmt.Errorf("%w: tx request of %d bytes", ErrDecode, len(b))
	}
	r := TxRequest{Hashes: make([]Hash, len(b)/HashSize)}
	for i := range r.Hashes {
		copy(r.Hashes[i][:], b[i*HashSize:])
	}
	if err := r.ValidateBasic(); err != nil {
		return TxRequest{}, err
	}
	return r, nil
}
