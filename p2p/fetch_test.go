package p2p

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/libp2p/go-libp2p/core/network"
)

// syncPair starts a server holding the first blocks heights of the test
// chain and a client connected to it.
func syncPair(t *testing.T, blocks int, editClient func(*Config)) (server, client *testNode) {
	t.Helper()
	server = newNode(t, "server", goodChain(blocks), nil)
	client = newNode(t, "client", nil, func(c *Config) {
		bootstrapTo(server)(c)
		if editClient != nil {
			editClient(c)
		}
	})
	eventually(t, 10*time.Second, "client connected to server", func() bool { return connected(client, server) })
	return server, client
}

// wantEntries checks that got holds the test chain's heights from..to.
func wantEntries(t *testing.T, got []Entry, from, to uint64) {
	t.Helper()
	if uint64(len(got)) != to-from+1 {
		t.Fatalf("got %d entries, want heights %d to %d", len(got), from, to)
	}
	for i, e := range got {
		h := from + uint64(i)
		if string(e.Block) != string(goodBlock(h)) || string(e.Commit) != fmt.Sprintf("commit-%d", h) {
			t.Fatalf("entry %d: block %q commit %q, want height %d", i, e.Block, e.Commit, h)
		}
	}
}

func TestFetchBlocks(t *testing.T) {
	const height = 250
	server, client := syncPair(t, height, nil)
	cases := []struct {
		name     string
		from, to uint64
		wantTo   uint64 // last height served, when no error
		wantErr  error
	}{
		{"one block", 1, 1, 1, nil},
		{"a full range", 1, MaxSyncRange, MaxSyncRange, nil},
		{"a full range further up", 120, 120 + MaxSyncRange - 1, 120 + MaxSyncRange - 1, nil},
		{"up to the server's height", 240, height, height, nil},
		{"partly beyond the server's height: what it has", 240, 260, height, nil},
		{"beyond the server's height", height + 1, height + 10, 0, ErrNoBlocks},
		{"height zero", 0, 5, 0, ErrProtocol},
		{"reversed range", 5, 4, 0, ErrProtocol},
		{"range too long", 1, MaxSyncRange + 1, 0, ErrProtocol},
		{"range that wraps around", 1 << 63, 1, 0, ErrProtocol},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := client.FetchBlocks(ctx, server.ID(), c.from, c.to)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("got %d entries, err %v; want %v", len(got), err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantEntries(t, got, c.from, c.wantTo)
		})
	}
}

func TestFetchBlocksLargeBlocks(t *testing.T) {
	// Blocks far above the stream buffers and flow-control windows.
	const size = 3 << 20
	blocks := largeBlocks(4, size)
	server := newNode(t, "server", blocks, nil)
	client := newNode(t, "client", nil, bootstrapTo(server))
	eventually(t, 10*time.Second, "connection", func() bool { return connected(client, server) })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := client.FetchBlocks(ctx, server.ID(), 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d entries, want 4", len(got))
	}
	for i, e := range got {
		want, _, _ := blocks.BlockAndCommit(uint64(i + 1))
		if !bytes.Equal(e.Block, want) {
			t.Errorf("block %d differs (%d bytes)", i+1, len(e.Block))
		}
	}
}

// answerWith replaces n's sync handler with one that reads the request
// and then lets answer write whatever it likes. The handler returns when
// answer does; answers that block should wait for quit, closed when the
// test ends.
func answerWith(t *testing.T, n *testNode, answer func(s network.Stream, req chain.SyncRequest, quit <-chan struct{})) {
	t.Helper()
	quit := make(chan struct{})
	t.Cleanup(func() { close(quit) }) // runs before the node's Close
	n.lh.SetStreamHandler(syncProtocol("testchain"), func(s network.Stream) {
		defer s.Close()
		b, err := readFrame(s, chain.SyncRequestSize)
		if err != nil {
			s.Reset()
			return
		}
		req, err := chain.DecodeSyncRequest(b)
		if err != nil {
			s.Reset()
			return
		}
		answer(s, req, quit)
	})
}

// frames writes each frame in turn, ignoring errors: the client may hang
// up early, which is what some cases expect.
func frames(w io.Writer, fs ...[]byte) {
	for _, f := range fs {
		if writeFrame(w, f) != nil {
			return
		}
	}
}

