package chain_test

// Fuzz targets for the rest of what a node reads from peers and files:
// gossiped transaction batches, block sync requests and the commit frame
// of a sync answer, and the genesis file. Same properties as
// fuzz_test.go: no panic, errors of the package's kinds, and what decodes
// re-encodes to the input where the encoding is canonical.

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

func FuzzDecodeTxBatch(f *testing.F) {
	one, two := goldenTransfer(0, 1, 10, 0).Encode(), goldenTransfer(0, 2, 25, 1).Encode()
	f.Add(chain.EncodeTxBatch([][]byte{one, two}))
	f.Add(chain.EncodeTxBatch([][]byte{one}))
	f.Add(chain.EncodeTxBatch([][]byte{{}}))
	f.Add([]byte{0x80})
	f.Add([]byte{0x9f, 0x41, 0x00, 0xff}) // indefinite length
	f.Add(one)
	f.Fuzz(func(t *testing.T, b []byte) {
		txs, err := chain.DecodeTxBatch(b)
		if err != nil {
			checkErrKind(t, err, chain.ErrDecode, chain.ErrNonCanonical)
			return
		}
		if !bytes.Equal(chain.EncodeTxBatch(txs), b) {
			t.Fatal("decoded, but re-encodes differently")
		}
		for _, raw := range txs {
			if tx, err := chain.DecodeTx(raw); err == nil {
				_ = tx.ValidateBasic("fuzz")
			}
		}
	})
}

func FuzzDecodeSyncRequest(f *testing.F) {
	f.Add(chain.SyncRequest{From: 1, To: 64}.Encode())
	f.Add(chain.SyncRequest{From: 5, To: 4}.Encode())
	f.Add(binary.BigEndian.AppendUint64(make([]byte, 8), ^uint64(0)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := chain.DecodeSyncRequest(b)
		if err != nil {
			checkErrKind(t, err, chain.ErrDecode)
			return
		}
		if !bytes.Equal(r.Encode(), b) || r.Count() == 0 || r.Count() > chain.MaxSyncRange {
			t.Fatalf("decoded %+v: re-encodes differently or its range is out of bounds", r)
		}
	})
}

func FuzzDecodeCommit(f *testing.F) {
	c := &chain.Commit{Height: 3, Round: 1, BlockHash: chain.Sum([]byte("block")),
		Signatures: []chain.CommitSig{{Validator: goldenAddr(1), Signature: make([]byte, 64)}}}
	f.Add(chain.MustEncode(c))
	f.Add(chain.MustEncode(&chain.Commit{}))
	f.Add([]byte{0xa0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var c chain.Commit
		if err := chain.Decode(b, &c); err != nil {
			checkErrKind(t, err, chain.ErrDecode, chain.ErrNonCanonical)
			return
		}
		if !bytes.Equal(chain.MustEncode(&c), b) {
			t.Fatal("decoded, but re-encodes differently")
		}
	})
}

func FuzzLoadGenesis(f *testing.F) {
	key := goldenKey(0)
	g := &chain.Genesis{ChainID: "fuzz-chain", GenesisTime: time.Unix(1_700_000_000, 0).UTC(),
		Validators: []chain.GenesisValidator{{Name: "v0", Address: chain.AddressOf(key.PublicKey()),
			PubKey: hex.EncodeToString(key.PublicKey().Bytes()), Power: 10}}}
	dir := f.TempDir()
	path := filepath.Join(dir, "genesis.json")
	if err := g.Save(path); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(bytes.Replace(seed, []byte(`"power": 10`), []byte(`"power": 0`), 1))
	f.Add(bytes.Replace(seed, []byte(`"fuzz-chain"`), []byte(`"Fuzz Chain"`), 1))
	f.Add([]byte(`{"chain_id": "c", "validators": [], "extra": 1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		g, err := chain.LoadGenesis(path)
		if err != nil {
			return
		}
		if vs, err := g.ValidatorSet(); err == nil {
			_ = g.Header(chain.Hash{}, vs)
		}
	})
}
