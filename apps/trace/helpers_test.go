package trace_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// The cast of the tests: the genesis admin and the three companies of
// the tea story in testdata/ (see testdata/README.md).
const (
	admin   = "admin"
	coop    = "coop"
	freight = "freight"
	grocer  = "grocer"
)

var cast = []trace.Participant{
	{Name: "Misty Hills Tea Cooperative", Role: trace.RoleManufacturer, Prefixes: []string{"9521111"}},
	{Name: "Riverline Freight", Role: trace.RoleLogistics, Prefixes: []string{"9522222"}},
	{Name: "Corner Leaf Grocers", Role: trace.RoleRetailer, Prefixes: []string{"9523333"},
		Locations: []string{"urn:epc:id:sgln:9523333.00001.0", "https://id.gs1.org/414/9523333000024"}},
}

// newChain starts a chain whose genesis admin registers the cast. When
// the test ends, every event captured on it is read back and checked
// against the EPCIS 2.0 JSON schema (checkAllAnswers).
func newChain(t testing.TB) *chaintest.Chain {
	t.Helper()
	c, err := chaintest.New([]chain.App{trace.New()}, map[string]any{
		trace.Name: trace.DevGenesis(chaintest.Addr(admin)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { checkAllAnswers(t, c) })
	for i, who := range []string{coop, freight, grocer} {
		p := cast[i]
		p.Address = chaintest.Addr(who)
		if _, err := c.Do(chaintest.Key(admin), trace.Name, trace.ActionRegister, &p); err != nil {
			t.Fatalf("register %s: %v", who, err)
		}
	}
	return c
}

// captureFile sends an EPCIS document the way the CLI does: converted
// to payload form, split into batches, each checked and then sent.
func captureFile(t testing.TB, c *chaintest.Chain, who, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := trace.ParseDocument(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	captureDoc(t, c, who, filepath.Base(path), doc)
}

func captureDoc(t testing.TB, c *chaintest.Chain, who, name string, doc *trace.Document) {
	t.Helper()
	batches, err := doc.Batches(0)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for i := range batches {
		p, err := chain.EncodePayload(&batches[i])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := trace.New().Check(trace.ActionCapture, p); err != nil {
			t.Fatalf("%s: Check: %v", name, err)
		}
		if _, err := c.Do(chaintest.Key(who), trace.Name, trace.ActionCapture, &batches[i]); err != nil {
			t.Fatalf("%s (by %s): %v", name, who, err)
		}
	}
}

func query[T any](t testing.TB, c *chaintest.Chain, path string, args map[string]string) T {
	t.Helper()
	a, err := c.Query(trace.Name, path, args)
	if err != nil {
		t.Fatalf("query %s %v: %v", path, args, err)
	}
	v, ok := a.(T)
	if !ok {
		t.Fatalf("query %s answered %T", path, a)
	}
	return v
}

// verifyAll checks every event's proof against the chain's latest root.
func verifyAll(t testing.TB, c *chaintest.Chain, events []trace.EventView) {
	t.Helper()
	for i := range events {
		if err := events[i].Verify(c.Root); err != nil {
			t.Errorf("event %d: %v", events[i].Seq, err)
		}
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func chaintestRoot(b byte) chain.Hash { return chain.Hash{b} }
