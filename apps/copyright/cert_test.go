package copyright_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/copyright"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// signedBlock is what a node serves for the latest block of a test
// chain: its header and a commit signed by the given validator keys.
type signedBlock struct {
	header *chain.Header
	commit *chain.Commit
	vals   *chain.ValidatorSet
}

// signLatest makes the header of the chain's latest state and has each
// named validator precommit it. The test chain has no consensus, so the
// test plays the validators.
func signLatest(t testing.TB, c *chaintest.Chain, validators ...string) signedBlock {
	t.Helper()
	var set []chain.Validator
	for _, v := range validators {
		pub := chaintest.Key(v).PublicKey()
		set = append(set, chain.Validator{Address: chain.AddressOf(pub), PubKey: pub.Bytes(), Power: 1})
	}
	vals, err := chain.NewValidatorSet(set)
	if err != nil {
		t.Fatal(err)
	}
	h := &chain.Header{ChainID: chaintest.ChainID, Height: c.Height, Time: c.Time.UnixMilli(), StateRoot: c.Root,
		Proposer: vals.Validators[0].Address, ValidatorsHash: vals.Hash()}
	commit := &chain.Commit{Height: h.Height, BlockHash: h.Hash()}
	for _, v := range validators {
		vote := chain.Vote{ChainID: h.ChainID, Type: chain.Precommit, Height: h.Height, BlockHash: h.Hash(), Validator: chaintest.Addr(v)}
		vote.Sign(chaintest.Key(v))
		commit.Signatures = append(commit.Signatures, chain.CommitSig{Validator: vote.Validator, Signature: vote.Signature})
	}
	return signedBlock{h, commit, vals}
}

// certified registers a photo for alice and returns the file, the
// certificate and the block behind it.
func certified(t testing.TB) ([]byte, *copyright.Certificate, signedBlock) {
	t.Helper()
	photo, ans, b := registered(t)
	cert, err := copyright.NewCertificate(ans, b.header, b.commit, b.vals)
	if err != nil {
		t.Fatal(err)
	}
	return photo, cert, b
}

// registered registers a photo for alice and returns the file, the
// registry's answer for it and the block behind it.
func registered(t testing.TB) ([]byte, *copyright.VerifyAnswer, signedBlock) {
	t.Helper()
	c, err := chaintest.New([]chain.App{copyright.New()}, map[string]any{copyright.Name: copyright.DefaultGenesis()})
	if err != nil {
		t.Fatal(err)
	}
	photo := work("harbour at dawn", 60_000)
	reg := registration(t, photo, "Harbour at dawn")
	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRegister, reg); err != nil {
		t.Fatal(err)
	}
	a, err := c.Query(copyright.Name, "verify/"+reg.SHA256, nil)
	if err != nil {
		t.Fatal(err)
	}
	ans := a.(copyright.VerifyAnswer)
	return photo, &ans, signLatest(t, c, "validator")
}

func TestCertificateVerifiesOffline(t *testing.T) {
	photo, cert, b := certified(t)
	fp, _ := copyright.Fingerprint(bytes.NewReader(photo))
	// The certificate travels as JSON.
	back, err := copyright.ReadCertificate(cert.Encode())
	if err != nil {
		t.Fatal(err)
	}
	v, err := copyright.VerifyCertificate(back, copyright.VerifyOptions{TrustedValidators: b.vals.Hash(), File: fp})
	if err != nil {
		t.Fatal(err)
	}
	if v.Work.Registrant != chaintest.Addr("alice") || v.Work.Title != "Harbour at dawn" || !v.FileChecked || !v.ValidatorsTrusted {
		t.Errorf("verified = %+v", v)
	}
	if v.BlockHash != b.header.Hash() || v.SignedPower != 1 || v.TotalPower != 1 || len(v.Signers) != 1 {
		t.Errorf("evidence = %+v", v)
	}
}

