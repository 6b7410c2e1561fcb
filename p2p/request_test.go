package p2p

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// closedPeerStream is the asker's side of a stream whose peer read the
// request and closed at once without an answer: over QUIC the peer's
// close cancels the asker's writing side (so closing it fails), and the
// reading side ends. Only the methods exchange calls are implemented.
type closedPeerStream struct {
	network.Stream
	written bytes.Buffer
}

func (s *closedPeerStream) SetDeadline(time.Time) error { return nil }
func (s *closedPeerStream) Write(p []byte) (int, error) { return s.written.Write(p) }
func (s *closedPeerStream) CloseWrite() error {
	return errors.New("close called for canceled stream 24")
}
func (s *closedPeerStream) Read([]byte) (int, error) { return 0, io.EOF }

// A peer that closes without answering broke the protocol, whether or not
// the asker's own close went through first: the answer's error is the
// one returned, with the failed close beside it.
func TestExchangeReportsTheMissingAnswerBeforeAFailedClose(t *testing.T) {
	s := &closedPeerStream{}
	err := exchange(s, time.Now().Add(time.Second), []byte("request"), func(r io.Reader) error {
		_, err := readTxAnswer(r, 2)
		return err
	})
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("exchange = %v, want ErrProtocol", err)
	}
	if s.written.Len() == 0 {
		t.Fatal("the request was not written")
	}
}
