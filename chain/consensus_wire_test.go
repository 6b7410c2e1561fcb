package chain_test

// Golden vectors of the consensus messages, written to
// testdata/golden/consensus.json with every byte string in hex: a
// proposal and its sign bytes, two votes, three gossip messages (block 2
// proposed again, in compact form, with its proof-of-lock, a prevote, a
// resent nil precommit), the topic names, a transaction fetch request
// with its answer, and a sync request with its answer. After an intended
// change of format, regenerate with
//
//	go test ./chain/ -run TestGoldenConsensus -update

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// The file shape. Byte strings are lowercase hex; hashes are SHA-256.

type cwProposalJSON struct {
	Height          uint64 `json:"height"`
	Round           uint32 `json:"round"`
	BlockHash       string `json:"block_hash"`
	POLRound        int32  `json:"pol_round"`
	Proposer        string `json:"proposer"`
	ProposerHex     string `json:"proposer_hex"`
	SignBytesHex    string `json:"sign_bytes_hex"`
	SignBytesSHA256 string `json:"sign_bytes_sha256"`
	Signature       string `json:"signature"`
}

type cwVoteJSON struct {
	Type         uint8  `json:"type"`
	Height       uint64 `json:"height"`
	Round        uint32 `json:"round"`
	BlockHash    string `json:"block_hash"`
	Validator    string `json:"validator"`
	ValidatorHex string `json:"validator_hex"`
	SignBytesHex string `json:"sign_bytes_hex"`
	Signature    string `json:"signature"`
	EncodingHex  string `json:"encoding_hex"`
}

type cwMessageJSON struct {
	Name            string `json:"name"`
	Comment         string `json:"comment"`
	EncodingHex     string `json:"encoding_hex"`
	GossipMessageID string `json:"gossip_message_id"`
}

type cwSyncJSON struct {
	Comment         string `json:"comment"`
	ProtocolID      string `json:"protocol_id"`
	From            uint64 `json:"from"`
	To              uint64 `json:"to"`
	RequestHex      string `json:"request_hex"`
	RequestFrameHex string `json:"request_frame_hex"`
	AnswerHex       string `json:"answer_hex"`
}

type cwCompactJSON struct {
	Comment     string   `json:"comment"`
	TxHashes    []string `json:"tx_hashes"`
	EncodingHex string   `json:"encoding_hex"`
	Hash        string   `json:"hash"`
}

type cwTxFetchJSON struct {
	Comment         string   `json:"comment"`
	ProtocolID      string   `json:"protocol_id"`
	Hashes          []string `json:"hashes"`
	RequestHex      string   `json:"request_hex"`
	RequestFrameHex string   `json:"request_frame_hex"`
	AnswerHex       string   `json:"answer_hex"`
}

type cwFileJSON struct {
	Comment        string          `json:"comment"`
	ChainID        string          `json:"chain_id"`
	ValidatorsHash string          `json:"validators_hash"`
	TxTopic        string          `json:"tx_topic"`
	ConsensusTopic string          `json:"consensus_topic"`
	EvidenceTopic  string          `json:"evidence_topic"`
	Proposal       cwProposalJSON  `json:"proposal"`
	CompactBlock   cwCompactJSON   `json:"compact_block"`
	Votes          []cwVoteJSON    `json:"votes"`
	Messages       []cwMessageJSON `json:"messages"`
	TxFetch        cwTxFetchJSON   `json:"tx_fetch"`
	Sync           cwSyncJSON      `json:"sync"`
}

const consensusGolden = "consensus.json"

// cwVote is a vote by golden key signer, signed.
func cwVote(typ chain.VoteType, height uint64, round uint32, block chain.Hash, signer int) *chain.Vote {
	v := &chain.Vote{ChainID: goldenChainID, Type: typ, Height: height, Round: round,
		BlockHash: block, Validator: goldenAddr(signer)}
	v.Sign(goldenKey(signer))
	return v
}

// cwProposal is golden key 1 proposing block 2 again in round 1, citing
// the prevotes of golden keys 0, 1 and 2 for it in round 0.
func cwProposal() *chain.SignedProposal {
	_, _, b2 := goldenChain()
	sp := &chain.SignedProposal{
		Proposal: chain.Proposal{Height: 2, Round: 1, BlockHash: b2.Hash(), POLRound: 0, Proposer: goldenAddr(1)},
		Block:    b2.Compact(),
	}
	for _, i := range []int{0, 1, 2} {
		sp.POL = append(sp.POL, *cwVote(chain.Prevote, 2, 0, b2.Hash(), i))
	}
	sp.Sign(goldenChainID, goldenKey(1))
	return sp
}

// cwVotes are the prevote of golden key 2 for block 2 and the nil
// precommit of golden key 3, both in round 1.
func cwVotes() []*chain.Vote {
	_, _, b2 := goldenChain()
	return []*chain.Vote{cwVote(chain.Prevote, 2, 1, b2.Hash(), 2), cwVote(chain.Precommit, 2, 1, chain.Hash{}, 3)}
}

type cwNamedMessage struct {
	name, comment string
	m             *chain.ConsensusMessage
}

