package trace_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// TestBadEventsAreRefusedByCheck feeds one broken event per case to
// Check, the mempool's stateless gate. Each error is a bad payload of the
// expected kind and names the field.
func TestBadEventsAreRefusedByCheck(t *testing.T) {
	item := "urn:epc:id:sgtin:9521111.054321.X1"
	obs := func(set map[string]any) map[string]any {
		base := map[string]any{"epcList": list(item), "readPoint": at(dcDock)}
		for k, v := range set {
			base[k] = v
		}
		return event(trace.ObjectEvent, "OBSERVE", base)
	}
	agg := func(action string, set map[string]any) map[string]any {
		base := map[string]any{"parentID": "urn:epc:id:sscc:9521111.0000000017", "childEPCs": list(item)}
		for k, v := range set {
			base[k] = v
		}
		return event(trace.AggregationEvent, action, base)
	}
	qty := func(q map[string]any) map[string]any {
		return obs(map[string]any{"epcList": nil, "quantityList": []any{q}})
	}
	sensor := func(report map[string]any) map[string]any {
		return obs(map[string]any{"sensorElementList": []any{map[string]any{"sensorReport": []any{report}}}})
	}
	cases := []struct {
		name  string
		event map[string]any
		kind  error
		field string
	}{
		{"bizStep typo", obs(map[string]any{"bizStep": "shiping"}), trace.ErrUnknownWord, "events[0].bizStep"},
		{"bizStep URN with an unknown word", obs(map[string]any{"bizStep": "urn:epcglobal:cbv:bizstep:teleporting"}), trace.ErrUnknownWord, "events[0].bizStep"},
		{"disposition not in CBV", obs(map[string]any{"disposition": "lost"}), trace.ErrUnknownWord, "events[0].disposition"},
		{"disposition in the bizStep namespace", obs(map[string]any{"disposition": "urn:epcglobal:cbv:bizstep:shipping"}), trace.ErrUnknownWord, "events[0].disposition"},
		{"no eventTime", obs(map[string]any{"eventTime": nil}), trace.ErrMissingField, "events[0].eventTime"},
		{"eventTime without zone", obs(map[string]any{"eventTime": "2026-03-10T09:00:00"}), trace.ErrBadValue, "events[0].eventTime"},
		{"no eventTimeZoneOffset", obs(map[string]any{"eventTimeZoneOffset": nil}), trace.ErrMissingField, "events[0].eventTimeZoneOffset"},
		{"zone offset out of range", obs(map[string]any{"eventTimeZoneOffset": "+15:00"}), trace.ErrBadValue, "events[0].eventTimeZoneOffset"},
		{"no type", obs(map[string]any{"type": nil}), trace.ErrMissingField, "events[0].type"},
		{"unknown event type", obs(map[string]any{"type": "MoveEvent"}), trace.ErrUnknownWord, "events[0].type"},
		{"no action", obs(map[string]any{"action": nil}), trace.ErrMissingField, "events[0].action"},
		{"unknown action", obs(map[string]any{"action": "MOVE"}), trace.ErrUnknownWord, "events[0].action"},
		{"unknown field without namespace", obs(map[string]any{"colour": "green"}), trace.ErrBadValue, "events[0].colour"},
		{"eventID not a URI", obs(map[string]any{"eventID": "event 7"}), trace.ErrBadValue, "events[0].eventID"},
		{"SGTIN with 12 digits", obs(map[string]any{"epcList": list("urn:epc:id:sgtin:9521111.12345.1")}), trace.ErrBadIdentifier, "events[0].epcList[0]"},
		{"SSCC with 16 digits", obs(map[string]any{"epcList": list("urn:epc:id:sscc:9521111.000000001")}), trace.ErrBadIdentifier, "events[0].epcList[0]"},
		{"Digital Link with a wrong check digit", obs(map[string]any{"epcList": list("https://id.gs1.org/01/09523333777774/21/X")}), trace.ErrBadIdentifier, "events[0].epcList[0]"},
		{"not an identifier", obs(map[string]any{"epcList": list("pallet 17")}), trace.ErrBadIdentifier, "events[0].epcList[0]"},
		{"a class in epcList", obs(map[string]any{"epcList": list("urn:epc:class:lgtin:9521111.054321.L1")}), trace.ErrBadIdentifier, "events[0].epcList[0]"},
		{"the same object twice", obs(map[string]any{"epcList": list(item, "https://id.gs1.org/01/09521111543213/21/X1")}), trace.ErrBadValue, "events[0].epcList[1]"},
		{"pattern with a star in the middle", qty(map[string]any{"epcClass": "urn:epc:idpat:sgtin:9521111.*.7", "quantity": 1}), trace.ErrBadIdentifier, "events[0].quantityList[0].epcClass"},
		{"an object as epcClass", qty(map[string]any{"epcClass": item, "quantity": 1}), trace.ErrBadIdentifier, "events[0].quantityList[0].epcClass"},
		{"quantity not a number", qty(map[string]any{"epcClass": "urn:epc:class:lgtin:9521111.054321.L1", "quantity": "lots"}), trace.ErrBadValue, "events[0].quantityList[0].quantity"},
		{"an extension in a quantity element", qty(map[string]any{"epcClass": "urn:epc:class:lgtin:9521111.054321.L1", "x:grade": "A"}), trace.ErrBadValue, "events[0].quantityList[0].x:grade"},
		{"negative quantity", qty(map[string]any{"epcClass": "urn:epc:class:lgtin:9521111.054321.L1", "quantity": "-2.5"}), trace.ErrBadValue, "events[0].quantityList[0].quantity"},
		{"unit not Rec. 20", qty(map[string]any{"epcClass": "urn:epc:class:lgtin:9521111.054321.L1", "quantity": 2, "uom": "kg"}), trace.ErrBadValue, "events[0].quantityList[0].uom"},
		{"readPoint is not a location", obs(map[string]any{"readPoint": at(item)}), trace.ErrBadIdentifier, "events[0].readPoint.id"},
		{"readPoint without id", obs(map[string]any{"readPoint": map[string]any{}}), trace.ErrMissingField, "events[0].readPoint.id"},
		{"SGLN with 11 digits", obs(map[string]any{"bizLocation": at("urn:epc:id:sgln:9523333.0001.0")}), trace.ErrBadIdentifier, "events[0].bizLocation.id"},
		{"an ObjectEvent about nothing", obs(map[string]any{"epcList": nil}), trace.ErrMissingField, "events[0].epcList"},
		{"ilmd on OBSERVE", obs(map[string]any{"ilmd": map[string]any{"x:lot": "1"}}), trace.ErrBadValue, "events[0].ilmd"},
		{"aggregation ADD without parentID", agg("ADD", map[string]any{"parentID": nil}), trace.ErrMissingField, "events[0].parentID"},
		{"aggregation ADD without children", agg("ADD", map[string]any{"childEPCs": nil}), trace.ErrMissingField, "events[0].childEPCs"},
		{"aggregation parent is a class", agg("ADD", map[string]any{"parentID": "urn:epc:idpat:sgtin:9521111.054321.*"}), trace.ErrBadIdentifier, "events[0].parentID"},
		{"association without parentID", event(trace.AssociationEvent, "ADD", map[string]any{"childEPCs": list(item)}), trace.ErrMissingField, "events[0].parentID"},
		{"transformation without outputs", event(trace.TransformationEvent, "", map[string]any{"inputEPCList": list(item)}), trace.ErrMissingField, "events[0].outputEPCList"},
		{"transformation with an action", event(trace.TransformationEvent, "ADD", map[string]any{"inputEPCList": list(item), "outputEPCList": list("urn:epc:id:sgtin:9521111.054321.X2")}), trace.ErrBadValue, "events[0].action"},
		{"transaction without transactions", event(trace.TransactionEvent, "ADD", map[string]any{"epcList": list(item)}), trace.ErrMissingField, "events[0].bizTransactionList"},
		{"transaction type not in CBV", obs(map[string]any{"bizTransactionList": []any{map[string]any{"type": "invoice", "bizTransaction": "urn:x:1"}}}), trace.ErrUnknownWord, "events[0].bizTransactionList[0].type"},
		{"transaction without its URI", obs(map[string]any{"bizTransactionList": []any{map[string]any{"type": "po"}}}), trace.ErrMissingField, "events[0].bizTransactionList[0].bizTransaction"},
		{"source without type", obs(map[string]any{"sourceList": []any{map[string]any{"source": dcGLN}}}), trace.ErrMissingField, "events[0].sourceList[0].type"},
		{"destination type not in CBV", obs(map[string]any{"destinationList": []any{map[string]any{"type": "buyer", "destination": dcGLN}}}), trace.ErrUnknownWord, "events[0].destinationList[0].type"},
		{"persistent disposition not in CBV", obs(map[string]any{"persistentDisposition": map[string]any{"set": list("fresh")}}), trace.ErrUnknownWord, "events[0].persistentDisposition.set[0]"},
		{"declaration without time", obs(map[string]any{"eventID": "urn:uuid:1", "errorDeclaration": map[string]any{"reason": "incorrect_data"}}), trace.ErrMissingField, "events[0].errorDeclaration.declarationTime"},
		{"declaration reason not in CBV", obs(map[string]any{"eventID": "urn:uuid:1", "errorDeclaration": map[string]any{"declarationTime": "2026-03-11T00:00:00Z", "reason": "oops"}}), trace.ErrUnknownWord, "events[0].errorDeclaration.reason"},
		{"an extension in a business transaction", obs(map[string]any{"bizTransactionList": []any{map[string]any{"type": "po", "bizTransaction": "urn:x:1", "x:note": "n"}}}), trace.ErrBadValue, "events[0].bizTransactionList[0].x:note"},
		{"persistent disposition with nothing to set", obs(map[string]any{"persistentDisposition": map[string]any{}}), trace.ErrMissingField, "events[0].persistentDisposition"},
		{"persistent disposition with an empty list", obs(map[string]any{"persistentDisposition": map[string]any{"set": list()}}), trace.ErrBadValue, "events[0].persistentDisposition.set"},
		{"ilmd field without a namespace", event(trace.ObjectEvent, "ADD", map[string]any{"epcList": list(item), "ilmd": map[string]any{"lot": "L1"}}), trace.ErrBadValue, "events[0].ilmd.lot"},
		{"sensor report with an exception but no type", sensor(map[string]any{"exception": "ALARM_CONDITION"}), trace.ErrMissingField, "events[0].sensorElementList[0].sensorReport[0].type"},
		{"a user-defined event type", obs(map[string]any{"type": "example:CustomEvent"}), trace.ErrUnsupported, "events[0].type"},
		{"a GID", obs(map[string]any{"epcList": list("urn:epc:id:gid:95100000.12345.400")}), trace.ErrUnsupported, "events[0].epcList[0]"},
		{"a private identifier", obs(map[string]any{"epcList": list("urn:example:pallet:17")}), trace.ErrUnsupported, "events[0].epcList[0]"},
		{"a private location", obs(map[string]any{"bizLocation": at("urn:example:warehouse:7")}), trace.ErrUnsupported, "events[0].bizLocation.id"},
		{"a geo: URI off the globe", obs(map[string]any{"readPoint": at("geo:91,10")}), trace.ErrBadIdentifier, "events[0].readPoint.id"},
		{"measurement type typo", sensor(map[string]any{"type": "Temprature", "value": 1}), trace.ErrUnknownWord, "events[0].sensorElementList[0].sensorReport[0].type"},
		{"sensor value not a decimal", sensor(map[string]any{"type": "Temperature", "value": "warm"}), trace.ErrBadValue, "events[0].sensorElementList[0].sensorReport[0].value"},
		{"sensor boolean as a string", sensor(map[string]any{"type": "Count", "booleanValue": "true"}), trace.ErrBadValue, "events[0].sensorElementList[0].sensorReport[0].booleanValue"},
		{"sensor hex not hex", sensor(map[string]any{"type": "Count", "hexBinaryValue": "xyz"}), trace.ErrBadValue, "events[0].sensorElementList[0].sensorReport[0].hexBinaryValue"},
		{"sensor report without type", sensor(map[string]any{"value": 1}), trace.ErrMissingField, "events[0].sensorElementList[0].sensorReport[0].type"},
		{"sensor element without reports", obs(map[string]any{"sensorElementList": []any{map[string]any{"sensorReport": []any{}}}}), trace.ErrMissingField, "events[0].sensorElementList[0].sensorReport"},
		{"sensor metadata time malformed", obs(map[string]any{"sensorElementList": []any{map[string]any{"sensorMetadata": map[string]any{"time": "noon"}, "sensorReport": []any{map[string]any{"type": "Count", "value": 1}}}}}), trace.ErrBadValue, "events[0].sensorElementList[0].sensorMetadata.time"},
	}
	app := trace.New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := chain.EncodePayload(trace.Capture{Events: []map[string]any{tc.event}})
			if err != nil {
				t.Fatal(err)
			}
			err = app.Check(trace.ActionCapture, p)
			if !errors.Is(err, chain.ErrBadPayload) || !errors.Is(err, tc.kind) {
				t.Fatalf("Check = %v, want a bad payload of kind %q", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.field+": ") {
				t.Errorf("%q does not name %s", err, tc.field)
			}
		})
	}
}

