package chain_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// judgeApp keeps a log of what it saw, in order: evidence, transactions
// and the end of each block. It misbehaves on request: a transaction
// "fail-evidence" or "panic-evidence" makes its next evidence handler
// fail or panic, and "panic-end" makes its next EndBlock panic, each
// after writing, to show that the writes are dropped.
type judgeApp struct{}

func (judgeApp) Name() string                                                        { return "judge" }
func (judgeApp) Check(string, []byte) error                                          { return nil }
func (judgeApp) Query(*chain.QueryContext, []string, map[string]string) (any, error) { return nil, nil }

func (judgeApp) Deliver(ctx *chain.Context, action string, _ []byte) error {
	logLine(ctx, "tx "+action)
	if action != "log" {
		ctx.Store().Set([]byte("mode"), []byte(action))
	}
	return nil
}

func (judgeApp) HandleEvidence(ctx *chain.Context, ev chain.Evidence) error {
	logLine(ctx, "evidence "+ev.Kind())
	ctx.Emit("judged", chain.A("offender", ev.Offender()))
	switch string(ctx.Store().Get([]byte("mode"))) {
	case "fail-evidence":
		return errors.New("the judge is out")
	case "panic-evidence":
		panic("the judge fell over")
	}
	return nil
}

func (judgeApp) EndBlock(ctx *chain.Context) error {
	logLine(ctx, "end")
	if mode := ctx.Store().Get([]byte("mode")); string(mode) == "panic-end" {
		var books []int
		_ = books[len(mode)] // index out of range: a runtime panic, as a real bug would be
	}
	return nil
}

func logLine(ctx *chain.Context, line string) {
	st := ctx.Store()
	st.Set([]byte("log"), append(append(st.Get([]byte("log")), line...), ';'))
}

func judgeLog(t *testing.T, c *chaintest.Chain) string {
	t.Helper()
	v, err := c.State().Get(chain.AppKey("judge", []byte("log")))
	if err != nil {
		t.Fatal(err)
	}
	return string(v)
}

