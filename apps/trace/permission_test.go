package trace_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// event builds a minimal valid event of the given type and action and
// applies the field changes in set (a nil value deletes the field).
func event(typ, action string, set map[string]any) map[string]any {
	e := map[string]any{
		"type":                typ,
		"eventTime":           "2026-03-10T09:00:00+01:00",
		"eventTimeZoneOffset": "+01:00",
	}
	if action != "" {
		e["action"] = action
	}
	for k, v := range set {
		if v == nil {
			delete(e, k)
		} else {
			e[k] = v
		}
	}
	return e
}

func at(sgln string) map[string]any { return map[string]any{"id": sgln} }

func list(s ...string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

const (
	factory   = "urn:epc:id:sgln:9521111.00020.0"
	dcDock    = "urn:epc:id:sgln:9523333.00001.dock2"
	depot     = "urn:epc:id:sgln:9522222.00001.gate2"
	kioskHere = "urn:epc:id:sgln:9525555.00001.0"
)

// TestWhoMayCaptureWhat checks each permission rule of participant.go,
// with the tea story's companies and a kiosk registered for one location
// only (no prefix).
func TestWhoMayCaptureWhat(t *testing.T) {
	c := newChain(t)
	kiosk := trace.Participant{Address: chaintest.Addr("kiosk"), Name: "Station kiosk", Role: trace.RoleRetailer,
		Locations: []string{kioskHere}}
	if _, err := c.Do(chaintest.Key(admin), trace.Name, trace.ActionRegister, &kiosk); err != nil {
		t.Fatal(err)
	}
	coopItem := "urn:epc:id:sgtin:9521111.054321.X1"
	cases := []struct {
		name  string
		who   string
		event map[string]any
		field string // "" when allowed
	}{
		// Rule 1: where.
		{"retailer records at the manufacturer's plant", grocer,
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(coopItem), "readPoint": at(factory)}), "events[0].readPoint.id"},
		{"retailer names the manufacturer's plant as bizLocation", grocer,
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(coopItem), "readPoint": at(dcDock), "bizLocation": at(factory)}), "events[0].bizLocation.id"},
		{"logistics records at the retailer's DC", freight,
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(coopItem), "readPoint": at(dcDock)}), "events[0].readPoint.id"},
		{"retailer receives the manufacturer's goods at its DC", grocer,
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(coopItem), "readPoint": at(dcDock), "bizStep": "receiving"}), ""},
		{"logistics observes the manufacturer's pallet at its depot", freight,
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list("urn:epc:id:sscc:9521111.0000000017"), "readPoint": at(depot)}), ""},
		{"a listed location covers its extensions", "kiosk",
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(coopItem), "readPoint": at("urn:epc:id:sgln:9525555.00001.shelf3")}), ""},
		{"but not another GLN of the same company", "kiosk",
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(coopItem), "readPoint": at("urn:epc:id:sgln:9525555.00002.0")}), "events[0].readPoint.id"},
		{"a Digital Link location under the retailer's prefix", grocer,
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(coopItem), "readPoint": at("https://id.gs1.org/414/9523333000031")}), ""},

		// Rule 2: no where.
		{"retailer names the manufacturer's item without a location", grocer,
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(coopItem)}), "events[0].epcList[0]"},
		{"manufacturer names its own item without a location", coop,
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(coopItem)}), ""},

		// Rule 3: new numbers.
		{"retailer commissions under the manufacturer's prefix", grocer,
			event(trace.ObjectEvent, "ADD", map[string]any{"epcList": list(coopItem), "readPoint": at(dcDock)}), "events[0].epcList[0]"},
		{"retailer commissions a lot of the manufacturer's class", grocer,
			event(trace.ObjectEvent, "ADD", map[string]any{"quantityList": []any{map[string]any{"epcClass": "urn:epc:class:lgtin:9521111.054321.L1", "quantity": 5}}, "readPoint": at(dcDock)}), "events[0].quantityList[0].epcClass"},
		{"retailer makes outputs under the manufacturer's prefix", grocer,
			event(trace.TransformationEvent, "", map[string]any{"inputEPCList": list("urn:epc:id:sgtin:9523333.077777.I1"), "outputEPCList": list(coopItem), "readPoint": at(dcDock)}), "events[0].outputEPCList[0]"},
		{"retailer makes its own outputs from the manufacturer's inputs", grocer,
			event(trace.TransformationEvent, "", map[string]any{"inputEPCList": list(coopItem), "outputEPCList": list("urn:epc:id:sgtin:9523333.077777.O1"), "readPoint": at(dcDock)}), ""},
		{"retailer commissions its own number, as a Digital Link", grocer,
			event(trace.ObjectEvent, "ADD", map[string]any{"epcList": list("https://id.gs1.org/01/09523333777773/21/N1"), "readPoint": at(dcDock)}), ""},
		{"a location-only participant commissions nothing", "kiosk",
			event(trace.ObjectEvent, "ADD", map[string]any{"epcList": list("urn:epc:id:sgtin:9525555.000001.1"), "readPoint": at(kioskHere)}), "events[0].epcList[0]"},
		{"the admin may do anything", admin,
			event(trace.ObjectEvent, "ADD", map[string]any{"epcList": list("urn:epc:id:sgtin:9529999.000001.1"), "readPoint": at(factory)}), ""},

		// Only participants capture.
		{"a stranger", "mallory",
			event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(coopItem), "readPoint": at(dcDock)}), "not a trace participant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(query[*trace.EventsAnswer](t, c, "events", map[string]string{"limit": "500"}).Events)
			_, err := c.Do(chaintest.Key(tc.who), trace.Name, trace.ActionCapture, trace.Capture{Events: []map[string]any{tc.event}})
			after := len(query[*trace.EventsAnswer](t, c, "events", map[string]string{"limit": "500"}).Events)
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field == "":
				if after != before+1 {
					t.Errorf("%d events recorded, want 1", after-before)
				}
			case err == nil:
				t.Fatalf("allowed, want refused at %s", tc.field)
			case !strings.Contains(err.Error(), chain.ErrUnauthorized.Error()) || !strings.Contains(err.Error(), tc.field):
				t.Errorf("error %q does not name %s as unauthorized", err, tc.field)
			case after != before:
				t.Errorf("a refused capture recorded %d events", after-before)
			}
		})
	}
}

