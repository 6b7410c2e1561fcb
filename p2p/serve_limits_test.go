package p2p

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// servedKind is one kind of request a node serves, as the tests of its
// bounds see it.
type servedKind struct {
	name           string
	proto          protocol.ID
	slots, perPeer int
	sem            func(*testNode) chan struct{}
	fetch          func(ctx context.Context, client, server *testNode) error
}

var limitTx = fakeTx(1, 50)

func servedKinds() []servedKind {
	return []servedKind{
		{"sync", syncProtocol("testchain"), maxServing, maxServingPerPeer,
			func(n *testNode) chan struct{} { return n.serving },
			func(ctx context.Context, client, server *testNode) error {
				got, err := client.FetchBlocks(ctx, server.ID(), 1, 3)
				if err == nil && len(got) != 3 {
					err = fmt.Errorf("got %d entries, want 3", len(got))
				}
				return err
			}},
		{"transactions", txFetchProtocol("testchain"), maxServingTxs, maxServingTxsPerPeer,
			func(n *testNode) chan struct{} { return n.servingTxs },
			func(ctx context.Context, client, server *testNode) error {
				got, err := client.FetchTxs(ctx, server.ID(), []chain.Hash{chain.Sum(limitTx)})
				if err == nil && (len(got) != 1 || !bytes.Equal(got[0], limitTx)) {
					err = fmt.Errorf("got %d entries, want the transaction", len(got))
				}
				return err
			}},
	}
}

// limitServer starts a node that serves blocks 1 to 3 and limitTx.
func limitServer(t *testing.T, edit func(*Config)) *testNode {
	t.Helper()
	return newNode(t, "server", goodChain(3), func(c *Config) {
		c.Txs = newMemTxs(limitTx)
		if edit != nil {
			edit(c)
		}
	})
}

// linkedTo starts a node connected to server.
func linkedTo(t *testing.T, name string, server *testNode) *testNode {
	t.Helper()
	n := newNode(t, name, nil, bootstrapTo(server))
	eventually(t, 10*time.Second, name+" connected to the server", func() bool { return connected(n, server) })
	return n
}

// silentStreams opens n streams of proto from c to server and sends no
// request on any. Each stream is read (which completes the protocol
// negotiation) until it fails or 15 seconds pass; ended receives the
// error of each, in the order they end.
func silentStreams(t *testing.T, c, server *testNode, proto protocol.ID, n int) (ended <-chan error) {
	t.Helper()
	out := make(chan error, n)
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s, err := c.lh.NewStream(ctx, server.ID(), proto)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Reset() })
		s.SetDeadline(time.Now().Add(15 * time.Second))
		go func() {
			var b [1]byte
			_, err := s.Read(b[:])
			if err == nil {
				err = fmt.Errorf("the server sent a byte to a stream that asked nothing")
			}
			out <- err
		}()
	}
	return out
}

// count adds what has arrived on ended to *n.
func count(ended <-chan error, n *int) {
	for {
		select {
		case <-ended:
			*n++
		default:
			return
		}
	}
}

// One peer that opens more streams than there are slots and sends nothing
// on them holds no more than its share: the server turns the rest away at
// once and still answers another peer.
func TestServeOnePeerCannotTakeEverySlot(t *testing.T) {
	for _, k := range servedKinds() {
		t.Run(k.name, func(t *testing.T) {
			server := limitServer(t, nil)
			attacker := linkedTo(t, "attacker", server)
			honest := linkedTo(t, "honest", server)
			n := k.slots + 2
			ended, refused := silentStreams(t, attacker, server, k.proto, n), 0
			eventually(t, 10*time.Second, "every silent stream held or refused", func() bool {
				count(ended, &refused)
				return len(k.sem(server))+refused == n
			})
			if held := len(k.sem(server)); held != k.perPeer {
				t.Errorf("one peer holds %d of %d slots with streams that send nothing; want %d", held, k.slots, k.perPeer)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := k.fetch(ctx, honest, server); err != nil {
				t.Fatalf("another peer is not served while one peer holds silent streams: %v", err)
			}
		})
	}
}

// A stream whose request does not come within requestReadTimeout is
// reset, long before Config.RequestTimeout, and its slot, the server's
// and the peer's, is free again.
func TestServeClosesStreamWithoutRequest(t *testing.T) {
	for _, k := range servedKinds() {
		t.Run(k.name, func(t *testing.T) {
			server := limitServer(t, func(c *Config) { c.RequestTimeout = 30 * time.Second })
			client := linkedTo(t, "client", server)
			start := time.Now()
			ended := silentStreams(t, client, server, k.proto, 1)
			eventually(t, 10*time.Second, "the silent stream to take a slot", func() bool { return len(k.sem(server)) == 1 })
			within := requestReadTimeout + 3*time.Second
			select {
			case err := <-ended:
				t.Logf("closed after %v: %v", time.Since(start).Round(time.Millisecond), err)
			case <-time.After(time.Until(start.Add(within))):
				t.Fatalf("the stream is still open %v after it opened, without a request", within)
			}
			eventually(t, 2*time.Second, "the slot freed", func() bool { return len(k.sem(server)) == 0 })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := k.fetch(ctx, client, server); err != nil {
				t.Fatalf("the same peer is not served afterwards: %v", err)
			}
		})
	}
}

// The short wait is for the request only: an asker that reads its answer
// slowly, later than requestReadTimeout after it asked, gets all of it.
func TestServeGivesTheAnswerItsOwnTime(t *testing.T) {
	const size = 3 << 20 // far above the stream windows: the server waits to write
	blocks := largeBlocks(4, size)
	server := newNode(t, "server", blocks, nil)
	client := linkedTo(t, "client", server)
	s := openStream(t, client, server, syncProtocol("testchain"), 20*time.Second)
	req := chain.SyncRequest{From: 1, To: 4}
	if err := writeFrame(s, req.Encode()); err != nil {
		t.Fatal(err)
	}
	s.CloseWrite()
	time.Sleep(requestReadTimeout + time.Second)
	got, err := readAnswer(bufio.NewReader(s), req)
	if err != nil {
		t.Fatalf("a slow reader lost its answer: %v", err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d entries, want 4", len(got))
	}
}
