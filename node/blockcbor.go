package node

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/citychain/citychain/chain"
)

// GET /v1/blocks/{height} answers in JSON (BlockView) unless the request
// asks for application/cbor in its Accept header. Then the answer is the
// block as the node stores it and block sync carries it: a canonical CBOR
// array of two byte strings, the block's canonical encoding and its
// commit certificate's (empty at height 0, which has none). The node
// sends the stored bytes without decoding them, and a client reads the
// transactions without parsing a JSON view of each: what a program that
// follows every block, such as citychain bench, asks for.

// acceptsCBOR reports whether the request's Accept header names
// application/cbor.
func acceptsCBOR(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		if t, _, err := mime.ParseMediaType(part); err == nil && t == "application/cbor" {
			return true
		}
	}
	return false
}

// EncodeBlockAnswer returns the CBOR answer of GET /v1/blocks/{height}
// for a block and its commit certificate, both in their canonical
// encodings; commit is nil at height 0.
func EncodeBlockAnswer(block, commit []byte) []byte {
	if commit == nil {
		commit = []byte{}
	}
	return chain.MustEncode([][]byte{block, commit})
}

// DecodeBlockAnswer parses the CBOR answer of GET /v1/blocks/{height}.
// The commit is nil for a block of height 0; for any other block it must
// be the certificate of that very block (its height and hash), which says
// the two parts belong together, not that the signatures are valid: that
// takes the validator set (chain.ValidatorSet.VerifyCommit).
func DecodeBlockAnswer(data []byte) (*chain.Block, *chain.Commit, error) {
	var parts [][]byte
	if err := chain.Decode(data, &parts); err != nil {
		return nil, nil, fmt.Errorf("decode block answer: %w", err)
	}
	if len(parts) != 2 {
		return nil, nil, fmt.Errorf("%w: a block answer holds a block and its commit, got %d parts", chain.ErrDecode, len(parts))
	}
	b, err := chain.DecodeBlock(parts[0])
	if err != nil {
		return nil, nil, err
	}
	h := b.Header.Height
	if h == 0 {
		if len(parts[1]) != 0 {
			return nil, nil, fmt.Errorf("%w: block 0 comes with a commit certificate", chain.ErrDecode)
		}
		return b, nil, nil
	}
	var c chain.Commit
	if err := chain.Decode(parts[1], &c); err != nil {
		return nil, nil, fmt.Errorf("commit of block %d: %w", h, err)
	}
	if c.Height != h || c.BlockHash != b.Hash() {
		return nil, nil, fmt.Errorf("%w: the commit certificate is for block %d %s, not for block %d %s",
			chain.ErrDecode, c.Height, c.BlockHash, h, b.Hash())
	}
	return b, &c, nil
}
