package p2p

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/libp2p/go-libp2p/core/network"
)

// memTxs is an in-memory TxSource.
type memTxs struct {
	mu  sync.Mutex
	txs map[chain.Hash][]byte
}

func newMemTxs(txs ...[]byte) *memTxs {
	m := &memTxs{txs: map[chain.Hash][]byte{}}
	for _, raw := range txs {
		m.txs[chain.Sum(raw)] = raw
	}
	return m
}

func (m *memTxs) TxByHash(h chain.Hash) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.txs[h]
}

// txPair starts a server holding txs and a client connected to it.
func txPair(t *testing.T, txs *memTxs, editClient func(*Config)) (server, client *testNode) {
	t.Helper()
	server = newNode(t, "server", nil, func(c *Config) { c.Txs = txs })
	client = newNode(t, "client", nil, func(c *Config) {
		bootstrapTo(server)(c)
		if editClient != nil {
			editClient(c)
		}
	})
	eventually(t, 10*time.Second, "client connected to server", func() bool { return connected(client, server) })
	return server, client
}

// fakeTx returns n bytes standing for a transaction; the protocol does
// not look inside.
func fakeTx(i, n int) []byte {
	b := bytes.Repeat([]byte{byte(i)}, n)
	copy(b, fmt.Sprintf("tx-%d", i))
	return b
}

func TestFetchTxs(t *testing.T) {
	a, b, big := fakeTx(1, 200), fakeTx(2, 300), fakeTx(3, chain.MaxTxSize)
	server, client := txPair(t, newMemTxs(a, b, big), nil)
	unknown := chain.Sum([]byte("no one holds this"))
	many := make([]chain.Hash, chain.MaxTxRequest)
	many[0] = chain.Sum(a)
	cases := []struct {
		name    string
		hashes  []chain.Hash
		want    [][]byte
		wantErr error
	}{
		{"one held", []chain.Hash{chain.Sum(a)}, [][]byte{a}, nil},
		{"in the order asked", []chain.Hash{chain.Sum(b), chain.Sum(a)}, [][]byte{b, a}, nil},
		{"one not held", []chain.Hash{chain.Sum(a), unknown, chain.Sum(b)}, [][]byte{a, nil, b}, nil},
		{"only unknown", []chain.Hash{unknown}, [][]byte{nil}, nil},
		{"a transaction of the largest size", []chain.Hash{chain.Sum(big)}, [][]byte{big}, nil},
		{"a block's worth of hashes", many, append([][]byte{a}, make([][]byte, chain.MaxTxRequest-1)...), nil},
		{"no hashes", nil, nil, ErrProtocol},
		{"too many hashes", make([]chain.Hash, chain.MaxTxRequest+1), nil, ErrProtocol},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := client.FetchTxs(ctx, server.ID(), c.hashes)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("got %d entries, err %v; want %v", len(got), err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %d entries, want %d", len(got), len(c.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], c.want[i]) || (got[i] == nil) != (c.want[i] == nil) {
					t.Fatalf("entry %d: %d bytes, want %d", i, len(got[i]), len(c.want[i]))
				}
			}
		})
	}
}

// txAnswerWith replaces n's transaction fetch handler with one that reads
// the request and lets answer write what it likes.
func txAnswerWith(t *testing.T, n *testNode, answer func(s network.Stream, req chain.TxRequest, quit <-chan struct{})) {
	t.Helper()
	quit := make(chan struct{})
	t.Cleanup(func() { close(quit) })
	n.lh.SetStreamHandler(txFetchProtocol("testchain"), func(s network.Stream) {
		defer s.Close()
		b, err := readFrame(s, chain.MaxTxRequestSize)
		if err != nil {
			s.Reset()
			return
		}
		req, err := chain.DecodeTxRequest(b)
		if err != nil {
			s.Reset()
			return
		}
		answer(s, req, quit)
	})
}