func newJudgeChain(t *testing.T) *chaintest.Chain {
	t.Helper()
	c, err := chaintest.New([]chain.App{judgeApp{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEvidenceReachesAppsBeforeTheTransactions(t *testing.T) {
	c := newJudgeChain(t)
	for range 6 {
		if _, err := c.Block(); err != nil {
			t.Fatal(err)
		}
	}
	tx, _ := c.Tx(chaintest.Key("alice"), "judge", "log", map[string]any{})
	if _, err := c.BlockWithEvidence([]chain.Evidence{doubleVote(), doubleProposal()}, tx); err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat("end;", 6) + "evidence duplicate_vote;evidence conflicting_proposal;tx log;end;"
	if got := judgeLog(t, c); got != want {
		t.Fatalf("log %q\nwant %q", got, want)
	}
	if len(c.BlockEvents) != 2 || c.BlockEvents[0].Type != "judged" || c.BlockEvents[0].App != "judge" {
		t.Fatalf("block events %+v", c.BlockEvents)
	}
}

func TestExecuteRefusesEvidenceThatBreaksAStatelessRule(t *testing.T) {
	c := newJudgeChain(t)
	c.Block()
	// D's offence is at height 5; the chain is about to build block 2.
	_, err := c.BlockWithEvidence([]chain.Evidence{doubleVote()})
	if !errors.Is(err, chain.ErrInvalidBlock) || !errors.Is(err, chain.ErrInvalidEvidence) {
		t.Fatalf("evidence from the future: %v", err)
	}
	if c.Height != 1 {
		t.Fatalf("height %d after a refused block", c.Height)
	}
}

func TestAFailingEvidenceHandlerIsRecordedNotFatal(t *testing.T) {
	for _, mode := range []string{"fail-evidence", "panic-evidence"} {
		t.Run(mode, func(t *testing.T) {
			c := newJudgeChain(t)
			for range 6 {
				c.Block()
			}
			if _, err := c.Do(chaintest.Key("alice"), "judge", mode, map[string]any{}); err != nil {
				t.Fatal(err)
			}
			before := judgeLog(t, c)
			if _, err := c.BlockWithEvidence([]chain.Evidence{doubleVote()}); err != nil {
				t.Fatalf("the block failed with its handler: %v", err)
			}
			if got := judgeLog(t, c); got != before+"end;" {
				t.Fatalf("the failed handler's writes stayed: %q", strings.TrimPrefix(got, before))
			}
			ev := c.BlockEvents
			if len(ev) != 1 || ev[0].Type != "evidence_failed" || ev[0].App != "judge" {
				t.Fatalf("block events %+v", ev)
			}
			if a := ev[0].Attrs; len(a) != 2 || a[0].Key != "evidence" || a[0].Value != doubleVote().Hash().String() || a[1].Key != "error" {
				t.Fatalf("attrs %+v", a)
			}
		})
	}
}

func TestAPanickingEndBlockIsRecordedAndTheChainGoesOn(t *testing.T) {
	run := func() (*chaintest.Chain, chain.Hash) {
		c := newJudgeChain(t)
		if _, err := c.Do(chaintest.Key("alice"), "judge", "panic-end", map[string]any{}); err != nil {
			t.Fatal(err)
		}
		return c, c.Root
	}
	c, root := run()
	// The block of the transaction applied without its EndBlock's writes.
	if got := judgeLog(t, c); got != "tx panic-end;" {
		t.Fatalf("log %q: the panicking EndBlock's write stayed", got)
	}
	ev := c.BlockEvents
	if len(ev) != 1 || ev[0].Type != "end_block_failed" || ev[0].App != "judge" || len(ev[0].Attrs) != 1 {
		t.Fatalf("block events %+v", ev)
	}
	if msg := ev[0].Attrs[0].Value; msg != "panic: runtime error: index out of range [9] with length 0" {
		t.Fatalf("error text %q", msg)
	}
	// Every node reaches the same state: the outcome is deterministic.
	if _, again := run(); again != root {
		t.Fatal("two runs of the same block reach different state roots")
	}
	// And the chain goes on; the app's bug repeats, recorded each time.
	if _, err := c.Block(); err != nil {
		t.Fatal(err)
	}
	if len(c.BlockEvents) != 1 || c.BlockEvents[0].Type != "end_block_failed" {
		t.Fatalf("next block events %+v", c.BlockEvents)
	}
}

// governorApp hands the executor a new validator set after each block
// whose transaction asked for one: "overflow" asks for a set whose powers
// sum past the uint64 limit, "fail" for an error and "panic" for a panic,
// each after a write and an event, to show that both are dropped.
type governorApp struct{}

func (governorApp) Name() string               { return "gov" }
func (governorApp) Check(string, []byte) error { return nil }
func (governorApp) Query(*chain.QueryContext, []string, map[string]string) (any, error) {
	return nil, nil
}

func (governorApp) Deliver(ctx *chain.Context, action string, _ []byte) error {
	ctx.Store().Set([]byte("mode"), []byte(action))
	return nil
}

func (governorApp) NextValidators(ctx *chain.Context) (*chain.ValidatorSet, error) {
	st := ctx.Store()
	mode := string(st.Get([]byte("mode")))
	if mode == "" {
		return nil, nil
	}
	st.Delete([]byte("mode"))
	st.Set([]byte("tried"), []byte(mode))
	ctx.Emit("tried", chain.A("mode", mode))
	switch mode {
	case "fail":
		return nil, errors.New("the ballot box is lost")
	case "panic":
		var seats map[string]*chain.Validator
		return &chain.ValidatorSet{Validators: []chain.Validator{*seats["chair"]}}, nil
	}
	heavy := func(name string, power uint64) chain.Validator {
		pub := chaintest.Key(name).PublicKey()
		return chain.Validator{Address: chain.AddressOf(pub), PubKey: pub.Bytes(), Power: power}
	}
	return &chain.ValidatorSet{Validators: []chain.Validator{heavy("A", math.MaxUint64), heavy("B", 1)}}, nil
}

func TestAGovernorThatFailsIsRecordedAndTheSetStays(t *testing.T) {
	for _, mode := range []string{"overflow", "fail", "panic"} {
		t.Run(mode, func(t *testing.T) {
			c, err := chaintest.New([]chain.App{governorApp{}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			before, err := c.Validators()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Do(chaintest.Key("alice"), "gov", mode, map[string]any{}); err != nil {
				t.Fatalf("the block failed with its governor: %v", err)
			}
			ev := c.BlockEvents
			if len(ev) != 1 || ev[0].Type != "next_validators_failed" || ev[0].App != "gov" ||
				len(ev[0].Attrs) != 1 || ev[0].Attrs[0].Key != "error" {
				t.Fatalf("block events %+v", ev)
			}
			want := map[string]string{"overflow": "overflow", "fail": "ballot box", "panic": "panic: runtime error"}[mode]
			if msg := ev[0].Attrs[0].Value; !strings.Contains(msg, want) {
				t.Fatalf("error text %q, want it to say %q", msg, want)
			}
			after, err := c.Validators()
			if err != nil || after.Hash() != before.Hash() {
				t.Fatalf("the set changed to %+v (%v)", after, err)
			}
			if v, _ := c.State().Get(chain.AppKey("gov", []byte("tried"))); v != nil {
				t.Fatalf("the failed governor's write stayed: %q", v)
			}
			// The chain goes on under the set it had. The dropped writes
			// include the one that cleared the request, so the governor
			// fails again, recorded again.
			if _, err := c.Block(); err != nil {
				t.Fatalf("next block: %v", err)
			}
			if ev := c.BlockEvents; len(ev) != 1 || ev[0].Type != "next_validators_failed" {
				t.Fatalf("next block events %+v", ev)
			}
		})
	}
}
