package chain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// meterApp does known amounts of work. Its genesis state {"keys": n}
// stores n keys k/0000... with the value "v" (7 bytes each, key and
// value). Its EndBlock walks them all, more than the small limits of the
// tests allow a transaction. It records what its last transaction did.
type meterApp struct {
	keeper  *keeperApp
	visited int // keys the last scan handed to its fn
	gets    int // Gets that returned in the last loop
}

func (*meterApp) Name() string               { return "meter" }
func (*meterApp) Check(string, []byte) error { return nil }
func (*meterApp) Query(*chain.QueryContext, []string, map[string]string) (any, error) {
	return nil, nil
}

func (m *meterApp) InitGenesis(ctx *chain.Context, raw json.RawMessage) error {
	var gs struct{ Keys int }
	if err := json.Unmarshal(raw, &gs); err != nil {
		return err
	}
	for i := range gs.Keys {
		ctx.Store().Set(fmt.Appendf(nil, "k/%04d", i), []byte("v"))
	}
	return nil
}

func (m *meterApp) Deliver(ctx *chain.Context, action string, _ []byte) error {
	st := ctx.Store()
	scan := func() error {
		m.visited = 0
		return st.Iterate([]byte("k/"), func(k, v []byte) error { m.visited++; return nil })
	}
	switch action {
	case "counts":
		st.Get([]byte("absent"))
		st.Set([]byte("a"), []byte("hello"))
		st.Get([]byte("a"))
		st.Has([]byte("a"))
		st.Delete([]byte("a"))
		if err := scan(); err != nil {
			return err
		}
		m.keeper.touch(ctx)
		w := ctx.Work()
		ctx.Emit("work", chain.A("units", w.Units()), chain.A("counts", w.String()))
	case "scan":
		st.Set([]byte("marker"), []byte("x"))
		return scan()
	case "scan-ignore":
		_ = scan() // an app that drops the error still fails
	case "recover":
		func() {
			defer func() { _ = recover() }() // nor does swallowing the panic help
			for {
				st.Get([]byte("k/0000"))
			}
		}()
	case "loop":
		m.gets = 0
		for range 10_000_000 {
			st.Get([]byte("k/0000"))
			m.gets++
		}
	case "light":
		st.Set([]byte("light"), []byte("1"))
	}
	return nil
}

func (m *meterApp) EndBlock(ctx *chain.Context) error {
	n := 0
	if err := ctx.Store().Iterate([]byte("k/"), func(_, _ []byte) error { n++; return nil }); err != nil {
		return err
	}
	ctx.Emit("walked", chain.A("keys", uint64(n)), chain.A("units", ctx.Work().Units()))
	return nil
}

// keeperApp offers other apps a call that writes to its own keys, through
// the store key the executor hands it.
type keeperApp struct{ key *chain.StoreKey }

func (*keeperApp) Name() string                                 { return "keeper" }
func (*keeperApp) Check(string, []byte) error                   { return nil }
func (*keeperApp) Deliver(*chain.Context, string, []byte) error { return nil }
func (*keeperApp) Query(*chain.QueryContext, []string, map[string]string) (any, error) {
	return nil, nil
}
func (k *keeperApp) UseKey(key *chain.StoreKey) { k.key = key }
func (k *keeperApp) touch(ctx *chain.Context)   { ctx.With(k.key).Store().Set([]byte("x"), []byte("1")) }

