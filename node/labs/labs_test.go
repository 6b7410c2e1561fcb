package labs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeChain answers the API paths the checks read from fixed answers:
// a chain built by a test, no node.
type fakeChain struct {
	chainID string
	vals    []validatorView
	blocks  map[uint64]*blockView
	paths   map[string]any // any other path: its answer
	fail    error          // every request fails with it
}

func newFakeChain() *fakeChain {
	c := &fakeChain{chainID: "citychain-test", blocks: map[uint64]*blockView{}, paths: map[string]any{}}
	for _, a := range abcd {
		c.vals = append(c.vals, validatorView{Address: a, Power: 1})
	}
	return c
}

// addFacts turns a network's facts into blocks.
func (c *fakeChain) addFacts(fs []*fact) {
	for _, f := range fs {
		b := &blockView{Hash: fmt.Sprintf("%064x", f.Height), Height: f.Height, Time: f.Time,
			PrevHash: fmt.Sprintf("%064x", f.Height-1), Proposer: f.Proposer, ValidatorsHash: f.ValidatorsHash,
			Txs: f.Txs, Commit: &commitView{Round: f.Round, BlockHash: fmt.Sprintf("%064x", f.Height)}}
		for _, s := range f.Signers {
			b.Commit.Signatures = append(b.Commit.Signatures, struct {
				Validator string `json:"validator"`
			}{s})
		}
		if len(f.LastSigners) > 0 {
			b.LastCommit = &commitView{}
			for _, s := range f.LastSigners {
				b.LastCommit.Signatures = append(b.LastCommit.Signatures, struct {
					Validator string `json:"validator"`
				}{s})
			}
		}
		c.blocks[f.Height] = b
	}
}

func (c *fakeChain) height() uint64 {
	var top uint64
	for h := range c.blocks {
		top = max(top, h)
	}
	return top
}

