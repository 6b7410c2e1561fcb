package trace_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// capture sends events as who, under the standard @context and a prefix
// "x" for extensions, and returns the error of the transaction.
func capture(c *chaintest.Chain, who string, events ...map[string]any) error {
	_, err := c.Do(chaintest.Key(who), trace.Name, trace.ActionCapture, trace.Capture{
		Context: []any{"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", map[string]any{"x": "https://example.org/x/"}},
		Events:  events})
	return err
}

// answered returns, as decoded JSON, the last event that names epc.
func answered(t *testing.T, c *chaintest.Chain, epc string) (trace.EventView, map[string]any) {
	t.Helper()
	a := query[*trace.EventsAnswer](t, c, "epcs/"+epc+"/events", nil)
	if len(a.Events) == 0 {
		t.Fatalf("no event names %s", epc)
	}
	v := a.Events[len(a.Events)-1]
	var m map[string]any
	if err := json.Unmarshal(v.Event, &m); err != nil {
		t.Fatal(err)
	}
	return v, m
}

// TestDerivedCasesAreCaptured captures what the EPCIS 2.0 JSON schema
// and the Tag Data Standard allow and an earlier version of the module
// refused, each event modelled on a GS1 example; newChain checks every
// answer against the schema when the test ends.
func TestDerivedCasesAreCaptured(t *testing.T) {
	c := newChain(t)
	sensors := []any{map[string]any{"sensorReport": []any{map[string]any{"type": "Temperature", "value": "4.5", "uom": "CEL"}}}}
	cases := []struct {
		name  string
		epc   string // what the event names, to read it back
		event map[string]any
		check func(t *testing.T, v trace.EventView, m map[string]any)
	}{
		{"a quantity element without quantity", "urn:epc:class:lgtin:9521111.012345.LEAF2603B",
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"quantityList": []any{map[string]any{"epcClass": "urn:epc:class:lgtin:9521111.012345.LEAF2603B"}}}),
			func(t *testing.T, _ trace.EventView, m map[string]any) {
				if q := m["quantityList"].([]any)[0].(map[string]any); len(q) != 1 {
					t.Errorf("quantity element %v", q)
				}
			}},
		{"sensors associated with a location (an SGLN as parentID)", "urn:epc:id:sgln:9521111.00030.coldroom",
			event(trace.AssociationEvent, "ADD", map[string]any{"parentID": "urn:epc:id:sgln:9521111.00030.coldroom",
				"childEPCs": list("urn:epc:id:giai:9521111.TEMP1", "urn:epc:id:giai:9521111.TEMP2"), "bizStep": "installing"}), nil},
		{"an SGLN in epcList", "https://id.gs1.org/414/9521111000303/254/bay7",
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list("urn:epc:id:sgln:9521111.00030.bay7"), "bizStep": "inspecting",
				"readPoint": at(factory)}), nil},
		{"a geo: URI as readPoint, with sensor readings and nothing else", "",
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"readPoint": at("geo:22.3193,114.1694;u=35"), "bizStep": "sensor_reporting",
				"sensorElementList": sensors}), nil},
		{"the EPC schemes cpi, itip, upui and pgln", "https://id.gs1.org/8010/9521111ABC-1/8011/42",
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"readPoint": at(factory), "epcList": list(
				"urn:epc:id:cpi:9521111.ABC-1.42", "urn:epc:id:itip:9521111.054321.01.02.7",
				"urn:epc:id:upui:9521111.054321.Kx7%2Fq", "urn:epc:id:pgln:9521111.00001")}),
			func(t *testing.T, _ trace.EventView, _ map[string]any) {
				for urn, link := range map[string]string{
					"urn:epc:id:itip:9521111.054321.01.02.7": "https://id.gs1.org/8006/095211115432130102/21/7",
					"urn:epc:id:upui:9521111.054321.Kx7%2Fq": "https://id.gs1.org/01/09521111543213/235/Kx7%2Fq",
					"urn:epc:id:pgln:9521111.00001":          "https://id.gs1.org/417/9521111000013"} {
					if a := query[*trace.EventsAnswer](t, c, "epcs/"+link+"/events", nil); len(a.Events) != 1 {
						t.Errorf("%s is not found as %s", urn, link)
					}
				}
			}},
		{"CBV values in URN and web URI forms, stored bare", "urn:epc:id:sgtin:9521111.054321.W1",
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list("urn:epc:id:sgtin:9521111.054321.W1"), "readPoint": at(factory),
				"bizStep": "urn:epcglobal:cbv:bizstep:shipping", "disposition": "https://ns.gs1.org/cbv/Disp-in_transit",
				"persistentDisposition": map[string]any{"set": list("https://ref.gs1.org/cbv/Disp-completeness_verified")},
				"bizTransactionList":    []any{map[string]any{"type": "urn:epcglobal:cbv:btt:upevt", "bizTransaction": "urn:epcglobal:cbv:bt:9521111000013:E1"}},
				"sourceList":            []any{map[string]any{"type": "cbv:SDT-possessing_party", "source": "urn:epc:id:pgln:9521111.00001"}},
				"sensorElementList":     []any{map[string]any{"sensorReport": []any{map[string]any{"type": "gs1:Radioactivity", "value": 0, "uom": "BQL"}}}}}),
			func(t *testing.T, _ trace.EventView, m map[string]any) {
				got := []any{m["bizStep"], m["disposition"], m["persistentDisposition"].(map[string]any)["set"].([]any)[0],
					m["bizTransactionList"].([]any)[0].(map[string]any)["type"], m["sourceList"].([]any)[0].(map[string]any)["type"],
					m["sensorElementList"].([]any)[0].(map[string]any)["sensorReport"].([]any)[0].(map[string]any)["type"]}
				want := []any{"shipping", "in_transit", "completeness_verified", "upevt", "possessing_party", "Radioactivity"}
				for i := range want {
					if got[i] != want[i] {
						t.Errorf("stored %v, want %v", got, want)
						break
					}
				}
			}},
		{"decimals answered as numbers", "urn:epc:id:sgtin:9521111.054321.N1",
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list("urn:epc:id:sgtin:9521111.054321.N1"), "readPoint": at(factory),
				"sensorElementList": []any{map[string]any{"sensorReport": []any{
					map[string]any{"type": "Temperature", "minValue": "-3.25", "maxValue": "26.0", "uom": "CEL"},
					map[string]any{"type": "Mass", "value": "1e3", "uom": "KGM"}}}}}),
			func(t *testing.T, v trace.EventView, _ map[string]any) {
				for _, want := range []string{`"minValue":-3.25`, `"maxValue":26.0`, `"value":1e3`} {
					if !strings.Contains(string(v.Event), want) {
						t.Errorf("answer lacks %s: %s", want, v.Event)
					}
				}
			}},
	}
	for _, tc := range cases {
		if err := capture(c, admin, tc.event); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tc.epc == "" {
			continue
		}
		v, m := answered(t, c, tc.epc)
		if !strings.HasPrefix(v.EventHash, "ni:///sha-256;") {
			t.Errorf("%s: no event hash", tc.name)
		}
		if tc.check != nil {
			tc.check(t, v, m)
		}
	}
	// The geo: reading is found by time, with no GLN to index it by.
	a := query[*trace.EventsAnswer](t, c, "events", map[string]string{"biz_step": "sensor_reporting"})
	if len(a.Events) != 1 || a.Events[0].BizStep != "sensor_reporting" {
		t.Errorf("the geo: reading: %+v", a.Events)
	}
}

