package chain_test

// Golden vectors: fixed keys, a transfer, a block and a commit, written
// to testdata/golden/*.json with every intermediate byte string in hex.
// The test rebuilds them from the current code and compares the files
// byte for byte, so any change to the encoding, the signing or the
// hashing fails here first. A client written in another language can
// check itself against the same files (see testdata/golden/README.md).
//
// After an intended change of format, regenerate with
//
//	go test ./chain/ -run TestGolden -update
//
// and say in the commit why every client must change too.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

var update = flag.Bool("update", false, "rewrite testdata/golden and the fuzz seed corpus from the current code")

const goldenChainID = "citychain-golden"

// goldenKey returns golden key i: the secret is SHA-256("citychain golden key i").
func goldenKey(i int) *crypto.PrivateKey {
	seed := sha256.Sum256([]byte(fmt.Sprintf("citychain golden key %d", i)))
	k, err := crypto.PrivateKeyFromBytes(seed[:])
	if err != nil {
		panic(err) // a fixed seed below N; cannot fail
	}
	return k
}

func goldenAddr(i int) chain.Address { return chain.AddressOf(goldenKey(i).PublicKey()) }

// goldenTransfer builds and signs a bank transfer from key `from`.
func goldenTransfer(from, to int, amount, nonce uint64) *chain.Tx {
	payload, err := chain.PayloadFromJSON([]byte(fmt.Sprintf(`{"to": %q, "amount": %d}`, goldenAddr(to), amount)))
	if err != nil {
		panic(err)
	}
	tx := &chain.Tx{ChainID: goldenChainID, App: "bank", Action: "send", Payload: payload, Nonce: nonce}
	tx.Sign(goldenKey(from))
	return tx
}

// goldenValidators is the set of golden keys 0..3, power 10 each.
func goldenValidators() *chain.ValidatorSet {
	var vals []chain.Validator
	for i := range 4 {
		pub := goldenKey(i).PublicKey()
		vals = append(vals, chain.Validator{Address: chain.AddressOf(pub), PubKey: pub.Bytes(), Power: 10})
	}
	vs, err := chain.NewValidatorSet(vals)
	if err != nil {
		panic(err)
	}
	return vs
}

// goldenCommit has the golden keys listed in signers precommit blockHash.
func goldenCommit(height uint64, round uint32, blockHash chain.Hash, signers ...int) *chain.Commit {
	c := &chain.Commit{Height: height, Round: round, BlockHash: blockHash}
	for _, i := range signers {
		v := goldenVote(height, round, blockHash, i)
		c.Signatures = append(c.Signatures, chain.CommitSig{Validator: v.Validator, Signature: v.Signature})
	}
	return c
}

func goldenVote(height uint64, round uint32, blockHash chain.Hash, signer int) *chain.Vote {
	v := &chain.Vote{ChainID: goldenChainID, Type: chain.Precommit, Height: height, Round: round,
		BlockHash: blockHash, Validator: goldenAddr(signer)}
	v.Sign(goldenKey(signer))
	return v
}

// goldenChain returns block 1 (empty), its commit, and block 2 holding two
// transfers and block 1's commit. Roots that would come from execution
// are fixed stand-ins: the vectors are about bytes, not about state.
func goldenChain() (h1 chain.Header, c1 *chain.Commit, b2 *chain.Block) {
	vs := goldenValidators()
	h1 = chain.Header{
		ChainID:        goldenChainID,
		Height:         1,
		Time:           1767225600000, // 2026-01-01T00:00:00Z in unix milliseconds
		StateRoot:      chain.Sum([]byte("golden state root 1")),
		Proposer:       goldenAddr(0),
		ValidatorsHash: vs.Hash(),
	}
	c1 = goldenCommit(1, 0, h1.Hash(), 0, 1, 2)
	txs := [][]byte{goldenTransfer(0, 1, 10, 0).Encode(), goldenTransfer(0, 2, 25, 1).Encode()}
	b2 = &chain.Block{
		Header: chain.Header{
			ChainID:        goldenChainID,
			Height:         2,
			Time:           1767225601500,
			PrevHash:       h1.Hash(),
			TxRoot:         chain.ComputeTxRoot(txs),
			StateRoot:      chain.Sum([]byte("golden state root 2")),
			ReceiptsRoot:   chain.Sum([]byte("golden receipts root 2")),
			Proposer:       goldenAddr(1),
			ValidatorsHash: vs.Hash(),
			LastCommitHash: c1.Hash(),
		},
		Txs:        txs,
		LastCommit: c1,
	}
	return h1, c1, b2
}