func (c *fakeChain) Get(_ context.Context, path string, out any) error {
	if c.fail != nil {
		return c.fail
	}
	var v any
	switch {
	case path == "/v1/status":
		v = statusView{ChainID: c.chainID, Height: c.height(), Validators: c.vals}
	case path == "/v1/validators":
		v = validatorsView{Validators: c.vals, Quorum: uint64(2*len(c.vals)/3 + 1)}
	case strings.HasPrefix(path, "/v1/blocks/"):
		h, err := strconv.ParseUint(strings.TrimPrefix(path, "/v1/blocks/"), 10, 64)
		if err != nil || c.blocks[h] == nil {
			return fmt.Errorf("%w: no block %s", ErrNotFound, path)
		}
		v = c.blocks[h]
	default:
		a, ok := c.paths[path]
		if !ok {
			return fmt.Errorf("%w: no route %s", ErrNotFound, path)
		}
		v = a
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// check runs lab n against c and returns the states of its steps, and
// every text of the report for checkText.
func check(t *testing.T, n int, c Chain, st *Student) (*Report, []State) {
	t.Helper()
	l, err := Find(n)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Check(context.Background(), &Env{Chain: c, Dev: []string{"dev0addr"}, Student: st})
	if err != nil {
		t.Fatalf("lab %d: %v", n, err)
	}
	checkText(t, r)
	var states []State
	for _, s := range r.Steps {
		states = append(states, s.State)
	}
	return r, states
}

// checkText requires every message in both languages, with its
// arguments in place: Chinese messages are written, not left out.
func checkText(t *testing.T, r *Report) {
	t.Helper()
	texts := []Text{r.Title}
	for _, s := range r.Steps {
		texts = append(texts, s.Name, s.Detail)
		if s.Hint != nil {
			texts = append(texts, *s.Hint)
		}
	}
	for _, x := range texts {
		if x.En == "" || x.Zh == "" {
			t.Errorf("lab %d: a text lacks a language: %+v", r.Number, x)
		}
		if strings.Contains(x.En, "%!") || strings.Contains(x.Zh, "%!") {
			t.Errorf("lab %d: a text with misplaced arguments: %+v", r.Number, x)
		}
	}
}

func want(t *testing.T, r *Report, got []State, states ...State) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(states) {
		for _, s := range r.Steps {
			t.Logf("  %s %s: %s", s.State, s.Name.En, s.Detail.En)
		}
		t.Fatalf("lab %d: steps %v, want %v", r.Number, got, states)
	}
	if done := !strings.Contains(fmt.Sprint(states), "todo") && !strings.Contains(fmt.Sprint(states), "local"); r.Done != done {
		t.Errorf("lab %d: done = %v with steps %v", r.Number, r.Done, states)
	}
}

const (
	done_  = StateDone
	todo_  = StateTodo
	local_ = StateLocal
)

func TestLab1(t *testing.T) {
	c := newFakeChain()
	n := newNetwork()
	n.blocks(5, time.Second, abcd...)
	c.addFacts(n.facts)
	c.paths["/v1/accounts/alice1"] = accountView{}

	keys := []Key{{Name: "dev0", Address: "dev0addr"}, {Name: "validator", Address: "A"}}
	r, s := check(t, 1, c, &Student{Keys: keys})
	want(t, r, s, todo_, todo_, todo_)

	keys = append(keys, Key{Name: "alice", Address: "alice1"})
	r, s = check(t, 1, c, &Student{Keys: keys})
	want(t, r, s, done_, todo_, todo_)

	c.paths["/v1/accounts/alice1"] = accountView{Balance: 10}
	r, s = check(t, 1, c, &Student{Keys: keys})
	want(t, r, s, done_, done_, todo_)

	c.paths["/v1/accounts/alice1"] = accountView{Balance: 7, Nonce: 1}
	r, s = check(t, 1, c, &Student{Keys: keys})
	want(t, r, s, done_, done_, done_)

	// The node alone: a transfer from an account that is not a
	// development account, in the recent blocks.
	r, s = check(t, 1, c, nil)
	want(t, r, s, local_, local_, todo_)
	n.block(time.Second, abcd...).Txs = []txSummary{{Hash: "t1", App: "bank", Action: "send", Sender: "dev0addr"}}
	c.addFacts(n.facts)
	r, s = check(t, 1, c, nil)
	want(t, r, s, local_, local_, todo_)
	n.block(time.Second, abcd...).Txs = []txSummary{{Hash: "t2", App: "bank", Action: "send", Sender: "alice1"}}
	c.addFacts(n.facts)
	r, s = check(t, 1, c, nil)
	want(t, r, s, local_, local_, done_)
}

func TestLab2(t *testing.T) {
	c := newFakeChain()
	n := newNetwork()
	n.blocks(5, time.Second, abcd...)
	c.addFacts(n.facts)
	hash := func(h uint64) string { return c.blocks[h].Hash }
	good := fmt.Sprintf("block 3 hash %s (matches)\nblock 2 hash %s\nlink 2 -> 3 ok\nprecommit A ok\nprecommit B ok\nprecommit C ok\n", hash(3), hash(2))
	for _, tc := range []struct {
		name   string
		answer string
		states []State
	}{
		{"no answer", "", []State{todo_, todo_, todo_, todo_}},
		{"not the program's output", "hello", []State{todo_, todo_, todo_, todo_}},
		{"all right", good, []State{done_, done_, done_, done_}},
		{"a wrong hash", strings.Replace(good, hash(3), strings.Repeat("ab", 32), 1), []State{done_, todo_, done_, done_}},
		{"a wrong parent", strings.Replace(good, hash(2), strings.Repeat("cd", 32), 1), []State{done_, done_, todo_, done_}},
		{"no link line", strings.Replace(good, "link 2 -> 3 ok", "", 1), []State{done_, done_, todo_, done_}},
		{"too few signatures", strings.Replace(good, "precommit B ok", "", 1), []State{done_, done_, done_, todo_}},
		{"a signer who did not sign", good + "precommit D ok\n", []State{done_, done_, done_, todo_}},
		{"block 1 has no parent to link", fmt.Sprintf("block 1 hash %s\nprecommit A ok\nprecommit B ok\nprecommit C ok\n", hash(1)), []State{done_, done_, todo_, done_}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, s := check(t, 2, c, &Student{Answer: tc.answer})
			want(t, r, s, tc.states...)
		})
	}
	r, s := check(t, 2, c, nil)
	want(t, r, s, local_, local_, local_, local_)
}

