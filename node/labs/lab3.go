package labs

import (
	"context"
	"slices"
	"sort"
	"time"
)

// Lab 3: stop one validator of four, then a second, and read what the
// chain did from its history. Commits carry the precommits of a quorum
// only (3 of 4), so one commit cannot tell who was down. A validator
// that is up proposes in its turn, so it appears in every n+1 heights as
// proposer or signer; one absent from more than that many heights in a
// row was down, and its turns to propose passed to the next proposer in
// round 1. With two of four down nobody has a quorum: no block at all,
// until one is back.
func lab3() *Lab {
	return &Lab{
		Number: 3, Slug: "03-consensus",
		Title: tx("Consensus: stop validators and watch", "共识：停掉验证者，看看会发生什么"),
		Steps: []Step{
			{
				Name: tx("a network of four validators or more", "至少有四个验证者的网络"),
				Hint: tx("Start a devnet of four validators: make devnet (or citychain devnet --nodes 4 --dir .devnet), and point --node at one of its nodes.",
					"启动一个有四个验证者的开发网络：make devnet（或 citychain devnet --nodes 4 --dir .devnet），并用 --node 指向其中一个节点。"),
				Check: lab3Four,
			},
			{
				Name: tx("one validator down: the chain goes on", "停掉一个验证者：链照常出块"),
				Hint: tx("Stop one validator (citychain devnet ctl --dir .devnet stop node3), then send a few transactions or wait half a minute so that several blocks are made without it.",
					"停掉一个验证者（citychain devnet ctl --dir .devnet stop node3），然后发几笔交易或等半分钟，让链在没有它的情况下出几个块。"),
				Check: lab3OneDown,
			},
			{
				Name: tx("two down: the chain halts, and resumes when one returns", "停掉两个：链停止出块，有一个回来后恢复"),
				Hint: tx("With one validator still stopped, stop a second one (citychain devnet ctl --dir .devnet stop node2), wait at least 20 seconds, then start it again (citychain devnet ctl --dir .devnet start node2).",
					"在一个验证者仍停着的情况下，再停掉第二个（citychain devnet ctl --dir .devnet stop node2），等至少 20 秒，再把它启动（citychain devnet ctl --dir .devnet start node2）。"),
				Check: lab3Halt,
			},
			{
				Name: tx("every validator signs again", "所有验证者重新参与签名"),
				Hint: tx("Start every stopped validator again (citychain devnet ctl --dir .devnet start node3) and wait for a few blocks.",
					"把所有停掉的验证者都重新启动（citychain devnet ctl --dir .devnet start node3），再等几个区块。"),
				Check: lab3AllBack,
			},
		},
	}
}

// haltGap is the pause between two blocks that counts as a halt. An idle
// chain makes a block every 5 s, 6.5 s when a round times out.
const haltGap = 12 * time.Second

// absence is a run of heights a validator took no part in.
type absence struct {
	Validator string
	From, To  uint64 // heights, inclusive
	Blocks    int
	// RoundChange is a height of the run decided in round 1 or later (0
	// when none was).
	RoundChange uint64
	ChangeRound uint32
}

// halt is a pause of the chain while a validator was missing.
type halt struct {
	Before, After uint64 // the heights on each side of the pause
	Gap           time.Duration
	Missing       string // a validator absent from the blocks before it
}

// consensusStory is what lab 3 reads from the history.
type consensusStory struct {
	Validators int      // in the current set
	Longest    *absence // the longest absence of a validator
	Halt       *halt    // the latest halt
	Silent     []string // validators of the current set absent from the latest heights
	Recent     int      // heights the last test looked at
}

