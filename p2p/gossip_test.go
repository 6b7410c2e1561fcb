package p2p

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

// threeNodes starts A, then B and C with A as their bootstrap peer, and
// waits until gossip connects B-A-C on both topics.
func threeNodes(t *testing.T) (a, b, c *testNode) {
	t.Helper()
	a = newNode(t, "A", nil, nil)
	b = newNode(t, "B", nil, bootstrapTo(a))
	c = newNode(t, "C", nil, bootstrapTo(a))
	eventually(t, 10*time.Second, "gossip peers B-A-C", func() bool {
		return gossipReady(a, 2) && gossipReady(b, 1) && gossipReady(c, 1)
	})
	// A relays only to peers in its mesh, which its next heartbeat forms;
	// until then B and C hear A but not each other. Probe until they do.
	waitRelay(t, b, c)
	waitRelay(t, c, b)
	return a, b, c
}

// waitRelay publishes probes on both topics from one node until the other
// has received one on each.
func waitRelay(t *testing.T, from, to *testNode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var probes []string
	got := func() (tx, cons bool) {
		for _, p := range probes {
			tx = tx || to.inbox.hasTx(p)
			cons = cons || to.inbox.hasCons(p)
		}
		return tx, cons
	}
	for i := 0; ; i++ {
		if tx, cons := got(); tx && cons {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("no gossip path from %s to %s", from.name, to.name)
		}
		p := fmt.Sprintf("probe:%s->%s:%d", from.name, to.name, i)
		probes = append(probes, p)
		from.PublishTx(ctx, []byte(p))
		from.PublishConsensus(ctx, []byte(p))
		time.Sleep(100 * time.Millisecond)
	}
}

func TestGossipReachesEveryNode(t *testing.T) {
	a, b, c := threeNodes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// B's transaction reaches A directly and C through A.
	if err := b.PublishTx(ctx, []byte("tx:from-B")); err != nil {
		t.Fatal(err)
	}
	// C's consensus message reaches A directly and B through A.
	if err := c.PublishConsensus(ctx, []byte("vote:from-C")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "tx at A and C", func() bool {
		return a.inbox.hasTx("tx:from-B") && c.inbox.hasTx("tx:from-B")
	})
	eventually(t, 5*time.Second, "vote at A and B", func() bool {
		return a.inbox.hasCons("vote:from-C") && b.inbox.hasCons("vote:from-C")
	})

	if got := c.inbox.sender("tx:from-B"); got != a.ID() {
		t.Errorf("C got B's tx from %s, want the relay A (%s)", got, a.ID())
	}
	// Nobody gets back what they published, and topics do not mix.
	time.Sleep(300 * time.Millisecond)
	if b.inbox.hasTx("tx:from-B") || c.inbox.hasCons("vote:from-C") {
		t.Error("a node received its own message")
	}
	if a.inbox.hasCons("tx:from-B") || a.inbox.hasTx("vote:from-C") {
		t.Error("a message arrived on the wrong topic")
	}
	// Our own messages skip our own validator.
	if n := b.inbox.validations("tx:from-B"); n != 0 {
		t.Errorf("B validated its own tx %d times", n)
	}
}