func TestLab3(t *testing.T) {
	c := newFakeChain()
	n := newNetwork()
	n.blocks(10, 5*time.Second, abcd...)
	c.addFacts(n.facts)
	r, s := check(t, 3, c, nil)
	want(t, r, s, done_, todo_, todo_, done_)

	n.blocks(6, 2*time.Second, "A", "B", "C")
	n.block(20*time.Second, "A", "B", "C")
	n.blocks(2, 2*time.Second, "A", "B", "C")
	c.addFacts(n.facts)
	r, s = check(t, 3, c, nil)
	want(t, r, s, done_, done_, done_, todo_)

	n.blocks(6, time.Second, abcd...)
	c.addFacts(n.facts)
	r, s = check(t, 3, c, nil)
	want(t, r, s, done_, done_, done_, done_)

	one := newFakeChain()
	one.vals = one.vals[:1]
	one.addFacts(newNetwork().facts)
	r, s = check(t, 3, one, nil)
	want(t, r, s, todo_, todo_, todo_, todo_)
}

func TestLab4(t *testing.T) {
	c := newFakeChain()
	n := newNetwork()
	n.blocks(3, time.Second, abcd...)
	c.addFacts(n.facts)
	path := func(epc, what string) string { return traceEPCPath(epc, what) }
	st := &Student{Answer: "urn:epc:id:sgln:9523333.00002.0"}
	r, s := check(t, 4, c, st)
	want(t, r, s, todo_, todo_, todo_, todo_)

	c.paths[path(Lab4Batch, "events")] = map[string]any{"events": []any{map[string]any{"height": 2}}}
	c.paths[path(Lab4Batch, "provenance")] = map[string]any{"downstream": []any{
		map[string]any{"epc": "P1"}, map[string]any{"epc": "P2", "links": []any{map[string]any{"epc": "P3"}}}}}
	r, s = check(t, 4, c, st)
	want(t, r, s, done_, done_, todo_, todo_)

	c.paths[path("P1", "state")] = map[string]any{"state": map[string]any{"container": "CASE1"}}
	c.paths[path("P2", "state")] = map[string]any{"state": map[string]any{"biz_location": ""}}
	c.paths[path("CASE1", "state")] = map[string]any{"state": map[string]any{"container": "PALLET"}}
	c.paths[path("PALLET", "state")] = map[string]any{"state": map[string]any{"biz_location": "https://id.gs1.org/414/9523333000024"}}
	r, s = check(t, 4, c, st)
	want(t, r, s, done_, done_, done_, done_)
	if strings.Contains(r.Steps[2].Detail.En, "9523333") || strings.Contains(r.Steps[2].Detail.Zh, "9523333") {
		t.Errorf("the third step gives the answer away: %+v", r.Steps[2].Detail)
	}
	for _, wrong := range []string{"urn:epc:id:sgln:9523333.00001.0", "the shop", "9523333000017"} {
		r, s = check(t, 4, c, &Student{Answer: wrong})
		want(t, r, s, done_, done_, done_, todo_)
	}
	for _, right := range []string{"9523333000024", "https://example.com/414/9523333000024", " urn:epc:id:sgln:9523333.00002.dock "} {
		r, s = check(t, 4, c, &Student{Answer: right})
		want(t, r, s, done_, done_, done_, done_)
	}
	r, s = check(t, 4, c, nil)
	want(t, r, s, done_, done_, done_, local_)
}