func TestTamperedCertificatesFail(t *testing.T) {
	photo, cert, b := certified(t)
	mallory := func(c *copyright.Certificate) {
		// A forger signs a header of their own with a validator set of
		// their own: self-consistent, so only a trusted hash catches it.
		fake := signedBlock{}
		fakeSet, _ := chain.NewValidatorSet([]chain.Validator{{Address: chaintest.Addr("mallory"),
			PubKey: chaintest.Key("mallory").PublicKey().Bytes(), Power: 1}})
		h := c.Header
		h.ValidatorsHash = fakeSet.Hash()
		hdr := &chain.Header{ChainID: h.ChainID, Height: h.Height, Time: h.TimeMillis, StateRoot: h.StateRoot, ValidatorsHash: h.ValidatorsHash, Proposer: h.Proposer}
		vote := chain.Vote{ChainID: hdr.ChainID, Type: chain.Precommit, Height: hdr.Height, BlockHash: hdr.Hash(), Validator: chaintest.Addr("mallory")}
		vote.Sign(chaintest.Key("mallory"))
		fake.commit = &chain.Commit{Height: hdr.Height, BlockHash: hdr.Hash(), Signatures: []chain.CommitSig{{Validator: vote.Validator, Signature: vote.Signature}}}
		c.Header.ValidatorsHash = fakeSet.Hash()
		c.Header.Hash, c.BlockHash = hdr.Hash(), hdr.Hash()
		c.Commit = fake.commit
		c.Validators = fakeSet
	}
	other, _ := copyright.Fingerprint(strings.NewReader("another file"))
	cases := []struct {
		name   string
		tamper func(c *copyright.Certificate)
		opts   copyright.VerifyOptions
		want   string
	}{
		{"the readable holder is changed", func(c *copyright.Certificate) { c.Work.Holder = chaintest.Addr("bob") }, copyright.VerifyOptions{}, "readable record"},
		{"the proven bytes are changed", func(c *copyright.Certificate) { c.Proof.Value = flipHex(c.Proof.Value) }, copyright.VerifyOptions{}, "proof"},
		{"the proven key is another", func(c *copyright.Certificate) { c.Proof.Key = flipHex(c.Proof.Key) }, copyright.VerifyOptions{}, "proof"},
		{"the block time is moved", func(c *copyright.Certificate) { moveTime(c, -24*time.Hour) }, copyright.VerifyOptions{}, "does not match its fields"},
		{"the block time is moved in a certificate without a header hash", func(c *copyright.Certificate) {
			moveTime(c, -24*time.Hour)
			c.Header.Hash = chain.Hash{}
		}, copyright.VerifyOptions{}, "header hashes"},
		{"the readable time disagrees", func(c *copyright.Certificate) { c.Header.Time = c.Header.Time.Add(time.Hour) }, copyright.VerifyOptions{}, "is not time_ms"},
		{"a new state root with a recomputed hash", func(c *copyright.Certificate) {
			c.Header.StateRoot, c.Header.Hash = chain.Hash{1}, chain.Hash{}
			h, _ := c.Header.Header()
			c.Header.Hash, c.BlockHash = h.Hash(), h.Hash()
		}, copyright.VerifyOptions{}, "commit"},
		{"the signatures are dropped", func(c *copyright.Certificate) { c.Commit.Signatures = nil }, copyright.VerifyOptions{}, "commit"},
		{"another validator set", func(c *copyright.Certificate) {
			c.Validators, _ = chain.NewValidatorSet([]chain.Validator{{Address: chaintest.Addr("bob"), PubKey: chaintest.Key("bob").PublicKey().Bytes(), Power: 1}})
		}, copyright.VerifyOptions{}, "validator set"},
		{"a forger's own validators, with a trusted hash", mallory, copyright.VerifyOptions{TrustedValidators: b.vals.Hash()}, "not the trusted one"},
		{"another file", func(*copyright.Certificate) {}, copyright.VerifyOptions{File: other}, "not the registered one"},
		{"an unknown format", func(c *copyright.Certificate) { c.Format = "v0" }, copyright.VerifyOptions{}, "format"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := copyright.ReadCertificate(cert.Encode()) // a fresh copy
			if err != nil {
				t.Fatal(err)
			}
			tc.tamper(c)
			_, err = copyright.VerifyCertificate(c, tc.opts)
			if !errors.Is(err, copyright.ErrBadCertificate) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("VerifyCertificate = %v; want a failure about %q", err, tc.want)
			}
		})
	}
	t.Run("the forger's certificate passes without a trust anchor", func(t *testing.T) {
		// This is why VerifyOptions.TrustedValidators exists.
		c, _ := copyright.ReadCertificate(cert.Encode())
		mallory(c)
		if _, err := copyright.VerifyCertificate(c, copyright.VerifyOptions{}); err != nil {
			t.Errorf("self-consistent forgery refused without an anchor: %v", err)
		}
	})
	fp, _ := copyright.Fingerprint(bytes.NewReader(photo))
	if _, err := copyright.VerifyCertificate(cert, copyright.VerifyOptions{File: fp}); err != nil {
		t.Errorf("the original no longer verifies: %v", err)
	}
}

