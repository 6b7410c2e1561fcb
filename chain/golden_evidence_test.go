package chain_test

// Golden vectors for evidence: block 3 of the golden chain carries two
// pieces, a double prevote of golden key 3 and a double proposal of golden
// key 1, both at height 2. Written to testdata/golden/block_evidence.json
// by `go test ./chain/ -run TestGoldenEvidence -update`, checked byte for
// byte on every run and rebuilt by hand from the recipe in
// testdata/golden/README.md.

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/citychain/citychain/chain"
)

// goldenOtherBlock is the hash of a block that never existed, the second
// block the offenders sign for at height 2.
var goldenOtherBlock = chain.Sum([]byte("golden other block 2"))

// goldenProposalSignBytes builds a proposal's sign bytes by hand.
func goldenProposalSignBytes(p *chain.EvidenceProposal) []byte {
	return refEncode(map[string]any{
		"chain_id": goldenChainID,
		"proposal": map[string]any{"height": p.Height, "round": uint64(p.Round), "block_hash": p.BlockHash[:],
			"pol_round": int64(p.POLRound), "proposer": p.Proposer[:]},
	})
}

// goldenEvidenceBlock returns block 3, which carries the evidence.
func goldenEvidenceBlock() *chain.Block {
	_, _, b2 := goldenChain()
	prevote := func(block chain.Hash) chain.Vote {
		v := chain.Vote{ChainID: goldenChainID, Type: chain.Prevote, Height: 2, Round: 0, BlockHash: block, Validator: goldenAddr(3)}
		v.Sign(goldenKey(3))
		return v
	}
	propose := func(block chain.Hash) chain.EvidenceProposal {
		p := chain.EvidenceProposal{Height: 2, Round: 0, BlockHash: block, POLRound: -1, Proposer: goldenAddr(1)}
		p.Sign(goldenChainID, goldenKey(1))
		return p
	}
	evs := []chain.Evidence{
		chain.NewDuplicateVote(prevote(b2.Hash()), prevote(goldenOtherBlock)),
		chain.NewConflictingProposal(propose(b2.Hash()), propose(goldenOtherBlock)),
	}
	c2 := goldenCommit(2, 1, b2.Hash(), 3, 0, 2)
	return &chain.Block{
		Header: chain.Header{
			ChainID:        goldenChainID,
			Height:         3,
			Time:           1767225603000,
			PrevHash:       b2.Hash(),
			StateRoot:      chain.Sum([]byte("golden state root 3")),
			Proposer:       goldenAddr(2),
			ValidatorsHash: goldenValidators().Hash(),
			LastCommitHash: c2.Hash(),
			EvidenceHash:   chain.ComputeEvidenceHash(evs),
		},
		Txs:        [][]byte{},
		LastCommit: c2,
		Evidence:   evs,
	}
}

type goldenHalfJSON struct {
	BlockHash    string `json:"block_hash"`
	SignBytesHex string `json:"sign_bytes_hex"`
	Signature    string `json:"signature"`
}

type goldenEvidenceJSON struct {
	Kind        string         `json:"kind"`
	Offender    string         `json:"offender"`
	OffenderHex string         `json:"offender_hex"`
	Height      uint64         `json:"height"`
	Round       uint32         `json:"round"`
	VoteType    uint8          `json:"vote_type,omitempty"`
	POLRound    int32          `json:"pol_round,omitempty"`
	A           goldenHalfJSON `json:"a"`
	B           goldenHalfJSON `json:"b"`
	EncodingHex string         `json:"encoding_hex"`
	Hash        string         `json:"hash"`
}

type goldenEvidenceBlockJSON struct {
	Comment      string               `json:"comment"`
	ChainID      string               `json:"chain_id"`
	Header       goldenHeaderJSON     `json:"header"`
	EvidenceHash string               `json:"evidence_hash"`
	Evidence     []goldenEvidenceJSON `json:"evidence"`
	LastCommit   goldenCommitJSON     `json:"last_commit"`
	EncodingHex  string               `json:"encoding_hex"`
	Hash         string               `json:"hash"`
}

