//go:build linux

package main

import (
	"slices"
	"testing"
	"time"

	"github.com/citychain/citychain/p2p/netlab"
)

// The network-namespace tests. Each node runs as its own process in its
// own namespace, finds the others as configured (mDNS, bootstrap peers,
// the DHT) and talks to them over the lab switch. Figures go to the test
// log as lines starting "figure:"; docs/reliability.md quotes them.
//
// TestNetnsShortPartition runs in make test; the others need -netns
// (make test-net).

// The link profiles of the issue.
var (
	// classroom is a school Wi-Fi: 5 to 50 ms one way, 1% loss.
	classroom = netlab.LinkRange{MinDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.01}
	// wan is validators on different sites: 50 to 200 ms, 2% loss.
	wan = netlab.LinkRange{MinDelay: 50 * time.Millisecond, MaxDelay: 200 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.02}
)

// TestNetnsShortPartition: 4 validators in 4 namespaces find each other by
// mDNS alone over 5 ms links and commit; a 1|3 partition leaves the three
// (3 of 4 votes, more than 2/3) committing while the one alone stops;
// after the heal it catches up to the same chain.
func TestNetnsShortPartition(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	began := time.Now()
	n := newNsNet(t, nsOptions{validators: 4, mdns: true, seed: 4,
		links: netlab.LinkRange{MinDelay: 5 * time.Millisecond, MaxDelay: 5 * time.Millisecond}})
	all, three := nodeRange(0, 4), nodeRange(1, 4)
	start := time.Now()
	n.start(all...)
	n.waitAll("find the 3 others by mDNS", 30*time.Second, all, peersAtLeast(3))
	found := time.Since(start)
	n.waitAll("commit block 1", 30*time.Second, all, heightAtLeast(1))
	first := n.sinceToBlock(start, 0, 1)
	txs := n.sendTxs([]int{1, 2, 3, 4}, all, 200*time.Millisecond, 200)
	n.waitAll("commit 3 more blocks", 20*time.Second, all, heightAtLeast(n.maxHeight(all)+3))

	n.lab.Switch.Partition([]int{0}, three)
	time.Sleep(2 * time.Second) // a block already decided may still arrive
	alone := n.height(0)
	n.waitAll("commit 3 blocks without validator0", 30*time.Second, three, heightAtLeast(n.maxHeight(three)+3))
	if h := n.height(0); h != alone {
		t.Fatalf("validator0 alone, with 1 of 4 votes, went from height %d to %d", alone, h)
	}
	ahead := n.maxHeight(three)

	n.lab.Switch.Heal()
	caught := n.waitAll("catch up after the heal", 30*time.Second, []int{0}, heightAtLeast(ahead))
	acked, fails := txs.finish()
	blocks := n.checkTxs(acked, all, 30*time.Second)
	t.Logf("figure: short 4 validators, 5 ms: peers by mDNS %.1f s, first block %.1f s, validator0 behind by %d blocks caught up %.1f s after the heal; %d transactions acknowledged (%d submits retried); %d of %d blocks decided after round 0; whole test %.0f s",
		found.Seconds(), first.Seconds(), ahead-alone, caught.Seconds(), len(acked), fails, laterRounds(blocks), len(blocks), time.Since(began).Seconds())
}

