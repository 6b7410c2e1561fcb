package p2p

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

func TestStatusEncoding(t *testing.T) {
	good := status{ChainID: "testchain", Height: 42, Hash: bytes.Repeat([]byte{7}, 32)}
	got, err := decodeStatus(good.encode())
	if err != nil || got.ChainID != good.ChainID || got.Height != good.Height || !bytes.Equal(got.Hash, good.Hash) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	noHash := status{ChainID: "c", Height: 0}
	if got, err := decodeStatus(noHash.encode()); err != nil || got.Hash != nil || got.Identity != nil {
		t.Fatalf("no hash: %+v, %v", got, err)
	}
	withID := status{ChainID: "testchain", Height: 7, Hash: good.Hash, Identity: bytes.Repeat([]byte{9}, MaxIdentitySize)}
	if got, err := decodeStatus(withID.encode()); err != nil || !bytes.Equal(got.Identity, withID.Identity) || !bytes.Equal(got.Hash, good.Hash) {
		t.Fatalf("with an identity: %+v, %v", got, err)
	}
	if got := (status{ChainID: "c", Identity: make([]byte, MaxIdentitySize+1)}).encode(); !bytes.Equal(got, noHash.encode()) {
		t.Fatal("an identity over the limit was sent")
	}
	idEnc := withID.encode()

	enc := good.encode()
	cases := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"no chain id", append([]byte{0}, enc[1:]...)},
		{"chain id longer than the frame", []byte{200, 'a'}},
		{"truncated height", enc[:1+9+4]},
		{"missing hash", enc[:len(enc)-1]},
		{"trailing byte", append(append([]byte{}, enc...), 0)},
		{"hash too long", append(status{ChainID: "c"}.encode()[:10], append([]byte{65}, make([]byte, 65)...)...)},
		{"identity cut short", idEnc[:len(idEnc)-1]},
		{"identity of length zero", append(append([]byte{}, enc...), 0)},
		{"identity too long", append(append([]byte{}, enc...), append([]byte{MaxIdentitySize + 1}, make([]byte, MaxIdentitySize+1)...)...)},
		{"identity with a trailing byte", append(append([]byte{}, idEnc...), 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := decodeStatus(c.b); !errors.Is(err, ErrProtocol) {
				t.Errorf("got %v, want ErrProtocol", err)
			}
		})
	}
}

func TestSyncRequestDecoding(t *testing.T) {
	cases := []struct {
		name string
		req  chain.SyncRequest
		ok   bool
	}{
		{"one block", chain.SyncRequest{From: 1, To: 1}, true},
		{"full range", chain.SyncRequest{From: 5, To: 5 + MaxSyncRange - 1}, true},
		{"height zero", chain.SyncRequest{From: 0, To: 3}, false},
		{"reversed", chain.SyncRequest{From: 9, To: 8}, false},
		{"too long", chain.SyncRequest{From: 5, To: 5 + MaxSyncRange}, false},
		{"wraps around", chain.SyncRequest{From: 1 << 63, To: 1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := decodeSyncRequest(c.req.Encode())
			if c.ok && (err != nil || got != c.req) {
				t.Errorf("got %+v, %v", got, err)
			}
			if !c.ok && (!errors.Is(err, ErrProtocol) || !errors.Is(err, chain.ErrDecode)) {
				t.Errorf("got %v, want ErrProtocol and chain.ErrDecode", err)
			}
		})
	}
	if _, err := decodeSyncRequest(make([]byte, chain.SyncRequestSize+1)); !errors.Is(err, ErrProtocol) {
		t.Errorf("long frame: got %v, want ErrProtocol", err)
	}
}