func TestBadCapturesAndRegistrations(t *testing.T) {
	ok := event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list("urn:epc:id:sgtin:9521111.054321.X1")})
	many := make([]map[string]any, trace.MaxEvents+1)
	for i := range many {
		many[i] = ok
	}
	addr := chaintest.Addr("someone")
	cases := []struct {
		name, action string
		payload      any
		kind         error
		field        string
	}{
		{"no events", trace.ActionCapture, trace.Capture{}, trace.ErrMissingField, "events"},
		{"too many events", trace.ActionCapture, trace.Capture{Events: many}, trace.ErrBadValue, "events"},
		{"context not a URI", trace.ActionCapture, trace.Capture{Context: "not a uri", Events: []map[string]any{ok}}, trace.ErrBadValue, "@context"},
		{"prefix too short", trace.ActionRegister, trace.Participant{Address: addr, Name: "X", Role: trace.RoleRetailer, Prefixes: []string{"95233"}}, trace.ErrBadIdentifier, "prefixes[0]"},
		{"location not an SGLN", trace.ActionRegister, trace.Participant{Address: addr, Name: "X", Role: trace.RoleRetailer, Locations: []string{"the back yard"}}, trace.ErrBadIdentifier, "locations[0]"},
		{"unknown role", trace.ActionRegister, trace.Participant{Address: addr, Name: "X", Role: "wholesaler"}, trace.ErrUnknownWord, "role"},
		{"no name", trace.ActionRegister, trace.Participant{Address: addr, Role: trace.RoleRetailer}, trace.ErrBadValue, "name"},
		{"no address", trace.ActionRegister, trace.Participant{Name: "X", Role: trace.RoleRetailer}, trace.ErrMissingField, "address"},
	}
	app := trace.New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := chain.EncodePayload(tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			err = app.Check(tc.action, p)
			if !errors.Is(err, chain.ErrBadPayload) || !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.field+": ") {
				t.Fatalf("Check = %v, want %q at %s", err, tc.kind, tc.field)
			}
		})
	}
	if err := app.Check("delete", nil); !errors.Is(err, chain.ErrUnknownAction) {
		t.Errorf("unknown action: %v", err)
	}
}