func TestLab5(t *testing.T) {
	c := newFakeChain()
	n := newNetwork()
	n.blocks(3, time.Second, abcd...)
	c.addFacts(n.facts)
	r, s := check(t, 5, c, nil)
	want(t, r, s, todo_, local_, local_)

	n.block(time.Second, abcd...).Txs = []txSummary{{Hash: "reg1", App: "copyright", Action: "register", Sender: "B"}}
	c.addFacts(n.facts)
	c.paths["/v1/txs/reg1"] = txView{Status: "failed"}
	r, s = check(t, 5, c, nil)
	want(t, r, s, todo_, local_, local_)
	c.paths["/v1/txs/reg1"] = txView{Status: "ok", Height: 4}
	r, s = check(t, 5, c, nil)
	want(t, r, s, done_, local_, local_)

	verified := func(chainID string, h uint64, hash string) func(context.Context, string) ([]byte, error) {
		return func(context.Context, string) ([]byte, error) {
			return json.Marshal(map[string]any{"chain_id": chainID, "block_height": h, "block_hash": hash,
				"work": map[string]any{"id": "ISCC:W1", "sha256": "aa", "title": "Morning tram"}})
		}
	}
	cert := t.TempDir() + "/cert.json"
	if err := writeFile(cert, "{}"); err != nil {
		t.Fatal(err)
	}
	c.paths["/v1/apps/copyright/work/"+url.PathEscape("ISCC:W1")] = map[string]any{"work": map[string]any{"sha256": "aa", "height": 4}}
	for _, tc := range []struct {
		name   string
		st     *Student
		states []State
	}{
		{"no certificate", &Student{}, []State{done_, todo_, todo_}},
		{"a missing file", &Student{Cert: cert + ".missing", Verify: verified(c.chainID, 4, c.blocks[4].Hash)}, []State{done_, todo_, todo_}},
		{"refused offline", &Student{Cert: cert, Verify: func(context.Context, string) ([]byte, error) {
			return nil, errors.New("certificate does not verify: the header hash")
		}}, []State{done_, todo_, todo_}},
		{"this chain's", &Student{Cert: cert, Verify: verified(c.chainID, 4, c.blocks[4].Hash)}, []State{done_, done_, done_}},
		{"another chain's", &Student{Cert: cert, Verify: verified("other", 4, c.blocks[4].Hash)}, []State{done_, done_, todo_}},
		{"a chain of the same name", &Student{Cert: cert, Verify: verified(c.chainID, 4, strings.Repeat("0", 64))}, []State{done_, done_, todo_}},
		{"a block this chain lacks", &Student{Cert: cert, Verify: verified(c.chainID, 99, c.blocks[4].Hash)}, []State{done_, done_, todo_}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, s := check(t, 5, c, tc.st)
			want(t, r, s, tc.states...)
		})
	}
	// A certificate of a work this chain does not hold.
	delete(c.paths, "/v1/apps/copyright/work/"+url.PathEscape("ISCC:W1"))
	r, s = check(t, 5, c, &Student{Cert: cert, Verify: verified(c.chainID, 4, c.blocks[4].Hash)})
	want(t, r, s, todo_, done_, done_)
}

func TestLab6(t *testing.T) {
	c := newFakeChain()
	n := newNetwork()
	n.blocks(8, time.Second, abcd...)
	c.addFacts(n.facts)
	c.paths["/v1/apps/poa/proposals"] = []poaProposal{}
	r, s := check(t, 6, c, nil)
	want(t, r, s, todo_, todo_, todo_, todo_)

	c.paths["/v1/apps/poa/proposals"] = []poaProposal{{ID: "p1", Op: "add", Address: "E", Votes: []string{"A", "B"}}}
	r, s = check(t, 6, c, nil)
	want(t, r, s, done_, todo_, todo_, todo_)

	c.paths["/v1/apps/poa/proposals"] = []poaProposal{{ID: "p1", Op: "add", Address: "E", Votes: []string{"A", "B", "C"}, DecidedAt: 8, Effective: 10}}
	r, s = check(t, 6, c, nil)
	want(t, r, s, done_, done_, todo_, todo_)

	c.vals = append(c.vals, validatorView{Address: "E", Power: 1})
	n.blocks(4, time.Second, abcd...) // E is in the set, its node not yet running
	c.addFacts(n.facts)
	r, s = check(t, 6, c, nil)
	want(t, r, s, done_, done_, done_, todo_)

	n.block(time.Second, "E", "A", "B", "C")
	c.addFacts(n.facts)
	r, s = check(t, 6, c, nil)
	want(t, r, s, done_, done_, done_, done_)
}

