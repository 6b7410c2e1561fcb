package p2p

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// closedByPeer is the client's side of a stream whose peer has already
// answered and closed: closing our writing side fails, as a yamux stream
// reset by the peer does, but the answer is still there to read.
type closedByPeer struct {
	network.Stream // not called: only the methods below are
	sent           bytes.Buffer
	answer         io.Reader
	closeErr       error
}

func (s *closedByPeer) SetDeadline(time.Time) error { return nil }
func (s *closedByPeer) Write(p []byte) (int, error) { return s.sent.Write(p) }
func (s *closedByPeer) Read(p []byte) (int, error)  { return s.answer.Read(p) }
func (s *closedByPeer) CloseWrite() error           { return s.closeErr }

func TestExchangeReadsTheAnswerWhenClosingFailed(t *testing.T) {
	var framed bytes.Buffer
	if err := writeFrame(&framed, []byte("the answer")); err != nil {
		t.Fatal(err)
	}
	closeErr := errors.New("close called for canceled stream")
	readAnswer := func(got *[]byte) func(io.Reader) error {
		return func(r io.Reader) error {
			b, err := readFrame(r, 1<<10)
			*got = b
			return err
		}
	}

	// The answer arrived before our close failed: the exchange succeeds.
	s := &closedByPeer{answer: bytes.NewReader(framed.Bytes()), closeErr: closeErr}
	var got []byte
	if err := exchange(s, time.Now().Add(time.Second), []byte("ask"), readAnswer(&got)); err != nil {
		t.Fatalf("exchange = %v, want the answer read despite the failed close", err)
	}
	if string(got) != "the answer" {
		t.Fatalf("read %q, want %q", got, "the answer")
	}
	if sent, err := readFrame(&s.sent, 1<<10); err != nil || string(sent) != "ask" {
		t.Fatalf("sent %q (%v), want the request framed", sent, err)
	}

	// No answer either (over QUIC, a peer that read the request and
	// closed at once cancels our writing side): the read's error, which
	// says the peer broke the protocol, with the close's error beside it,
	// since it may say why nothing came.
	s = &closedByPeer{answer: bytes.NewReader(nil), closeErr: closeErr}
	err := exchange(s, time.Now().Add(time.Second), []byte("ask"), func(r io.Reader) error {
		_, err := readTxAnswer(r, 2)
		return err
	})
	if !errors.Is(err, ErrProtocol) || !errors.Is(err, closeErr) {
		t.Fatalf("exchange = %v, want ErrProtocol with the close's error", err)
	}

	// A failed close and an answer cut short: the read's error, which says
	// what was wrong with the answer.
	s = &closedByPeer{answer: bytes.NewReader(framed.Bytes()[:6]), closeErr: closeErr}
	if err := exchange(s, time.Now().Add(time.Second), []byte("ask"), readAnswer(&got)); err == nil || errors.Is(err, closeErr) {
		t.Fatalf("exchange = %v, want the read's error", err)
	}

	// A close that worked and an answer cut short: the read's error.
	s = &closedByPeer{answer: bytes.NewReader(framed.Bytes()[:3])}
	if err := exchange(s, time.Now().Add(time.Second), []byte("ask"), readAnswer(&got)); err == nil || errors.Is(err, closeErr) {
		t.Fatalf("exchange = %v, want the read's error", err)
	}
}