// The file shapes. Byte strings are lowercase hex; hashes are SHA-256.

type goldenKeyJSON struct {
	PrivateKey string `json:"private_key"`
	PublicKey  string `json:"public_key"`
	Address    string `json:"address"`
	AddressHex string `json:"address_hex"`
}

type goldenTxJSON struct {
	Comment         string          `json:"comment"`
	ChainID         string          `json:"chain_id"`
	Signer          goldenKeyJSON   `json:"signer"`
	TxJSON          json.RawMessage `json:"tx_json"`
	PayloadHex      string          `json:"payload_hex"`
	SignBytesHex    string          `json:"sign_bytes_hex"`
	SignBytesSHA256 string          `json:"sign_bytes_sha256"`
	Signature       string          `json:"signature"`
	EncodingHex     string          `json:"encoding_hex"`
	Hash            string          `json:"hash"`
}

type goldenHeaderJSON struct {
	ChainID        string `json:"chain_id"`
	Height         uint64 `json:"height"`
	Time           int64  `json:"time"`
	PrevHash       string `json:"prev_hash"`
	TxRoot         string `json:"tx_root"`
	StateRoot      string `json:"state_root"`
	ReceiptsRoot   string `json:"receipts_root"`
	Proposer       string `json:"proposer"`
	ProposerHex    string `json:"proposer_hex"`
	ValidatorsHash string `json:"validators_hash"`
	LastCommitHash string `json:"last_commit_hash"`
	EncodingHex    string `json:"encoding_hex"`
	Hash           string `json:"hash"`
}

type goldenBlockJSON struct {
	Comment      string           `json:"comment"`
	ParentHeader goldenHeaderJSON `json:"parent_header"`
	Header       goldenHeaderJSON `json:"header"`
	TxHashes     []string         `json:"tx_hashes"`
	TxsHex       []string         `json:"txs_hex"`
	LastCommit   goldenCommitJSON `json:"last_commit"`
	EncodingHex  string           `json:"encoding_hex"`
	Hash         string           `json:"hash"`
}

type goldenVoteJSON struct {
	Validator    string `json:"validator"`
	SignBytesHex string `json:"sign_bytes_hex"`
	Signature    string `json:"signature"`
}

type goldenCommitJSON struct {
	Height      uint64           `json:"height"`
	Round       uint32           `json:"round"`
	BlockHash   string           `json:"block_hash"`
	Votes       []goldenVoteJSON `json:"votes"`
	EncodingHex string           `json:"encoding_hex"`
	Hash        string           `json:"hash"`
}

type goldenValidatorJSON struct {
	Address string `json:"address"`
	PubKey  string `json:"pubkey"`
	Power   uint64 `json:"power"`
}

type goldenCommitFileJSON struct {
	Comment              string                `json:"comment"`
	ChainID              string                `json:"chain_id"`
	Validators           []goldenValidatorJSON `json:"validators"`
	ValidatorSetEncoding string                `json:"validator_set_encoding_hex"`
	ValidatorsHash       string                `json:"validators_hash"`
	Quorum               uint64                `json:"quorum"`
	Commit               goldenCommitJSON      `json:"commit"`
}

func hx(b []byte) string { return hex.EncodeToString(b) }

func keyJSON(i int) goldenKeyJSON {
	k := goldenKey(i)
	a := chain.AddressOf(k.PublicKey())
	return goldenKeyJSON{PrivateKey: hx(k.Bytes()), PublicKey: hx(k.PublicKey().Bytes()),
		Address: a.String(), AddressHex: hx(a[:])}
}

func headerJSON(h *chain.Header) goldenHeaderJSON {
	return goldenHeaderJSON{
		ChainID: h.ChainID, Height: h.Height, Time: h.Time,
		PrevHash: h.PrevHash.String(), TxRoot: h.TxRoot.String(), StateRoot: h.StateRoot.String(),
		ReceiptsRoot: h.ReceiptsRoot.String(), Proposer: h.Proposer.String(), ProposerHex: hx(h.Proposer[:]),
		ValidatorsHash: h.ValidatorsHash.String(), LastCommitHash: h.LastCommitHash.String(),
		EncodingHex: hx(chain.MustEncode(h)), Hash: h.Hash().String(),
	}
}