// TestNetnsMDNSPartition: 7 validators in 7 namespaces find each other by
// mDNS alone and commit over classroom links (5-50 ms, 1% loss). A 3|4
// partition stops both sides: with 7 validators a commit needs 5 votes.
// Nothing is committed and nothing forks while it lasts (45 s, long
// enough for the connections across it to drop); after the heal the
// chain commits again within 60 s, and every acknowledged transaction is
// committed exactly once.
func TestNetnsMDNSPartition(t *testing.T) {
	needLongNetns(t)
	began := time.Now()
	n := newNsNet(t, nsOptions{validators: 7, mdns: true, links: classroom, seed: 7})
	all := nodeRange(0, 7)
	start := time.Now()
	n.start(all...)
	n.waitAll("find the 6 others by mDNS", 90*time.Second, all, peersAtLeast(6))
	found := time.Since(start)
	n.waitAll("commit block 1", 60*time.Second, all, heightAtLeast(1))
	first := n.sinceToBlock(start, 0, 1)

	txs := n.sendTxs([]int{1, 2, 3, 4, 5, 6, 7}, all, 300*time.Millisecond, 1000)
	rate := n.blockRate(all, 30*time.Second)

	n.lab.Switch.Partition([]int{0, 1, 2}, []int{3, 4, 5, 6})
	time.Sleep(3 * time.Second) // a block decided before the cut may still arrive
	before := n.maxHeight(all)
	// Longer than QUIC's 30 s idle timeout and yamux's keep-alive: the
	// connections across the cut drop, and the nodes must dial each
	// other again after the heal (p2p/rediscover.go).
	const cut = 45 * time.Second
	time.Sleep(cut)
	if h := n.heights(all); slices.Max(h) != before {
		t.Fatalf("a block was committed during the 3|4 partition: heights %v, highest before %d", h, before)
	}
	n.sameChain(all)

	n.lab.Switch.Heal()
	resumed := n.waitAll("commit again after the heal", 60*time.Second, all, heightAtLeast(before+1))
	n.waitAll("commit 3 blocks after the heal", 30*time.Second, all, heightAtLeast(before+3))
	acked, fails := txs.finish()
	blocks := n.checkTxs(acked, all, 60*time.Second)
	t.Logf("figure: 7 validators, mDNS, %v: all peers found %.1f s after start, first block %.1f s, %.2f blocks/s under load; 3|4 partition %s: no block, heights stayed at %d; first block %.1f s after the heal; %d transactions acknowledged (%d submits retried), all committed once; switch %+v; %d of %d blocks decided after round 0; whole test %.0f s",
		classroom, found.Seconds(), first.Seconds(), rate, cut, before, resumed.Seconds(), len(acked), fails, n.lab.Switch.Stats(), laterRounds(blocks), len(blocks), time.Since(began).Seconds())
}

// TestNetnsClassroom: the 7 validators of a class, then 10 students' full
// nodes that join late, all in their own namespaces over classroom links,
// found by mDNS. The late ones catch up and follow; transactions go in
// through validators and full nodes. Then three laptops drop off the
// Wi-Fi for 45 s (longer than the idle timeouts, so their connections
// die) while transactions are still submitted to two of them; after they
// are back, those transactions too are committed. In the end all 17 hold
// the same block hash and state root at every height, and every
// acknowledged transaction is in the chain once.
func TestNetnsClassroom(t *testing.T) {
	needLongNetns(t)
	began := time.Now()
	n := newNsNet(t, nsOptions{validators: 7, full: 10, mdns: true, links: classroom, seed: 17})
	vals, fulls, all := nodeRange(0, 7), nodeRange(7, 17), nodeRange(0, 17)
	start := time.Now()
	n.start(vals...)
	n.waitAll("find the 6 other validators by mDNS", 90*time.Second, vals, peersAtLeast(6))
	found := time.Since(start)
	n.waitAll("commit block 1", 60*time.Second, vals, heightAtLeast(1))
	first := n.sinceToBlock(start, 0, 1)
	txs := n.sendTxs([]int{1, 2, 3}, vals, 300*time.Millisecond, 1000)
	n.waitAll("commit 10 blocks", 60*time.Second, vals, heightAtLeast(10))

	joined := time.Now()
	n.start(fulls...)
	head := n.maxHeight(vals)
	n.waitAll("catch up", 120*time.Second, fulls, heightAtLeast(head))
	caught := time.Since(joined)
	n.waitAll("find 6 peers", 90*time.Second, fulls, peersAtLeast(6))
	peered := time.Since(joined)
	more := n.sendTxs([]int{4, 5, 6}, nodeRange(7, 13), 300*time.Millisecond, 1000)
	rate := n.blockRate(all, 30*time.Second)

	// Three laptops off the Wi-Fi; two of them still take transactions.
	away, rest := nodeRange(14, 17), nodeRange(0, 14)
	n.lab.Switch.Partition(rest, away)
	island := n.sendTxs([]int{7, 8}, []int{14, 15}, 300*time.Millisecond, 1000)
	const off = 45 * time.Second
	time.Sleep(off)
	n.lab.Switch.Heal()
	back := time.Now()
	n.waitAll("catch up after rejoining", 60*time.Second, away, heightAtLeast(n.maxHeight(rest)))
	rejoined := time.Since(back)

	acked, fails := txs.finish()
	acked2, fails2 := more.finish()
	acked3, fails3 := island.finish()
	if len(acked3) == 0 {
		t.Fatal("the laptops off the Wi-Fi acknowledged no transaction: the test shows nothing")
	}
	blocks := n.checkTxs(slices.Concat(acked, acked2, acked3), all, 90*time.Second)
	t.Logf("figure: classroom 7 validators + 10 late full nodes, %v: validators found by mDNS %.1f s, first block %.1f s; 10 full nodes caught up to height %d in %.1f s and had 6 peers after %.1f s; %.2f blocks/s with 17 nodes; 3 laptops off for %s caught up %.1f s after rejoining, and the %d transactions sent through two of them from the moment they left were committed; %d transactions acknowledged in all (%d retried), all committed once on all 17; switch %+v; %d of %d blocks decided after round 0; whole test %.0f s",
		classroom, found.Seconds(), first.Seconds(), head, caught.Seconds(), peered.Seconds(), rate, off, rejoined.Seconds(), len(acked3),
		len(acked)+len(acked2)+len(acked3), fails+fails2+fails3, n.lab.Switch.Stats(), laterRounds(blocks), len(blocks), time.Since(began).Seconds())
}