// moveTime moves the block time of the certificate's header, both the
// hashed and the readable form.
func moveTime(c *copyright.Certificate, d time.Duration) {
	c.Header.TimeMillis += d.Milliseconds()
	c.Header.Time = c.Header.Time.Add(d)
}

func flipHex(s string) string {
	b, _ := hex.DecodeString(s)
	b[len(b)-1] ^= 1
	return hex.EncodeToString(b)
}

func TestCertificatePageEmbedsTheCertificate(t *testing.T) {
	_, cert, _ := certified(t)
	v, err := copyright.VerifyCertificate(cert, copyright.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := copyright.RenderHTML(&page, cert, v); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "Registration certificate", "Harbour at dawn", v.Work.SHA256, "citychain verify"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	back, err := copyright.ReadCertificate(page.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := copyright.VerifyCertificate(back, copyright.VerifyOptions{}); err != nil {
		t.Errorf("the page's certificate does not verify: %v", err)
	}
}

// nodeBlockJSON renders a block the way GET /v1/blocks/{h} does (the
// header as chain.HeaderJSON, the transactions and the commit), and the
// set the way GET /v1/validators does.
func nodeBlockJSON(t testing.TB, b signedBlock) (block, validators []byte) {
	t.Helper()
	sigs := []map[string]any{}
	for _, s := range b.commit.Signatures {
		sigs = append(sigs, map[string]any{"validator": s.Validator, "signature": hex.EncodeToString(s.Signature)})
	}
	block, err := json.Marshal(struct {
		chain.HeaderJSON
		Txs    []any          `json:"txs"`
		Commit map[string]any `json:"commit"`
	}{chain.NewHeaderJSON(b.header), []any{},
		map[string]any{"height": b.commit.Height, "round": b.commit.Round, "block_hash": b.commit.BlockHash, "signatures": sigs}})
	if err != nil {
		t.Fatal(err)
	}
	validators, err = json.Marshal(map[string]any{"height": b.header.Height + 1, "validators": b.vals.Validators, "quorum": b.vals.Quorum()})
	if err != nil {
		t.Fatal(err)
	}
	return block, validators
}

func TestParseBlockEvidenceReadsTheNodesJSON(t *testing.T) {
	_, _, b := certified(t)
	block, vals := nodeBlockJSON(t, b)
	h, commit, set, err := copyright.ParseBlockEvidence(block, vals)
	if err != nil {
		t.Fatal(err)
	}
	if h.Hash() != b.header.Hash() || commit.Hash() != b.commit.Hash() || set.Hash() != b.vals.Hash() {
		t.Error("the evidence read back differs from what was served")
	}
	other := signedBlock{header: b.header, commit: b.commit}
	other.vals, _ = chain.NewValidatorSet([]chain.Validator{{Address: chaintest.Addr("bob"), PubKey: chaintest.Key("bob").PublicKey().Bytes(), Power: 1}})
	_, vals2 := nodeBlockJSON(t, other)
	if _, _, _, err := copyright.ParseBlockEvidence(block, vals2); err == nil || !strings.Contains(err.Error(), "changed since") {
		t.Errorf("a changed validator set: %v", err)
	}
	lying := bytes.Replace(block, []byte(b.header.StateRoot.String()), []byte(strings.Repeat("0", 64)), 1)
	if _, _, _, err := copyright.ParseBlockEvidence(lying, vals); err == nil {
		t.Error("a header whose fields do not hash to its hash was accepted")
	}
	// A node that sends the readable time only, without time_ms.
	var fields map[string]any
	if err := json.Unmarshal(block, &fields); err != nil {
		t.Fatal(err)
	}
	delete(fields, "time_ms")
	readable, _ := json.Marshal(fields)
	if h, _, _, err := copyright.ParseBlockEvidence(readable, vals); err != nil || h.Hash() != b.header.Hash() {
		t.Errorf("a block without time_ms: %v", err)
	}
}

// A block that carries evidence has an evidence hash in its header; a
// certificate of such a block keeps it, so the header still hashes to
// the block the validators signed.
func TestCertificateOfABlockWithEvidence(t *testing.T) {
	photo, ans, b := registered(t)
	cert, err := copyright.NewCertificate(ans, b.header, b.commit, b.vals)
	if err != nil {
		t.Fatal(err)
	}
	h := *b.header
	h.EvidenceHash = chain.Sum([]byte("the block's evidence"))
	commit := &chain.Commit{Height: h.Height, BlockHash: h.Hash()}
	vote := chain.Vote{ChainID: h.ChainID, Type: chain.Precommit, Height: h.Height, BlockHash: h.Hash(), Validator: chaintest.Addr("validator")}
	vote.Sign(chaintest.Key("validator"))
	commit.Signatures = []chain.CommitSig{{Validator: vote.Validator, Signature: vote.Signature}}
	ev, err := copyright.NewCertificate(ans, &h, commit, b.vals)
	if err != nil {
		t.Fatal(err)
	}
	back, err := copyright.ReadCertificate(ev.Encode())
	if err != nil {
		t.Fatal(err)
	}
	fp, _ := copyright.Fingerprint(bytes.NewReader(photo))
	v, err := copyright.VerifyCertificate(back, copyright.VerifyOptions{TrustedValidators: b.vals.Hash(), File: fp})
	if err != nil {
		t.Fatalf("a certificate of a block with evidence does not verify: %v", err)
	}
	if v.BlockHash != h.Hash() {
		t.Fatalf("verified block %s, want %s", v.BlockHash, h.Hash())
	}
	if back.Header.EvidenceHash != h.EvidenceHash {
		t.Errorf("the certificate carries evidence hash %s, want %s", back.Header.EvidenceHash, h.EvidenceHash)
	}
	if cert.Header.EvidenceHash != (chain.Hash{}) {
		t.Error("a certificate of a block without evidence shows an evidence hash")
	}
}

// Certificates written before the header carried its hash: no "hash",
// the readable time with milliseconds, and no evidence_hash when it is
// zero. They must verify as they did, with the file they were made for.
func TestCertificatesOfTheFirstShapeStillVerify(t *testing.T) {
	photo := work("harbour at dawn", 60_000)
	fp, _ := copyright.Fingerprint(bytes.NewReader(photo))
	for _, name := range []string{"certificate-v1.json", "certificate-v1-evidence.json"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(raw, []byte(`"hash"`)) || !bytes.Contains(raw, []byte(`"time": "2026-01-01T08:00:01.000Z"`)) {
				t.Fatal("the fixture is not in the first shape")
			}
			c, err := copyright.ReadCertificate(raw)
			if err != nil {
				t.Fatal(err)
			}
			v, err := copyright.VerifyCertificate(c, copyright.VerifyOptions{File: fp})
			if err != nil {
				t.Fatal(err)
			}
			if v.BlockHash != c.BlockHash || v.BlockTime != "2026-01-01T08:00:01.000Z" || v.Work.Title != "Harbour at dawn" {
				t.Errorf("verified = %+v", v)
			}
			c.Header.TimeMillis++
			if _, err := copyright.VerifyCertificate(c, copyright.VerifyOptions{}); err == nil {
				t.Error("a first-shape certificate with a moved time verified")
			}
		})
	}
}