func TestGossipInvalidMessageIsRejected(t *testing.T) {
	a, b, c := threeNodes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// A does not validate its own messages, so it sends what B and C reject
	// or ignore; a valid message after them shows that A's stream was read.
	for _, msg := range []string{"bad:forged-signature", "ignore:future-height", "tx:fine"} {
		if err := a.PublishTx(ctx, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "the valid tx at B and C", func() bool {
		return b.inbox.hasTx("tx:fine") && c.inbox.hasTx("tx:fine")
	})
	eventually(t, 5*time.Second, "B and C to validate the bad and ignored txs", func() bool {
		return b.inbox.validations("bad:forged-signature") > 0 && c.inbox.validations("bad:forged-signature") > 0 &&
			b.inbox.validations("ignore:future-height") > 0 && c.inbox.validations("ignore:future-height") > 0
	})
	for _, n := range []*testNode{b, c} {
		if n.inbox.hasTx("bad:forged-signature") || n.inbox.hasTx("ignore:future-height") {
			t.Errorf("%s delivered a rejected or ignored message", n.name)
		}
	}
	// The rejection counts against A in B's gossip score.
	eventually(t, 10*time.Second, "A's score at B to drop below zero", func() bool {
		info, ok := peerInfo(b, a.ID())
		return ok && info.Score < 0
	})
}

func TestPublishLimits(t *testing.T) {
	n := newNode(t, "A", nil, func(c *Config) { c.MaxMessageSize = 1024 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.PublishTx(ctx, make([]byte, 1025)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized tx: got %v, want ErrTooLarge", err)
	}
	if err := n.PublishConsensus(ctx, make([]byte, 1024)); err != nil {
		t.Errorf("message at the limit: %v", err)
	}
	// Alone, the node keeps a transaction rather than mark it seen.
	if err := n.PublishTx(ctx, make([]byte, 10)); !errors.Is(err, ErrNoPeers) {
		t.Errorf("a tx with no peer on the topic: got %v, want ErrNoPeers", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.PublishTx(ctx, []byte("tx")); !errors.Is(err, ErrClosed) {
		t.Errorf("publish after Close: got %v, want ErrClosed", err)
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestTopicNames(t *testing.T) {
	cases := []struct{ got, want string }{
		{string(syncProtocol("city-1")), "/citychain/city-1/sync/1"},
		{string(dhtPrefix("city-1")), "/citychain/city-1"},
		{mdnsServiceName("City_1.test"), "_citychain-city-1-test._udp"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	long := mdnsServiceName(strings.Repeat("a", 64))
	if label := strings.TrimSuffix(strings.TrimPrefix(long, "_"), "._udp"); len(label) > 62 {
		t.Errorf("mdns label of %d bytes", len(label))
	}
}

// The gossip message ID is the one p2p has always used, SHA-256 of the
// topic, a zero byte and the data, now computed by chain.GossipMessageID:
// nodes before and after the move drop each other's duplicates.
func TestMessageID(t *testing.T) {
	topic, data := chain.ConsensusTopic("city-1"), []byte("a vote")
	want := sha256.Sum256(append(append([]byte(topic), 0), data...))
	if got := messageID(&pb.Message{Topic: &topic, Data: data}); got != string(want[:]) {
		t.Errorf("got %x, want %x", got, want)
	}
	other := chain.TxTopic("city-1")
	if messageID(&pb.Message{Topic: &other, Data: data}) == string(want[:]) {
		t.Error("the same bytes on two topics share an ID")
	}
}

// A node joins the topics package chain names for its chain.
func TestJoinsTheChainsTopics(t *testing.T) {
	n := newNode(t, "A", nil, nil)
	if got, want := n.txTopic.String(), chain.TxTopic("testchain"); got != want {
		t.Errorf("tx topic %q, want %q", got, want)
	}
	if got, want := n.consTopic.String(), chain.ConsensusTopic("testchain"); got != want {
		t.Errorf("consensus topic %q, want %q", got, want)
	}
}

// A message stays in gossipsub's cache for some heartbeats, to answer
// peers that ask for it; the value its validator returned (the message
// decoded) must not stay with it once the handler has had it.
func TestValidatorValueIsNotKeptAfterDelivery(t *testing.T) {
	type decoded struct{ data []byte }
	var made, freed, got atomic.Int64
	slow := func(c *Config) {
		c.GossipHeartbeat = time.Second // the cache keeps messages for five
		c.ValidateTx = func(data []byte) (any, error) {
			d := &decoded{data: data}
			made.Add(1)
			runtime.SetFinalizer(d, func(*decoded) { freed.Add(1) })
			return d, nil
		}
		c.OnTx = func(_ peer.ID, _ []byte, checked any) {
			if _, ok := checked.(*decoded); ok {
				got.Add(1)
			}
		}
	}
	a := newNode(t, "A", nil, slow)
	b := newNode(t, "B", nil, bootstrapTo(a))
	eventually(t, 10*time.Second, "gossip peers A-B", func() bool { return gossipReady(a, 1) && gossipReady(b, 1) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; got.Load() == 0; i++ {
		if ctx.Err() != nil {
			t.Fatal("A's handler never received a message with its validator's value")
		}
		b.PublishTx(ctx, []byte(fmt.Sprintf("tx:%d", i)))
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let the last probes be handled
	eventually(t, 2*time.Second, "every validator value freed", func() bool {
		runtime.GC()
		return got.Load() == made.Load() && freed.Load() == made.Load()
	})
}