func commitJSON(c *chain.Commit) goldenCommitJSON {
	out := goldenCommitJSON{Height: c.Height, Round: c.Round, BlockHash: c.BlockHash.String(),
		EncodingHex: hx(c.Encode()), Hash: c.Hash().String()}
	for _, s := range c.Signatures {
		v := chain.Vote{ChainID: goldenChainID, Type: chain.Precommit, Height: c.Height, Round: c.Round,
			BlockHash: c.BlockHash, Validator: s.Validator}
		out.Votes = append(out.Votes, goldenVoteJSON{Validator: s.Validator.String(),
			SignBytesHex: hx(v.SignBytes()), Signature: hx(s.Signature)})
	}
	return out
}

// goldenFiles renders every golden file from the current code.
func goldenFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	put := func(name string, v any) {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		files[name] = append(b, '\n')
	}

	tx := goldenTransfer(0, 1, 10, 0)
	txJSON, err := json.Marshal(tx)
	if err != nil {
		t.Fatal(err)
	}
	sb := tx.SignBytes()
	sbHash := sha256.Sum256(sb)
	put("tx.json", goldenTxJSON{
		Comment: "bank transfer of 10 from golden key 0 to the address of golden key 1, nonce 0; " +
			"golden key i has secret SHA-256(\"citychain golden key i\")",
		ChainID: goldenChainID, Signer: keyJSON(0), TxJSON: txJSON,
		PayloadHex: hx(tx.Payload), SignBytesHex: hx(sb), SignBytesSHA256: hx(sbHash[:]),
		Signature: hx(tx.Signature), EncodingHex: hx(tx.Encode()), Hash: tx.Hash().String(),
	})

	h1, c1, b2 := goldenChain()
	blk := goldenBlockJSON{
		Comment: "block 2: two transfers from golden key 0 (nonces 0 and 1) and the commit of block 1 " +
			"by golden keys 0, 1 and 2; state and receipts roots are fixed stand-ins",
		ParentHeader: headerJSON(&h1), Header: headerJSON(&b2.Header),
		LastCommit: commitJSON(c1), EncodingHex: hx(b2.Encode()), Hash: b2.Hash().String(),
	}
	for i, raw := range b2.Txs {
		blk.TxsHex = append(blk.TxsHex, hx(raw))
		blk.TxHashes = append(blk.TxHashes, b2.TxHashes()[i].String())
	}
	put("block.json", blk)

	vs := goldenValidators()
	cf := goldenCommitFileJSON{
		Comment: "the validator set of golden keys 0..3 (power 10 each, sorted by address) and the commit " +
			"of block 2 in round 1 by golden keys 3, 0 and 2: 30 of 40 power, quorum 27",
		ChainID: goldenChainID, ValidatorSetEncoding: hx(chain.MustEncode(vs)),
		ValidatorsHash: vs.Hash().String(), Quorum: vs.Quorum(),
		Commit: commitJSON(goldenCommit(2, 1, b2.Hash(), 3, 0, 2)),
	}
	for _, v := range vs.Validators {
		cf.Validators = append(cf.Validators, goldenValidatorJSON{Address: v.Address.String(), PubKey: hx(v.PubKey), Power: v.Power})
	}
	put("commit.json", cf)
	return files
}

func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	files := goldenFiles(t)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, files[name], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(files[name], want) {
			t.Errorf("%s: the current code no longer reproduces the golden file byte for byte.\n"+
				"If the format change is intended, rerun with -update and tell every client.\n%s",
				name, firstDiff(string(want), string(files[name])))
		}
	}
}

// firstDiff shows the first line on which two texts differ.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d\n file: %s\n code: %s", i+1, w, g)
		}
	}
	return "(no line differs)"
}

