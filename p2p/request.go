package p2p

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// The request-and-answer exchange shared by the protocols that ask a peer
// for something: blocks (fetch.go), transactions (txfetch.go) and a
// status (status.go).

// request opens a stream of proto to p, sends body as one frame, closes
// its side and hands the stream to read. The whole exchange ends when ctx
// does or after Config.RequestTimeout; an error that happens because time
// ran out wraps ctx's error (context.DeadlineExceeded if it was the
// stream's deadline). The stream is reset on any error.
func (h *Host) request(ctx context.Context, p peer.ID, proto protocol.ID, body []byte, read func(io.Reader) error) error {
	if !h.tasks.enter() {
		return ErrClosed
	}
	defer h.tasks.leave()

	ctx, cancel := context.WithTimeout(ctx, h.cfg.RequestTimeout)
	defer cancel()
	s, err := h.lh.NewStream(ctx, p, proto)
	if err != nil {
		return fmt.Errorf("open %s: %w", proto, err)
	}
	defer s.Close()
	// Resetting the stream when ctx ends covers a ctx cancelled without a
	// deadline; the reset runs on a goroutine of its own, waited for
	// before return.
	reset := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		s.Reset()
		close(reset)
	})
	defer func() {
		if !stop() {
			<-reset
		}
	}()
	deadline, _ := ctx.Deadline() // set: WithTimeout above
	err = exchange(s, deadline, body, read)
	if err == nil {
		return nil
	}
	s.Reset()
	if cause := ctx.Err(); cause != nil || !time.Now().Before(deadline) {
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		err = fmt.Errorf("%w (%v)", cause, err)
	}
	return err
}

// exchange writes body as one frame, closes the writing side and reads
// the answer with read, all before deadline.
func exchange(s network.Stream, deadline time.Time, body []byte, read func(io.Reader) error) error {
	if err := s.SetDeadline(deadline); err != nil {
		return err
	}
	if err := writeFrame(s, body); err != nil {
		return err
	}
	// A peer that answered at once may have closed its side before ours
	// closes: the answer is still there to read, so the read's error is
	// the one returned (a peer that closed without answering broke the
	// protocol however our close went). A failed close is added to it
	// when nothing of the answer came, since it may say why.
	closeErr := s.CloseWrite()
	got := &countingReader{r: s}
	if err := read(bufio.NewReaderSize(got, 64<<10)); err != nil {
		if closeErr != nil && got.n == 0 {
			return fmt.Errorf("%w (closing our side: %w)", err, closeErr)
		}
		return err
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
