package main

import (
	"fmt"
	"math/rand"
	"net"
	"regexp"
	"sync"
	"testing"
)

// The ports of TestDocsRun's devnets: the docs speak of a devnet on
// 127.0.0.1:8700-8703 (libp2p 9700-9703); each document's run moves them
// under a prefix of its own, so that documents can run side by side.

// docsBasePort is node0's API port under a prefix: 18700 for 1.
func docsBasePort(prefix int) int { return prefix*10000 + 8700 }

// docsPortPrefix picks a prefix whose ports are free: the devnet's four
// API ports (prefix 8700..8703) and four libp2p ports (prefix 9700..9703).
// Keeping the last four digits lets a block build a port as 870$i.
// A prefix stays claimed by its document until the test ends, so that
// documents running side by side never pick the same one.
func docsPortPrefix(t *testing.T) int {
	t.Helper()
	docsPrefixes.Lock()
	defer docsPrefixes.Unlock()
	for _, p := range rand.Perm(5) {
		prefix := p + 1
		if docsPrefixes.claimed[prefix] {
			continue
		}
		if portsFree(docsBasePort(prefix), 4) && portsFree(docsBasePort(prefix)+1000, 4) {
			docsPrefixes.claimed[prefix] = true
			t.Cleanup(func() {
				docsPrefixes.Lock()
				defer docsPrefixes.Unlock()
				delete(docsPrefixes.claimed, prefix)
			})
			return prefix
		}
	}
	t.Fatal("none of the port ranges 18700, 28700, 38700, 48700, 58700 (and 19700 ...) is free")
	return 0
}

var docsPrefixes = struct {
	sync.Mutex
	claimed map[int]bool
}{claimed: map[int]bool{}}

// portsFree reports whether ports base..base+n-1 are free on 127.0.0.1,
// for TCP and UDP.
func portsFree(base, n int) bool {
	for p := base; p < base+n; p++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		l.Close()
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		u.Close()
	}
	return true
}

var (
	docsPortRe = regexp.MustCompile(`((?:127\.0\.0\.1|localhost):|/ip4/127\.0\.0\.1/(?:tcp|udp)/|--base-port[ =])([89]7)`)
	docsLabRe  = regexp.MustCompile(`/tmp/citylab\b`)
)

// rewriteBlock points a block at the test's devnet and folder: each port
// 87xx or 97xx on 127.0.0.1 or localhost (and each --base-port 87xx) gets
// the prefix (8700 becomes 18700 for prefix 1), and /tmp/citylab becomes lab.
func rewriteBlock(text string, prefix int, lab string) string {
	text = docsPortRe.ReplaceAllString(text, fmt.Sprintf("${1}%d${2}", prefix))
	return docsLabRe.ReplaceAllLiteralString(text, lab)
}

func TestRewriteBlock(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"node0's API", "curl http://127.0.0.1:8700/v1/status", "curl http://127.0.0.1:38700/v1/status"},
		{"a port built in the shell", "--node http://127.0.0.1:870$i", "--node http://127.0.0.1:3870$i"},
		{"localhost", "open http://localhost:8703/#/labs", "open http://localhost:38703/#/labs"},
		{"a libp2p address", "--bootstrap /ip4/127.0.0.1/tcp/9700/p2p/12D3", "--bootstrap /ip4/127.0.0.1/tcp/39700/p2p/12D3"},
		{"a new node's ports", "citychain init --base-port 8710", "citychain init --base-port 38710"},
		{"other ports stay", "curl http://127.0.0.1:8080/ http://10.0.0.5:8700/", "curl http://127.0.0.1:8080/ http://10.0.0.5:8700/"},
		{"the students' folder", "mkdir -p /tmp/citylab\ncat /tmp/citylab/out.txt", "mkdir -p /work/lab\ncat /work/lab/out.txt"},
		{"a folder that only starts the same", "ls /tmp/citylabs", "ls /tmp/citylabs"},
	} {
		if got := rewriteBlock(tc.in, 3, "/work/lab"); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