// TestGoldenFilesSelfConsistent reads the committed files as a client
// would and checks each claim in them with the chain's own decoders and
// verifiers, independently of the generator above.
func TestGoldenFilesSelfConsistent(t *testing.T) {
	var gt goldenTxJSON
	readGolden(t, "tx.json", &gt)
	enc := unhex(t, gt.EncodingHex)
	tx, err := chain.DecodeTx(enc)
	if err != nil {
		t.Fatalf("tx encoding does not decode: %v", err)
	}
	if err := tx.ValidateBasic(gt.ChainID); err != nil {
		t.Fatalf("tx: %v", err)
	}
	sum := sha256.Sum256(unhex(t, gt.SignBytesHex))
	if !bytes.Equal(tx.SignBytes(), unhex(t, gt.SignBytesHex)) || hx(sum[:]) != gt.SignBytesSHA256 {
		t.Error("sign bytes or their hash disagree with the file")
	}
	if whole := sha256.Sum256(enc); hx(whole[:]) != gt.Hash {
		t.Error("tx hash is not SHA-256 of the encoding")
	}
	var fromJSON chain.Tx
	if err := json.Unmarshal(gt.TxJSON, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromJSON.Encode(), enc) {
		t.Error("the JSON form does not encode to the same bytes")
	}

	var gb goldenBlockJSON
	readGolden(t, "block.json", &gb)
	b, err := chain.DecodeBlock(unhex(t, gb.EncodingHex))
	if err != nil {
		t.Fatalf("block: %v", err)
	}
	if err := b.ValidateBasic(goldenChainID); err != nil {
		t.Fatalf("block: %v", err)
	}
	if b.Hash().String() != gb.Hash || gb.Header.Hash != gb.Hash {
		t.Error("block hash disagrees with the file")
	}
	if hdr := sha256.Sum256(unhex(t, gb.Header.EncodingHex)); hx(hdr[:]) != gb.Hash {
		t.Error("block hash is not SHA-256 of the header encoding")
	}
	if b.Header.PrevHash.String() != gb.ParentHeader.Hash {
		t.Error("prev_hash is not the parent header's hash")
	}
	vs := goldenValidators()
	if err := vs.VerifyCommit(goldenChainID, 1, b.Header.PrevHash, b.LastCommit); err != nil {
		t.Errorf("last commit: %v", err)
	}

	var gc goldenCommitFileJSON
	readGolden(t, "commit.json", &gc)
	c2 := goldenCommit(2, 1, b.Hash(), 3, 0, 2)
	if hx(c2.Encode()) != gc.Commit.EncodingHex {
		t.Error("commit encoding disagrees with the file")
	}
	if err := vs.VerifyCommit(goldenChainID, 2, b.Hash(), c2); err != nil {
		t.Errorf("commit: %v", err)
	}
}

func readGolden(t *testing.T, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGoldenByHand rebuilds the golden bytes with refEncode, a few dozen
// lines that follow testdata/golden/README.md and share no code with the
// chain's encoder. If this passes, the README is a sufficient recipe.
func TestGoldenByHand(t *testing.T) {
	var gt goldenTxJSON
	readGolden(t, "tx.json", &gt)
	var j struct {
		ChainID   string         `json:"chain_id"`
		App       string         `json:"app"`
		Action    string         `json:"action"`
		Payload   map[string]any `json:"payload"`
		Nonce     uint64         `json:"nonce"`
		PubKey    string         `json:"pubkey"`
		Signature string         `json:"signature"`
	}
	dec := json.NewDecoder(bytes.NewReader(gt.TxJSON))
	dec.UseNumber()
	if err := dec.Decode(&j); err != nil {
		t.Fatal(err)
	}
	payload := map[string]any{}
	for k, v := range j.Payload {
		if n, ok := v.(json.Number); ok {
			var u uint64
			fmt.Sscan(n.String(), &u)
			v = u
		}
		payload[k] = v
	}
	txMap := map[string]any{
		"chain_id": j.ChainID, "app": j.App, "action": j.Action,
		"payload": payload, "nonce": j.Nonce, "pubkey": unhex(t, j.PubKey),
	}
	if got := hx(refEncode(txMap)); got != gt.SignBytesHex {
		t.Errorf("sign bytes by hand:\n got %s\nwant %s", got, gt.SignBytesHex)
	}
	if got := hx(refEncode(payload)); got != gt.PayloadHex {
		t.Errorf("payload by hand:\n got %s\nwant %s", got, gt.PayloadHex)
	}
	txMap["signature"] = unhex(t, j.Signature)
	if got := hx(refEncode(txMap)); got != gt.EncodingHex {
		t.Errorf("tx encoding by hand:\n got %s\nwant %s", got, gt.EncodingHex)
	}

	var gb goldenBlockJSON
	readGolden(t, "block.json", &gb)
	h := gb.Header
	hdr := map[string]any{
		"chain_id": h.ChainID, "height": h.Height, "time": h.Time,
		"prev_hash": unhex(t, h.PrevHash), "tx_root": unhex(t, h.TxRoot), "state_root": unhex(t, h.StateRoot),
		"receipts_root": unhex(t, h.ReceiptsRoot), "proposer": unhex(t, h.ProposerHex),
		"validators_hash": unhex(t, h.ValidatorsHash), "last_commit_hash": unhex(t, h.LastCommitHash),
	}
	if got := hx(refEncode(hdr)); got != h.EncodingHex {
		t.Errorf("header by hand:\n got %s\nwant %s", got, h.EncodingHex)
	}
	var txs []any
	for _, s := range gb.TxsHex {
		txs = append(txs, unhex(t, s))
	}
	c := gb.LastCommit
	var sigs []any
	for _, v := range c.Votes {
		a, err := chain.ParseAddress(v.Validator)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, map[string]any{"validator": a[:], "signature": unhex(t, v.Signature)})
		vote := map[string]any{"chain_id": goldenChainID, "type": uint64(chain.Precommit), "height": c.Height,
			"round": uint64(c.Round), "block_hash": unhex(t, c.BlockHash), "validator": a[:]}
		if got := hx(refEncode(vote)); got != v.SignBytesHex {
			t.Errorf("vote sign bytes by hand:\n got %s\nwant %s", got, v.SignBytesHex)
		}
	}
	commit := map[string]any{"height": c.Height, "round": uint64(c.Round), "block_hash": unhex(t, c.BlockHash), "signatures": sigs}
	if got := hx(refEncode(commit)); got != c.EncodingHex {
		t.Errorf("commit by hand:\n got %s\nwant %s", got, c.EncodingHex)
	}
	block := map[string]any{"header": hdr, "txs": txs, "last_commit": commit}
	if got := hx(refEncode(block)); got != gb.EncodingHex {
		t.Errorf("block by hand:\n got %s\nwant %s", got, gb.EncodingHex)
	}
}