func TestLab7(t *testing.T) {
	c := newFakeChain()
	n := newNetwork()
	n.blocks(5, time.Second, abcd...)
	c.addFacts(n.facts)
	// A node that cannot list its modules, with only built-in traffic.
	n.block(time.Second, abcd...).Txs = []txSummary{{Hash: "t1", App: "bank", Action: "send", Sender: "B"}}
	c.addFacts(n.facts)
	r, s := check(t, 7, c, nil)
	want(t, r, s, todo_, todo_)

	// A node that lists them: only the built-in six.
	var apps []map[string]string
	for _, m := range BuiltinModules {
		apps = append(apps, map[string]string{"name": m})
	}
	c.paths["/v1/apps"] = map[string]any{"apps": apps}
	r, s = check(t, 7, c, nil)
	want(t, r, s, todo_, todo_)

	// Now with a module of the student's, not yet used.
	c.paths["/v1/apps"] = map[string]any{"apps": append(apps, map[string]string{"name": "parking"})}
	r, s = check(t, 7, c, nil)
	want(t, r, s, done_, todo_)
	r, s = check(t, 7, c, &Student{Module: "board"})
	want(t, r, s, todo_, todo_)
	r, s = check(t, 7, c, &Student{Module: "bank"})
	want(t, r, s, todo_, todo_)

	n.block(time.Second, abcd...).Txs = []txSummary{{Hash: "t2", App: "parking", Action: "set", Sender: "B"}}
	c.addFacts(n.facts)
	r, s = check(t, 7, c, &Student{Module: "parking"})
	want(t, r, s, done_, done_)

	// Without GET /v1/apps, the committed transaction is the proof.
	delete(c.paths, "/v1/apps")
	r, s = check(t, 7, c, nil)
	want(t, r, s, done_, done_)
}

func TestUnreachableNodeFailsTheCheck(t *testing.T) {
	c := newFakeChain()
	c.fail = errors.New("cannot reach node at http://127.0.0.1:1")
	for _, l := range All() {
		if _, err := l.Check(context.Background(), &Env{Chain: c}); err == nil {
			t.Errorf("lab %d: no error with the node unreachable", l.Number)
		}
	}
}

func TestFind(t *testing.T) {
	for n, l := range All() {
		got, err := Find(n + 1)
		if err != nil || got.Number != n+1 || l.Number != n+1 {
			t.Errorf("Find(%d) = %v, %v; the labs must be numbered in order", n+1, got, err)
		}
		if len(l.Steps) == 0 || l.Slug == "" {
			t.Errorf("lab %d has no steps or no document", l.Number)
		}
	}
	for _, n := range []int{0, -1, len(All()) + 1} {
		if _, err := Find(n); !errors.Is(err, ErrNoLab) {
			t.Errorf("Find(%d) = %v, want ErrNoLab", n, err)
		}
	}
}

// A block of a load test keeps only the few transactions the checks look
// for, so that the history of 2,000 such blocks stays small.
func TestHistoryKeepsOnlyNotableTransactions(t *testing.T) {
	var txs []txSummary
	for i := range 2000 {
		txs = append(txs, txSummary{Hash: fmt.Sprint(i), App: "bank", Action: "send", Sender: fmt.Sprintf("acct%d", i)})
	}
	for i := range 20 {
		txs = append(txs, txSummary{Hash: fmt.Sprint("r", i), App: "copyright", Action: "register", Sender: "B"},
			txSummary{Hash: fmt.Sprint("p", i), App: "parking", Action: "set", Sender: "B"},
			txSummary{Hash: fmt.Sprint("t", i), App: "trace", Action: "capture", Sender: "B"})
	}
	got := notable(txs, map[string]bool{"acct0": true})
	var sends, regs, parking int
	for _, x := range got {
		switch x.App {
		case "bank":
			sends++
			if x.Sender != "acct1" {
				t.Errorf("kept a transfer of %s, want the first one not from a development account (acct1)", x.Sender)
			}
		case "copyright":
			regs++
		case "parking":
			parking++
		default:
			t.Errorf("kept a transaction no check looks for: %+v", x)
		}
	}
	if sends != 1 || regs != keptRegistrations || parking != 1 {
		t.Errorf("kept %d transfers, %d registrations, %d parking transactions; want 1, %d, 1", sends, regs, parking, keptRegistrations)
	}
}