// newMeterChain starts a chain with the meter app over keys keys, and a
// work limit when limit is not 0.
func newMeterChain(t *testing.T, keys int, limit uint64) (*chaintest.Chain, *meterApp) {
	t.Helper()
	keeper := &keeperApp{}
	m := &meterApp{keeper: keeper}
	apps := []chain.App{m, keeper}
	state := map[string]any{"meter": map[string]int{"keys": keys}}
	var c *chaintest.Chain
	var err error
	if limit == 0 {
		c, err = chaintest.New(apps, state)
	} else {
		c, err = chaintest.NewWithParams(apps, state, chain.ExecParams{MaxTxWork: limit})
	}
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

func TestWorkCountsEveryStoreCall(t *testing.T) {
	c, _ := newMeterChain(t, 3, 0)
	r, err := c.Do(chaintest.Key("alice"), "meter", "counts", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	// Get absent 100; Set a=hello 300+6*10; Get a 100+5; Has a 100+5;
	// Delete a 300+1*10; Iterate 100, 3 keys 3*(20+7); the keeper's Set
	// x=1 through Context.With 300+2*10.
	want := []chain.Attr{{Key: "units", Value: "1481"},
		{Key: "counts", Value: "4 reads, 3 writes, 3 keys visited, 31 bytes read, 9 bytes written"}}
	if len(r.Events) != 1 || !reflect.DeepEqual(r.Events[0].Attrs, want) {
		t.Fatalf("events %+v, want one with %+v", r.Events, want)
	}
}

func TestWorkUnitsSaturate(t *testing.T) {
	w := chain.Work{Writes: 1 << 62}
	if w.Units() != ^uint64(0) {
		t.Fatalf("units of 2^62 writes = %d, want the largest uint64", w.Units())
	}
	w = chain.Work{Reads: 2, Writes: 1, Steps: 3, BytesRead: 4, BytesWritten: 5}
	if got := w.Units(); got != 2*chain.WorkPerRead+chain.WorkPerWrite+3*chain.WorkPerStep+4+5*chain.WorkPerByteWritten {
		t.Fatalf("units = %d", got)
	}
}

// scanFailure is the receipt error of "scan" under a limit of 1000: the
// marker's write (300+7*10) and the start of the iteration (100) leave
// room for 19 keys at 27 each; the 20th passes the limit.
const scanFailure = "work limit exceeded: the transaction used 1010 work units, more than the limit of 1000 " +
	"(1 reads, 1 writes, 20 keys visited, 140 bytes read, 7 bytes written)"

func TestWorkLimitFailsTheTransactionAndTheBlockGoesOn(t *testing.T) {
	a, appA := newMeterChain(t, 1000, 1000)
	b, _ := newMeterChain(t, 1000, 1000)
	scan, _ := a.Tx(chaintest.Key("alice"), "meter", "scan", map[string]any{})
	light, _ := a.Tx(chaintest.Key("alice"), "meter", "light", map[string]any{})
	ra, err := a.Block(scan, light)
	if err != nil {
		t.Fatal(err)
	}
	if ra[0].Status != chain.StatusFailed || ra[0].Error != scanFailure || len(ra[0].Events) != 0 {
		t.Fatalf("scan receipt %+v, want failed with %q", ra[0], scanFailure)
	}
	if appA.visited != 19 {
		t.Fatalf("the scan's fn saw %d of 1000 keys, want 19: the iteration must stop at the limit", appA.visited)
	}
	if ra[1].Status != chain.StatusOK {
		t.Fatalf("the light transaction after it: %+v", ra[1])
	}
	// The key was never written: it reads as nil, with no error.
	if v, err := a.State().Get(chain.AppKey("meter", []byte("marker"))); err != nil || v != nil {
		t.Fatalf("the failed scan's write survived: %q, %v", v, err)
	}
	if n, err := chain.Nonce(a.State(), chaintest.Addr("alice")); err != nil || n != 2 {
		t.Fatalf("alice's next nonce = %d, %v; want 2 (the failed transaction uses its nonce)", n, err)
	}
	rb, err := b.Block(scan, light)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ra, rb) || a.Root != b.Root {
		t.Fatalf("two executors disagree:\n%+v %s\n%+v %s", ra, a.Root, rb, b.Root)
	}
}

func TestWorkLimitStopsAppsThatIgnoreIt(t *testing.T) {
	for _, tc := range []struct {
		action        string
		visited, gets int // what the app got done before the limit
	}{
		{"scan-ignore", 33, 0}, // 100 + 33*27 = 991
		{"recover", 0, 0},
		{"loop", 0, 9}, // 9*101 = 909
	} {
		t.Run(tc.action, func(t *testing.T) {
			c, m := newMeterChain(t, 1000, 1000)
			r, err := c.Do(chaintest.Key("alice"), "meter", tc.action, map[string]any{})
			if err == nil || !strings.HasPrefix(r.Error, chain.ErrWorkLimit.Error()+": ") ||
				!strings.Contains(r.Error, "more than the limit of 1000 ") {
				t.Fatalf("receipt %+v, err %v: want the work-limit error", r, err)
			}
			if m.visited != tc.visited || m.gets != tc.gets {
				t.Fatalf("the app did %d keys and %d gets, want %d and %d", m.visited, m.gets, tc.visited, tc.gets)
			}
		})
	}
}

func TestDefaultWorkLimitAppliesWithoutParams(t *testing.T) {
	c, m := newMeterChain(t, 1, 0)
	r, err := c.Do(chaintest.Key("alice"), "meter", "loop", map[string]any{})
	// Each Get of k/0000 costs 100+1: 99,009 fit in 10,000,000.
	want := "work limit exceeded: the transaction used 10000010 work units, more than the limit of 10000000 " +
		"(99010 reads, 0 writes, 0 keys visited, 99010 bytes read, 0 bytes written)"
	if err == nil || r.Error != want || m.gets != 99009 {
		t.Fatalf("receipt error %q after %d gets, want %q after 99009", r.Error, m.gets, want)
	}
}

func TestCheckTxAppliesTheWorkLimit(t *testing.T) {
	c, _ := newMeterChain(t, 1000, 1000)
	info := chain.BlockInfo{ChainID: chaintest.ChainID, Height: c.Height + 1, Time: c.Time}
	for _, tc := range []struct {
		sender, action string
		want           error
	}{{"alice", "scan", chain.ErrWorkLimit}, {"bob", "light", nil}} {
		raw, _ := c.Tx(chaintest.Key(tc.sender), "meter", tc.action, map[string]any{})
		tx, err := chain.DecodeTx(raw)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Exec.CheckTx(c.State(), info, tx, 0)
		if !errors.Is(err, tc.want) || (tc.want != nil && !errors.Is(err, chain.ErrRejected)) {
			t.Fatalf("CheckTx %s: %v, want %v", tc.action, err, tc.want)
		}
	}
}

// TestBlockHooksAreCountedNotLimited: EndBlock walks 1000 keys, far
// more work than the transaction limit of 1000, and still applies.
func TestBlockHooksAreCountedNotLimited(t *testing.T) {
	c, _ := newMeterChain(t, 1000, 1000)
	if _, err := c.Block(); err != nil {
		t.Fatal(err)
	}
	want := []chain.Event{{App: "meter", Type: "walked", Attrs: []chain.Attr{
		{Key: "keys", Value: "1000"}, {Key: "units", Value: "27100"}}}}
	if !reflect.DeepEqual(c.BlockEvents, want) {
		t.Fatalf("block events %+v, want %+v", c.BlockEvents, want)
	}
}
