package node

import (
	"encoding/hex"
	"encoding/json"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// The JSON shapes of the API. They are separate from the chain types so
// that the wire format of the API is written down in one place.

// BlockView is a block as GET /v1/blocks/{h} shows it: the header in
// its one JSON shape (chain.HeaderJSON, whose Header method rebuilds and
// checks it), then the block's transactions and evidence, the commit
// that finalised it, and the commit of its parent that it carries.
type BlockView struct {
	chain.HeaderJSON
	Txs        []TxSummary    `json:"txs"`
	Evidence   []EvidenceView `json:"evidence"`
	Commit     *CommitView    `json:"commit"`
	LastCommit *CommitView    `json:"last_commit"`
}

// AppsView is GET /v1/apps: the chain's modules in their fixed order.
type AppsView struct {
	Apps []AppView `json:"apps"`
}

// AppView is one module in GET /v1/apps: its name, and the title and
// links it gives the explorer (sdk.Explorer), empty when it gives none.
// Its index is GET /v1/apps/{name}/.
type AppView struct {
	Name  string     `json:"name"`
	Title string     `json:"title"`
	Links []sdk.Link `json:"links"`
}

// TxSummary is a transaction inside a block listing.
type TxSummary struct {
	Hash   chain.Hash    `json:"hash"`
	App    string        `json:"app"`
	Action string        `json:"action"`
	Sender chain.Address `json:"sender"`
	Nonce  uint64        `json:"nonce"`
}

// CommitView is a commit certificate.
type CommitView struct {
	Height     uint64       `json:"height"`
	Round      uint32       `json:"round"`
	BlockHash  chain.Hash   `json:"block_hash"`
	Signatures []CommitSigV `json:"signatures"`
}

// CommitSigV is one validator's signature in a commit.
type CommitSigV struct {
	Validator chain.Address `json:"validator"`
	Signature string        `json:"signature"`
	// SignBytes is the canonical encoding of the precommit the signature
	// is over (hex); the signature signs its SHA-256.
	SignBytes string `json:"sign_bytes"`
}

// EvidenceView is one piece of evidence a block carries. The first
// fields say what it proves (chain.Evidence's Offence and the two block
// hashes, a's first); duplicate_vote or conflicting_proposal holds the two
// signed statements under the names chain.Evidence has in JSON, each with
// its signature in hex and the bytes that signature signs.
type EvidenceView struct {
	Hash     chain.Hash    `json:"hash"` // SHA-256 of the evidence's encoding
	Kind     string        `json:"kind"` // chain.EvidenceDuplicateVote or chain.EvidenceConflictingProposal
	Offender chain.Address `json:"offender"`
	Height   uint64        `json:"height"` // of the offence
	Round    uint32        `json:"round"`
	// VoteType is 1 (prevote) or 2 (precommit) for a duplicate vote, 0 for
	// a conflicting proposal.
	VoteType            chain.VoteType    `json:"vote_type"`
	BlockHashes         [2]chain.Hash     `json:"block_hashes"`
	DuplicateVote       *VotePairView     `json:"duplicate_vote,omitempty"`
	ConflictingProposal *ProposalPairView `json:"conflicting_proposal,omitempty"`
}

// VotePairView is the two votes of a duplicate vote.
type VotePairView struct {
	A VoteView `json:"a"`
	B VoteView `json:"b"`
}

// VoteView is a signed vote: chain.Vote's JSON fields, the signature in
// hex, and SignBytes, the hex of the canonical encoding the signature is
// over (chain_id included); the signature signs its SHA-256.
type VoteView struct {
	Type      chain.VoteType `json:"type"`
	Height    uint64         `json:"height"`
	Round     uint32         `json:"round"`
	BlockHash chain.Hash     `json:"block_hash"`
	Validator chain.Address  `json:"validator"`
	Signature string         `json:"signature"`
	SignBytes string         `json:"sign_bytes"`
}

// ProposalPairView is the two proposals of a conflicting proposal.
type ProposalPairView struct {
	A ProposalView `json:"a"`
	B ProposalView `json:"b"`
}

// ProposalView is a signed proposal as evidence holds it:
// chain.EvidenceProposal's JSON fields, the signature in hex, and the hex
// of the bytes it signs (chain.ProposalSignBytes).
type ProposalView struct {
	Height    uint64        `json:"height"`
	Round     uint32        `json:"round"`
	BlockHash chain.Hash    `json:"block_hash"`
	POLRound  int32         `json:"pol_round"`
	Proposer  chain.Address `json:"proposer"`
	Signature string        `json:"signature"`
	SignBytes string        `json:"sign_bytes"`
}

// TxView is GET /v1/txs/{hash}: the transaction and its receipt.
type TxView struct {
	Hash   chain.Hash      `json:"hash"`
	Status string          `json:"status"` // ok, failed, pending
	Error  string          `json:"error"`
	Height uint64          `json:"height"`
	Index  uint32          `json:"index"`
	Events []chain.Event   `json:"events"`
	Sender chain.Address   `json:"sender"`
	Tx     json.RawMessage `json:"tx,omitempty"`
	// Raw is the transaction's canonical encoding (hex), whose SHA-256 is
	// its hash; SignBytes is the part its signature covers (hex).
	Raw       string `json:"raw,omitempty"`
	SignBytes string `json:"sign_bytes,omitempty"`
}

func commitView(chainID string, c *chain.Commit) *CommitView {
	if c == nil {
		return nil
	}
	v := &CommitView{Height: c.Height, Round: c.Round, BlockHash: c.BlockHash, Signatures: []CommitSigV{}}
	for _, s := range c.Signatures {
		vote := chain.Vote{ChainID: chainID, Type: chain.Precommit, Height: c.Height, Round: c.Round, BlockHash: c.BlockHash, Validator: s.Validator}
		v.Signatures = append(v.Signatures, CommitSigV{Validator: s.Validator, Signature: hex.EncodeToString(s.Signature),
			SignBytes: hex.EncodeToString(vote.SignBytes())})
	}
	return v
}

func voteView(v *chain.Vote) VoteView {
	return VoteView{Type: v.Type, Height: v.Height, Round: v.Round, BlockHash: v.BlockHash, Validator: v.Validator,
		Signature: hex.EncodeToString(v.Signature), SignBytes: hex.EncodeToString(v.SignBytes())}
}

func proposalView(chainID string, p *chain.EvidenceProposal) ProposalView {
	return ProposalView{Height: p.Height, Round: p.Round, BlockHash: p.BlockHash, POLRound: p.POLRound,
		Proposer: p.Proposer, Signature: hex.EncodeToString(p.Signature),
		SignBytes: hex.EncodeToString(chain.ProposalSignBytes(chainID, p.Proposal()))}
}

// evidenceView shows one piece of a stored block's evidence, which
// passed Block.ValidateBasic: exactly one kind is set.
func evidenceView(chainID string, ev *chain.Evidence) EvidenceView {
	o := ev.Offence()
	v := EvidenceView{Hash: ev.Hash(), Kind: o.Kind, Offender: o.Validator, Height: o.Height, Round: o.Round, VoteType: o.VoteType}
	switch {
	case ev.DuplicateVote != nil:
		d := ev.DuplicateVote
		v.BlockHashes = [2]chain.Hash{d.A.BlockHash, d.B.BlockHash}
		v.DuplicateVote = &VotePairView{A: voteView(&d.A), B: voteView(&d.B)}
	case ev.ConflictingProposal != nil:
		c := ev.ConflictingProposal
		v.BlockHashes = [2]chain.Hash{c.A.BlockHash, c.B.BlockHash}
		v.ConflictingProposal = &ProposalPairView{A: proposalView(chainID, &c.A), B: proposalView(chainID, &c.B)}
	}
	return v
}

func blockView(b *chain.Block, c *chain.Commit) BlockView {
	h := b.Header
	v := BlockView{HeaderJSON: chain.NewHeaderJSON(&h), Txs: []TxSummary{}, Evidence: []EvidenceView{},
		Commit: commitView(h.ChainID, c), LastCommit: commitView(h.ChainID, b.LastCommit)}
	for i := range b.Evidence {
		v.Evidence = append(v.Evidence, evidenceView(h.ChainID, &b.Evidence[i]))
	}
	for _, raw := range b.Txs {
		s := TxSummary{Hash: chain.Sum(raw)}
		if tx, err := chain.DecodeTx(raw); err == nil {
			s.App, s.Action, s.Sender, s.Nonce = tx.App, tx.Action, tx.Sender(), tx.Nonce
		}
		v.Txs = append(v.Txs, s)
	}
	return v
}

// blockSummary is a block as the event stream announces it; evidence is
// the number of pieces of evidence it carries.
func blockSummary(b *chain.Block) map[string]any {
	return map[string]any{"height": b.Header.Height, "hash": b.Hash(), "time": b.Header.BlockTime(),
		"txs": len(b.Txs), "evidence": len(b.Evidence), "proposer": b.Header.Proposer, "state_root": b.Header.StateRoot}
}

func txView(raw []byte, r *chain.Receipt) TxView {
	v := TxView{Hash: r.TxHash, Status: r.Status, Error: r.Error, Height: r.Height, Index: r.Index, Events: r.Events}
	if v.Events == nil {
		v.Events = []chain.Event{}
	}
	if tx, err := chain.DecodeTx(raw); err == nil {
		v.Sender = tx.Sender()
		if j, err := json.Marshal(tx); err == nil {
			v.Tx = j
		}
		v.Raw, v.SignBytes = hex.EncodeToString(raw), hex.EncodeToString(tx.SignBytes())
	}
	return v
}