// A peer that breaks the protocol gets an error, never blocks. (A peer
// that sends the wrong transactions in well-formed frames is the node's
// to catch: this package does not look inside.)
func TestFetchTxsRefusesBadAnswers(t *testing.T) {
	server, client := txPair(t, newMemTxs(), nil)
	tx := fakeTx(1, 100)
	cases := []struct {
		name    string
		answer  func(s network.Stream, req chain.TxRequest)
		wantErr error // nil: any error
	}{
		{"fewer frames than hashes", func(s network.Stream, _ chain.TxRequest) { frames(s, tx) }, ErrProtocol},
		{"frame above the transaction limit", func(s network.Stream, _ chain.TxRequest) {
			var hdr [4]byte
			binary.BigEndian.PutUint32(hdr[:], chain.MaxTxSize+1)
			s.Write(hdr[:])
		}, ErrTooLarge},
		{"frame cut short", func(s network.Stream, _ chain.TxRequest) {
			var hdr [4]byte
			binary.BigEndian.PutUint32(hdr[:], 100)
			s.Write(append(hdr[:], make([]byte, 10)...))
		}, ErrProtocol},
		{"nothing", func(network.Stream, chain.TxRequest) {}, ErrProtocol},
		{"stream reset", func(s network.Stream, _ chain.TxRequest) { s.Reset() }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			txAnswerWith(t, server, func(s network.Stream, req chain.TxRequest, _ <-chan struct{}) { c.answer(s, req) })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := client.FetchTxs(ctx, server.ID(), []chain.Hash{chain.Sum(tx), chain.Sum([]byte("x"))})
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

// A peer that takes the request and never answers costs the asker its
// ctx's deadline, no more.
func TestFetchTxsGivesUpInTime(t *testing.T) {
	const quick = 300 * time.Millisecond
	server, client := txPair(t, newMemTxs(), nil)
	asked := make(chan struct{}, 1)
	txAnswerWith(t, server, func(_ network.Stream, _ chain.TxRequest, quit <-chan struct{}) {
		asked <- struct{}{}
		<-quit
	})
	ctx, cancel := context.WithTimeout(context.Background(), quick)
	defer cancel()
	start := time.Now()
	_, err := client.FetchTxs(ctx, server.ID(), []chain.Hash{{1}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want DeadlineExceeded", err)
	}
	if took := time.Since(start); took > quick+2*time.Second {
		t.Errorf("returned after %v, want about %v", took, quick)
	}
	select {
	case <-asked:
	default:
		t.Error("the server never saw the request")
	}
}

// A node without a TxSource does not speak the protocol; asking it fails
// at once rather than at the deadline.
func TestFetchTxsFromPeerWithoutTxs(t *testing.T) {
	server := newNode(t, "server", nil, nil)
	client := newNode(t, "client", nil, bootstrapTo(server))
	eventually(t, 10*time.Second, "connected", func() bool { return connected(client, server) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got, err := client.FetchTxs(ctx, server.ID(), []chain.Hash{{1}}); err == nil {
		t.Fatalf("got %d entries from a peer that serves no transactions", len(got))
	}
	if ctx.Err() != nil {
		t.Error("took until the test's deadline")
	}
}

func TestFetchTxsAfterClose(t *testing.T) {
	server, client := txPair(t, newMemTxs(), nil)
	client.Close()
	if _, err := client.FetchTxs(context.Background(), server.ID(), []chain.Hash{{1}}); !errors.Is(err, ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
}

func TestServeTxsRejectsBadRequests(t *testing.T) {
	server, client := txPair(t, newMemTxs(fakeTx(1, 10)), nil)
	cases := []struct {
		name  string
		frame []byte
	}{
		{"empty", nil},
		{"not a whole hash", make([]byte, chain.HashSize+1)},
		{"too many hashes", make([]byte, chain.MaxTxRequestSize+chain.HashSize)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openStream(t, client, server, txFetchProtocol("testchain"), 5*time.Second)
			// The server may reset the stream as soon as it reads a length it
			// refuses, before the frame is written: that is a refusal too.
			if err := writeFrame(s, c.frame); err != nil {
				return
			}
			s.CloseWrite()
			if b, err := readFrame(s, chain.MaxTxSize); err == nil {
				t.Fatalf("server answered a bad request with %q", b)
			}
		})
	}
}

// A server answers at most maxServingTxs requests at once and resets the
// stream of any more.
func TestServeTxsWhenBusy(t *testing.T) {
	tx := fakeTx(1, 50)
	server, client := txPair(t, newMemTxs(tx), nil)
	for range maxServingTxs {
		server.servingTxs <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got, err := client.FetchTxs(ctx, server.ID(), []chain.Hash{chain.Sum(tx)}); err == nil {
		t.Fatalf("a busy server served %d entries", len(got))
	}
	<-server.servingTxs
	got, err := client.FetchTxs(ctx, server.ID(), []chain.Hash{chain.Sum(tx)})
	if err != nil || len(got) != 1 || !bytes.Equal(got[0], tx) {
		t.Fatalf("got %d entries, %v", len(got), err)
	}
}

// readTxAnswer's limit on a whole answer, fed from memory.
func TestReadTxAnswerSizeLimit(t *testing.T) {
	big := make([]byte, chain.MaxTxSize)
	answer := func(n int) io.Reader {
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(big)))
		var parts []io.Reader
		for range n {
			parts = append(parts, bytes.NewReader(hdr[:]), bytes.NewReader(big))
		}
		return io.MultiReader(parts...)
	}
	fit := chain.MaxTxAnswerSize / chain.MaxTxSize
	if got, err := readTxAnswer(answer(fit), fit); err != nil || len(got) != fit {
		t.Fatalf("%d largest transactions: got %d, %v", fit, len(got), err)
	}
	if _, err := readTxAnswer(answer(fit+1), fit+1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("one more: got %v, want ErrTooLarge", err)
	}
}

// A server never sends more than the asker accepts: past
// chain.MaxTxAnswerSize it answers "not held".
func TestServeTxsStopsAtTheAnswerLimit(t *testing.T) {
	var txs [][]byte
	var hashes []chain.Hash
	fit := chain.MaxTxAnswerSize / chain.MaxTxSize
	for i := range fit + 2 {
		tx := fakeTx(i, chain.MaxTxSize)
		txs = append(txs, tx)
		hashes = append(hashes, chain.Sum(tx))
	}
	server, client := txPair(t, newMemTxs(txs...), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := client.FetchTxs(ctx, server.ID(), hashes)
	if err != nil {
		t.Fatal(err)
	}
	for i, raw := range got {
		if held := i < fit; held != (raw != nil) {
			t.Fatalf("entry %d: %d bytes; want the first %d served and the rest empty", i, len(raw), fit)
		}
	}
}
