package copyright_test

// Fuzz targets for the files and answers the copyright tools read: a
// certificate (its JSON or the HTML page around it), checked offline by
// `citychain verify`, and the block and validator JSON a node serves,
// from which a certificate is made. None of it may panic; a certificate
// read back is the one written, one that verifies proves its own block,
// and evidence that parses is the evidence the node stated.
//
//	go test ./apps/copyright/ -run '^$' -fuzz FuzzReadCertificate -fuzztime 30s

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/citychain/citychain/apps/copyright"
	"github.com/citychain/citychain/chain"
)

func FuzzReadCertificate(f *testing.F) {
	_, cert, _ := certified(f)
	f.Add(cert.Encode())
	v, err := copyright.VerifyCertificate(cert, copyright.VerifyOptions{})
	if err != nil {
		f.Fatal(err)
	}
	var page bytes.Buffer
	if err := copyright.RenderHTML(&page, cert, v); err != nil {
		f.Fatal(err)
	}
	f.Add(page.Bytes())
	// A commit signature flipped by one bit is refused.
	forged, err := copyright.ReadCertificate(cert.Encode())
	if err != nil {
		f.Fatal(err)
	}
	forged.Commit.Signatures[0].Signature[3] ^= 1
	if _, err := copyright.VerifyCertificate(forged, copyright.VerifyOptions{}); !errors.Is(err, copyright.ErrBadCertificate) {
		f.Fatalf("a certificate with a forged commit signature: %v, want %v", err, copyright.ErrBadCertificate)
	}
	f.Add(forged.Encode())
	f.Add([]byte(`{"format": "x"}`))
	f.Add([]byte(`<html><script type="application/json" id="citychain-certificate">{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := copyright.ReadCertificate(data)
		if err != nil {
			return
		}
		if c == nil {
			t.Fatal("no error and no certificate")
		}
		back, err := copyright.ReadCertificate(c.Encode())
		if err != nil {
			t.Fatalf("a certificate read does not read back once written: %v", err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("a certificate read back differs from the one written:\n%+v\n%+v", c, back)
		}
		v, err := copyright.VerifyCertificate(c, copyright.VerifyOptions{})
		if err != nil {
			if !errors.Is(err, copyright.ErrBadCertificate) {
				t.Fatalf("refused with %v, which does not wrap %v", err, copyright.ErrBadCertificate)
			}
			return
		}
		if v == nil || v.BlockHash != c.BlockHash || v.ChainID != c.ChainID || v.BlockHeight != c.Proof.Height ||
			len(v.Signers) == 0 || v.SignedPower == 0 || v.SignedPower > v.TotalPower || v.ValidatorsTrusted || v.FileChecked {
			t.Fatalf("verified %+v, which is not what the certificate holds", v)
		}
	})
}

func FuzzParseBlockEvidence(f *testing.F) {
	_, _, b := certified(f)
	type sig struct {
		Validator string `json:"validator"`
		Signature string `json:"signature"`
	}
	block := map[string]any{"hash": b.header.Hash(), "chain_id": b.header.ChainID, "height": b.header.Height,
		"state_root": b.header.StateRoot, "proposer": b.header.Proposer, "validators_hash": b.header.ValidatorsHash,
		"commit": map[string]any{"height": b.commit.Height, "block_hash": b.commit.BlockHash,
			"signatures": []sig{{b.commit.Signatures[0].Validator.String(), "00"}}}}
	bj, err := json.Marshal(block)
	if err != nil {
		f.Fatal(err)
	}
	vj, err := json.Marshal(map[string]any{"validators": b.vals.Validators})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bj, vj)
	f.Add([]byte(`{}`), []byte(`{}`))
	f.Add([]byte(`{"commit": {"signatures": [{"signature": "zz"}]}}`), []byte(`{"validators": [{}]}`))
	f.Fuzz(func(t *testing.T, block, validators []byte) {
		h, c, vals, err := copyright.ParseBlockEvidence(block, validators)
		if err != nil {
			return
		}
		if h == nil || c == nil || vals == nil {
			t.Fatalf("no error, but header %v, commit %v, validators %v", h != nil, c != nil, vals != nil)
		}
		if vals.Hash() != h.ValidatorsHash {
			t.Fatalf("the validator set %s is not the one the header names, %s", vals.Hash(), h.ValidatorsHash)
		}
		var stated struct {
			Hash chain.Hash `json:"hash"`
		}
		if json.Unmarshal(block, &stated) == nil && !stated.Hash.IsZero() && h.Hash() != stated.Hash {
			t.Fatalf("the header hashes to %s, the node stated %s", h.Hash(), stated.Hash)
		}
	})
}
