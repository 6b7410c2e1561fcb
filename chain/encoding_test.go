package chain_test

import (
	"bytes"
	"testing"

	"github.com/citychain/citychain/chain"
)

// An empty list has one encoding: a nil slice and an empty slice encode
// alike, so an empty block cannot be written two ways.
func TestEmptyListsHaveOneEncoding(t *testing.T) {
	a := chain.Block{Header: chain.Header{ChainID: "x", Height: 1}, Txs: nil}
	b := chain.Block{Header: chain.Header{ChainID: "x", Height: 1}, Txs: [][]byte{}}
	ea, eb := a.Encode(), b.Encode()
	if !bytes.Equal(ea, eb) {
		t.Fatalf("nil and empty txs encode differently:\n%x\n%x", ea, eb)
	}
	// The CBOR null (0xf6) where the list belongs is refused.
	i := bytes.Index(ea, []byte("txs"))
	if i < 0 || ea[i+3] != 0x80 {
		t.Fatalf("expected an empty array after the txs key: %x", ea)
	}
	bad := append(append(append([]byte(nil), ea[:i+3]...), 0xf6), ea[i+4:]...)
	if _, err := chain.DecodeBlock(bad); err == nil {
		t.Fatal("a block with txs: null decoded")
	}
}
