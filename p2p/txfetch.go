package p2p

import (
	"context"
	"fmt"
	"io"

	"github.com/citychain/citychain/chain"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Transaction fetch, the asking side. A proposal carries its block in
// compact form (transaction hashes); a validator that lacks some of the
// transactions asks a peer for them by hash. This package only carries
// them: which peer to ask, whether an answer is right (each transaction
// must hash to the hash asked for) and what to do with a peer that lied
// are the node's decisions. The bytes of the protocol are defined in
// package chain (see chain.TxRequest).

// TxSource is what the transaction fetch protocol serves: the node's
// transactions by hash. TxByHash returns the canonical bytes of the
// transaction whose hash is h, or nil if the node does not hold it. It is
// called from network goroutines and must be safe for concurrent use.
type TxSource interface {
	TxByHash(h chain.Hash) []byte
}

// txFetchProtocol is chain.TxFetchProtocolID as a libp2p protocol ID.
func txFetchProtocol(chainID string) protocol.ID {
	return protocol.ID(chain.TxFetchProtocolID(chainID))
}

// FetchTxs asks peer p for the transactions with the given hashes (1 to
// chain.MaxTxRequest of them) and returns what it answered: one entry per
// hash, in the same order, nil where p does not hold the transaction. It
// checks framing and sizes only; whether an entry is the transaction
// asked for is the caller's judgement.
//
// It gives up when ctx ends or after Config.RequestTimeout, whichever
// comes first, with an error that wraps ctx's error. Other errors:
// ErrProtocol for a request of no hashes or too many and for an answer
// that is cut short; ErrTooLarge for a frame above chain.MaxTxSize or an
// answer above chain.MaxTxAnswerSize; ErrClosed after Close; and the
// stream's error if p cannot be reached, does not speak the protocol or
// resets the stream.
func (h *Host) FetchTxs(ctx context.Context, p peer.ID, hashes []chain.Hash) ([][]byte, error) {
	req := chain.TxRequest{Hashes: hashes}
	if err := req.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	var txs [][]byte
	err := h.request(ctx, p, txFetchProtocol(h.cfg.ChainID), req.Encode(), func(r io.Reader) error {
		var err error
		txs, err = readTxAnswer(r, len(hashes))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%d transactions from %s: %w", len(hashes), p, err)
	}
	return txs, nil
}

// readTxAnswer reads the answer to a request for n transactions: n
// frames, empty for a transaction the peer does not hold.
func readTxAnswer(r io.Reader, n int) ([][]byte, error) {
	txs := make([][]byte, n)
	total := 0
	for i := range txs {
		raw, err := readFrame(r, chain.MaxTxSize)
		if err != nil {
			return nil, fmt.Errorf("transaction %d of %d: %w", i, n, cutShort(err))
		}
		total += len(raw)
		if total > chain.MaxTxAnswerSize {
			return nil, fmt.Errorf("%w: answer above %d bytes at transaction %d", ErrTooLarge, chain.MaxTxAnswerSize, i)
		}
		if len(raw) > 0 {
			txs[i] = raw
		}
	}
	return txs, nil
}