// A peer that breaks the protocol gets an error, never blocks.
func TestFetchBlocksRefusesBadAnswers(t *testing.T) {
	server, client := syncPair(t, 0, nil)
	block, commit := goodBlock(1), []byte("commit-1")
	cases := []struct {
		name    string
		answer  func(s network.Stream, req chain.SyncRequest)
		wantErr error // nil: any error
	}{
		{"more blocks than asked for", func(s network.Stream, req chain.SyncRequest) {
			for range req.Count() + 1 {
				frames(s, block, commit)
			}
			frames(s, nil)
		}, ErrProtocol},
		{"block frame above the entry limit", func(s network.Stream, _ chain.SyncRequest) {
			var hdr [4]byte
			binary.BigEndian.PutUint32(hdr[:], MaxEntrySize+1)
			s.Write(hdr[:])
		}, ErrTooLarge},
		{"commit frame above the entry limit", func(s network.Stream, _ chain.SyncRequest) {
			frames(s, block)
			var hdr [4]byte
			binary.BigEndian.PutUint32(hdr[:], MaxEntrySize+1)
			s.Write(hdr[:])
		}, ErrTooLarge},
		{"frame cut short", func(s network.Stream, _ chain.SyncRequest) {
			var hdr [4]byte
			binary.BigEndian.PutUint32(hdr[:], 100)
			s.Write(append(hdr[:], make([]byte, 10)...))
		}, ErrProtocol},
		{"length cut short", func(s network.Stream, _ chain.SyncRequest) {
			s.Write([]byte{0, 0})
		}, ErrProtocol},
		{"block without its commit", func(s network.Stream, _ chain.SyncRequest) {
			frames(s, block)
		}, ErrProtocol},
		{"no end frame", func(s network.Stream, _ chain.SyncRequest) {
			frames(s, block, commit)
		}, ErrProtocol},
		{"only the end frame", func(s network.Stream, _ chain.SyncRequest) {
			frames(s, nil)
		}, ErrNoBlocks},
		{"stream reset", func(s network.Stream, _ chain.SyncRequest) {
			s.Reset()
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			answerWith(t, server, func(s network.Stream, req chain.SyncRequest, _ <-chan struct{}) { c.answer(s, req) })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := client.FetchBlocks(ctx, server.ID(), 1, 3)
			if err == nil {
				t.Fatalf("accepted %d entries", len(got))
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("got %v, want %v", err, c.wantErr)
			}
			if ctx.Err() != nil {
				t.Errorf("took until the test's deadline: %v", err)
			}
		})
	}
}

// A peer that accepts the request and never answers costs the caller no
// more than its ctx or Config.RequestTimeout, and the error says that time
// ran out.
func TestFetchBlocksGivesUpInTime(t *testing.T) {
	const quick = 300 * time.Millisecond
	cases := []struct {
		name    string
		timeout time.Duration // the client's RequestTimeout
		ctx     func() (context.Context, context.CancelFunc)
		want    error
	}{
		{"ctx deadline", 10 * time.Second, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), quick)
		}, context.DeadlineExceeded},
		{"ctx cancelled", 10 * time.Second, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(quick, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"request timeout", quick, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, context.DeadlineExceeded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			server, client := syncPair(t, 5, func(cfg *Config) { cfg.RequestTimeout = c.timeout })
			asked := make(chan struct{}, 1)
			answerWith(t, server, func(_ network.Stream, _ chain.SyncRequest, quit <-chan struct{}) {
				asked <- struct{}{}
				<-quit
			})
			ctx, cancel := c.ctx()
			defer cancel()
			start := time.Now()
			got, err := client.FetchBlocks(ctx, server.ID(), 1, 5)
			took := time.Since(start)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %d entries, err %v; want %v", len(got), err, c.want)
			}
			if took > quick+2*time.Second {
				t.Errorf("returned after %v, want about %v", took, quick)
			}
			select {
			case <-asked:
			default:
				t.Error("the server never saw the request: the test did not test a silent peer")
			}
		})
	}
}

