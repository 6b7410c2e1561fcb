package node

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

// scaleRun is one scaling run: n validators, a gossip mode (and its mesh
// degree; 0 is gossipsub's), a seed, and how many heights to measure.
type scaleRun struct {
	n       int
	mode    gossipMode
	degree  int
	seed    uint64
	heights int
}

// heightSample is what one measured height cost.
type heightSample struct {
	height       uint64
	blockTime    time.Duration // since the first node stored the height before
	proposeToEnd time.Duration // from the first proposal to the first node storing it
	spread       time.Duration // from the first node storing it to the last
	round        uint32        // the round that decided it
	signatures   int           // in its commit certificate
	commitBytes  int           // the certificate's encoded size
	precommits   int           // validators that precommitted the block
	published    int           // messages the engines published for it, re-sends included
	resends      int
	doubled      int // votes published twice, neither as a re-send
	sends        int // transmissions of those messages on links
	bytes        int
	synced       int // nodes that got it by block sync

	// The first sendings among the published messages, by kind, every
	// round.
	proposals, prevotes, precommitsSent int
}

// scaleResult is a run's samples and what went wrong.
type scaleResult struct {
	run      scaleRun
	samples  []heightSample
	quorum   int
	maxPeers int // the most peers a node forwards to
	end      time.Duration
	wall     time.Duration // real time the run took, for the report only
	failures []string
	stray    int // transmissions of messages no engine published
}

// scaleWarmup is the heights left out at the start (the first height
// begins with every node booting at once) and at the end (whose late
// votes are still on their way when the run stops).
const scaleWarmup = 1

// runScale runs r: every node boots at time 0, a steady load keeps the
// chain busy, and the run ends when every node has stored the last
// height or the virtual-time bound runs out. Every stored block is
// checked against the first stored at its height (safety), and every
// node must reach the last height (liveness).
func runScale(r scaleRun) scaleResult {
	start := time.Now()
	s := wanSim(r.seed, r.n, r.mode, r.degree)
	defer s.close()
	for _, n := range s.nodes {
		s.boot(n)
	}
	last := uint64(scaleWarmup + r.heights + 1)
	bound := time.Duration(last) * 30 * time.Second
	s.steadyLoad(wanTxEvery, bound)
	s.runUntil(bound, func() bool { return s.minHonestHeight() >= last })
	s.checkAgreement()
	out := scaleResult{run: r, end: s.now, failures: s.failures, stray: s.meter.unattributed}
	if low := s.minHonestHeight(); low < last && len(out.failures) == 0 {
		out.failures = append(out.failures, fmt.Sprintf("liveness: after %v the lowest node is at height %d, want %d", s.now, low, last))
	}
	vs, err := s.genesis.ValidatorSet()
	if err != nil {
		panic(err)
	}
	out.quorum = int(vs.Quorum())
	out.maxPeers = r.n - 1
	if s.mesh != nil {
		out.maxPeers = 0
		for _, p := range s.mesh {
			out.maxPeers = max(out.maxPeers, len(p))
		}
	}
	ref := s.nodes[0].store
	for h := uint64(scaleWarmup + 1); h < last && h <= ref.Latest().Height; h++ {
		hm, prev := s.meter.heights[h], s.meter.heights[h-1]
		c, err := ref.Commit(h)
		if err != nil || hm == nil || prev == nil {
			out.failures = append(out.failures, fmt.Sprintf("height %d: no commit or no record: %v", h, err))
			break
		}
		out.samples = append(out.samples, heightSample{height: h,
			blockTime: hm.firstStored - prev.firstStored, proposeToEnd: hm.firstStored - hm.firstProposal,
			spread: hm.lastStored - hm.firstStored, round: c.Round, signatures: len(c.Signatures), commitBytes: len(chain.MustEncode(c)),
			precommits: len(hm.precommitters[c.BlockHash]), published: hm.published, resends: hm.resends, doubled: hm.doubled,
			proposals: hm.proposals, prevotes: hm.prevotes, precommitsSent: hm.precommits,
			sends: hm.sends, bytes: hm.bytes, synced: hm.synced})
	}
	out.wall = time.Since(start)
	return out
}

