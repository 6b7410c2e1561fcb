package consensus_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	seedsFlag = flag.Int("seeds", 500, "how many seeds TestSimulation runs (CITYCHAIN_SEEDS sets the default)")
	seedFlag  = flag.Uint64("seed", 0, "replay only this TestSimulation seed, with a trace of every step")
)

// seedCount is -seeds if given, else CITYCHAIN_SEEDS, else 500.
func seedCount(t *testing.T) int {
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "seeds" })
	if v := os.Getenv("CITYCHAIN_SEEDS"); v != "" && !explicit {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("CITYCHAIN_SEEDS=%q: %v", v, err)
		}
		return n
	}
	return *seedsFlag
}

const (
	// baseTarget is the least height every honest node must reach.
	baseTarget = 4
	// progressBound is the virtual time after the network heals (and all
	// crashed honest nodes are back) within which every honest node must
	// reach the target height.
	progressBound = 60 * time.Second
)

// simOutcome is what one seeded run measured.
type simOutcome struct {
	failures []string
	summary  string
	catchUp  time.Duration // virtual time from healing to the target height
	evidence int
	equivs   bool // the run had an equivocating validator
	splits   int  // decisions in a later round than the first (see simNet)
}

// randomSim draws a run from seed: 4 to 7 validators, sometimes with
// unequal power; up to f power of faulty validators of every kind (silent,
// equivocating proposer or voter, twin, invalid-block proposer, forker);
// random timeouts; a hostile network until GST and a timely one after;
// partitions; crashes and restarts of honest nodes, some right after they
// decide. One run in three is a fork attack (see below). It returns the
// network and GST, the time from which the network is calm and every
// honest node is up.
func randomSim(seed uint64) (*simNet, time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 0xC17C4A1))
	n := 4 + rng.IntN(4)
	powers := make([]uint64, n)
	weighted := rng.IntN(4) == 0
	for i := range powers {
		powers[i] = 1
		if weighted {
			powers[i] = 1 + uint64(rng.IntN(3))
		}
	}
	s := newSimNet(seed, powers)
	f := s.vals.TotalPower() - s.vals.Quorum() // the faulty power tolerated

	// One run in three is a fork attack: every faulty validator is a
	// forker, and before GST honest nodes that decide a block crash, or go
	// unheard for a while, before anyone learns of the decision; only the
	// lock rules keep the others from deciding another block.
	attack := rng.IntN(3) == 0
	faults := make([]fault, n)
	var faulty uint64
	for _, i := range rng.Perm(n) {
		if faulty+powers[i] <= f && (attack || rng.IntN(4) != 0) {
			faults[i] = fault(1 + rng.IntN(6))
			if attack {
				faults[i] = forker
			}
			faulty += powers[i]
		}
	}
	for i, fl := range faults {
		name := string(rune('A' + i))
		s.addNode(name, i, fl)
		if fl == twin {
			s.addNode(name+"'", i, twin)
		}
	}

	s.timeouts.Propose = time.Duration(100+rng.IntN(300)) * time.Millisecond
	s.timeouts.Prevote = time.Duration(50+rng.IntN(150)) * time.Millisecond
	s.timeouts.Precommit = time.Duration(50+rng.IntN(150)) * time.Millisecond

	// After GST the network is timely: little loss, short delays.
	s.calm = linkModel{minDelay: time.Millisecond, maxDelay: time.Duration(5+rng.IntN(95)) * time.Millisecond}
	if rng.IntN(2) == 0 {
		s.calm.loss, s.calm.dup = rng.Float64()*0.1, rng.Float64()*0.05
	}
	// Before GST it is hostile in three runs of four: heavy loss, long
	// and heavy-tailed delays, and partitions that come and go.
	s.chaos = s.calm
	var gst time.Duration
	switch {
	case attack:
		// The forker and the silenced deciders do the damage; the network
		// stays lively enough for many heights to be decided before GST.
		s.chaos = linkModel{
			loss: rng.Float64() * 0.1, dup: rng.Float64() * 0.1,
			minDelay: time.Millisecond, maxDelay: time.Duration(5+rng.IntN(150)) * time.Millisecond,
			slow: rng.Float64() * 0.1, slowDelay: time.Duration(rng.IntN(1000)) * time.Millisecond,
		}
		gst = time.Duration(3000+rng.IntN(5000)) * time.Millisecond
	case rng.IntN(4) != 0:
		s.chaos = linkModel{
			loss: rng.Float64() * 0.4, dup: rng.Float64() * 0.2,
			minDelay: time.Millisecond, maxDelay: time.Duration(5+rng.IntN(300)) * time.Millisecond,
			slow: rng.Float64() * 0.2, slowDelay: time.Duration(rng.IntN(2000)) * time.Millisecond,
		}
		gst = time.Duration(500+rng.IntN(5500)) * time.Millisecond
	}
	for k := rng.IntN(4); k > 0 && !attack; k-- {
		from := time.Duration(rng.IntN(5000)) * time.Millisecond
		to := from + time.Duration(100+rng.IntN(3000))*time.Millisecond
		groups := 2 + rng.IntN(2)
		group := make([]int, len(s.nodes))
		for i := range group {
			group[i] = rng.IntN(groups)
		}
		s.partitions = append(s.partitions, partition{from: from, to: to, group: group})
		gst = max(gst, to)
	}
	honest := s.honestNodes()
	if attack {
		for _, node := range honest {
			switch rng.IntN(4) {
			case 0:
				node.flaky = true
			case 1:
				node.gagged = true
			case 2:
				node.amnesiac = true
			}
		}
	}
	crashes, downtime := rng.IntN(4), 3000
	if attack {
		crashes, downtime = 2+rng.IntN(6), 1000
	}
	for ; crashes > 0; crashes-- {
		node := honest[rng.IntN(len(honest))]
		at := time.Duration(rng.IntN(int(max(gst, 3*time.Second)/time.Millisecond))) * time.Millisecond
		back := at + time.Duration(100+rng.IntN(downtime))*time.Millisecond
		if rng.IntN(2) == 0 {
			s.at(at, func() { node.armedUntil = back })
		} else {
			s.at(at, func() {
				if node.up {
					s.crash(node)
				}
			})
		}
		s.at(back, func() {
			if !node.up {
				s.boot(node)
			}
		})
		gst = max(gst, back)
	}
	s.gst, s.attack = gst, attack
	return s, gst
}