// refEncode is a minimal deterministic CBOR encoder (RFC 8949 section
// 4.2.1) for the value kinds the chain uses: unsigned and negative
// integers, byte strings, text strings, arrays, maps with text keys
// (sorted by their encoded bytes), and nil as null. Tests of the strict
// decoder also use it to write non-canonical bytes on purpose: rawCBOR is
// copied as is, and orderedMap keeps the key order it is given.
func refEncode(v any) []byte {
	var out []byte
	head := func(major byte, n uint64) {
		switch {
		case n < 24:
			out = append(out, major<<5|byte(n))
		case n <= 0xff:
			out = append(out, major<<5|24, byte(n))
		case n <= 0xffff:
			out = append(out, major<<5|25)
			out = binary.BigEndian.AppendUint16(out, uint16(n))
		case n <= 0xffffffff:
			out = append(out, major<<5|26)
			out = binary.BigEndian.AppendUint32(out, uint32(n))
		default:
			out = append(out, major<<5|27)
			out = binary.BigEndian.AppendUint64(out, n)
		}
	}
	switch x := v.(type) {
	case nil:
		out = append(out, 0xf6)
	case uint64:
		head(0, x)
	case int64:
		if x >= 0 {
			head(0, uint64(x))
		} else {
			head(1, uint64(-(x + 1)))
		}
	case []byte:
		head(2, uint64(len(x)))
		out = append(out, x...)
	case string:
		head(3, uint64(len(x)))
		out = append(out, x...)
	case []any:
		head(4, uint64(len(x)))
		for _, e := range x {
			out = append(out, refEncode(e)...)
		}
	case map[string]any:
		keys := make([][]byte, 0, len(x))
		for k := range x {
			keys = append(keys, refEncode(k))
		}
		sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
		head(5, uint64(len(x)))
		for _, k := range keys {
			out = append(out, k...)
			out = append(out, refEncode(x[string(k[textHeadLen(k):])])...)
		}
	case rawCBOR:
		out = append(out, x...)
	case orderedMap:
		head(5, uint64(len(x)))
		for _, e := range x {
			out = append(out, refEncode(e.key)...)
			out = append(out, refEncode(e.val)...)
		}
	default:
		panic(fmt.Sprintf("refEncode: unsupported %T", v))
	}
	return out
}

// textHeadLen returns the length of the head of an encoded text string.
func textHeadLen(b []byte) int {
	switch b[0] & 0x1f {
	case 24:
		return 2
	case 25:
		return 3
	case 26:
		return 5
	case 27:
		return 9
	}
	return 1
}