// The request frame is the one p2p has always sent: From and To as two
// 8-byte big-endian integers.
func TestSyncRequestBytes(t *testing.T) {
	got := hex.EncodeToString(chain.SyncRequest{From: 1, To: 100}.Encode())
	if want := "0000000000000001" + "0000000000000064"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestFrameLimit(t *testing.T) {
	var buf bytes.Buffer
	if err := writeFrame(&buf, make([]byte, 101)); err != nil {
		t.Fatal(err)
	}
	if _, err := readFrame(&buf, 100); !errors.Is(err, ErrTooLarge) {
		t.Errorf("got %v, want ErrTooLarge", err)
	}
	buf.Reset()
	writeFrame(&buf, []byte("abc"))
	if _, err := readFrame(bytes.NewReader(buf.Bytes()[:5]), 100); err == nil {
		t.Error("truncated frame accepted")
	}
}

func TestPeerOnAnotherChainIsDropped(t *testing.T) {
	a := newNode(t, "alpha", goodChain(3), func(c *Config) { c.ChainID = "alpha" })
	b := newNode(t, "beta", goodChain(3), func(c *Config) {
		c.ChainID = "beta"
		bootstrapTo(a)(c)
	})
	// The two connect (B dials its bootstrap peer), exchange status, see
	// different chain ids and ban each other.
	eventually(t, 10*time.Second, "both sides to ban the other", func() bool {
		return a.gater.isBanned(b.ID()) && b.gater.isBanned(a.ID())
	})
	eventually(t, 5*time.Second, "disconnection", func() bool { return !connected(a, b) && !connected(b, a) })
	// B no longer redials its bootstrap peer, and A would refuse it.
	never(t, time.Second, "reconnection", func() bool { return connected(a, b) || connected(b, a) })
	if len(a.Peers()) != 0 || len(b.Peers()) != 0 {
		t.Errorf("peers left: alpha %v, beta %v", a.Peers(), b.Peers())
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	in := newInbox()
	base := Config{
		ChainID: "testchain", Key: key, ListenAddrs: loopbackListen, Blocks: &memBlocks{},
		ValidateTx: in.validate, ValidateConsensus: in.validate, OnTx: in.onTx, OnConsensus: in.onCons,
		Logger: testLogger(),
	}
	cases := []struct {
		name string
		edit func(*Config)
	}{
		{"no chain id", func(c *Config) { c.ChainID = "" }},
		{"slash in chain id", func(c *Config) { c.ChainID = "a/b" }},
		{"long chain id", func(c *Config) { c.ChainID = strings.Repeat("a", 65) }},
		{"no key", func(c *Config) { c.Key = nil }},
		{"no listen address", func(c *Config) { c.ListenAddrs = nil }},
		{"bad listen address", func(c *Config) { c.ListenAddrs = []string{"127.0.0.1:9700"} }},
		{"bootstrap without peer id", func(c *Config) { c.Bootstrap = []string{"/ip4/127.0.0.1/tcp/9700"} }},
		{"no block source", func(c *Config) { c.Blocks = nil }},
		{"no validator", func(c *Config) { c.ValidateConsensus = nil }},
		{"no handler", func(c *Config) { c.OnTx = nil }},
		{"huge messages", func(c *Config) { c.MaxMessageSize = MaxEntrySize + 1 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			c.edit(&cfg)
			h, err := New(cfg)
			if err == nil {
				h.Close()
				t.Fatal("New accepted the config")
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("got %v, want ErrConfig", err)
			}
		})
	}
}

// A node's Identity reaches its peers through the status exchange, as
// given; a node without one shows none.
func TestIdentityInStatus(t *testing.T) {
	id := bytes.Repeat([]byte{0x5e}, MaxIdentitySize)
	a := newNode(t, "A", nil, func(c *Config) { c.Identity = id })
	b := newNode(t, "B", nil, bootstrapTo(a))
	waitStatus(t, b, a.ID())
	waitStatus(t, a, b.ID())
	if info, _ := peerInfo(b, a.ID()); !bytes.Equal(info.Identity, id) {
		t.Fatalf("B sees A's identity as %x", info.Identity)
	}
	if info, _ := peerInfo(a, b.ID()); info.Identity != nil {
		t.Fatalf("A sees an identity %x for B, which has none", info.Identity)
	}
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	in := newInbox()
	cfg := Config{ChainID: "testchain", Key: key, ListenAddrs: loopbackListen, Blocks: &memBlocks{},
		ValidateTx: in.validate, ValidateConsensus: in.validate, OnTx: in.onTx, OnConsensus: in.onCons}
	if err := cfg.validate(); err != nil {
		t.Fatalf("the config without an identity: %v", err)
	}
	cfg.Identity = make([]byte, MaxIdentitySize+1)
	if err := cfg.validate(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "identity") {
		t.Errorf("an identity over the limit: %v, want ErrConfig", err)
	}
}