func cwMessages() []cwNamedMessage {
	votes := cwVotes()
	return []cwNamedMessage{
		{"proposal", "the proposal above with block 2 in compact form and its POL (golden keys 0, 1, 2 prevoting block 2 in round 0)",
			&chain.ConsensusMessage{Proposal: cwProposal()}},
		{"prevote", "votes[0], first sending", &chain.ConsensusMessage{Vote: votes[0]}},
		{"nil_precommit_resent", "votes[1], sent for the third time (resend 2)", &chain.ConsensusMessage{Vote: votes[1], Resend: 2}},
	}
}

// cwFrame is one sync frame: a 4-byte big-endian length, then b.
func cwFrame(b []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// cwNotHeld is a transaction hash no one holds, asked for in the golden
// transaction fetch.
var cwNotHeld = chain.Sum([]byte("a transaction no one holds"))

// cwTxFetch is a request for block 2's two transactions and one that the
// peer does not hold, and the answer: the two transactions, then an empty
// frame.
func cwTxFetch() (chain.TxRequest, []byte) {
	_, _, b2 := goldenChain()
	req := chain.TxRequest{Hashes: append(b2.TxHashes(), cwNotHeld)}
	var answer []byte
	for _, raw := range append(b2.Txs, nil) {
		answer = append(answer, cwFrame(raw)...)
	}
	return req, answer
}

// cwSyncAnswer is the answer to a request for heights 1 and 2: block 1
// and its commit, block 2 and its commit, then the empty frame.
func cwSyncAnswer() []byte {
	h1, c1, b2 := goldenChain()
	c2 := goldenCommit(2, 1, b2.Hash(), 3, 0, 2)
	var out []byte
	for _, b := range [][]byte{(&chain.Block{Header: h1}).Encode(), c1.Encode(), b2.Encode(), c2.Encode(), nil} {
		out = append(out, cwFrame(b)...)
	}
	return out
}

func cwVoteJSONOf(v *chain.Vote) cwVoteJSON {
	return cwVoteJSON{Type: uint8(v.Type), Height: v.Height, Round: v.Round, BlockHash: v.BlockHash.String(),
		Validator: v.Validator.String(), ValidatorHex: hx(v.Validator[:]), SignBytesHex: hx(v.SignBytes()),
		Signature: hx(v.Signature), EncodingHex: hx(chain.MustEncode(v))}
}

// consensusGoldenFile renders the golden file from the current code.
func consensusGoldenFile(t *testing.T) []byte {
	t.Helper()
	sp := cwProposal()
	p := sp.Proposal
	sb := chain.ProposalSignBytes(goldenChainID, p)
	sbHash := sha256.Sum256(sb)
	req := chain.SyncRequest{From: 1, To: 2}
	txReq, txAnswer := cwTxFetch()
	var hashes []string
	for _, h := range txReq.Hashes {
		hashes = append(hashes, h.String())
	}
	cb := sp.Block
	var cbHashes []string
	for _, h := range cb.TxHashes {
		cbHashes = append(cbHashes, h.String())
	}
	f := cwFileJSON{
		Comment: "consensus messages of chain citychain-golden, whose validators are golden keys 0..3 " +
			"(power 10 each, see commit.json); block 2 is the block of block.json",
		ChainID: goldenChainID, ValidatorsHash: goldenValidators().Hash().String(),
		TxTopic: chain.TxTopic(goldenChainID), ConsensusTopic: chain.ConsensusTopic(goldenChainID),
		EvidenceTopic: chain.EvidenceTopic(goldenChainID),
		Proposal: cwProposalJSON{Height: p.Height, Round: p.Round, BlockHash: p.BlockHash.String(),
			POLRound: p.POLRound, Proposer: p.Proposer.String(), ProposerHex: hx(p.Proposer[:]),
			SignBytesHex: hx(sb), SignBytesSHA256: hx(sbHash[:]), Signature: hx(sp.Signature)},
		CompactBlock: cwCompactJSON{
			Comment: "block 2 in compact form, as the proposal carries it: the header, the hashes of its " +
				"two transfers, the last commit; the hash is the header's, the same as block 2's",
			TxHashes: cbHashes, EncodingHex: hx(chain.MustEncode(&cb)), Hash: cb.Hash().String(),
		},
		TxFetch: cwTxFetchJSON{
			Comment: "a request for block 2's two transactions and one the peer does not hold, as sent " +
				"(in one frame), and the answer (one frame per hash in request order, empty for the one not held)",
			ProtocolID: chain.TxFetchProtocolID(goldenChainID), Hashes: hashes,
			RequestHex: hx(txReq.Encode()), RequestFrameHex: hx(cwFrame(txReq.Encode())), AnswerHex: hx(txAnswer),
		},
		Sync: cwSyncJSON{
			Comment: "a request for heights 1 and 2, as sent (in one frame) and the answer " +
				"(block 1, its commit, block 2, its commit, empty frame); block 2's commit is the one of commit.json",
			ProtocolID: chain.SyncProtocolID(goldenChainID), From: req.From, To: req.To,
			RequestHex: hx(req.Encode()), RequestFrameHex: hx(cwFrame(req.Encode())), AnswerHex: hx(cwSyncAnswer()),
		},
	}
	for _, v := range cwVotes() {
		f.Votes = append(f.Votes, cwVoteJSONOf(v))
	}
	for _, nm := range cwMessages() {
		enc := nm.m.Encode()
		f.Messages = append(f.Messages, cwMessageJSON{Name: nm.name, Comment: nm.comment, EncodingHex: hx(enc),
			GossipMessageID: chain.GossipMessageID(f.ConsensusTopic, enc).String()})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestGoldenConsensus(t *testing.T) {
	path := filepath.Join("testdata", "golden", consensusGolden)
	got := consensusGoldenFile(t)
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
		t.Errorf("%s: the current code no longer reproduces the golden file byte for byte.\n"+
			"Every node must change with it; if that is intended, rerun with -update.\n%s",
			consensusGolden, firstDiff(string(want), string(got)))
	}
}

// TestGoldenConsensusFileAsClient reads the committed file the way a
// node of another implementation would: it decodes every message, checks
// the signatures against the golden validator set, and takes the sync
// answer apart frame by frame.
func TestGoldenConsensusFileAsClient(t *testing.T) {
	var f cwFileJSON
	readGolden(t, consensusGolden, &f)
	vs := goldenValidators()
	for _, gm := range f.Messages {
		enc := unhex(t, gm.EncodingHex)
		m, err := chain.DecodeConsensusMessage(f.ChainID, enc)
		if err != nil {
			t.Fatalf("%s: %v", gm.Name, err)
		}
		if !bytes.Equal(m.Encode(), enc) {
			t.Errorf("%s: decodes, but re-encodes differently", gm.Name)
		}
		if id := sha256.Sum256(append(append([]byte(f.ConsensusTopic), 0), enc...)); hx(id[:]) != gm.GossipMessageID {
			t.Errorf("%s: gossip message id is not SHA-256(topic 00 data)", gm.Name)
		}
		if m.Vote != nil {
			if err := vs.VerifyVote(m.Vote); err != nil {
				t.Errorf("%s: %v", gm.Name, err)
			}
			continue
		}
		sp := m.Proposal
		if err := vs.VerifyProposal(f.ChainID, sp); err != nil {
			t.Errorf("%s: %v", gm.Name, err)
		}
		if hx(chain.ProposalSignBytes(f.ChainID, sp.Proposal)) != f.Proposal.SignBytesHex || hx(sp.Signature) != f.Proposal.Signature {
			t.Errorf("%s: proposal disagrees with the proposal section", gm.Name)
		}
		if sum := sha256.Sum256(unhex(t, f.Proposal.SignBytesHex)); hx(sum[:]) != f.Proposal.SignBytesSHA256 {
			t.Error("sign_bytes_sha256 is not SHA-256 of the sign bytes")
		}
		if err := sp.Block.ValidateBasic(); err != nil || sp.Block.Hash() != sp.Proposal.BlockHash {
			t.Errorf("%s: the compact block is not the proposed block (%v)", gm.Name, err)
		}
		if hx(chain.MustEncode(&sp.Block)) != f.CompactBlock.EncodingHex || sp.Block.Hash().String() != f.CompactBlock.Hash {
			t.Errorf("%s: the compact block disagrees with the compact_block section", gm.Name)
		}
		for _, v := range sp.POL {
			if err := vs.VerifyVote(&v); err != nil || v.Type != chain.Prevote || v.Round != uint32(sp.Proposal.POLRound) || v.BlockHash != sp.Proposal.BlockHash {
				t.Errorf("%s: POL vote of %s does not justify the proposal (%v)", gm.Name, v.Validator, err)
			}
		}
	}
	for _, gv := range f.Votes {
		var found bool
		for _, gm := range f.Messages {
			m, _ := chain.DecodeConsensusMessage(f.ChainID, unhex(t, gm.EncodingHex))
			found = found || m.Vote != nil && hx(chain.MustEncode(m.Vote)) == gv.EncodingHex
		}
		if !found {
			t.Errorf("vote of %s is in no message", gv.Validator)
		}
	}

	checkGoldenTxFetch(t, &f)

	req, err := chain.DecodeSyncRequest(unhex(t, f.Sync.RequestHex))
	if err != nil || req.From != f.Sync.From || req.To != f.Sync.To {
		t.Fatalf("sync request decodes to %+v, %v", req, err)
	}
	if !bytes.Equal(unhex(t, f.Sync.RequestFrameHex), cwFrame(req.Encode())) {
		t.Error("the request frame is not the length and the request")
	}
	answer := unhex(t, f.Sync.AnswerHex)
	var frames [][]byte
	for len(answer) >= 4 {
		n := binary.BigEndian.Uint32(answer)
		if uint64(len(answer)-4) < uint64(n) {
			t.Fatal("sync answer: frame longer than the answer")
		}
		frames, answer = append(frames, answer[4:4+n]), answer[4+n:]
	}
	if len(answer) != 0 || len(frames) != 2*int(req.Count())+1 || len(frames[len(frames)-1]) != 0 {
		t.Fatalf("sync answer: %d frames and %d bytes left, want %d frames ending empty", len(frames), len(answer), 2*req.Count()+1)
	}
	for i := range req.Count() {
		b, err := chain.DecodeBlock(frames[2*i])
		if err != nil {
			t.Fatal(err)
		}
		var c chain.Commit
		if err := chain.Decode(frames[2*i+1], &c); err != nil {
			t.Fatal(err)
		}
		if err := vs.VerifyCommit(f.ChainID, req.From+i, b.Hash(), &c); err != nil {
			t.Errorf("sync answer, height %d: %v", req.From+i, err)
		}
	}
}

// checkGoldenTxFetch reads the golden transaction fetch as an asker
// would: it decodes the request, takes the answer apart frame by frame,
// checks each transaction against the hash it was asked for, and rebuilds
// block 2 from the compact block of the proposal and the transactions,
// byte for byte the block of block.json.
func checkGoldenTxFetch(t *testing.T, f *cwFileJSON) {
	t.Helper()
	req, err := chain.DecodeTxRequest(unhex(t, f.TxFetch.RequestHex))
	if err != nil || len(req.Hashes) != len(f.TxFetch.Hashes) {
		t.Fatalf("tx request decodes to %d hashes, %v", len(req.Hashes), err)
	}
	if !bytes.Equal(unhex(t, f.TxFetch.RequestFrameHex), cwFrame(req.Encode())) {
		t.Error("the tx request frame is not the length and the request")
	}
	answer := unhex(t, f.TxFetch.AnswerHex)
	got := map[chain.Hash][]byte{}
	for i, h := range req.Hashes {
		if h.String() != f.TxFetch.Hashes[i] {
			t.Errorf("tx request hash %d is %s, the file says %s", i, h, f.TxFetch.Hashes[i])
		}
		if len(answer) < 4 || uint64(len(answer)-4) < uint64(binary.BigEndian.Uint32(answer)) {
			t.Fatalf("tx answer: frame %d missing or cut short", i)
		}
		n := binary.BigEndian.Uint32(answer)
		raw := answer[4 : 4+n]
		answer = answer[4+n:]
		if len(raw) == 0 {
			continue // not held
		}
		if chain.Sum(raw) != h {
			t.Errorf("tx answer frame %d hashes to %s, asked for %s", i, chain.Sum(raw), h)
		}
		got[h] = raw
	}
	if len(answer) != 0 {
		t.Errorf("tx answer: %d bytes after the last frame", len(answer))
	}
	m, err := chain.DecodeConsensusMessage(f.ChainID, unhex(t, f.Messages[0].EncodingHex))
	if err != nil {
		t.Fatal(err)
	}
	cb := m.Proposal.Block
	var txs [][]byte
	for _, h := range cb.TxHashes {
		txs = append(txs, got[h])
	}
	b, err := cb.Rebuild(txs)
	if err != nil {
		t.Fatalf("rebuild block 2 from the fetched transactions: %v", err)
	}
	var blk goldenBlockJSON
	readGolden(t, "block.json", &blk)
	if hx(b.Encode()) != blk.EncodingHex || b.Hash() != m.Proposal.Proposal.BlockHash {
		t.Error("the rebuilt block is not block 2 of block.json")
	}
}

// TestGoldenConsensusByHand rebuilds the proposal sign bytes and the vote
// messages from the file's fields with refEncode, following
// docs/protocol.md, so the documented layout is known to be enough.
func TestGoldenConsensusByHand(t *testing.T) {
	var f cwFileJSON
	readGolden(t, consensusGolden, &f)
	p := f.Proposal
	signed := map[string]any{"chain_id": f.ChainID, "proposal": map[string]any{
		"height": p.Height, "round": uint64(p.Round), "block_hash": unhex(t, p.BlockHash),
		"pol_round": int64(p.POLRound), "proposer": unhex(t, p.ProposerHex)}}
	if got := hx(refEncode(signed)); got != p.SignBytesHex {
		t.Errorf("proposal sign bytes by hand:\n got %s\nwant %s", got, p.SignBytesHex)
	}
	for i, resend := range []uint64{0, 2} {
		v := f.Votes[i]
		vote := map[string]any{"chain_id": f.ChainID, "type": uint64(v.Type), "height": v.Height,
			"round": uint64(v.Round), "block_hash": unhex(t, v.BlockHash), "validator": unhex(t, v.ValidatorHex)}
		if got := hx(refEncode(vote)); got != v.SignBytesHex {
			t.Errorf("vote %d sign bytes by hand:\n got %s\nwant %s", i, got, v.SignBytesHex)
		}
		vote["signature"] = unhex(t, v.Signature)
		msg := map[string]any{"vote": vote}
		if resend > 0 {
			msg["resend"] = resend
		}
		if got := hx(refEncode(msg)); got != f.Messages[i+1].EncodingHex {
			t.Errorf("message %s by hand:\n got %s\nwant %s", f.Messages[i+1].Name, got, f.Messages[i+1].EncodingHex)
		}
	}
	if want := "/citychain/" + f.ChainID + "/consensus/2"; f.ConsensusTopic != want {
		t.Errorf("consensus topic %q, want %q", f.ConsensusTopic, want)
	}
	if want := "/citychain/" + f.ChainID + "/txfetch/1"; f.TxFetch.ProtocolID != want {
		t.Errorf("tx fetch protocol %q, want %q", f.TxFetch.ProtocolID, want)
	}
	// The compact block by hand: header, tx_hashes, last_commit; no
	// evidence key, since block 2 has none.
	var blk goldenBlockJSON
	readGolden(t, "block.json", &blk)
	var hashes []any
	for _, h := range f.CompactBlock.TxHashes {
		hashes = append(hashes, unhex(t, h))
	}
	cb := map[string]any{"header": rawCBOR(unhex(t, blk.Header.EncodingHex)), "tx_hashes": hashes,
		"last_commit": rawCBOR(unhex(t, blk.LastCommit.EncodingHex))}
	if got := hx(refEncode(cb)); got != f.CompactBlock.EncodingHex {
		t.Errorf("compact block by hand:\n got %s\nwant %s", got, f.CompactBlock.EncodingHex)
	}
	if f.CompactBlock.Hash != blk.Hash {
		t.Errorf("compact block hash %s, block 2 is %s", f.CompactBlock.Hash, blk.Hash)
	}
}

// cwRefusals are consensus messages that break one rule each, with the
// error kind DecodeConsensusMessage must give; a nil kind means accepted.
func cwRefusals() []struct {
	name string
	data []byte
	want error
} {
	_, _, b2 := goldenChain()
	vote := cwVotes()[0]
	withVote := func(edit func(v *chain.Vote)) []byte {
		v := *vote
		edit(&v)
		return (&chain.ConsensusMessage{Vote: &v}).Encode()
	}
	withProposal := func(edit func(sp *chain.SignedProposal)) []byte {
		sp := cwProposal()
		edit(sp)
		return (&chain.ConsensusMessage{Proposal: sp}).Encode()
	}
	polOf := func(n int) []chain.Vote {
		pol := make([]chain.Vote, n)
		for i := range pol {
			pol[i] = *cwVote(chain.Prevote, 2, 0, b2.Hash(), i%4)
		}
		return pol
	}
	voteRaw := rawCBOR(chain.MustEncode(vote))
	valid := (&chain.ConsensusMessage{Vote: vote}).Encode()
	return []struct {
		name string
		data []byte
		want error
	}{
		{"valid vote", valid, nil},
		{"valid proposal", withProposal(func(*chain.SignedProposal) {}), nil},
		{"fresh proposal in round 0", withProposal(func(sp *chain.SignedProposal) { sp.Proposal.Round, sp.Proposal.POLRound, sp.POL = 0, -1, nil }), nil},
		{"POL of the round before", withProposal(func(sp *chain.SignedProposal) { sp.Proposal.Round, sp.Proposal.POLRound = 7, 6 }), nil},
		{"round beyond int32", withProposal(func(sp *chain.SignedProposal) { sp.Proposal.Round = 1 << 31 }), nil},
		{"MaxPOLVotes POL votes", withProposal(func(sp *chain.SignedProposal) { sp.POL = polOf(chain.MaxPOLVotes) }), nil},
		{"MaxBlockTxs transaction hashes", withProposal(func(sp *chain.SignedProposal) { sp.Block.TxHashes = hashesOf(chain.MaxBlockTxs) }), nil},
		{"resent", refEncode(orderedMap{{"vote", voteRaw}, {"resend", uint64(1)}}), nil},

		{"too large", make([]byte, chain.MaxConsensusMessageSize+1), chain.ErrDecode},
		{"empty input", []byte{}, chain.ErrDecode},
		{"truncated", valid[:len(valid)-3], chain.ErrDecode},
		{"not a map", refEncode(uint64(1)), chain.ErrDecode},
		{"empty map", []byte{0xa0}, chain.ErrDecode},
		{"resend only", (&chain.ConsensusMessage{Resend: 1}).Encode(), chain.ErrDecode},
		{"proposal and vote", (&chain.ConsensusMessage{Proposal: cwProposal(), Vote: vote}).Encode(), chain.ErrDecode},
		{"unknown field", refEncode(orderedMap{{"vote", voteRaw}, {"extra", uint64(1)}}), chain.ErrDecode},
		{"duplicate key", refEncode(orderedMap{{"vote", voteRaw}, {"vote", voteRaw}}), chain.ErrDecode},
		{"explicit zero resend", refEncode(orderedMap{{"vote", voteRaw}, {"resend", uint64(0)}}), chain.ErrNonCanonical},
		{"keys out of order", refEncode(orderedMap{{"resend", uint64(1)}, {"vote", voteRaw}}), chain.ErrNonCanonical},
		{"null proposal beside a vote", refEncode(orderedMap{{"vote", voteRaw}, {"proposal", nil}}), chain.ErrNonCanonical},
		{"vote of another chain", withVote(func(v *chain.Vote) { v.ChainID = "other-chain" }), chain.ErrWrongChain},
		{"vote type 0", withVote(func(v *chain.Vote) { v.Type = 0 }), chain.ErrDecode},
		{"vote type 3", withVote(func(v *chain.Vote) { v.Type = 3 }), chain.ErrDecode},
		{"pol_round -2", withProposal(func(sp *chain.SignedProposal) { sp.Proposal.POLRound = -2 }), chain.ErrDecode},
		{"pol_round equal to round", withProposal(func(sp *chain.SignedProposal) { sp.Proposal.POLRound = 1 }), chain.ErrDecode},
		{"pol_round above round", withProposal(func(sp *chain.SignedProposal) { sp.Proposal.POLRound = 5 }), chain.ErrDecode},
		{"POL in round 0", withProposal(func(sp *chain.SignedProposal) { sp.Proposal.Round = 0 }), chain.ErrDecode},
		{"too many POL votes", withProposal(func(sp *chain.SignedProposal) { sp.POL = polOf(chain.MaxPOLVotes + 1) }), chain.ErrDecode},
		{"POL vote of another chain", withProposal(func(sp *chain.SignedProposal) { sp.POL[1].ChainID = "other-chain" }), chain.ErrWrongChain},
		{"too many transaction hashes", withProposal(func(sp *chain.SignedProposal) { sp.Block.TxHashes = hashesOf(chain.MaxBlockTxs + 1) }), chain.ErrDecode},
		{"MaxBlockEvidence pieces of evidence", withProposal(func(sp *chain.SignedProposal) { sp.Block.Evidence = evidenceOf(chain.MaxBlockEvidence) }), nil},
		{"too many pieces of evidence", withProposal(func(sp *chain.SignedProposal) { sp.Block.Evidence = evidenceOf(chain.MaxBlockEvidence + 1) }), chain.ErrDecode},
		{"a whole block where the compact one belongs", refEncode(orderedMap{{"proposal", orderedMap{
			{"pol", []any{}}, {"block", b2.Encode()}, {"proposal", rawCBOR(chain.MustEncode(&cwProposal().Proposal))},
			{"signature", cwProposal().Signature}}}}), chain.ErrDecode},
	}
}

// evidenceOf returns n copies of the golden evidence.
func evidenceOf(n int) []chain.Evidence {
	out := make([]chain.Evidence, 0, n)
	for range n {
		out = append(out, goldenEvidenceList()...)
	}
	return out
}

// hashesOf returns n made-up transaction hashes.
func hashesOf(n int) []chain.Hash {
	out := make([]chain.Hash, n)
	for i := range out {
		binary.BigEndian.PutUint32(out[i][:], uint32(i))
	}
	return out
}

func TestDecodeConsensusMessageRefusals(t *testing.T) {
	for _, tc := range cwRefusals() {
		t.Run(tc.name, func(t *testing.T) {
			m, err := chain.DecodeConsensusMessage(goldenChainID, tc.data)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !bytes.Equal(m.Encode(), tc.data) {
					t.Fatal("accepted, but re-encodes differently")
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if m != nil {
				t.Fatal("a refused message was returned")
			}
		})
	}
}

func TestVerifyVoteAndProposal(t *testing.T) {
	vs := goldenValidators()
	vote := func(edit func(v *chain.Vote)) error {
		v := *cwVotes()[0]
		edit(&v)
		return vs.VerifyVote(&v)
	}
	proposal := func(chainID string, edit func(sp *chain.SignedProposal)) error {
		sp := cwProposal()
		edit(sp)
		return vs.VerifyProposal(chainID, sp)
	}
	outsider := goldenKey(4)
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"vote", vote(func(*chain.Vote) {}), nil},
		{"vote by an outsider", vote(func(v *chain.Vote) { v.Validator = chain.AddressOf(outsider.PublicKey()); v.Sign(outsider) }), chain.ErrUnauthorized},
		{"vote changed after signing", vote(func(v *chain.Vote) { v.Round++ }), crypto.ErrBadSignature},
		{"vote signed by another validator", vote(func(v *chain.Vote) { v.Sign(goldenKey(0)) }), crypto.ErrBadSignature},
		{"vote of another chain", vote(func(v *chain.Vote) { v.ChainID = "other-chain" }), crypto.ErrBadSignature},
		{"vote without signature", vote(func(v *chain.Vote) { v.Signature = nil }), crypto.ErrMalformedSignature},
		{"vote with high S", vote(func(v *chain.Vote) { v.Signature = highS(v.Signature) }), crypto.ErrHighS},
		{"proposal", proposal(goldenChainID, func(*chain.SignedProposal) {}), nil},
		{"proposal without its block, which is not signed", proposal(goldenChainID, func(sp *chain.SignedProposal) { sp.Block = chain.CompactBlock{} }), nil},
		{"proposal signed for another chain", proposal("other-chain", func(*chain.SignedProposal) {}), crypto.ErrBadSignature},
		{"proposal changed after signing", proposal(goldenChainID, func(sp *chain.SignedProposal) { sp.Proposal.BlockHash[0] ^= 1 }), crypto.ErrBadSignature},
		{"proposal by an outsider", proposal(goldenChainID, func(sp *chain.SignedProposal) {
			sp.Proposal.Proposer = chain.AddressOf(outsider.PublicKey())
			sp.Sign(goldenChainID, outsider)
		}), chain.ErrUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == nil && tc.err != nil || !errors.Is(tc.err, tc.want) {
				t.Fatalf("err = %v, want %v", tc.err, tc.want)
			}
		})
	}
}

