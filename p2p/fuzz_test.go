package p2p

// Fuzz targets for what a peer sends on this package's streams: the
// status exchange, the answer to a block sync request and the answer to a
// transaction fetch. The properties: no input panics; a status that
// decodes re-encodes to the same bytes; an answer that reads delivers no
// more than was asked for and no frame above its limit. Run one with
//
//	go test ./p2p/ -run '^$' -fuzz FuzzSyncAnswer -fuzztime 30s

import (
	"bytes"
	"errors"
	"testing"

	"github.com/citychain/citychain/chain"
)

func FuzzDecodeStatus(f *testing.F) {
	f.Add(status{ChainID: "city", Height: 42, Hash: bytes.Repeat([]byte{7}, 32)}.encode())
	f.Add(status{ChainID: "city", Height: 1, Identity: []byte("node0")}.encode())
	f.Add([]byte{4, 'c', 'i', 't', 'y'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeStatus(b)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error of an unexpected kind: %v", err)
			}
			return
		}
		if !bytes.Equal(s.encode(), b) {
			t.Fatalf("decoded %+v, but re-encodes differently", s)
		}
	})
}

// joinFrames joins byte strings as frames.
func joinFrames(parts ...[]byte) []byte {
	var buf bytes.Buffer
	for _, p := range parts {
		if err := writeFrame(&buf, p); err != nil {
			panic(err)
		}
	}
	return buf.Bytes()
}

func FuzzSyncAnswer(f *testing.F) {
	block, commit := []byte("block bytes"), []byte("commit bytes")
	f.Add(uint8(2), joinFrames(block, commit, block, commit, nil))
	f.Add(uint8(1), joinFrames(block, commit, block, commit, nil)) // one too many
	f.Add(uint8(3), joinFrames(block, commit))                     // cut short
	f.Add(uint8(1), joinFrames(nil))                               // no blocks
	f.Add(uint8(1), []byte{0xff, 0xff, 0xff, 0xff})                // a frame above the limit
	f.Fuzz(func(t *testing.T, count uint8, answer []byte) {
		req := chain.SyncRequest{From: 10, To: 10 + uint64(count%chain.MaxSyncRange)}
		entries, err := readAnswer(bytes.NewReader(answer), req)
		if err != nil {
			if len(entries) != 0 {
				t.Fatalf("an error (%v) with %d entries", err, len(entries))
			}
			return
		}
		if len(entries) == 0 || uint64(len(entries)) > req.Count() {
			t.Fatalf("%d entries for a request of %d", len(entries), req.Count())
		}
		for _, e := range entries {
			if len(e.Block) == 0 || len(e.Block) > MaxEntrySize || len(e.Commit) > MaxEntrySize {
				t.Fatalf("an entry of %d and %d bytes", len(e.Block), len(e.Commit))
			}
		}
	})
}

func FuzzTxAnswer(f *testing.F) {
	tx := []byte("a transaction")
	f.Add(uint8(2), joinFrames(tx, nil))
	f.Add(uint8(3), joinFrames(tx, tx))
	f.Add(uint8(1), []byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, n uint8, answer []byte) {
		want := int(n%64) + 1
		txs, err := readTxAnswer(bytes.NewReader(answer), want)
		if err != nil {
			return
		}
		total := 0
		for _, raw := range txs {
			if len(raw) > chain.MaxTxSize {
				t.Fatalf("a transaction of %d bytes", len(raw))
			}
			total += len(raw)
		}
		if len(txs) != want || total > chain.MaxTxAnswerSize {
			t.Fatalf("%d transactions of %d bytes for a request of %d", len(txs), total, want)
		}
	})
}
