package copyright

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// A certificate lets anyone check a registration later, offline, with no
// node to ask: the record's exact bytes, a Merkle proof of them under the
// state root of block H, the header of block H, and the commit of its
// validators, each checked against the next (VerifyCertificate). README.md,
// "Certificates and offline verification", says what a verified
// certificate proves, what it trusts and what it does not say. Above all
// it trusts the validator set it brings: compare Verified.ValidatorsHash
// with a hash from a source you trust, or pass that hash as
// VerifyOptions.TrustedValidators.

// CertificateFormat names the layout; VerifyCertificate refuses others.
const CertificateFormat = "citychain-copyright-certificate/1"

// Certificate is the offline evidence of a registration.
type Certificate struct {
	Format  string      `json:"format"`
	ChainID string      `json:"chain_id"`
	Work    Work        `json:"work"`  // readable copy of the proven record
	Proof   *sdk.Proven `json:"proof"` // the record's key, bytes and Merkle proof
	// Header is the block's header; older certificates lack its "hash"
	// (README.md), which the verifier recomputes anyway.
	Header     chain.HeaderJSON    `json:"header"`
	BlockHash  chain.Hash          `json:"block_hash"` // recomputed by the verifier
	Commit     *chain.Commit       `json:"commit"`
	Validators *chain.ValidatorSet `json:"validators"`
}

// NewCertificate assembles a certificate from a verify answer and the
// block the proof was made at: header, commit and validator set. It
// verifies the result before returning it.
func NewCertificate(ans *VerifyAnswer, header *chain.Header, commit *chain.Commit, vals *chain.ValidatorSet) (*Certificate, error) {
	if ans.Proof == nil {
		return nil, fmt.Errorf("%w: the answer has no proof", ErrBadCertificate)
	}
	if header.Height != ans.Proof.Height {
		return nil, fmt.Errorf("%w: proof is for height %d, header is %d", ErrBadCertificate, ans.Proof.Height, header.Height)
	}
	c := &Certificate{Format: CertificateFormat, ChainID: ans.ChainID, Work: ans.Work, Proof: ans.Proof,
		Header: chain.NewHeaderJSON(header), BlockHash: header.Hash(), Commit: commit, Validators: vals}
	if _, err := VerifyCertificate(c, VerifyOptions{}); err != nil {
		return nil, err
	}
	return c, nil
}

// VerifyOptions add trust anchors and a file to VerifyCertificate.
type VerifyOptions struct {
	// TrustedValidators, when not zero, is the validator-set hash the
	// reader trusts; the certificate's set must have it.
	TrustedValidators chain.Hash
	// File, when not nil, holds the fingerprints of a file that must be
	// the registered one.
	File *Fingerprints
}

// Verified is what a certificate proved.
type Verified struct {
	Work           Work            `json:"work"`
	ChainID        string          `json:"chain_id"`
	BlockHeight    uint64          `json:"block_height"`
	BlockTime      string          `json:"block_time"`
	BlockHash      chain.Hash      `json:"block_hash"`
	StateRoot      chain.Hash      `json:"state_root"`
	ValidatorsHash chain.Hash      `json:"validators_hash"`
	Signers        []chain.Address `json:"signers"`
	SignedPower    uint64          `json:"signed_power"`
	TotalPower     uint64          `json:"total_power"`
	// ValidatorsTrusted is true when the set matched
	// VerifyOptions.TrustedValidators; false means the set was only
	// checked against itself.
	ValidatorsTrusted bool `json:"validators_trusted"`
	// FileChecked is true when VerifyOptions.File matched the record.
	FileChecked bool `json:"file_checked"`
}

