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

// docsPrefixCount is how many prefixes there are: 1 to 5, so that every
// moved port stays under 65536.
const docsPrefixCount = 5

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
	for _, p := range rand.Perm(docsPrefixCount) {
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

// docsPort reports whether TestDocsRun, which runs beside other tests,
// may use port p: its devnets move the docs' 87xx and 97xx ports under
// a prefix, to 187xx, 197xx ... 587xx, 597xx.
func docsPort(p int) bool {
	prefix, rest := p/10000, p%10000
	return prefix >= 1 && prefix <= docsPrefixCount && (rest/100 == 87 || rest/100 == 97)
}

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

// The ports the docs' devnets may take are never handed to the tests that
// run beside them.
func TestDocsPortRangesAreKeptFromOtherTests(t *testing.T) {
	for _, tc := range []struct {
		port int
		docs bool
	}{
		{18700, true}, {18799, true}, {19703, true}, {58710, true}, {59799, true},
		{8700, false}, {18800, false}, {18699, false}, {29600, false}, {30000, false},
	} {
		if got := docsPort(tc.port); got != tc.docs {
			t.Errorf("docsPort(%d) = %v, want %v", tc.port, got, tc.docs)
		}
	}
	for range 200 {
		base := freeBasePort(t, 4)
		for i := range 4 {
			for _, p := range []int{base + i, base + 1000 + i} {
				if docsPort(p) {
					t.Fatalf("freeBasePort gave base %d, whose port %d is in a docs range", base, p)
				}
			}
		}
	}
}