func TestSyncRequest(t *testing.T) {
	enc := func(from, to uint64) []byte { return chain.SyncRequest{From: from, To: to}.Encode() }
	cases := []struct {
		name  string
		data  []byte
		count uint64 // 0: refused with ErrDecode
	}{
		{"one height", enc(1, 1), 1},
		{"MaxSyncRange heights", enc(5, 4+chain.MaxSyncRange), chain.MaxSyncRange},
		{"the last height there can be", enc(1<<64-1, 1<<64-1), 1},
		{"height 0", enc(0, 3), 0},
		{"backwards", enc(5, 4), 0},
		{"one height too many", enc(5, 5+chain.MaxSyncRange), 0},
		{"whole range of uint64", enc(1, 1<<64-1), 0},
		{"15 bytes", enc(1, 2)[:15], 0},
		{"17 bytes", append(enc(1, 2), 0), 0},
		{"empty", nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := chain.DecodeSyncRequest(tc.data)
			if tc.count == 0 {
				if !errors.Is(err, chain.ErrDecode) {
					t.Fatalf("err = %v, want ErrDecode", err)
				}
				return
			}
			if err != nil || r.Count() != tc.count || !bytes.Equal(r.Encode(), tc.data) {
				t.Fatalf("DecodeSyncRequest = %+v (count %d), %v; want count %d and the same bytes back", r, r.Count(), err, tc.count)
			}
		})
	}
}