// TestDuplicateEventsAreRefused: the CBV 2.0 event hash names an event
// by its content, so the same event captured again, by anyone and in
// any spelling, is refused, naming the event that has it.
func TestDuplicateEventsAreRefused(t *testing.T) {
	c := newChain(t)
	e := event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(packet1), "bizStep": "inspecting", "readPoint": at(dcDock)})
	if err := capture(c, grocer, e); err != nil {
		t.Fatal(err)
	}
	first, _ := answered(t, c, packet1)
	respelled := event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list("https://id.gs1.org/01/09521111543213/21/P1001"),
		"bizStep": "urn:epcglobal:cbv:bizstep:inspecting", "readPoint": at("https://id.gs1.org/414/9523333000017/254/dock2"),
		"eventTime": "2026-03-10T08:00:00.000Z", "eventID": "urn:uuid:0f7e2c52-3a41-4f0e-9b6a-00000000d0d0"})
	for name, tc := range map[string]struct {
		who    string
		events []map[string]any
	}{
		"again":                               {grocer, []map[string]any{e}},
		"by an admin":                         {admin, []map[string]any{e}},
		"in other spellings, with an eventID": {grocer, []map[string]any{respelled}},
	} {
		err := capture(c, tc.who, tc.events...)
		if err == nil || !strings.Contains(err.Error(), trace.ErrDuplicate.Error()) || !strings.Contains(err.Error(), first.EventHash) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Twice in one capture: the second is refused, and with it the capture.
	other := event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(packet2), "bizStep": "inspecting", "readPoint": at(dcDock)})
	if err := capture(c, grocer, other, other); err == nil || !strings.Contains(err.Error(), "events[1]: "+trace.ErrDuplicate.Error()) {
		t.Errorf("twice in one capture: %v", err)
	}
	if a := query[*trace.EventsAnswer](t, c, "events", nil); len(a.Events) != 1 {
		t.Errorf("%d events on chain, want the first only", len(a.Events))
	}
}

