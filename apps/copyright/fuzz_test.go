package copyright_test

// Fuzz targets for the files and answers the copyright tools read: a
// certificate (its JSON or the HTML page around it), checked offline by
// `citychain verify`, and the block and validator JSON a node serves,
// from which a certificate is made. None of it may panic.
//
//	go test ./apps/copyright/ -run '^$' -fuzz FuzzReadCertificate -fuzztime 30s

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/citychain/citychain/apps/copyright"
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
	f.Add([]byte(`{"format": "x"}`))
	f.Add([]byte(`<html><script type="application/json" id="citychain-certificate">{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := copyright.ReadCertificate(data)
		if err != nil {
			return
		}
		_, _ = copyright.VerifyCertificate(c, copyright.VerifyOptions{})
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
		_, _, _, _ = copyright.ParseBlockEvidence(block, validators)
	})
}