func FuzzDecodeConsensusMessage(f *testing.F) {
	for _, nm := range cwMessages() {
		f.Add(nm.m.Encode())
	}
	for _, tc := range cwRefusals() {
		if len(tc.data) < 4<<10 {
			f.Add(tc.data)
		}
	}
	vs := goldenValidators()
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := chain.DecodeConsensusMessage(goldenChainID, b)
		if err != nil {
			checkErrKind(t, err, chain.ErrDecode, chain.ErrNonCanonical, chain.ErrWrongChain)
			return
		}
		if again := m.Encode(); !bytes.Equal(again, b) {
			t.Fatalf("decoded, but re-encodes differently:\n in %x\nout %x", b, again)
		}
		_, _, _ = m.Height(), m.Round(), m.Signer()
		if m.Vote != nil {
			_ = vs.VerifyVote(m.Vote)
			return
		}
		_ = vs.VerifyProposal(goldenChainID, m.Proposal)
		for _, v := range m.Proposal.POL {
			_ = vs.VerifyVote(&v)
		}
	})
}

// ExampleConsensusMessage signs a prevote, gossips it as a consensus
// message and checks it on arrival the way a node does: decode, then the
// signature against the validator set of the vote's height.
func ExampleConsensusMessage() {
	const chainID = "citychain-golden"
	key := goldenKey(2) // secret SHA-256("citychain golden key 2"), see testdata/golden
	vote := &chain.Vote{ChainID: chainID, Type: chain.Prevote, Height: 2, Round: 1,
		BlockHash: chain.Sum([]byte("a block")), Validator: chain.AddressOf(key.PublicKey())}
	vote.Sign(key)
	data := (&chain.ConsensusMessage{Vote: vote}).Encode()

	m, err := chain.DecodeConsensusMessage(chainID, data)
	if err != nil {
		panic(err)
	}
	fmt.Println("topic: ", chain.ConsensusTopic(chainID))
	fmt.Println("height:", m.Height(), "round:", m.Round())
	fmt.Println("signer:", m.Signer())
	fmt.Println("valid: ", goldenValidators().VerifyVote(m.Vote) == nil)
	// Output:
	// topic:  /citychain/citychain-golden/consensus/2
	// height: 2 round: 1
	// signer: city1qqdx6s9zykspaszxreh9c3008uye32dyajxdym
	// valid:  true
}

