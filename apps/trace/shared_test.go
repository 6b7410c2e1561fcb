package trace_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// sharedExamples finds GS1's EPCIS 2.0 example documents, which live
// next to the repository (shared/testdata/epcis) and may not be copied
// into it; nil when they are absent.
func sharedExamples(t *testing.T) []string {
	t.Helper()
	dir, ok := shared(t, "epcis")
	if !ok {
		t.Logf("no GS1 examples next to the repository (shared/testdata/epcis): the module's own fixtures only")
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json*"))
	sort.Strings(files)
	return files
}

// gs1ExampleHashes are the CBV 2.0 event hashes of the events of GS1's
// example documents, in document order. No hash is published for them:
// the ni:/// eventIDs the examples carry are not the hashes of the events
// they label (neither this module, nor the reference implementation's
// rules, nor epcis2.js 2.7.3 give them). These were computed by this
// module and agree, pre-hash string for pre-hash string, with epcis2.js
// 2.7.3 once its four known departures from CBV 2.0 are undone: it adds
// the sensorElementList name (a CBV 2.1 draft rule), leaves CBV URNs
// unexpanded, keeps an SSCC's extension digit twice (19 digits), and
// drops the leading zero of "0.987" in an extension.
var gs1ExampleHashes = map[string][]string{
	"01_transformation_commissioning.jsonld":           {"c794227acf3a4d9be9ba1f8340425782f88a0f4e3f35b533a8bf8f1bc206a379"},
	"02_aggregation_packing_with_sensors.jsonld":       {"bca9f02cee0eae6713a517770723fda4a601cd3f896af0e1e8783cc1315657bb"},
	"03_object_shipping_then_receiving.jsonld":         {"df6523665bc5e5803d6c7b84f5a04e103694d8220f2abc4f2c74310e89f31bc6", "32547b2344d525ea60ab1b899d82a9011fd9c39bb26ed936e113066146f49941"},
	"04_object_receiving_quantity_source_dest.jsonld":  {"762a84511e7a8db0b379ecae3e90345fffe84c3c77bbd43c612269bb804a0928"},
	"05_aggregation_receiving_pallet.jsonld":           {"96b6bf98742a60dbfaa2dda08b63435ce67079d224ea27d63e55e62a7843b878"},
	"06_object_inspecting_sensor_report.jsonld":        {"529e69324cb534e2055a6ad4c863e7fc39e343b6ee10d68cec18b7d64886c2b3"},
	"07_association_assembling.jsonld":                 {"39141606ab0b3f7839735303d670b16acdd6faf573d27564ebb3f76ad23e4ff7"},
	"08_transaction_events.jsonld":                     {"61500fbc3a2c8f036b8bff19ac0b1737b6b258a239f2606fdb12364b7f427435", "1a1768e8b57c8f890a99cff894292227fd880aed78f51400d49bff73b12e0964"},
	"09_error_declaration_and_corrective_event.jsonld": {"db50dd61ad0309f0f727d7b1f9335728d77c07b2ba13f82fe58a87f42e943a2a", "e74d8397fb06e337c3a9ffdf00effff305de5fc8ec6f0fbae28b036f4320cfda"},
}

// TestDocumentsAreCaptured feeds the module's own fixtures and, when
// they are next to the repository, every GS1 example document through
// the CLI's path (payload form, batches, Check) and captures them as the
// wildcard admin, which may speak for every prefix and location. Each
// event comes back with its proof and its event hash; newChain checks
// every answer against the EPCIS 2.0 JSON schema when the test ends.
func TestDocumentsAreCaptured(t *testing.T) {
	own, _ := filepath.Glob(filepath.Join("testdata", "*.jsonld"))
	gs1 := sharedExamples(t)
	c := newChain(t)
	var hashes []string
	for _, f := range append(own, gs1...) {
		doc, err := trace.ParseDocument(readFile(t, f))
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		captureDoc(t, c, admin, filepath.Base(f), doc)
		for range doc.Events {
			hashes = append(hashes, filepath.Base(f))
		}
	}
	all := query[*trace.EventsAnswer](t, c, "events", map[string]string{"limit": "500"})
	if len(all.Events) != len(hashes) {
		t.Fatalf("%d events on chain, the documents hold %d", len(all.Events), len(hashes))
	}
	verifyAll(t, c, all.Events)
	t.Logf("%d own and %d GS1 documents, %d events captured", len(own), len(gs1), len(hashes))

	// Decimals come back as JSON numbers, exactly as written: 480.5 kg of
	// leaves in the harvest, 200.5 kg in GS1's pallet example.
	decimals := map[string]string{key(t, leafLot): `"quantity":480.5`}
	if len(gs1) > 0 {
		decimals[key(t, "urn:epc:class:lgtin:4012345.012345.998877")] = `"quantity":200.5`
	}
	for k, want := range decimals {
		found := false
		for _, e := range query[*trace.EventsAnswer](t, c, "epcs/"+k+"/events", nil).Events {
			found = found || strings.Contains(string(e.Event), want)
		}
		if !found {
			t.Errorf("no event of %s says %s", k, want)
		}
	}

	// Every event has its hash; the GS1 examples hash as recorded above.
	i := map[string]int{}
	for n, e := range all.Events {
		doc := hashes[n]
		if !strings.HasPrefix(e.EventHash, "ni:///sha-256;") || !strings.HasSuffix(e.EventHash, "?ver=CBV2.0") {
			t.Errorf("event %d has no event hash: %q", e.Seq, e.EventHash)
		}
		if want, isGS1 := gs1ExampleHashes[doc]; isGS1 {
			if got := strings.TrimSuffix(strings.TrimPrefix(e.EventHash, "ni:///sha-256;"), "?ver=CBV2.0"); got != want[i[doc]] {
				t.Errorf("%s event %d: hash %s, want %s", doc, i[doc], got, want[i[doc]])
			}
			i[doc]++
		}
	}

	if len(gs1) > 0 {
		// The error declaration example retracts an event that never
		// reached this chain; its corrective event is an ordinary event.
		decl := query[*trace.EventsAnswer](t, c, "epcs/urn:epc:id:sgtin:4012345.033333.AGHFG/events", nil)
		if len(decl.Events) != 2 || !decl.Events[0].ErrorDeclaration || decl.Events[1].ErrorDeclaration {
			t.Errorf("error declaration example: %+v", decl.Events)
		}
	}
}

// TestExamplesNeedTheirOwners captures a shipment recorded at one
// company's dock as the company that received it, which is refused, and
// then as its owner. The tea story's shipping event and, when present,
// GS1's shipping/receiving example, with participants registered for
// exactly their prefixes.
func TestExamplesNeedTheirOwners(t *testing.T) {
	c := newChain(t)
	factory := loadDoc(t, "02_factory.jsonld")
	ship := &trace.Document{Context: factory.Context, Events: factory.Events[len(factory.Events)-1:]}
	_, err := c.Do(chaintest.Key(freight), trace.Name, trace.ActionCapture, trace.Capture{Events: ship.Events})
	if err == nil || !strings.Contains(err.Error(), chain.ErrUnauthorized.Error()+": events[0].readPoint.id") {
		t.Errorf("the haulier recorded the shipment at the factory dock: %v", err)
	}
	captureDoc(t, c, coop, "shipping", ship)

	var example string
	for _, f := range sharedExamples(t) {
		if strings.Contains(filepath.Base(f), "shipping_then_receiving") {
			example = f
		}
	}
	if example == "" {
		return
	}
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
	gs1Ship := &trace.Document{Context: doc.Context, Events: doc.Events[:1]}
	recv := &trace.Document{Context: doc.Context, Events: doc.Events[1:]}
	_, err = c.Do(chaintest.Key("store"), trace.Name, trace.ActionCapture, trace.Capture{Events: gs1Ship.Events})
	if err == nil || !strings.Contains(err.Error(), "unauthorized: events[0].readPoint.id") {
		t.Errorf("the store recorded a shipment at acme's dock: %v", err)
	}
	captureDoc(t, c, "acme", "shipping", gs1Ship)
	captureDoc(t, c, "store", "receiving", recv)
}