// readStory analyses the window w (oldest first), given the current
// validator set and the validators hash of the latest block.
func readStory(w []*fact, current []string, currentHash string) *consensusStory {
	s := &consensusStory{Validators: len(current)}
	if len(w) == 0 {
		return s
	}
	byHeight := map[uint64]*fact{}
	for _, f := range w {
		byHeight[f.Height] = f
	}
	// present: everyone who proposed or signed a height; complete once
	// the next block (which carries another quorum of it) is known.
	present := make([]map[string]bool, len(w))
	complete := make([]bool, len(w))
	seen := map[string]map[string]bool{} // validators hash -> addresses seen
	for i, f := range w {
		p := map[string]bool{f.Proposer: true}
		for _, a := range f.Signers {
			p[a] = true
		}
		if next := byHeight[f.Height+1]; next != nil {
			for _, a := range next.LastSigners {
				p[a] = true
			}
			complete[i] = true
		}
		present[i] = p
		if seen[f.ValidatorsHash] == nil {
			seen[f.ValidatorsHash] = map[string]bool{}
		}
		for a := range p {
			seen[f.ValidatorsHash][a] = true
		}
	}
	// members of the set that signs a height: the current set for the
	// current hash; for an older set, everyone seen signing under it.
	cur := map[string]bool{}
	for _, a := range current {
		cur[a] = true
	}
	members := func(f *fact) map[string]bool {
		if f.ValidatorsHash == currentHash {
			return cur
		}
		return seen[f.ValidatorsHash]
	}

	// The longest absence of each validator, over complete heights that
	// follow each other.
	runs := map[string]*absence{}
	for i, f := range w {
		if !complete[i] {
			continue
		}
		for a := range members(f) {
			if present[i][a] {
				delete(runs, a)
				continue
			}
			r := runs[a]
			if r == nil || r.To+1 != f.Height {
				r = &absence{Validator: a, From: f.Height}
				runs[a] = r
			}
			r.To, r.Blocks = f.Height, r.Blocks+1
			if f.Round > 0 && r.RoundChange == 0 {
				r.RoundChange, r.ChangeRound = f.Height, f.Round
			}
			if s.Longest == nil || r.Blocks > s.Longest.Blocks {
				c := *r
				s.Longest = &c
			}
		}
	}

	// The latest pause of haltGap or more right after a validator had
	// missed a whole turn of proposers: it was down, not merely slow,
	// when the pause began. A restart of every node pauses the chain too,
	// but with nobody missing before it.
	for i := len(w) - 1; i >= 1; i-- {
		f, prev := w[i], w[i-1]
		if prev.Height+1 != f.Height || f.Time.Sub(prev.Time) < haltGap {
			continue
		}
		var missing []string
		for a := range members(prev) {
			run := 0
			for j := i - 1; j >= 0 && !present[j][a] && (j == i-1 || w[j].Height+1 == w[j+1].Height); j-- {
				run++
			}
			if run >= max(4, len(members(prev))) {
				missing = append(missing, a)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			s.Halt = &halt{Before: prev.Height, After: f.Height, Gap: f.Time.Sub(prev.Time), Missing: missing[0]}
			break
		}
	}

	// Who of the current set took no part in the latest complete heights.
	var recent []int
	for i := len(w) - 1; i >= 0 && len(recent) < max(4, len(current))+1; i-- {
		if complete[i] {
			recent = append(recent, i)
		}
	}
	s.Recent = len(recent)
	for _, a := range current {
		if !slices.ContainsFunc(recent, func(i int) bool { return present[i][a] }) {
			s.Silent = append(s.Silent, a)
		}
	}
	return s
}

// story reads lab 3's story once per Env.
func (e *Env) story(ctx context.Context) (*consensusStory, error) {
	w, err := e.history(ctx)
	if err != nil {
		return nil, err
	}
	st, err := e.status(ctx)
	if err != nil {
		return nil, err
	}
	var current []string
	for _, v := range st.Validators {
		current = append(current, v.Address)
	}
	hash := ""
	if len(w) > 0 {
		hash = w[len(w)-1].ValidatorsHash
	}
	return readStory(w, current, hash), nil
}

// downRun is how many heights in a row a validator must miss to count
// as down: more than a whole turn of proposers.
func downRun(validators int) int { return max(4, validators) + 1 }

func lab3Four(ctx context.Context, e *Env) Result {
	st, err := e.status(ctx)
	if err != nil {
		return failed(err)
	}
	n := len(st.Validators)
	if n < 4 {
		return todo(say("this chain has %d validator(s): with fewer than 4, one failure is already too many",
			"这条链只有 %d 个验证者：少于 4 个时，坏掉一个就已经太多了", n))
	}
	f := (n - 1) / 3
	return done(say("%d validators: a block needs %d precommits, so %d may fail",
		"%d 个验证者：每个区块需要 %d 个预提交，因此最多可以有 %d 个出故障", n, n-f, f))
}

func lab3OneDown(ctx context.Context, e *Env) Result {
	s, err := e.story(ctx)
	if err != nil {
		return failed(err)
	}
	need := downRun(s.Validators)
	l := s.Longest
	if l == nil || l.Blocks < need {
		got := 0
		if l != nil {
			got = l.Blocks
		}
		return todo(say("no validator was missing from %d blocks in a row (the longest absence is %d)",
			"没有哪个验证者连续 %d 个区块缺席（最长一次连续缺席 %d 个区块）", need, got))
	}
	if l.RoundChange != 0 {
		return done(say("heights %d to %d were committed without %s; height %d needed round %d: the missing validator's turn to propose passed to the next",
			"高度 %d 到 %d 的区块都在没有 %s 的情况下提交；高度 %d 用到了第 %d 轮：轮到缺席者出块时，出块权交给了下一个验证者",
			l.From, l.To, short(l.Validator), l.RoundChange, l.ChangeRound))
	}
	d := say("heights %d to %d were committed without %s",
		"高度 %d 到 %d 的区块都在没有 %s 的情况下提交", l.From, l.To, short(l.Validator))
	return done(d)
}

func lab3Halt(ctx context.Context, e *Env) Result {
	s, err := e.story(ctx)
	if err != nil {
		return failed(err)
	}
	h := s.Halt
	if h == nil {
		return todo(say("no pause of %d s or more between two blocks while a validator was missing",
			"在有验证者缺席期间，相邻两个区块之间没有出现 %d 秒或更长的停顿", int(haltGap.Seconds())))
	}
	secs := int(h.Gap.Round(time.Second).Seconds())
	return done(say("no block for %d s between heights %d and %d (%s was already missing); block %d came once a quorum was back",
		"高度 %[2]d 与 %[3]d 之间 %[1]d 秒没有出块（%[4]s 此前已缺席）；法定人数恢复后，区块 %[5]d 才提交",
		secs, h.Before, h.After, short(h.Missing), h.After))
}

func lab3AllBack(ctx context.Context, e *Env) Result {
	s, err := e.story(ctx)
	if err != nil {
		return failed(err)
	}
	if s.Recent < downRun(s.Validators) {
		return todo(say("only %d block(s) to look at yet", "目前只有 %d 个区块可看", s.Recent))
	}
	if len(s.Silent) > 0 {
		return todo(say("%s took no part in the last %d blocks", "%s 没有参与最近 %d 个区块", short(s.Silent[0]), s.Recent))
	}
	return done(say("all %d validators took part in the last %d blocks", "最近 %[2]d 个区块中，全部 %[1]d 个验证者都参与了", s.Validators, s.Recent))
}