// A compact block is checked against its header before any transaction
// is at hand, and a rebuilt block against the compact one: each case
// breaks one link and names the phrase only that check gives.
func TestCompactBlock(t *testing.T) {
	_, _, b2 := goldenChain()
	other := goldenTransfer(0, 3, 99, 2).Encode()
	compact := func(edit func(c *chain.CompactBlock)) error {
		c := b2.Compact()
		c.TxHashes = append([]chain.Hash(nil), c.TxHashes...)
		edit(&c)
		return c.ValidateBasic()
	}
	rebuild := func(edit func(c *chain.CompactBlock, txs [][]byte) [][]byte) error {
		c := b2.Compact()
		c.TxHashes = append([]chain.Hash(nil), c.TxHashes...)
		txs := edit(&c, append([][]byte(nil), b2.Txs...))
		b, err := c.Rebuild(txs)
		if err == nil && (b.Hash() != b2.Hash() || !bytes.Equal(b.Encode(), b2.Encode())) {
			return errors.New("rebuilt another block without an error")
		}
		return err
	}
	cases := []struct {
		name string
		err  error
		msg  string // empty: no error
	}{
		{"block 2", compact(func(*chain.CompactBlock) {}), ""},
		{"a hash list in another order", compact(func(c *chain.CompactBlock) { c.TxHashes[0], c.TxHashes[1] = c.TxHashes[1], c.TxHashes[0] }), "tx root"},
		{"a hash list with one more", compact(func(c *chain.CompactBlock) { c.TxHashes = append(c.TxHashes, chain.Sum(other)) }), "tx root"},
		{"a hash list with one less", compact(func(c *chain.CompactBlock) { c.TxHashes = c.TxHashes[:1] }), "tx root"},
		{"a hash list with one hash changed", compact(func(c *chain.CompactBlock) { c.TxHashes[1] = chain.Sum(other) }), "tx root"},
		{"too many hashes", compact(func(c *chain.CompactBlock) { c.TxHashes = hashesOf(chain.MaxBlockTxs + 1) }), "4001 txs, limit 4000"},
		{"another last commit", compact(func(c *chain.CompactBlock) { c.LastCommit = nil }), "last commit hash"},
		{"evidence the header does not name", compact(func(c *chain.CompactBlock) { c.Evidence = goldenEvidenceList() }), "evidence hash"},

		{"rebuilt from its transactions", rebuild(func(_ *chain.CompactBlock, txs [][]byte) [][]byte { return txs }), ""},
		{"rebuilt with a transaction missing", rebuild(func(_ *chain.CompactBlock, txs [][]byte) [][]byte { return txs[:1] }), "1 transactions for 2 hashes"},
		{"rebuilt with another transaction in place of one", rebuild(func(_ *chain.CompactBlock, txs [][]byte) [][]byte {
			txs[1] = other
			return txs
		}), "tx 1 is " + chain.Sum(other).String()},
		{"rebuilt with the transactions swapped", rebuild(func(_ *chain.CompactBlock, txs [][]byte) [][]byte {
			txs[0], txs[1] = txs[1], txs[0]
			return txs
		}), "tx 0 is"},
		{"rebuilt from a hash list that the header does not commit to", rebuild(func(c *chain.CompactBlock, txs [][]byte) [][]byte {
			c.TxHashes[1] = chain.Sum(other)
			txs[1] = other
			return txs
		}), "tx root"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.msg == "" {
				if tc.err != nil {
					t.Fatalf("refused: %v", tc.err)
				}
				return
			}
			if !errors.Is(tc.err, chain.ErrInvalidBlock) || !strings.Contains(tc.err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v saying %q", tc.err, chain.ErrInvalidBlock, tc.msg)
			}
		})
	}
}