// TestDeclarationWithoutEventID: an errorDeclaration on an event that
// has no eventID (as in GS1's SensorDataExample12) finds the event it
// declares erroneous by the event hash, which leaves the declaration out.
func TestDeclarationWithoutEventID(t *testing.T) {
	c := newChain(t)
	wrong := event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(packet2), "bizStep": "inspecting",
		"disposition": "damaged", "readPoint": at(dcDock)})
	if err := capture(c, grocer, wrong); err != nil {
		t.Fatal(err)
	}
	if d := stateOf(t, c, packet2).Disposition; d != "damaged" {
		t.Fatalf("P1002 is %q", d)
	}
	declaration := event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(packet2), "bizStep": "inspecting",
		"disposition": "damaged", "readPoint": at(dcDock),
		"errorDeclaration": map[string]any{"declarationTime": time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC).Format(time.RFC3339), "reason": "incorrect_data"}})
	// A kiosk at the same store may record events there, not retract the grocer's.
	kiosk := trace.Participant{Address: chaintest.Addr("kiosk"), Name: "Tea kiosk", Role: trace.RoleRetailer, Locations: []string{dcGLN}}
	if _, err := c.Do(chaintest.Key(admin), trace.Name, trace.ActionRegister, &kiosk); err != nil {
		t.Fatal(err)
	}
	if err := capture(c, "kiosk", declaration); err == nil || !strings.Contains(err.Error(), chain.ErrUnauthorized.Error()+": events[0].errorDeclaration") {
		t.Errorf("the kiosk retracted the grocer's event: %v", err)
	}
	if err := capture(c, grocer, declaration); err != nil {
		t.Fatal(err)
	}
	s := stateOf(t, c, packet2)
	if s.Disposition == "damaged" || s.Erroneous != 1 {
		t.Errorf("after the declaration P1002 is %+v", s)
	}
	a := query[*trace.EventsAnswer](t, c, "epcs/"+packet2+"/events", nil)
	if len(a.Events) != 2 || a.Events[0].DeclaredErroneousBy != a.Events[1].Seq || !a.Events[1].ErrorDeclaration ||
		a.Events[0].EventHash != a.Events[1].EventHash {
		t.Errorf("events: %+v", a.Events)
	}
	if err := capture(c, grocer, declaration); err == nil || !strings.Contains(err.Error(), trace.ErrDuplicate.Error()) {
		t.Errorf("declared twice: %v", err)
	}
}

// TestAnswerChecksCatchBadAnswers feeds the answer checks answers that
// break the standard, so a regression in the module cannot pass them.
func TestAnswerChecksCatchBadAnswers(t *testing.T) {
	good := `{"type":"ObjectEvent","action":"OBSERVE","eventTime":"2026-03-10T09:00:00Z","eventTimeZoneOffset":"+00:00",
		"epcList":["urn:epc:id:sgtin:9521111.054321.X1"],"quantityList":[{"epcClass":"urn:epc:class:lgtin:9521111.054321.L1","quantity":2.5}],
		"bizStep":"shipping"}`
	if problem := checkAnswer(t, trace.EventView{Event: json.RawMessage(good)}); problem != "" {
		t.Fatalf("a good answer: %s", problem)
	}
	for name, bad := range map[string]string{
		"a decimal as a string": strings.Replace(good, `"quantity":2.5`, `"quantity":"2.5"`, 1),
		"a URN for a CBV word":  strings.Replace(good, `"shipping"`, `"urn:epcglobal:cbv:bizstep:shipping"`, 1),
	} {
		if problem := checkAnswer(t, trace.EventView{Event: json.RawMessage(bad)}); problem == "" {
			t.Errorf("%s passed", name)
		}
	}
	if epcisSchema(t) == nil {
		return
	}
	for name, bad := range map[string]string{
		"no eventTimeZoneOffset":    strings.Replace(good, `"eventTimeZoneOffset":"+00:00",`, ``, 1),
		"an unknown action":         strings.Replace(good, `"OBSERVE"`, `"MOVE"`, 1),
		"a field without namespace": strings.Replace(good, `"bizStep"`, `"colour":"green","bizStep"`, 1),
	} {
		if problem := checkAnswer(t, trace.EventView{Event: json.RawMessage(bad)}); !strings.Contains(problem, "EPCIS 2.0 JSON schema") {
			t.Errorf("%s: %q", name, problem)
		}
	}
}