func goldenEvidenceFile(t *testing.T) []byte {
	t.Helper()
	b3 := goldenEvidenceBlock()
	out := goldenEvidenceBlockJSON{
		Comment: "block 3: no transactions; the commit of block 2 (as in commit.json); evidence that golden key 3 " +
			"prevoted for block 2 and for another block at height 2 round 0, and that golden key 1 proposed both " +
			"at height 2 round 0; the other block's hash is SHA-256(\"golden other block 2\"); state root a stand-in",
		ChainID: goldenChainID, Header: headerJSON(&b3.Header), EvidenceHash: b3.Header.EvidenceHash.String(),
		LastCommit: commitJSON(b3.LastCommit), EncodingHex: hx(b3.Encode()), Hash: b3.Hash().String(),
	}
	for _, ev := range b3.Evidence {
		o := ev.Offence()
		g := goldenEvidenceJSON{Kind: o.Kind, Offender: o.Validator.String(), OffenderHex: hx(o.Validator[:]),
			Height: o.Height, Round: o.Round, VoteType: uint8(o.VoteType), EncodingHex: hx(ev.Encode()), Hash: ev.Hash().String()}
		if d := ev.DuplicateVote; d != nil {
			g.A = goldenHalfJSON{d.A.BlockHash.String(), hx(d.A.SignBytes()), hx(d.A.Signature)}
			g.B = goldenHalfJSON{d.B.BlockHash.String(), hx(d.B.SignBytes()), hx(d.B.Signature)}
		} else {
			c := ev.ConflictingProposal
			g.POLRound = c.A.POLRound
			g.A = goldenHalfJSON{c.A.BlockHash.String(), hx(goldenProposalSignBytes(&c.A)), hx(c.A.Signature)}
			g.B = goldenHalfJSON{c.B.BlockHash.String(), hx(goldenProposalSignBytes(&c.B)), hx(c.B.Signature)}
		}
		out.Evidence = append(out.Evidence, g)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestGoldenEvidence(t *testing.T) {
	path := filepath.Join("testdata", "golden", "block_evidence.json")
	got := goldenEvidenceFile(t)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("block_evidence.json: the current code no longer reproduces the golden file byte for byte.\n%s",
			firstDiff(string(want), string(got)))
	}
}

// TestGoldenEvidenceAsClient reads the file as a client would: the block
// decodes and passes its checks, and every piece of evidence verifies
// against the golden validator set (the set of height 2).
func TestGoldenEvidenceAsClient(t *testing.T) {
	var g goldenEvidenceBlockJSON
	readGolden(t, "block_evidence.json", &g)
	b, err := chain.DecodeBlock(unhex(t, g.EncodingHex))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ValidateBasic(goldenChainID); err != nil {
		t.Fatal(err)
	}
	if b.Hash().String() != g.Hash || len(b.Evidence) != len(g.Evidence) {
		t.Fatal("block hash or evidence count disagrees with the file")
	}
	vs := goldenValidators()
	for i, ev := range b.Evidence {
		if err := ev.Verify(goldenChainID, vs); err != nil {
			t.Errorf("evidence %d: %v", i, err)
		}
		pub := goldenKey(map[string]int{chain.EvidenceDuplicateVote: 3, chain.EvidenceConflictingProposal: 1}[ev.Kind()]).PublicKey()
		for _, h := range []goldenHalfJSON{g.Evidence[i].A, g.Evidence[i].B} {
			if err := pub.Verify(unhex(t, h.SignBytesHex), unhex(t, h.Signature)); err != nil {
				t.Errorf("evidence %d: the file's signature does not verify over the file's sign bytes: %v", i, err)
			}
		}
	}
}

// TestGoldenEvidenceByHand rebuilds the evidence, the header and the block
// with refEncode, following the README.
func TestGoldenEvidenceByHand(t *testing.T) {
	var g goldenEvidenceBlockJSON
	readGolden(t, "block_evidence.json", &g)
	var evs []any
	var leaves [][]byte
	for i, e := range g.Evidence {
		var m map[string]any
		half := func(h goldenHalfJSON) map[string]any {
			if e.Kind == chain.EvidenceDuplicateVote {
				return map[string]any{"chain_id": g.ChainID, "type": uint64(e.VoteType), "height": e.Height,
					"round": uint64(e.Round), "block_hash": unhex(t, h.BlockHash), "validator": unhex(t, e.OffenderHex),
					"signature": unhex(t, h.Signature)}
			}
			return map[string]any{"height": e.Height, "round": uint64(e.Round), "block_hash": unhex(t, h.BlockHash),
				"pol_round": int64(e.POLRound), "proposer": unhex(t, e.OffenderHex), "signature": unhex(t, h.Signature)}
		}
		m = map[string]any{e.Kind: map[string]any{"a": half(e.A), "b": half(e.B)}}
		enc := refEncode(m)
		if hx(enc) != e.EncodingHex {
			t.Errorf("evidence %d by hand:\n got %s\nwant %s", i, hx(enc), e.EncodingHex)
		}
		if sum := sha256.Sum256(enc); hx(sum[:]) != e.Hash {
			t.Errorf("evidence %d: hash is not SHA-256 of the encoding", i)
		}
		evs = append(evs, m)
		leaves = append(leaves, enc)
	}
	// The evidence hash: an RFC 6962 Merkle root, here over two leaves.
	leaf := func(b []byte) []byte { s := sha256.Sum256(append([]byte{0}, b...)); return s[:] }
	root := sha256.Sum256(append(append([]byte{1}, leaf(leaves[0])...), leaf(leaves[1])...))
	if hx(root[:]) != g.EvidenceHash {
		t.Errorf("evidence hash by hand %x, file says %s", root, g.EvidenceHash)
	}
	h := g.Header
	hdr := map[string]any{
		"chain_id": h.ChainID, "height": h.Height, "time": h.Time,
		"prev_hash": unhex(t, h.PrevHash), "tx_root": unhex(t, h.TxRoot), "state_root": unhex(t, h.StateRoot),
		"receipts_root": unhex(t, h.ReceiptsRoot), "proposer": unhex(t, h.ProposerHex),
		"validators_hash": unhex(t, h.ValidatorsHash), "last_commit_hash": unhex(t, h.LastCommitHash),
		"evidence_hash": unhex(t, g.EvidenceHash),
	}
	if got := hx(refEncode(hdr)); got != h.EncodingHex {
		t.Errorf("header by hand:\n got %s\nwant %s", got, h.EncodingHex)
	}
	c := g.LastCommit
	var sigs []any
	for _, v := range c.Votes {
		a, err := chain.ParseAddress(v.Validator)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, map[string]any{"validator": a[:], "signature": unhex(t, v.Signature)})
	}
	commit := map[string]any{"height": c.Height, "round": uint64(c.Round), "block_hash": unhex(t, c.BlockHash), "signatures": sigs}
	block := map[string]any{"header": hdr, "txs": []any{}, "last_commit": commit, "evidence": evs}
	if got := hx(refEncode(block)); got != g.EncodingHex {
		t.Errorf("block by hand:\n got %s\nwant %s", got, g.EncodingHex)
	}
}
