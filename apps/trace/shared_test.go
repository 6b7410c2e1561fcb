package trace_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain/chaintest"
)

// sharedExamples finds GS1's EPCIS 2.0 example documents, which live
// next to the repository (shared/testdata/epcis) and may not be copied
// into it. The pass over them is extra: without the folder it is skipped
// and the module's own fixtures still run.
func sharedExamples(t *testing.T) []string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for { // walk up to the repository root, the folder with go.mod
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	shared := filepath.Join(filepath.Dir(dir), "shared", "testdata", "epcis")
	files, _ := filepath.Glob(filepath.Join(shared, "*.json*"))
	if len(files) == 0 {
		t.Skipf("no GS1 examples in %s; the own fixtures cover the module", shared)
	}
	sort.Strings(files)
	return files
}

// TestGS1ExamplesAreCaptured feeds every GS1 example document through
// the CLI's path (payload form, batches, Check) and captures it as the
// wildcard admin, which may speak for every prefix and location.
func TestGS1ExamplesAreCaptured(t *testing.T) {
	files := sharedExamples(t)
	c := newChain(t)
	events := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := trace.ParseDocument(data)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		captureDoc(t, c, admin, filepath.Base(f), doc)
		events += len(doc.Events)
	}
	all := query[*trace.EventsAnswer](t, c, "events", map[string]string{"limit": "500"})
	if len(all.Events) != events {
		t.Fatalf("%d events on chain, the %d documents hold %d", len(all.Events), len(files), events)
	}
	verifyAll(t, c, all.Events)
	t.Logf("%d GS1 example documents, %d events captured", len(files), events)

	// Decimals survive exactly: 200.5 kg in the pallet example.
	ev := query[*trace.EventsAnswer](t, c, "epcs/urn:epc:class:lgtin:4012345.012345.998877/events", nil)
	found := false
	for _, e := range ev.Events {
		found = found || strings.Contains(string(e.Event), `"quantity":"200.5"`)
	}
	if !found {
		t.Errorf("200.5 not stored as the decimal string \"200.5\"")
	}

	// The error declaration example retracts an event that never reached
	// this chain; its corrective event is an ordinary event.
	decl := query[*trace.EventsAnswer](t, c, "epcs/urn:epc:id:sgtin:4012345.033333.AGHFG/events", nil)
	if len(decl.Events) != 2 || !decl.Events[0].ErrorDeclaration || decl.Events[1].ErrorDeclaration {
		t.Errorf("error declaration example: %+v", decl.Events)
	}
}

// TestGS1ExamplesNeedTheirOwners captures the shipping/receiving example
// as participants registered for exactly its prefixes, not the admin.
func TestGS1ExamplesNeedTheirOwners(t *testing.T) {
	var example string
	for _, f := range sharedExamples(t) {
		if strings.Contains(filepath.Base(f), "shipping_then_receiving") {
			example = f
		}
	}
	if example == "" {
		t.Skip("shipping/receiving example not present")
	}
	c := newChain(t)
	for who, prefix := range map[string]string{"acme": "0614141", "store": "0012345"} {
		p := trace.Participant{Address: chaintest.Addr(who), Name: who, Role: trace.RoleManufacturer, Prefixes: []string{prefix}}
		if _, err := c.Do(chaintest.Key(admin), trace.Name, trace.ActionRegister, &p); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(example)
	doc, err := trace.ParseDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	// Event 0 ships from acme's dock, event 1 is received at the store.
	ship := &trace.Document{Context: doc.Context, Events: doc.Events[:1]}
	recv := &trace.Document{Context: doc.Context, Events: doc.Events[1:]}
	_, err = c.Do(chaintest.Key("store"), trace.Name, trace.ActionCapture, trace.Capture{Events: ship.Events})
	if err == nil || !strings.Contains(err.Error(), "unauthorized: events[0].readPoint.id") {
		t.Errorf("the store recorded a shipment at acme's dock: %v", err)
	}
	captureDoc(t, c, "acme", "shipping", ship)
	captureDoc(t, c, "store", "receiving", recv)
}