// TestNetnsDHTWithoutMulticast: the access point drops multicast, so mDNS
// hears nothing. Every node knows only validator0 as bootstrap peer; the
// DHT must introduce the rest. Each validator ends up connected to all 6
// others, and the chain commits.
func TestNetnsDHTWithoutMulticast(t *testing.T) {
	needLongNetns(t)
	began := time.Now()
	n := newNsNet(t, nsOptions{validators: 7, mdns: true, dht: true, bootstrap: []int{0}, noMulticast: true,
		links: classroom, seed: 70})
	all := nodeRange(0, 7)
	start := time.Now()
	n.start(all...)
	n.waitAll("commit block 1", 60*time.Second, all, heightAtLeast(1))
	first := n.sinceToBlock(start, 0, 1)
	txs := n.sendTxs([]int{1, 2, 3, 4}, all, 300*time.Millisecond, 1000)
	n.waitAll("find all 6 others through the DHT", 150*time.Second, all, peersAtLeast(6))
	found := time.Since(start)
	rate := n.blockRate(all, 20*time.Second)
	acked, fails := txs.finish()
	blocks := n.checkTxs(acked, all, 60*time.Second)
	st := n.lab.Switch.Stats()
	if st.Multicast == 0 {
		t.Fatalf("the switch dropped no multicast: mDNS was not tried, so the test shows nothing")
	}
	t.Logf("figure: DHT, multicast blocked (%d multicast frames dropped), bootstrap validator0 only, %v: first block %.1f s, all 6 peers found %.1f s after start, %.2f blocks/s; %d transactions acknowledged (%d retried); %d of %d blocks decided after round 0; whole test %.0f s",
		st.Multicast, classroom, first.Seconds(), found.Seconds(), rate, len(acked), fails, laterRounds(blocks), len(blocks), time.Since(began).Seconds())
}

// TestNetnsWAN: 7 validators on WAN links (50-200 ms one way, 2% loss)
// with every other validator as bootstrap peer, as sites would be set
// up. They commit under a stream of transactions and agree.
func TestNetnsWAN(t *testing.T) {
	needLongNetns(t)
	began := time.Now()
	n := newNsNet(t, nsOptions{validators: 7, bootstrap: nodeRange(0, 7), links: wan, seed: 200})
	all := nodeRange(0, 7)
	start := time.Now()
	n.start(all...)
	n.waitAll("connect to the 6 others", 60*time.Second, all, peersAtLeast(6))
	found := time.Since(start)
	n.waitAll("commit block 1", 60*time.Second, all, heightAtLeast(1))
	first := n.sinceToBlock(start, 0, 1)
	txs := n.sendTxs([]int{1, 2, 3, 4, 5, 6, 7}, all, 300*time.Millisecond, 1000)
	rate := n.blockRate(all, 40*time.Second)
	if rate < 0.1 {
		t.Fatalf("only %.2f blocks/s on WAN links", rate)
	}
	acked, fails := txs.finish()
	blocks := n.checkTxs(acked, all, 60*time.Second)
	t.Logf("figure: WAN 7 validators, %v: connected %.1f s, first block %.1f s, %.2f blocks/s under load; %d transactions acknowledged (%d retried), all committed once; switch %+v; %d of %d blocks decided after round 0; whole test %.0f s",
		wan, found.Seconds(), first.Seconds(), rate, len(acked), fails, n.lab.Switch.Stats(), laterRounds(blocks), len(blocks), time.Since(began).Seconds())
}

// blockRate measures blocks per second over window on the listed nodes
// (their highest height), and fails if none was committed.
func (n *nsNet) blockRate(idx []int, window time.Duration) float64 {
	n.t.Helper()
	h0, t0 := n.maxHeight(idx), time.Now()
	time.Sleep(window)
	h1 := n.maxHeight(idx)
	if h1 <= h0 {
		n.t.Fatalf("no block committed in %s (height %d)", window, h0)
	}
	return float64(h1-h0) / time.Since(t0).Seconds()
}
