package node

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/citychain/citychain/apps/poa"
	"github.com/citychain/citychain/chain"
)

// TestBlockViewShowsEvidence stores, through the node's own pool and
// block building, a block that carries two pieces of evidence of the
// 4-validator test chain: validator 3 prevoted twice at the tip's height,
// validator 2 proposed twice at the height below. GET /v1/blocks/{h}
// (and latest) shows the evidence hash and each piece, with what it
// proves and both signed halves, whose signatures check against the
// shown sign bytes; the block before shows none. Poa's evidence/{h}
// query lists the records that block made, each offender to leave the
// set two heights on.
func TestBlockViewShowsEvidence(t *testing.T) {
	g := newChainGen(t)
	offence := g.tip.Height
	vote := g.doubleVote(3, offence, chain.Hash{0xb2})
	prop := func(block byte) chain.EvidenceProposal {
		p := chain.EvidenceProposal{Height: offence - 1, Round: 1, BlockHash: chain.Hash{block}, POLRound: -1, Proposer: devAddr(2)}
		p.Sign(g.chainID, DevValidatorKey(2))
		return p
	}
	proposal := chain.NewConflictingProposal(prop(0xc2), prop(0xc1))
	for _, ev := range []chain.Evidence{vote, proposal} {
		if err := g.n.evpool.add(ev, g.n.validatorsFor, g.chainID); err != nil {
			t.Fatal(err)
		}
	}
	g.extend()
	h := g.n.store.Latest().Height
	srv := httptest.NewServer(g.n.routes())
	defer srv.Close()

	var b BlockView
	if code := getJSON(t, fmt.Sprintf("%s/v1/blocks/%d", srv.URL, h), &b); code != 200 {
		t.Fatalf("GET block %d: %d", h, code)
	}
	stored, err := g.n.store.Block(h)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Evidence) != 2 || b.EvidenceHash.IsZero() || b.EvidenceHash != stored.Header.EvidenceHash ||
		b.EvidenceHash != chain.ComputeEvidenceHash(stored.Evidence) {
		t.Fatalf("block %d: %d pieces stored, evidence_hash %s", h, len(stored.Evidence), b.EvidenceHash)
	}
	if len(b.Evidence) != 2 {
		t.Fatalf("block %d shows %d pieces of evidence, want 2", h, len(b.Evidence))
	}
	// The pool hands evidence out in offence order: the older offence,
	// validator 2's proposals, first.
	p, v := b.Evidence[0], b.Evidence[1]
	if p.Kind != chain.EvidenceConflictingProposal || p.Offender != devAddr(2) || p.Height != offence-1 || p.Round != 1 ||
		p.VoteType != 0 || p.Hash != proposal.Hash() || p.BlockHashes != [2]chain.Hash{{0xc1}, {0xc2}} ||
		p.ConflictingProposal == nil || p.DuplicateVote != nil || p.ConflictingProposal.A.POLRound != -1 {
		t.Errorf("the conflicting proposal shows as %+v", p)
	}
	if v.Kind != chain.EvidenceDuplicateVote || v.Offender != devAddr(3) || v.Height != offence || v.Round != 0 ||
		v.VoteType != chain.Prevote || v.Hash != vote.Hash() || v.BlockHashes != [2]chain.Hash{{0xa1}, {0xb2}} ||
		v.DuplicateVote == nil || v.ConflictingProposal != nil {
		t.Errorf("the duplicate vote shows as %+v", v)
	}
	// Each half's signature is over the sign bytes shown with it.
	checkSig := func(who int, what, signBytes, sig string) {
		t.Helper()
		msg, err1 := hex.DecodeString(signBytes)
		s, err2 := hex.DecodeString(sig)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: sign_bytes or signature is not hex", what)
		}
		if err := DevValidatorKey(who).PublicKey().Verify(msg, s); err != nil {
			t.Errorf("%s: the signature does not check against the shown sign bytes: %v", what, err)
		}
	}
	if d := v.DuplicateVote; d != nil {
		checkSig(3, "vote a", d.A.SignBytes, d.A.Signature)
		checkSig(3, "vote b", d.B.SignBytes, d.B.Signature)
		if d.A.Validator != devAddr(3) || d.A.Type != chain.Prevote || d.A.BlockHash != (chain.Hash{0xa1}) {
			t.Errorf("vote a shows as %+v", d.A)
		}
	}
	if c := p.ConflictingProposal; c != nil {
		checkSig(2, "proposal a", c.A.SignBytes, c.A.Signature)
		checkSig(2, "proposal b", c.B.SignBytes, c.B.Signature)
		if c.B.Proposer != devAddr(2) || c.B.BlockHash != (chain.Hash{0xc2}) {
			t.Errorf("proposal b shows as %+v", c.B)
		}
	}

	// The JSON names: the halves under chain.Evidence's own names.
	var raw map[string]any
	getJSON(t, srv.URL+"/v1/blocks/latest", &raw)
	evs, _ := raw["evidence"].([]any)
	if raw["evidence_hash"] != b.EvidenceHash.String() || len(evs) != 2 {
		t.Fatalf("latest: evidence_hash %v, evidence %v", raw["evidence_hash"], raw["evidence"])
	}
	first, _ := json.Marshal(evs[1])
	var shape struct {
		Kind, Offender string
		VoteType       int      `json:"vote_type"`
		BlockHashes    []string `json:"block_hashes"`
		DuplicateVote  struct {
			A map[string]any `json:"a"`
		} `json:"duplicate_vote"`
	}
	if err := json.Unmarshal(first, &shape); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"type", "height", "round", "block_hash", "validator", "signature", "sign_bytes"} {
		if _, ok := shape.DuplicateVote.A[k]; !ok {
			t.Errorf("a vote in evidence lacks %q: %s", k, first)
		}
	}
	if shape.Kind != "duplicate_vote" || shape.Offender != devAddr(3).String() || shape.VoteType != 1 || len(shape.BlockHashes) != 2 {
		t.Errorf("the duplicate vote in JSON: %s", first)
	}

	// The block before carries none: a zero hash and an empty list.
	var before map[string]any
	getJSON(t, fmt.Sprintf("%s/v1/blocks/%d", srv.URL, h-1), &before)
	if list, ok := before["evidence"].([]any); !ok || len(list) != 0 || before["evidence_hash"] != (chain.Hash{}).String() {
		t.Errorf("block %d without evidence: evidence %v, evidence_hash %v", h-1, before["evidence"], before["evidence_hash"])
	}

	// Poa recorded both offences in that block.
	var recs []poa.EvidenceRecord
	if code := getJSON(t, fmt.Sprintf("%s/v1/apps/poa/evidence/%d", srv.URL, h), &recs); code != 200 {
		t.Fatalf("poa evidence/%d: %d", h, code)
	}
	if len(recs) != 2 {
		t.Fatalf("poa evidence/%d: %+v", h, recs)
	}
	for _, r := range recs {
		if r.Committed != h || r.RemovalAt != h+poa.ActivationDelay || r.NotRemoved != "" || r.Reporter != "" {
			t.Errorf("record %+v", r)
		}
	}
	var none []poa.EvidenceRecord
	if getJSON(t, fmt.Sprintf("%s/v1/apps/poa/evidence/%d", srv.URL, h-1), &none); len(none) != 0 {
		t.Errorf("poa evidence/%d: %+v", h-1, none)
	}
}
