package node

import (
	"time"

	"github.com/citychain/citychain/p2p"
)

// Block sync in the seeded simulation (see simnet_test.go): a node asks
// the best peer ahead through its real syncer, and the blocks reach its
// engine in virtual time, some through the sync pipeline's verify stage.

// syncStep is the sync loop's body for one node in virtual time: ask
// the best peer ahead, wait the network's delay (or the request timeout
// for a peer that never answers), hand the blocks to the engine and
// record the outcome, with the same syncer and engine code as syncOnce.
func (s *simNet) syncStep(n *simNode) {
	if n.syncBusy || !n.up || n.e == nil {
		return
	}
	local := n.store.Latest().Height
	pid, claimed, ok := n.e.sync.pick(n.sched.Now(), local, s.peersOf(n))
	if !ok {
		return
	}
	peerNode := s.byPID(pid)
	n.syncBusy = true
	life := n.life
	to := local + min(claimed-local, p2p.MaxSyncRange)
	d, delivered := s.delay(n.id, peerNode.id)
	if peerNode.fault == staller {
		s.stats.stalls++
		s.atNode(s.now+syncRequestTimeout, n.id, life, func() {
			n.syncBusy = false
			if _, ban := n.e.sync.judge(n.sched.Now(), pid, syncStalled); ban {
				s.ban(n, peerNode, "sync stalls")
			}
		})
		return
	}
	if !delivered {
		// A lost request is a broken stream: an error, not a stall.
		s.atNode(s.now+2*d+time.Millisecond, n.id, life, func() {
			n.syncBusy = false
			n.e.sync.record(n.sched.Now(), pid, syncFailed)
		})
		return
	}
	var entries [][2][]byte
	src := blockSource{peerNode.n}
	for h := local + 1; h <= to && h <= peerNode.store.Latest().Height; h++ {
		b, c, err := src.BlockAndCommit(h)
		if err != nil {
			break
		}
		entries = append(entries, [2][]byte{b, c})
	}
	s.atNode(s.now+2*d, n.id, life, func() {
		n.syncBusy = false
		if len(entries) == 0 {
			n.e.sync.record(n.sched.Now(), pid, syncFailed)
			return
		}
		// A node's first sync answer, and every other one after it, goes
		// through the sync pipeline's verify stage first, as in a
		// networked node; the others reach the engine as served, and it
		// verifies them itself.
		b := &syncBatch{from: local + 1, reply: make(chan syncResult, 1)}
		n.syncAnswers++
		if n.syncAnswers%2 == 1 {
			b.blocks = verifyAhead(n.n, local+1, entries)
		} else {
			b.entries = entries
		}
		s.input(n, b)
		r := <-b.reply
		s.stats.syncBlocks += r.applied
		for _, sb := range b.blocks[:min(r.at, len(b.blocks))] {
			if sb.certAhead {
				s.stats.syncAhead++
			}
		}
		if n.e.syncDone(pid, r) {
			s.ban(n, peerNode, "refused block")
		}
		if r.err != nil && peerNode.honestSender() {
			s.failf("%s refused a block that honest %s served: %v", n.name, peerNode.name, r.err)
		}
		s.syncStep(n)
	})
}

// verifyAhead runs the verify stage of the sync pipeline on served
// blocks at once, on the simulation's goroutine: each block is decoded
// and its certificate checked by startVerify, as verifyLoop does, and
// its signature jobs are run as the workers run them.
func verifyAhead(n *Node, from uint64, entries [][2][]byte) []*syncBlock {
	var sets expectedSet
	blocks := make([]*syncBlock, len(entries))
	for i, ent := range entries {
		b := &syncBlock{height: from + uint64(i), raw: ent, ready: make(chan struct{})}
		for _, j := range b.startVerify(n, &sets) {
			j.run(n.keys, n.verified)
		}
		blocks[i] = b
	}
	return blocks
}
