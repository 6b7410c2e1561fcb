package chain_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/citychain/citychain/chain"
)

func TestTxBatchRoundTrip(t *testing.T) {
	txs := [][]byte{{0xa1, 0x01, 0x02}, {0xa0}}
	b := chain.EncodeTxBatch(txs)
	// An array of two byte strings: 0x82, then 0x43 a1 01 02, then 0x41 a0.
	if want := []byte{0x82, 0x43, 0xa1, 0x01, 0x02, 0x41, 0xa0}; !bytes.Equal(b, want) {
		t.Fatalf("encoding % x, want % x", b, want)
	}
	if !chain.IsTxBatch(b) || chain.IsTxBatch([]byte{0xa0}) || chain.IsTxBatch(nil) {
		t.Fatal("IsTxBatch tells a batch from a transaction wrongly")
	}
	back, err := chain.DecodeTxBatch(b)
	if err != nil || len(back) != 2 || !bytes.Equal(back[0], txs[0]) {
		t.Fatalf("decode: %v %x", err, back)
	}
}

func TestTxBatchRefusals(t *testing.T) {
	many := make([][]byte, chain.MaxTxBatch+1)
	for i := range many {
		many[i] = []byte{0xa0}
	}
	for name, data := range map[string][]byte{
		"empty":          chain.EncodeTxBatch([][]byte{}),
		"a map":          {0xa0},
		"not bytes":      {0x81, 0x01},
		"too many":       chain.EncodeTxBatch(many),
		"too big":        append([]byte{0x81, 0x5a, 0x00, 0x10, 0x00, 0x01}, make([]byte, 1<<20+1)...),
		"truncated":      {0x82, 0x41},
		"non-canonical":  {0x98, 0x01, 0x41, 0xa0},
		"trailing bytes": {0x81, 0x41, 0xa0, 0x00},
	} {
		if _, err := chain.DecodeTxBatch(data); !errors.Is(err, chain.ErrDecode) && !errors.Is(err, chain.ErrNonCanonical) {
			t.Errorf("%s: %v, want a decode error", name, err)
		}
	}
}