func TestACaptureIsAllOrNothing(t *testing.T) {
	c := newChain(t)
	ok := event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list("urn:epc:id:sgtin:9521111.054321.X1"), "readPoint": at(dcDock)})
	bad := event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list("urn:epc:id:sgtin:9521111.054321.X1"), "readPoint": at(factory)})
	if _, err := c.Do(chaintest.Key(grocer), trace.Name, trace.ActionCapture, trace.Capture{Events: []map[string]any{ok, bad}}); err == nil {
		t.Fatal("allowed")
	}
	if n := len(query[*trace.EventsAnswer](t, c, "events", nil).Events); n != 0 {
		t.Errorf("%d events kept from a refused capture", n)
	}
}

// TestWhoMayRegisterWhom: only admins register, and an admin may
// register another admin; registering again replaces the entry.
func TestWhoMayRegisterWhom(t *testing.T) {
	c := newChain(t)
	newcomer := trace.Participant{Address: chaintest.Addr("dairy"), Name: "Valley Dairy", Role: trace.RoleManufacturer, Prefixes: []string{"9526666"}}
	for _, who := range []string{coop, freight, grocer, "dairy", "mallory"} {
		raw, _ := c.Tx(chaintest.Key(who), trace.Name, trace.ActionRegister, &newcomer)
		rs, err := c.Block(raw)
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Status == chain.StatusOK || !strings.Contains(rs[0].Error, "unauthorized") {
			t.Errorf("%s registered a participant: %+v", who, rs[0])
		}
	}
	deputy := trace.Participant{Address: chaintest.Addr("deputy"), Name: "Deputy admin", Role: trace.RoleAdmin}
	if _, err := c.Do(chaintest.Key(admin), trace.Name, trace.ActionRegister, &deputy); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(chaintest.Key("deputy"), trace.Name, trace.ActionRegister, &newcomer); err != nil {
		t.Fatalf("a registered admin may register: %v", err)
	}
	newcomer.Prefixes = []string{"9526666", "9527777"}
	if _, err := c.Do(chaintest.Key("deputy"), trace.Name, trace.ActionRegister, &newcomer); err != nil {
		t.Fatal(err)
	}
	got := query[*trace.ParticipantAnswer](t, c, "participants/"+chaintest.Addr("dairy").String(), nil)
	if len(got.Prefixes) != 2 || got.Role != trace.RoleManufacturer {
		t.Errorf("updated participant: %+v", got)
	}
	if _, err := c.Query(trace.Name, "participants/"+chaintest.Addr("nobody").String(), nil); !errors.Is(err, chain.ErrNotFound) {
		t.Errorf("unknown participant: %v", err)
	}
}

func TestGenesisIsChecked(t *testing.T) {
	cases := map[string]trace.GenesisState{
		"a bad prefix":  {Participants: []trace.Participant{{Address: chaintest.Addr("a"), Name: "A", Role: trace.RoleAdmin, Prefixes: []string{"12"}}}},
		"an odd role":   {Participants: []trace.Participant{{Address: chaintest.Addr("a"), Name: "A", Role: "owner"}}},
		"listed twice":  {Participants: []trace.Participant{trace.DevGenesis(chaintest.Addr("a")).Participants[0], trace.DevGenesis(chaintest.Addr("a")).Participants[0]}},
		"a bad address": {Participants: []trace.Participant{{Name: "A", Role: trace.RoleAdmin}}},
	}
	for name, g := range cases {
		if _, err := chaintest.New([]chain.App{trace.New()}, map[string]any{trace.Name: g}); err == nil {
			t.Errorf("%s: genesis accepted", name)
		}
	}
}
