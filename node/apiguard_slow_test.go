package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

// slowBodyEnd is what a trickling client saw of the server: the bytes it
// was sent, the read error that ended them (nil for a clean close), and
// when, counted from the end of the request's headers.
type slowBodyEnd struct {
	answer []byte
	err    error
	after  time.Duration
}

// A client that sends the headers of a POST /v1/txs and then its body a
// byte every 100 ms, slower than api.read_timeout allows, is cut off once
// the timeout has passed: the server answers 400 bad_body and closes the
// connection, and the transaction is not pooled. A request sent whole
// meanwhile is served, and so is the same transaction sent whole after.
func TestSlowBodyIsCutOffAtTheReadTimeout(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	n, base := guardedNode(t, func(c *APIConfig) {
		c.ReadHeaderTimeout, c.ReadTimeout = Duration{readTimeout}, Duration{readTimeout}
		c.WriteTimeout = Duration{5 * time.Second} // room for the error answer
	})
	to := DevAccounts()[9].Address
	slowTx := sendTx(t, DevKey(2), n.ChainID(), 0, to, 1)
	body := mustJSON(t, slowTx)

	c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ended := make(chan slowBodyEnd, 1)
	go func() { // exits when the server closes the connection, or after 15 s
		_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
		b, err := io.ReadAll(c)
		ended <- slowBodyEnd{b, err, time.Since(start)}
	}()

	// Another client, meanwhile, is served at once.
	resp, err := http.Post(base+"/v1/txs", "application/json", bytes.NewReader(mustJSON(t, sendTx(t, DevKey(3), n.ChainID(), 0, to, 1))))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("a request sent whole while another trickles: %d, want 202", resp.StatusCode)
	}

	// The trickle: a byte every 100 ms, for at most 5 s, until the
	// server closes the connection.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var end *slowBodyEnd
	sent := 0
	for end == nil && sent < len(body) && time.Since(start) < 5*time.Second {
		select {
		case e := <-ended:
			end = &e
			continue
		case <-tick.C:
		}
		if _, err := c.Write(body[sent : sent+1]); err != nil {
			break // the server closed the connection; the reader reports it
		}
		sent++
	}
	if end == nil {
		select {
		case e := <-ended:
			end = &e
		case <-time.After(5 * time.Second):
			t.Fatalf("the server still held the connection %s after the headers, %d of %d body bytes sent at a byte per 100 ms (api.read_timeout %s)",
				time.Since(start).Round(time.Millisecond), sent, len(body), readTimeout)
		}
	}
	if end.err != nil && !isConnClosed(end.err) {
		t.Fatalf("after %s the connection ended with %v, want it closed by the server", end.after, end.err)
	}
	if sent >= len(body) {
		t.Fatalf("the whole body (%d bytes) was sent before the server gave up after %s", len(body), end.after)
	}
	if end.after < readTimeout-50*time.Millisecond || end.after > readTimeout+2*time.Second {
		t.Errorf("the server gave up %s after the headers, want about api.read_timeout (%s)", end.after.Round(time.Millisecond), readTimeout)
	}
	if !bytes.HasPrefix(end.answer, []byte("HTTP/1.1 400")) || !bytes.Contains(end.answer, []byte(`"bad_body"`)) {
		t.Errorf("the answer to the slow body: %q, want 400 bad_body", end.answer)
	}
	if n.pool.Has(chain.Sum(slowTx.Encode())) {
		t.Error("the transaction of the body that was cut off is pooled")
	}

	// The same transaction, sent whole, is taken.
	resp, err = http.Post(base+"/v1/txs", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("the slow transaction sent whole: %d, want 202", resp.StatusCode)
	}
}

// isConnClosed reports whether err is how a read sees a connection the
// other side closed with data unread (a reset), as opposed to a timeout.
func isConnClosed(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}
