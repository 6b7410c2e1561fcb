package p2p

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// verifier is the test's stand-in for the node's apply: it accepts only
// the next height of the valid test chain and stores it.
type verifier struct {
	store    *memBlocks
	mu       sync.Mutex
	heights  []uint64
	rejected int
}

func (v *verifier) apply(height uint64, block, commit []byte) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if want := v.store.Height() + 1; height != want {
		return fmt.Errorf("got height %d, want %d", height, want)
	}
	if string(block) != string(goodBlock(height)) || string(commit) != fmt.Sprintf("commit-%d", height) {
		v.rejected++
		return fmt.Errorf("block %d does not verify", height)
	}
	v.store.add(block, commit)
	v.heights = append(v.heights, height)
	return nil
}

func (v *verifier) inOrder(t *testing.T, from, to uint64) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	if uint64(len(v.heights)) != to-from+1 {
		t.Fatalf("applied %d blocks, want %d", len(v.heights), to-from+1)
	}
	for i, h := range v.heights {
		if h != from+uint64(i) {
			t.Fatalf("apply #%d got height %d, want %d", i, h, from+uint64(i))
		}
	}
}

// waitStatus waits until n knows the height of every peer in ids.
func waitStatus(t *testing.T, n *testNode, ids ...peer.ID) {
	t.Helper()
	eventually(t, 10*time.Second, n.name+" to learn its peers' heights", func() bool {
		for _, id := range ids {
			if info, ok := peerInfo(n, id); !ok || info.StatusAt.IsZero() {
				return false
			}
		}
		return true
	})
}

func TestSyncCatchesUp(t *testing.T) {
	const blocks = 250 // three requests: 100, 100, 50
	server := newNode(t, "server", goodChain(blocks), nil)
	local := goodChain(5) // the late node already has the first five
	late := newNode(t, "late", local, bootstrapTo(server))
	waitStatus(t, late, server.ID())

	if info, _ := peerInfo(late, server.ID()); info.Height != blocks || string(info.Hash) != fmt.Sprintf("hash-%d", blocks) {
		t.Fatalf("status of server: height %d hash %q", info.Height, info.Hash)
	}
	if got := late.BestHeight(); got != blocks {
		t.Errorf("BestHeight = %d, want %d", got, blocks)
	}

	v := &verifier{store: local}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := late.Sync(ctx, v.apply); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	v.inOrder(t, 6, blocks)
	if late.Syncing() {
		t.Error("Syncing() is true after Sync returned")
	}
	// Caught up: a second Sync has nothing to do.
	if err := late.Sync(ctx, v.apply); err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	v.inOrder(t, 6, blocks)
}

func TestSyncFallsBackWhenAPeerServesGarbage(t *testing.T) {
	// The liar claims more blocks, so Sync asks it first.
	liar := newNode(t, "liar", junkChain(30), nil)
	honest := newNode(t, "honest", goodChain(20), nil)
	local := &memBlocks{}
	late := newNode(t, "late", local, bootstrapTo(liar, honest))
	waitStatus(t, late, liar.ID(), honest.ID())

	v := &verifier{store: local}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := late.Sync(ctx, v.apply); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	v.inOrder(t, 1, 20)
	if v.rejected != 1 {
		t.Errorf("apply rejected %d blocks, want exactly the liar's first", v.rejected)
	}
	info, ok := peerInfo(late, liar.ID())
	if !ok || !info.SyncBanned {
		t.Errorf("liar should be banned from sync: %+v", info)
	}
	if info, _ := peerInfo(late, honest.ID()); info.SyncBanned {
		t.Error("honest peer is banned")
	}
}

