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

// trickled is what a client that sends slowly saw of the server: the
// bytes the server sent until it closed the connection, the read error
// that ended them (nil for a clean close), how long after the client's
// head that was, and how many bytes of the rest the client had sent.
type trickled struct {
	answer []byte
	err    error
	after  time.Duration
	sent   int
}

// trickle connects to addr, sends head at once, calls meanwhile, and
// then sends rest a byte every 100 ms until the server closes the
// connection; it gives up 10 s after head with the test failed.
func trickle(t *testing.T, addr, head string, rest []byte, meanwhile func()) trickled {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ended := make(chan trickled, 1)
	go func() { // exits when the server closes the connection, or after 15 s
		_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
		b, err := io.ReadAll(c)
		ended <- trickled{answer: b, err: err, after: time.Since(start)}
	}()
	meanwhile()

	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	sent := 0
	for sent < len(rest) && time.Since(start) < 5*time.Second {
		select {
		case e := <-ended:
			e.sent = sent
			return e
		case <-tick.C:
		}
		if _, err := c.Write(rest[sent : sent+1]); err != nil {
			break // the server closed the connection; the reader reports it
		}
		sent++
	}
	select {
	case e := <-ended:
		e.sent = sent
		return e
	case <-time.After(5 * time.Second):
		t.Fatalf("the server still held the connection %s after the head, %d of %d further bytes sent at a byte per 100 ms",
			time.Since(start).Round(time.Millisecond), sent, len(rest))
		return trickled{}
	}
}

// cutOffAt fails the test unless the server closed the connection of tr
// about d after the client's head, before the client sent all of rest.
func (tr trickled) cutOffAt(t *testing.T, d time.Duration, rest []byte) {
	t.Helper()
	var ne net.Error
	if tr.err != nil && (errors.As(tr.err, &ne) && ne.Timeout() || !strings.Contains(tr.err.Error(), "connection reset")) {
		t.Fatalf("after %s the connection ended with %v, want it closed by the server", tr.after, tr.err)
	}
	if tr.sent >= len(rest) {
		t.Fatalf("all %d bytes were sent before the server gave up after %s", len(rest), tr.after)
	}
	if tr.after < d-50*time.Millisecond || tr.after > d+2*time.Second {
		t.Errorf("the server gave up %s after the head, want about %s", tr.after.Round(time.Millisecond), d)
	}
}

// slowAPI is a guarded node whose read timeouts are 300 ms, with 5 s to
// write an answer.
func slowAPI(t *testing.T) (*Node, string, time.Duration) {
	const d = 300 * time.Millisecond
	n, base := guardedNode(t, func(c *APIConfig) {
		c.ReadHeaderTimeout, c.ReadTimeout = Duration{d}, Duration{d}
		c.WriteTimeout = Duration{5 * time.Second} // room for an error answer
	})
	return n, base, d
}

// A client that sends the headers of a POST /v1/txs and then its body a
// byte every 100 ms, slower than api.read_timeout allows, is cut off once
// the timeout has passed: the server answers 400 bad_body and closes the
// connection, and the transaction is not pooled. A request sent whole
// meanwhile is served, and so is the same transaction sent whole after.
func TestSlowBodyIsCutOffAtTheReadTimeout(t *testing.T) {
	n, base, readTimeout := slowAPI(t)
	to := DevAccounts()[9].Address
	slowTx := sendTx(t, DevKey(2), n.ChainID(), 0, to, 1)
	body := mustJSON(t, slowTx)
	post := func(what string, tx []byte) {
		resp, err := http.Post(base+"/v1/txs", "application/json", bytes.NewReader(tx))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("%s: %d, want 202", what, resp.StatusCode)
		}
	}

	head := fmt.Sprintf("POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	tr := trickle(t, strings.TrimPrefix(base, "http://"), head, body, func() {
		post("a request sent whole while another trickles", mustJSON(t, sendTx(t, DevKey(3), n.ChainID(), 0, to, 1)))
	})
	tr.cutOffAt(t, readTimeout, body)
	if !bytes.HasPrefix(tr.answer, []byte("HTTP/1.1 400")) || !bytes.Contains(tr.answer, []byte(`"bad_body"`)) {
		t.Errorf("the answer to the slow body: %q, want 400 bad_body", tr.answer)
	}
	if n.pool.Has(chain.Sum(slowTx.Encode())) {
		t.Error("the transaction of the body that was cut off is pooled")
	}
	post("the slow transaction sent whole", body)
}

// A client that sends its request line and then its headers a byte every
// 100 ms is cut off at api.read_header_timeout (Go's server answers a
// plain 400 and closes the connection), and a request sent whole
// meanwhile is served.
func TestSlowHeadersAreCutOffAtTheReadHeaderTimeout(t *testing.T) {
	_, base, headerTimeout := slowAPI(t)
	rest := []byte("Accept: application/json\r\nX-Padding: " + strings.Repeat("a", 60) + "\r\n\r\n")
	tr := trickle(t, strings.TrimPrefix(base, "http://"), "GET /v1/status HTTP/1.1\r\nHost: x\r\n", rest, func() {
		resp, err := http.Get(base + "/v1/status")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("a request sent whole while another trickles its headers: %d", resp.StatusCode)
		}
	})
	tr.cutOffAt(t, headerTimeout, rest)
	if len(tr.answer) > 0 && !bytes.HasPrefix(tr.answer, []byte("HTTP/1.1 400")) {
		t.Errorf("the slow headers were answered %q; want 400 or none", tr.answer)
	}
}