// runSeed runs one seeded simulation and checks agreement, validity,
// evidence and progress.
func runSeed(seed uint64, tracing bool) simOutcome {
	s, gst := randomSim(seed)
	s.tracing = tracing
	s.start()
	s.runUntil(gst, nil)
	target := uint64(baseTarget)
	for _, n := range s.honestNodes() {
		target = max(target, uint64(len(n.certs))+2)
	}
	s.runUntil(gst+progressBound, func() bool { return s.minHonestHeight() >= target })
	out := simOutcome{failures: s.failures, evidence: s.evidence, catchUp: s.now - gst, splits: s.splitDecisions}
	if len(out.failures) == 0 && s.minHonestHeight() < target {
		out.failures = append(out.failures, fmt.Sprintf(
			"progress: %v after the network healed, the lowest honest node is at height %d, want %d",
			progressBound, s.minHonestHeight(), target))
	}
	for _, n := range s.nodes {
		out.equivs = out.equivs || n.fault == equivVoter || n.fault == twin || n.fault == forker
	}
	var parts []string
	for _, p := range s.partitions {
		parts = append(parts, fmt.Sprintf("partition %v-%v %v", p.from, p.to, p.group))
	}
	out.summary = fmt.Sprintf("nodes: %s\n  before GST %+v\n  after GST %+v\n  %s\n  GST %v, target height %d, honest commits %d, evidence %d",
		s.describe(), s.chaos, s.calm, strings.Join(parts, "; "), gst, target, s.commits, s.evidence)
	if tracing {
		out.summary += "\ntrace:\n" + strings.Join(s.trace, "\n")
	}
	return out
}

// TestSimulation runs many seeded simulations of 4 to 7 validators under
// loss, delay, duplication, partitions, crashes and up to f Byzantine
// validators, and checks on every run that honest nodes never commit
// different blocks at one height, commit only blocks that were validly
// proposed, report every equivocation they see, and all reach the target
// height once the network heals. A failing seed prints the command that
// replays it.
func TestSimulation(t *testing.T) {
	if *seedFlag != 0 {
		out := runSeed(*seedFlag, true)
		t.Log(out.summary)
		for _, f := range out.failures {
			t.Errorf("seed %d: %s", *seedFlag, f)
		}
		return
	}
	count := seedCount(t)
	var (
		mu         sync.Mutex
		failed     []uint64
		worst      time.Duration
		evidence   int
		equivSeeds int
		evidSeeds  int
		splitSeeds int
		next       uint64
	)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= uint64(count) || len(failed) >= 10 {
					mu.Unlock()
					return
				}
				next++
				seed := next
				mu.Unlock()

				out := runSeed(seed, false)

				mu.Lock()
				worst = max(worst, out.catchUp)
				if out.splits > 0 {
					splitSeeds++
				}
				evidence += out.evidence
				if out.equivs {
					equivSeeds++
					if out.evidence > 0 {
						evidSeeds++
					}
				}
				if len(out.failures) > 0 {
					failed = append(failed, seed)
					t.Errorf("seed %d failed:\n  %s\n  run: %s\n  replay: go test ./chain/consensus/ -run 'TestSimulation$' -seed %d -v",
						seed, strings.Join(out.failures, "\n  "), out.summary, seed)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("%d seeds, %d failed; slowest progress after healing %v; %d of %d runs with an equivocating key saw Evidence (%d actions); "+
		"in %d runs honest nodes decided a height in different rounds, where only the locks kept them on one block",
		count, len(failed), worst, evidSeeds, equivSeeds, evidence, splitSeeds)
	if equivSeeds > 20 && evidSeeds == 0 {
		t.Errorf("no run with an equivocating validator produced Evidence")
	}
}

// TestSimulationIsDeterministic runs seeds twice and expects the same
// decisions and the same virtual end time: the replay command is only
// useful if a seed always does the same thing.
func TestSimulationIsDeterministic(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		a, b := runSeed(seed, true), runSeed(seed, true)
		if a.summary != b.summary {
			t.Fatalf("seed %d ran differently twice:\n%s\n---\n%s", seed, a.summary, b.summary)
		}
	}
}