func TestFetchBlocksFromPeerWithoutSync(t *testing.T) {
	server, client := syncPair(t, 5, nil)
	server.lh.RemoveStreamHandler(syncProtocol("testchain"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got, err := client.FetchBlocks(ctx, server.ID(), 1, 5); err == nil {
		t.Fatalf("got %d entries from a peer that does not serve blocks", len(got))
	}
	if ctx.Err() != nil {
		t.Error("took until the test's deadline")
	}
}

func TestFetchBlocksAfterClose(t *testing.T) {
	server, client := syncPair(t, 5, nil)
	client.Close()
	if _, err := client.FetchBlocks(context.Background(), server.ID(), 1, 5); !errors.Is(err, ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
}

func TestServeRejectsBadRequests(t *testing.T) {
	server, client := syncPair(t, 10, nil)
	cases := []struct {
		name  string
		frame []byte
	}{
		{"height zero", chain.SyncRequest{From: 0, To: 5}.Encode()},
		{"reversed range", chain.SyncRequest{From: 5, To: 4}.Encode()},
		{"range too long", chain.SyncRequest{From: 1, To: MaxSyncRange + 1}.Encode()},
		{"short frame", make([]byte, chain.SyncRequestSize-1)},
		{"long frame", make([]byte, chain.SyncRequestSize+1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openStream(t, client, server, syncProtocol("testchain"), 5*time.Second)
			if err := writeFrame(s, c.frame); err != nil {
				t.Fatal(err)
			}
			s.CloseWrite()
			if b, err := readFrame(s, MaxEntrySize); err == nil {
				t.Fatalf("server answered a bad request with %q", b)
			}
		})
	}
}

// A server answers at most maxServing requests at once and resets the
// stream of any more; the asker tries again later.
func TestServeWhenBusy(t *testing.T) {
	server, client := syncPair(t, 3, nil)
	for range maxServing {
		server.serving <- struct{}{} // every slot taken
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got, err := client.FetchBlocks(ctx, server.ID(), 1, 3); err == nil {
		t.Fatalf("a busy server served %d entries", len(got))
	}
	<-server.serving // one slot free
	got, err := client.FetchBlocks(ctx, server.ID(), 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	wantEntries(t, got, 1, 3)
}

// readAnswer's limit on a whole answer, fed from memory: moving 64 MiB
// through a real stream would make the test slow for no extra insight.
func TestReadAnswerSizeLimit(t *testing.T) {
	big := make([]byte, MaxEntrySize) // shared by every frame
	answer := func(blocks int) io.Reader {
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(big)))
		var parts []io.Reader
		for range blocks {
			parts = append(parts, bytes.NewReader(hdr[:]), bytes.NewReader(big), bytes.NewReader([]byte{0, 0, 0, 1, 'c'}))
		}
		parts = append(parts, bytes.NewReader([]byte{0, 0, 0, 0}))
		return io.MultiReader(parts...)
	}
	// Each entry is MaxEntrySize+1 bytes: three fit, the fourth crosses
	// the limit.
	req := chain.SyncRequest{From: 1, To: 10}
	got, err := readAnswer(answer(3), req)
	if err != nil || len(got) != 3 {
		t.Fatalf("three entries: got %d, %v", len(got), err)
	}
	if _, err := readAnswer(answer(4), req); !errors.Is(err, ErrTooLarge) {
		t.Errorf("four entries: got %v, want ErrTooLarge", err)
	}
}

func TestAvoidForSync(t *testing.T) {
	clock := &testClock{}
	a := newNode(t, "A", nil, func(c *Config) { c.Now = clock.now })
	b := newNode(t, "B", nil, bootstrapTo(a))
	c := newNode(t, "C", nil, bootstrapTo(a))
	eventually(t, 10*time.Second, "A connected to B and C", func() bool { return connected(a, b) && connected(a, c) })

	a.AvoidForSync(b.ID(), time.Minute)
	if info, _ := peerInfo(a, b.ID()); !info.SyncBanned {
		t.Error("B is not shown as avoided")
	}
	if info, _ := peerInfo(a, c.ID()); info.SyncBanned {
		t.Error("C is shown as avoided")
	}
	if !connected(a, b) {
		t.Error("avoiding B for sync disconnected it")
	}
	clock.advance(time.Minute)
	if info, _ := peerInfo(a, b.ID()); info.SyncBanned {
		t.Error("B is still avoided after the time ran out")
	}
}

// A syncer asks one peer one range after another, each as soon as the
// last has been read to its end. The server must have let go of the
// peer's slot by then, or it turns the next request away as busy.
func TestFetchBlocksBackToBack(t *testing.T) {
	server, client := syncPair(t, 10, nil)
	for i := range 1000 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		h := uint64(i%10 + 1)
		got, err := client.FetchBlocks(ctx, server.ID(), h, h)
		cancel()
		if err != nil {
			t.Fatalf("request %d, right after the one before: %v", i+1, err)
		}
		wantEntries(t, got, h, h)
	}
}