func TestSyncWithoutPeersReturns(t *testing.T) {
	n := newNode(t, "alone", goodChain(3), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v := &verifier{store: n.blocks}
	if err := n.Sync(ctx, v.apply); err != nil {
		t.Fatalf("Sync with no peers: %v", err)
	}
	if err := n.Sync(ctx, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil apply: got %v", err)
	}
}

func TestSyncServerRejectsBadRequests(t *testing.T) {
	server := newNode(t, "server", goodChain(10), nil)
	client := newNode(t, "client", nil, bootstrapTo(server))
	eventually(t, 10*time.Second, "connection", func() bool { return connected(client, server) })

	cases := []struct {
		name  string
		frame []byte
	}{
		{"height zero", syncRequest{From: 0, To: 5}.encode()},
		{"reversed range", syncRequest{From: 5, To: 4}.encode()},
		{"range too long", syncRequest{From: 1, To: MaxSyncRange + 1}.encode()},
		{"short frame", make([]byte, 15)},
		{"long frame", make([]byte, 17)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s, err := client.lh.NewStream(ctx, server.ID(), SyncProtocol("testchain"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.SetDeadline(time.Now().Add(5 * time.Second))
			if err := writeFrame(s, c.frame); err != nil {
				t.Fatal(err)
			}
			s.CloseWrite()
			if b, err := readFrame(s, MaxEntrySize); err == nil {
				t.Fatalf("server answered a bad request with %q", b)
			}
		})
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Beyond the server's height: an empty answer, reported as an error.
	if _, err := client.fetchRange(ctx, server.ID(), syncRequest{From: 11, To: 20}); err == nil {
		t.Error("range beyond the server's height gave blocks")
	}
	// Partly beyond: the blocks it has.
	got, err := client.fetchRange(ctx, server.ID(), syncRequest{From: 8, To: 20})
	if err != nil || len(got) != 3 || string(got[0].block) != "block-8" || string(got[2].commit) != "commit-10" {
		t.Errorf("partial range: %d entries, err %v", len(got), err)
	}
}

func TestSyncLargeBlocks(t *testing.T) {
	// Blocks far above the stream buffers and flow-control windows.
	const size = 3 << 20
	big := func(h uint64) []byte {
		b := make([]byte, size)
		copy(b, goodBlock(h))
		return b
	}
	server := &memBlocks{}
	for h := uint64(1); h <= 4; h++ {
		server.add(big(h), []byte(fmt.Sprintf("commit-%d", h)))
	}
	s := newNode(t, "server", server, nil)
	local := &memBlocks{}
	late := newNode(t, "late", local, bootstrapTo(s))
	waitStatus(t, late, s.ID())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := late.Sync(ctx, func(h uint64, block, commit []byte) error {
		if len(block) != size || string(block[:len(goodBlock(h))]) != string(goodBlock(h)) {
			return fmt.Errorf("block %d: %d bytes", h, len(block))
		}
		local.add(block, commit)
		return nil
	})
	if err != nil || local.Height() != 4 {
		t.Fatalf("Sync: height %d, err %v", local.Height(), err)
	}
}

func TestSyncSkipsPeerThatDoesNotAnswer(t *testing.T) {
	// mute claims 30 blocks but has no sync handler: every request fails.
	mute := newNode(t, "mute", goodChain(30), nil)
	mute.lh.RemoveStreamHandler(SyncProtocol("testchain"))
	honest := newNode(t, "honest", goodChain(20), nil)
	local := &memBlocks{}
	late := newNode(t, "late", local, bootstrapTo(mute, honest))
	waitStatus(t, late, mute.ID(), honest.ID())

	v := &verifier{store: local}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := late.Sync(ctx, v.apply); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	v.inOrder(t, 1, 20)
	if info, _ := peerInfo(late, mute.ID()); info.SyncBanned {
		t.Error("a peer that failed to answer is banned like one that lied")
	}
}

func TestSyncRunsOnceAtATime(t *testing.T) {
	server := newNode(t, "server", goodChain(3), nil)
	late := newNode(t, "late", nil, bootstrapTo(server))
	waitStatus(t, late, server.ID())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	inApply := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- late.Sync(ctx, func(h uint64, block, commit []byte) error {
			if h == 1 {
				close(inApply)
				<-release
			}
			late.blocks.add(block, commit)
			return nil
		})
	}()
	<-inApply
	if !late.Syncing() {
		t.Error("Syncing() is false during Sync")
	}
	if err := late.Sync(ctx, func(uint64, []byte, []byte) error { return nil }); !errors.Is(err, ErrSyncInProgress) {
		t.Errorf("second Sync: got %v, want ErrSyncInProgress", err)
	}
	close(release)
	if err := <-done; err != nil || late.blocks.Height() != 3 {
		t.Fatalf("first Sync: height %d, err %v", late.blocks.Height(), err)
	}
	if late.Syncing() {
		t.Error("Syncing() is true after Sync")
	}
}