// VerifyCertificate checks a certificate offline, step by step, and
// returns what it proves. Every failure wraps ErrBadCertificate and says
// which step failed.
func VerifyCertificate(c *Certificate, opts VerifyOptions) (*Verified, error) {
	fail := func(format string, args ...any) (*Verified, error) {
		return nil, fmt.Errorf("%w: %s", ErrBadCertificate, fmt.Sprintf(format, args...))
	}
	if c.Format != CertificateFormat {
		return fail("format %q, want %q", c.Format, CertificateFormat)
	}
	if c.Proof == nil || c.Commit == nil || c.Validators == nil {
		return fail("it lacks the proof, the commit or the validator set")
	}

	// 1. The header: its hash is recomputed from its fields, and its
	// readable time must be the hashed one.
	h, err := c.Header.Header()
	if err != nil {
		return fail("%v", err)
	}
	hash := h.Hash()
	if hash != c.BlockHash {
		return fail("the header hashes to %s, the certificate says %s", hash, c.BlockHash)
	}
	if h.ChainID != c.ChainID {
		return fail("the header is from chain %q, the certificate says %q", h.ChainID, c.ChainID)
	}

	// 2. The validators and their signatures over that hash.
	vals, err := chain.NewValidatorSet(c.Validators.Validators)
	if err != nil {
		return fail("validator set: %v", err)
	}
	if vals.Hash() != h.ValidatorsHash {
		return fail("the validator set hashes to %s, the header names %s", vals.Hash(), h.ValidatorsHash)
	}
	if !opts.TrustedValidators.IsZero() && opts.TrustedValidators != h.ValidatorsHash {
		return fail("the validator set %s is not the trusted one %s", h.ValidatorsHash, opts.TrustedValidators)
	}
	if err := vals.VerifyCommit(h.ChainID, h.Height, hash, c.Commit); err != nil {
		return fail("commit: %v", err)
	}

	// 3. The Merkle proof of the record under the header's state root.
	if c.Proof.Height != h.Height {
		return fail("the proof is for height %d, the header is %d", c.Proof.Height, h.Height)
	}
	if err := c.Proof.Verify(h.StateRoot); err != nil {
		return fail("proof: %v", err)
	}

	// 4. The record: proven bytes, under the key of the work they name.
	raw, err := c.Proof.ValueBytes()
	if err != nil || len(raw) == 0 {
		return fail("the proof holds no record")
	}
	var w Work
	if err := chain.Decode(raw, &w); err != nil {
		return fail("record: %v", err)
	}
	id, err := ParseWorkID(w.ID)
	if err != nil {
		return fail("record id: %v", err)
	}
	if key := hex.EncodeToString(chain.AppKey(Name, keyWork(id))); c.Proof.Key != key {
		return fail("the proven key %s is not the record key %s of %s", c.Proof.Key, key, w.ID)
	}
	if readable, err := chain.Encode(c.Work); err != nil || !bytes.Equal(readable, raw) {
		return fail("the readable record differs from the proven bytes")
	}

	v := &Verified{Work: w, ChainID: h.ChainID, BlockHeight: h.Height, BlockTime: sdk.FormatTime(h.BlockTime()), BlockHash: hash,
		StateRoot: h.StateRoot, ValidatorsHash: h.ValidatorsHash, TotalPower: vals.TotalPower(),
		ValidatorsTrusted: !opts.TrustedValidators.IsZero()}
	for _, s := range c.Commit.Signatures {
		val, _ := vals.Find(s.Validator)
		v.Signers = append(v.Signers, s.Validator)
		v.SignedPower += val.Power
	}

	// 5. The file, when given.
	if f := opts.File; f != nil {
		if f.SHA256 != w.SHA256 || f.InstanceCode != w.ID || f.DataCode != w.DataCode || f.Size != w.Size {
			return fail("the file (sha256 %s, %s) is not the registered one (sha256 %s, %s)", f.SHA256, f.InstanceCode, w.SHA256, w.ID)
		}
		v.FileChecked = true
	}
	return v, nil
}

// Encode returns the certificate as indented JSON.
func (c *Certificate) Encode() []byte {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("encode certificate: %v", err)) // plain data; cannot fail
	}
	return append(b, '\n')
}

// ReadCertificate parses a certificate from its JSON or from the HTML
// page that embeds it (RenderHTML).
func ReadCertificate(data []byte) (*Certificate, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '<' {
		_, embedded, ok := bytes.Cut(data, []byte(htmlCertOpen))
		if !ok {
			return nil, fmt.Errorf("%w: the page has no embedded certificate", ErrBadCertificate)
		}
		if data, _, ok = bytes.Cut(embedded, []byte("</script>")); !ok {
			return nil, fmt.Errorf("%w: the embedded certificate is not closed", ErrBadCertificate)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Certificate
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCertificate, err)
	}
	return &c, nil
}

// blockEvidence is what a certificate needs of the JSON of
// GET /v1/blocks/{height}: the header and the commit that finalised it.
type blockEvidence struct {
	chain.HeaderJSON
	Commit *struct {
		chain.Commit // height, round, block hash; Signatures (hex) shadows its own
		Signatures   []struct {
			Validator chain.Address `json:"validator"`
			Signature string        `json:"signature"` // hex
		} `json:"signatures"`
	} `json:"commit"`
}

// ParseBlockEvidence reads the header and commit from the JSON of
// GET /v1/blocks/{height} and the validator set from the JSON of
// GET /v1/validators. It checks that the header fields hash to the hash
// the node states, if it states one, and that the set is the one the
// header names.
func ParseBlockEvidence(block, validators []byte) (*chain.Header, *chain.Commit, *chain.ValidatorSet, error) {
	var b blockEvidence
	if err := json.Unmarshal(block, &b); err != nil {
		return nil, nil, nil, fmt.Errorf("block: %w", err)
	}
	if b.TimeMillis == 0 && !b.Time.IsZero() {
		// A node that sends only the readable time: it is exact to the
		// millisecond, and the hash check below catches any other.
		b.TimeMillis = b.Time.UnixMilli()
	}
	h, err := b.Header()
	if err != nil {
		return nil, nil, nil, err
	}
	if b.Commit == nil {
		return nil, nil, nil, fmt.Errorf("block %d has no commit yet", b.Height)
	}
	c := &b.Commit.Commit
	for _, s := range b.Commit.Signatures {
		sig, err := hex.DecodeString(s.Signature)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("block %d: signature of %s: %w", b.Height, s.Validator, err)
		}
		c.Signatures = append(c.Signatures, chain.CommitSig{Validator: s.Validator, Signature: sig})
	}
	var v chain.ValidatorSet // the node's answer, checked by NewValidatorSet
	if err := json.Unmarshal(validators, &v); err != nil {
		return nil, nil, nil, fmt.Errorf("validators: %w", err)
	}
	vals, err := chain.NewValidatorSet(v.Validators)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("validators: %w", err)
	}
	if vals.Hash() != h.ValidatorsHash {
		return nil, nil, nil, fmt.Errorf("the node's validator set (%s) is not the one that signed block %d (%s); it changed since",
			vals.Hash(), h.Height, h.ValidatorsHash)
	}
	return h, c, vals, nil
}