// TestEventIDsAreUnique: an eventID names one event; capturing it again
// is refused at delivery, where the chain's state is known.
func TestEventIDsAreUnique(t *testing.T) {
	c := newChain(t)
	e := event(trace.ObjectEvent, "OBSERVE", map[string]any{"eventID": "urn:uuid:11111111-2222-4333-8444-555555555555",
		"epcList": list("urn:epc:id:sgtin:9521111.054321.X1"), "readPoint": at(dcDock)})
	if _, err := c.Do(chaintest.Key(grocer), trace.Name, trace.ActionCapture, trace.Capture{Events: []map[string]any{e}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Do(chaintest.Key(grocer), trace.Name, trace.ActionCapture, trace.Capture{Events: []map[string]any{e}})
	if err == nil || !strings.Contains(err.Error(), "events[0].eventID") || !strings.Contains(err.Error(), trace.ErrDuplicate.Error()) {
		t.Errorf("second capture: %v", err)
	}
}

func TestQueryErrors(t *testing.T) {
	c := newChain(t)
	cases := []struct {
		path string
		args map[string]string
		want error
	}{
		{"epcs/not-an-epc/events", nil, chain.ErrBadPayload},
		{"epcs/urn:epc:id:sgtin:9521111.054321.X1/events", map[string]string{"biz_step": "shiping"}, chain.ErrBadPayload},
		{"epcs/urn:epc:id:sgtin:9521111.054321.X1/events", map[string]string{"colour": "green"}, chain.ErrBadPayload},
		{"epcs/urn:epc:id:sgtin:9521111.054321.X1/events", map[string]string{"from": "yesterday"}, chain.ErrBadPayload},
		{"epcs/urn:epc:id:sgtin:9521111.054321.X1/events", map[string]string{"limit": "100000"}, chain.ErrBadPayload},
		{"epcs/urn:epc:id:sgtin:9521111.054321.X1/state", nil, chain.ErrNotFound},
		{"epcs/urn:epc:id:sgtin:9521111.054321.X1/provenance", nil, chain.ErrNotFound},
		{"epcs/urn:epc:id:sgtin:9521111.054321.X1/history", nil, chain.ErrNotFound},
		{"events/7", nil, chain.ErrNotFound},
		{"events/seven", nil, chain.ErrBadPayload},
		{"participants/city1bad", nil, chain.ErrBadPayload},
		{"nothing", nil, chain.ErrNotFound},
	}
	for _, tc := range cases {
		if _, err := c.Query(trace.Name, tc.path, tc.args); !errors.Is(err, tc.want) {
			t.Errorf("%s %v: %v, want %v", tc.path, tc.args, err, tc.want)
		}
	}
}
