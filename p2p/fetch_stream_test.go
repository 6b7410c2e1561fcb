package p2p

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/libp2p/go-libp2p/core/network"
)

// StreamBlocks hands over each block as soon as it is read: the first
// block of an answer reaches the caller while the server still holds
// back the rest.
func TestStreamBlocksHandsOverEachBlockAsItArrives(t *testing.T) {
	server, client := syncPair(t, 0, nil)
	release := make(chan struct{})
	answerWith(t, server, func(s network.Stream, req chain.SyncRequest, quit <-chan struct{}) {
		frames(s, goodBlock(1), []byte("commit-1"))
		select {
		case <-release:
		case <-quit:
			return
		}
		frames(s, goodBlock(2), []byte("commit-2"), nil)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []Entry
	n, err := client.StreamBlocks(ctx, server.ID(), 1, 2, func(e Entry) {
		got = append(got, e)
		if len(got) == 1 {
			close(release) // only now may the server send block 2
		}
	})
	if err != nil || n != 2 {
		t.Fatalf("delivered %d, err %v; want 2 blocks", n, err)
	}
	wantEntries(t, got, 1, 2)
}

// An answer that breaks off after some blocks: those blocks were handed
// over and are counted, and the error is the protocol's. FetchBlocks, on
// the same answer, returns none.
func TestStreamBlocksKeepsWhatCameBeforeABreak(t *testing.T) {
	server, client := syncPair(t, 0, nil)
	answerWith(t, server, func(s network.Stream, _ chain.SyncRequest, _ <-chan struct{}) {
		frames(s, goodBlock(1), []byte("commit-1"), goodBlock(2), []byte("commit-2"), goodBlock(3))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []Entry
	n, err := client.StreamBlocks(ctx, server.ID(), 1, 5, func(e Entry) { got = append(got, e) })
	if !errors.Is(err, ErrProtocol) || n != 2 {
		t.Fatalf("delivered %d, err %v; want 2 and %v", n, err, ErrProtocol)
	}
	wantEntries(t, got, 1, 2)
	if entries, err := client.FetchBlocks(ctx, server.ID(), 1, 5); err == nil || entries != nil {
		t.Fatalf("FetchBlocks of a broken answer: %d entries, err %v; want none and an error", len(entries), err)
	}
}