// checkScale checks what a run measured against what the engine and the
// network must do, whatever the timings: a commit certificate and the
// precommits sent for the block both reach the quorum; every message
// published went to each other node once (the signer sends to all),
// and no message travelled more often than forwarding allows: once more
// from each node to each of its peers.
func checkScale(res scaleResult) []string {
	errs := append([]string(nil), res.failures...)
	r := res.run
	if len(res.samples) != r.heights {
		errs = append(errs, fmt.Sprintf("measured %d heights, want %d", len(res.samples), r.heights))
	}
	if res.stray != 0 {
		errs = append(errs, fmt.Sprintf("%d transmissions of messages no engine published", res.stray))
	}
	for _, x := range res.samples {
		if x.signatures < res.quorum || x.precommits < res.quorum {
			errs = append(errs, fmt.Sprintf("height %d: commit with %d signatures, %d validators precommitted it; quorum %d",
				x.height, x.signatures, x.precommits, res.quorum))
		}
		// A vote goes out once; only the engine's re-sends (numbered)
		// repeat it.
		if x.doubled > 0 {
			errs = append(errs, fmt.Sprintf("height %d: %d votes published twice without being re-sends", x.height, x.doubled))
		}
		// One proposal and a prevote and precommit from a quorum at least.
		if x.published < 1+2*res.quorum {
			errs = append(errs, fmt.Sprintf("height %d: %d messages published, fewer than a proposal and two quorums of votes",
				x.height, x.published))
		}
		low, high := x.published*(r.n-1), x.published*((r.n-1)+r.n*res.maxPeers)
		if r.mode == flood {
			high = x.published * (r.n - 1) * (r.n - 1)
		}
		if x.sends < low || x.sends > high {
			errs = append(errs, fmt.Sprintf("height %d: %d transmissions of %d messages among %d nodes (%s), want %d to %d",
				x.height, x.sends, x.published, r.n, r.mode, low, high))
		}
		if x.blockTime <= 0 || x.proposeToEnd <= 0 || x.proposeToEnd < 2*wanMinDelay {
			errs = append(errs, fmt.Sprintf("height %d: block time %v, proposal to commit %v: a decision takes at least two hops of %v",
				x.height, x.blockTime, x.proposeToEnd, wanMinDelay))
		}
	}
	return errs
}

// The short scaling runs that `make test` keeps: 4 and 7 validators on a
// wide-area network (50-200 ms a link, 2 % loss), all three ways of
// gossip, a few heights each. Timings are not asserted; safety,
// liveness and message counts are.
func TestScalingShort(t *testing.T) {
	cases := []scaleRun{
		{n: 4, mode: flood, seed: 1, heights: 4},
		{n: 7, mode: flood, seed: 2, heights: 4},
		{n: 7, mode: direct, seed: 3, heights: 4},
		// Seven nodes with a mesh of degree 3, to exercise mesh forwarding
		// where it forwards to fewer than all.
		{n: 7, mode: mesh, degree: 3, seed: 4, heights: 4},
	}
	if testing.Short() || raceEnabled {
		// The race detector makes the engine ten times slower: keep one
		// flood and the mesh.
		cases = []scaleRun{cases[0], cases[3]}
	}
	for _, c := range cases {
		name := fmt.Sprintf("%d-%s", c.n, c.mode)
		if c.degree > 0 {
			name = fmt.Sprintf("%d-mesh-D=%d", c.n, c.degree)
		}
		t.Run(name, func(t *testing.T) {
			res := runScale(c)
			for _, e := range checkScale(res) {
				t.Error(e)
			}
			if c.mode == mesh && res.maxPeers >= c.n-1 {
				t.Errorf("mesh forwards to %d peers of %d nodes: not a mesh", res.maxPeers, c.n)
			}
			t.Logf("%d validators, %s: %d heights in %v virtual, %v real; %+v", c.n, c.mode, len(res.samples), res.end, res.wall, res.samples)
		})
	}
}

// The same seed measures the same figures: the table in docs/scaling.md
// can be printed again.
func TestScalingIsDeterministic(t *testing.T) {
	r := scaleRun{n: 4, mode: flood, seed: 9, heights: 3}
	a, b := runScale(r), runScale(r)
	// Two runs that measured nothing, or went wrong the same way, would
	// compare equal: each must have measured every height it was asked
	// for, as TestScalingShort checks its runs.
	for i, res := range []scaleResult{a, b} {
		for _, e := range checkScale(res) {
			t.Errorf("run %d: %s", i+1, e)
		}
	}
	if len(a.samples) != r.heights {
		t.Fatalf("measured %d heights, want %d", len(a.samples), r.heights)
	}
	if !reflect.DeepEqual(a.samples, b.samples) || a.end != b.end {
		t.Fatalf("seed %d measured differently twice:\n%+v\n%+v", r.seed, a.samples, b.samples)
	}
}

// A conflicting block at a height is caught by the meter, not only by
// the comparison of stores at the end.
func TestScaleMeterCatchesTwoBlocksAtOneHeight(t *testing.T) {
	s := wanSim(5, 4, flood, 0)
	defer s.close()
	for _, n := range s.nodes {
		s.boot(n)
	}
	s.steadyLoad(wanTxEvery, time.Minute)
	s.runUntil(time.Minute, func() bool { return s.minHonestHeight() >= 2 })
	if len(s.failures) > 0 || s.minHonestHeight() < 2 {
		t.Fatalf("no clean start: %v, height %d", s.failures, s.minHonestHeight())
	}
	hm := s.meter.heights[2]
	hm.hash = chain.Hash{0xba, 0xd}
	s.meter.stored(s, s.nodes[1], 1, false)
	if len(s.failures) != 1 {
		t.Fatalf("failures %v, want one about safety", s.failures)
	}
}