// goldenEvidenceList is one piece of evidence: golden key 3 prevoting two
// blocks at height 1.
func goldenEvidenceList() []chain.Evidence {
	a := *cwVote(chain.Prevote, 1, 0, chain.Sum([]byte("a")), 3)
	b := *cwVote(chain.Prevote, 1, 0, chain.Sum([]byte("b")), 3)
	return []chain.Evidence{chain.NewDuplicateVote(a, b)}
}

func TestTxRequest(t *testing.T) {
	enc := func(n int) []byte { return chain.TxRequest{Hashes: hashesOf(n)}.Encode() }
	cases := []struct {
		name  string
		data  []byte
		count int // 0: refused with ErrDecode
	}{
		{"one hash", enc(1), 1},
		{"MaxTxRequest hashes", enc(chain.MaxTxRequest), chain.MaxTxRequest},
		{"empty", nil, 0},
		{"one hash too many", enc(chain.MaxTxRequest + 1), 0},
		{"31 bytes", enc(1)[:31], 0},
		{"a hash and a byte", append(enc(1), 0), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := chain.DecodeTxRequest(tc.data)
			if tc.count == 0 {
				if !errors.Is(err, chain.ErrDecode) {
					t.Fatalf("err = %v, want ErrDecode", err)
				}
				return
			}
			if err != nil || len(r.Hashes) != tc.count || !bytes.Equal(r.Encode(), tc.data) {
				t.Fatalf("DecodeTxRequest = %d hashes, %v; want %d and the same bytes back", len(r.Hashes), err, tc.count)
			}
		})
	}
	if err := (chain.TxRequest{}).ValidateBasic(); !errors.Is(err, chain.ErrDecode) {
		t.Errorf("an empty request validates: %v", err)
	}
}

func FuzzDecodeTxRequest(f *testing.F) {
	req, _ := cwTxFetch()
	f.Add(req.Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := chain.DecodeTxRequest(b)
		if err != nil {
			checkErrKind(t, err, chain.ErrDecode)
			return
		}
		if !bytes.Equal(r.Encode(), b) {
			t.Fatal("decoded, but re-encodes differently")
		}
	})
}
