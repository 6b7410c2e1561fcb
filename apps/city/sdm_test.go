package city_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/apps/city/sdmtest"
	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/apps/sdk/sdktest"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
	"github.com/spf13/cobra"
)

// The conformance suite: the city's NGSI-LD exports checked against the
// official Smart Data Models schemas (testdata/sdm) by sdmtest, in both
// forms, from registration on. docs/standards.md lists what each test
// here proves.

func checker(t testing.TB) *sdmtest.Checker {
	t.Helper()
	ch, err := sdmtest.New(sdmtest.Dir(), nil, sdmtest.Extensions...)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestHandRegisteredDevicesConform registers one device of each model
// through the CLI with only the flags the command requires (and the one
// attribute a generic sensor must name), and checks the exports before
// any reading, after a reading of every attribute at the bottom of its
// range, and after one at the top.
func TestHandRegisteredDevicesConform(t *testing.T) {
	c := newCity(t, 0)
	ch := checker(t)
	operator := sdktest.Client{Chain: c, Key: chaintest.Key("operator")}
	hand := []struct {
		id    string
		flags []string
	}{
		{"hand-sl", []string{"--type", "Streetlight"}},
		{"hand-tf", []string{"--type", "TrafficFlowObserved"}},
		{"hand-aq", []string{"--type", "AirQualityObserved"}},
		{"hand-tl", []string{"--type", "Device", "--category", "actuator"}},
		{"hand-sn", []string{"--type", "Device", "--category", "sensor", "--attr", "controlledProperty=temperature"}},
	}
	var ids []string
	for _, h := range hand {
		args := append([]string{"register-device", "--id", h.id, "--pubkey", city.PubKeyHex(deviceKey(h.id)),
			"--owner", chaintest.Addr("owner").String(), "--lon", "121.4739", "--lat", "31.2305", "--district", "Hand"}, h.flags...)
		if _, err := sdktest.Run(t, city.New().TxCommands(operator), args...); err != nil {
			t.Fatalf("register %s: %v", h.id, err)
		}
		ids = append(ids, h.id)
	}
	if n := ch.Devices(t, c, ids...); n != 10 {
		t.Errorf("%d documents checked before the readings, want 10", n)
	}
	for seq, end := range []string{"min", "max"} {
		var rs []city.Reading
		for _, id := range ids {
			dv := query[city.DeviceView](t, c, "device/"+id, nil)
			rs = append(rs, reading(t, id, uint64(seq+1), everyAttribute(t, dv.Type, dv.Category, end)))
		}
		if _, err := c.Do(chaintest.Key("gateway"), city.Name, city.ActionReport, &city.Report{Readings: rs}); err != nil {
			t.Fatalf("readings at the %s: %v", end, err)
		}
		if n := ch.Devices(t, c, ids...); n != 10 {
			t.Errorf("%d documents checked after the readings at the %s, want 10", n, end)
		}
	}
	// The last reading shows in both forms.
	kv := query[map[string]any](t, c, "ngsi/hand-tf", map[string]string{"options": "keyValues"})
	if kv["laneId"] != 99.0 || kv["dateObserved"] == nil || kv["congested"] != true {
		t.Errorf("traffic counter after the readings = %v", kv)
	}
}

// everyAttribute returns a reading of every attribute of a model: each
// number at the bottom or top of its range (end "min" or "max"), the
// first or last word of each enumeration, both ends of each list.
func everyAttribute(t *testing.T, typ, category, end string) map[string]string {
	t.Helper()
	m, err := city.ModelFor(typ, category)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range m.Attrs {
		var view struct{ Min, Max string }
		raw, _ := json.Marshal(a)
		if err := json.Unmarshal(raw, &view); err != nil {
			t.Fatal(err)
		}
		first := end == "min"
		switch a.Kind {
		case city.KindNumber:
			out[a.Name] = map[bool]string{true: view.Min, false: view.Max}[first]
		case city.KindEnum:
			out[a.Name] = map[bool]string{true: a.Enum[0], false: a.Enum[len(a.Enum)-1]}[first]
		case city.KindList:
			out[a.Name] = map[bool]string{true: a.Enum[0], false: a.Enum[0] + "," + a.Enum[len(a.Enum)-1]}[first]
		case city.KindBool:
			out[a.Name] = map[bool]string{true: "false", false: "true"}[first]
		case city.KindText:
			out[a.Name] = map[bool]string{true: "x", false: strings.Repeat("y", a.MaxLen)}[first]
		}
	}
	return out
}

// TestTheCastConforms checks the devices the other tests use, as
// registered with their installation attributes, before and after a
// reading.
func TestTheCastConforms(t *testing.T) {
	c := newCity(t, 0)
	ch := checker(t)
	sensor := device("centro-sn-001", city.TypeDevice, city.CategorySensor, "-3.7118", "40.4236",
		map[string]string{"controlledProperty": "humidity,temperature"})
	registerAll(t, c, streetlight, counter, signalHead, airStation, sensor)
	ids := []string{streetlight.ID, counter.ID, signalHead.ID, airStation.ID, sensor.ID}
	ch.Devices(t, c, ids...)
	if _, err := c.Do(chaintest.Key("gateway"), city.Name, city.ActionReport, &city.Report{Readings: []city.Reading{
		reading(t, streetlight.ID, 1, kv("powerState", "on", "illuminanceLevel", "0.75", "status", "defectiveLamp")),
		reading(t, counter.ID, 1, kv("intensity", "120", "occupancy", "0.2")),
		reading(t, signalHead.ID, 1, kv("value", "green", "signalPlan", "day")),
		reading(t, airStation.ID, 1, kv("no2", "41.5", "pm10", "20", "airQualityIndex", "57")),
		reading(t, sensor.ID, 1, kv("value", "t=21.5;h=0.4", "rssi", "-71.5", "batteryLevel", "0.9")),
	}}); err != nil {
		t.Fatal(err)
	}
	ch.Devices(t, c, ids...)
	// The district, one type at a time and all together.
	for _, typ := range []string{"", city.TypeStreetlight, city.TypeDevice} {
		for _, args := range []map[string]string{{"district": "Centro", "type": typ}, {"district": "Centro", "type": typ, "options": "keyValues"}} {
			all := query[[]json.RawMessage](t, c, "ngsi", args)
			want := map[string]int{"": 5, city.TypeStreetlight: 1, city.TypeDevice: 2}[typ]
			if len(all) != want {
				t.Errorf("ngsi %v: %d entities, want %d", args, len(all), want)
			}
			for _, doc := range all {
				check := ch.Normalized
				if args["options"] != "" {
					check = ch.KeyValues
				}
				if err := check(doc); err != nil {
					t.Errorf("ngsi %v: %v\n%s", args, err, doc)
				}
			}
		}
	}
	rssi := query[map[string]any](t, c, "ngsi/"+sensor.ID, nil)["rssi"].(map[string]any)
	if rssi["value"] != -71.5 || rssi["unitCode"] != "DBM" {
		t.Errorf("rssi = %v, want -71.5 dBm", rssi)
	}
}

// TestWhatTheModelsRefuse: input the Smart Data Models would not take is
// refused at the door, with the field named.
func TestWhatTheModelsRefuse(t *testing.T) {
	c := newCity(t, 0)
	registerAll(t, c, counter)
	sensor := func(attrs map[string]string) *city.Register {
		r := device("centro-sn-009", city.TypeDevice, city.CategorySensor, "-3.7", "40.4", attrs)
		return &r
	}
	cases := []struct {
		name, action string
		payload      any
		field        string
		kind         error
	}{
		{"lane 0 (the model counts from 1)", city.ActionRegister,
			ptr(device("centro-tf-009", city.TypeTrafficFlow, "", "-3.7", "40.4", kv("laneId", "0"))), "attrs.laneId", city.ErrOutOfRange},
		{"a sensor that does not say what it senses", city.ActionRegister, sensor(nil), "attrs.controlledProperty", chain.ErrBadPayload},
		{"a property the model does not list", city.ActionRegister, sensor(kv("controlledProperty", "mood")), "attrs.controlledProperty", city.ErrOutOfRange},
		{"a property listed twice", city.ActionRegister, sensor(kv("controlledProperty", "light,light")), "attrs.controlledProperty", chain.ErrBadPayload},
		{"typeOfLocation, as the examples spell it", city.ActionRegister,
			ptr(device("centro-aq-009", city.TypeAirQuality, "", "-3.7", "40.4", kv("typeOfLocation", "outdoor"))), "typeofLocation", chain.ErrBadPayload},
		{"rssi as a 0..1 ratio", city.ActionRegister, sensor(kv("controlledProperty", "light", "rssi", "0.5")), "attrs.rssi", city.ErrOutOfRange},
		{"a reading of lane 0", city.ActionReport,
			&city.Report{Readings: []city.Reading{reading(t, counter.ID, 1, kv("laneId", "0"))}}, "readings[0].body.values.laneId", city.ErrOutOfRange},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Do(chaintest.Key("operator"), city.Name, tc.action, tc.payload)
			t.Log(err)
			// A failed reading comes back as its receipt's text.
			if err == nil || !strings.Contains(err.Error(), tc.kind.Error()) || !strings.Contains(err.Error(), chain.ErrBadPayload.Error()) ||
				!strings.Contains(err.Error(), tc.field) {
				t.Errorf("got %v, want %v naming %s", err, tc.kind, tc.field)
			}
		})
	}
}

// TestRegistrationRecordsWhatTheModelsRequire: a registration without
// them records a lamp's status and a signal's controlled property, with
// the registration's time, and the observed models carry that time as
// dateObserved until their first reading.
func TestRegistrationRecordsWhatTheModelsRequire(t *testing.T) {
	c := newCity(t, 0)
	lamp := device("centro-sl-009", city.TypeStreetlight, "", "-3.7", "40.4", nil)
	broken := device("centro-sl-010", city.TypeStreetlight, "", "-3.7", "40.4", kv("status", "brokenLantern"))
	registerAll(t, c, lamp, broken, signalHead, airStation)
	for id, want := range map[string][2]string{lamp.ID: {"status", "ok"}, broken.ID: {"status", "brokenLantern"},
		signalHead.ID: {"controlledProperty", "trafficFlow"}} {
		dv := query[city.DeviceView](t, c, "device/"+id, nil)
		if v := dv.State.Attrs[want[0]]; v.Value != want[1] || v.Source != "registration" || v.ObservedAt != dv.Time {
			t.Errorf("%s: %s = %+v, want %q from the registration at %s", id, want[0], v, want[1], dv.Time)
		}
	}
	aq := query[city.DeviceView](t, c, "device/"+airStation.ID, nil)
	if e := query[map[string]any](t, c, "ngsi/"+airStation.ID, map[string]string{"options": "keyValues"}); e["dateObserved"] != aq.Time {
		t.Errorf("dateObserved before a reading = %v, want the registration's time %s", e["dateObserved"], aq.Time)
	}
	// A device view speaks GeoJSON: coordinates are numbers.
	raw, _ := json.Marshal(query[json.RawMessage](t, c, "device/"+lamp.ID, nil))
	if !strings.Contains(string(raw), `"coordinates":[-3.7,40.4]`) {
		t.Errorf("device view location: %s", raw)
	}
	// The models query says which attributes a registration must give.
	var required []string
	for _, m := range query[[]struct{ Attrs []map[string]any }](t, c, "models", nil) {
		for _, a := range m.Attrs {
			if a["required"] == true {
				required = append(required, a["name"].(string))
			}
		}
	}
	if !slices.Equal(required, []string{"controlledProperty"}) {
		t.Errorf("required at registration: %v", required)
	}
}

// TestExportOfAnOlderState: a state written under the older models
// (typeOfLocation, a lane 0, an rssi ratio, no status) still exports
// documents that conform: renamed, the values the models now refuse left
// out, the defaults as of the registration.
func TestExportOfAnOlderState(t *testing.T) {
	ch := checker(t)
	at := "2025-06-01T10:00:00Z"
	old := func(v string) city.Value { return city.Value{Value: v, ObservedAt: at, Source: "registration"} }
	cases := []struct {
		d       city.Device
		attrs   map[string]city.Value
		want    map[string]any // keyValues members; nil: absent
		missing []string
	}{
		{city.Device{ID: "aq", Type: city.TypeAirQuality}, map[string]city.Value{"typeOfLocation": old("indoor"), "no2": old("12.5")},
			map[string]any{"typeofLocation": "indoor", "no2": 12.5, "dateObserved": at}, []string{"typeOfLocation"}},
		{city.Device{ID: "tf", Type: city.TypeTrafficFlow}, map[string]city.Value{"laneId": old("0")},
			map[string]any{"dateObserved": at}, []string{"laneId"}},
		{city.Device{ID: "sn", Type: city.TypeDevice, Category: city.CategorySensor},
			map[string]city.Value{"rssi": old("0.86"), "controlledProperty": old("light")},
			map[string]any{"controlledProperty": []any{"light"}}, []string{"rssi"}},
		{city.Device{ID: "sl", Type: city.TypeStreetlight}, map[string]city.Value{"powerState": old("on")},
			map[string]any{"status": "ok", "powerState": "on"}, nil},
		{city.Device{ID: "tl", Type: city.TypeDevice, Category: city.CategoryActuator}, map[string]city.Value{},
			map[string]any{"controlledProperty": []any{"trafficFlow"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.d.Type+" "+tc.d.Category, func(t *testing.T) {
			d := tc.d
			d.Location, d.District, d.Time, d.Owner = city.NewPoint("2.35", "48.85"), "Paris", at, chaintest.Addr("owner")
			s := &city.State{Attrs: tc.attrs}
			for form, check := range map[city.Form]func([]byte) error{city.Normalized: ch.Normalized, city.KeyValues: ch.KeyValues} {
				doc, _ := json.Marshal(city.Entity(&d, s, form))
				if err := check(doc); err != nil {
					t.Errorf("%v\n%s", err, doc)
				}
			}
			var e map[string]any
			doc, _ := json.Marshal(city.Entity(&d, s, city.KeyValues))
			_ = json.Unmarshal(doc, &e)
			for _, k := range slices.Sorted(maps.Keys(tc.want)) {
				if got, _ := json.Marshal(e[k]); string(got) != mustJSON(tc.want[k]) {
					t.Errorf("%s = %s, want %s", k, got, mustJSON(tc.want[k]))
				}
			}
			for _, k := range tc.missing {
				if _, ok := e[k]; ok {
					t.Errorf("%s exported: %v", k, e[k])
				}
			}
		})
	}
}

// TestAnOlderSensorConformsOnceItSaysWhatItSenses: a generic sensor
// registered before controlledProperty was required exports a Device the
// schema refuses, until a reading reports what it senses (a reading may
// carry installation attributes).
func TestAnOlderSensorConformsOnceItSaysWhatItSenses(t *testing.T) {
	ch := checker(t)
	d := city.Device{ID: "sn", Type: city.TypeDevice, Category: city.CategorySensor, Location: city.NewPoint("2.35", "48.85"),
		District: "Paris", Time: "2025-06-01T10:00:00Z", Owner: chaintest.Addr("owner")}
	s := &city.State{Attrs: map[string]city.Value{"value": {Value: "42", ObservedAt: d.Time}}}
	doc, _ := json.Marshal(city.Entity(&d, s, city.KeyValues))
	if err := ch.KeyValues(doc); err == nil || !strings.Contains(err.Error(), "controlledProperty") {
		t.Errorf("a sensor without controlledProperty: %v", err)
	}
	s.Attrs["controlledProperty"] = city.Value{Value: "noiseLevel", ObservedAt: "2025-06-02T10:00:00Z", Source: "reading"}
	doc, _ = json.Marshal(city.Entity(&d, s, city.KeyValues))
	if err := ch.KeyValues(doc); err != nil {
		t.Errorf("once it has said what it senses: %v\n%s", err, doc)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestTheCheckerFails: the checker refuses documents that break one rule
// of the models each, so that a passing conformance test means something.
// Each case starts from a conforming export and breaks it.
func TestTheCheckerFails(t *testing.T) {
	c := newCity(t, 0)
	ch := checker(t)
	sensor := device("centro-sn-001", city.TypeDevice, city.CategorySensor, "-3.7", "40.4", kv("controlledProperty", "light"))
	registerAll(t, c, streetlight, counter, airStation, sensor)
	export := func(id string, form city.Form) map[string]any {
		args := map[string]string{}
		if form == city.KeyValues {
			args["options"] = "keyValues"
		}
		return query[map[string]any](t, c, "ngsi/"+id, args)
	}
	cases := []struct {
		name    string
		id      string
		form    city.Form
		breakIt func(e map[string]any)
		want    string // in the error
	}{
		{"a streetlight without status", streetlight.ID, city.KeyValues, func(e map[string]any) { delete(e, "status") }, "status"},
		{"a status the model lacks", streetlight.ID, city.KeyValues, func(e map[string]any) { e["status"] = "dim" }, "status"},
		{"illuminance above 1", streetlight.ID, city.KeyValues, func(e map[string]any) { e["illuminanceLevel"] = 1.5 }, "illuminanceLevel"},
		{"lane 0", counter.ID, city.KeyValues, func(e map[string]any) { e["laneId"] = 0 }, "laneId"},
		{"a lane that is not an integer", counter.ID, city.KeyValues, func(e map[string]any) { e["laneId"] = 1.5 }, "laneId"},
		{"coordinates as text", counter.ID, city.KeyValues, func(e map[string]any) {
			e["location"] = map[string]any{"type": "Point", "coordinates": []string{"-3.711", "40.423"}}
		}, "location"},
		{"an observation without dateObserved", airStation.ID, city.KeyValues, func(e map[string]any) { delete(e, "dateObserved") }, "dateObserved"},
		{"dateObserved that is no date-time", airStation.ID, city.KeyValues, func(e map[string]any) { e["dateObserved"] = "yesterday" }, "dateObserved"},
		{"typeOfLocation as the examples spell it", airStation.ID, city.KeyValues, func(e map[string]any) { e["typeOfLocation"] = "outdoor" }, "typeOfLocation"},
		{"a device without controlledProperty", sensor.ID, city.KeyValues, func(e map[string]any) { delete(e, "controlledProperty") }, "controlledProperty"},
		{"a controlled property the model lacks", sensor.ID, city.KeyValues, func(e map[string]any) { e["controlledProperty"] = []string{"mood"} }, "controlledProperty"},
		{"a battery above full", sensor.ID, city.KeyValues, func(e map[string]any) { e["batteryLevel"] = 2 }, "batteryLevel"},
		{"only the core context", streetlight.ID, city.KeyValues, func(e map[string]any) { e["@context"] = city.NGSIContext }, "@context"},
		{"the wrong model's context", streetlight.ID, city.KeyValues, func(e map[string]any) {
			e["@context"] = []string{city.NGSIContext, city.ContextPath(city.TypeDevice)}
		}, "Streetlight"},
		{"an id that is no URI", streetlight.ID, city.KeyValues, func(e map[string]any) { e["id"] = "centro sl 1" }, "id"},
		{"a normalized entity checked as keyValues", streetlight.ID, city.Normalized, nil, "keyValues"},
		{"a bare value in a normalized entity", streetlight.ID, city.Normalized, func(e map[string]any) { e["status"] = "ok" }, "status"},
		{"a Property without a value", streetlight.ID, city.Normalized, func(e map[string]any) {
			e["status"] = map[string]any{"type": "Property"}
		}, "status"},
		{"a unit that is no code", streetlight.ID, city.Normalized, func(e map[string]any) {
			e["lanternHeight"].(map[string]any)["unitCode"] = 8
		}, "lanternHeight.unitCode"},
		{"observedAt that is no time", streetlight.ID, city.Normalized, func(e map[string]any) {
			e["lanternHeight"].(map[string]any)["observedAt"] = "at dusk"
		}, "lanternHeight.observedAt"},
		{"a location that is a Property", streetlight.ID, city.Normalized, func(e map[string]any) {
			e["location"].(map[string]any)["type"] = "Property"
		}, "location"},
		{"a normalized value out of range", streetlight.ID, city.Normalized, func(e map[string]any) {
			e["lanternHeight"].(map[string]any)["value"] = -1
		}, "lanternHeight"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := export(tc.id, tc.form)
			check := ch.KeyValues
			if tc.form == city.Normalized && tc.breakIt != nil {
				check = ch.Normalized
			}
			doc, _ := json.Marshal(e)
			if err := check(doc); err != nil && tc.breakIt != nil {
				t.Fatalf("the export fails before it is broken: %v\n%s", err, doc)
			}
			if tc.breakIt != nil {
				tc.breakIt(e)
				doc, _ = json.Marshal(e)
			}
			err := check(doc)
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("check = %v, want an error about %s\n%s", err, tc.want, doc)
			}
		})
	}
}

// offline is a gateway that registers but whose reports all fail, so
// that the simulator's devices can be checked before any reading.
type offline struct{ sdktest.Client }

func (o offline) Submit(cmd *cobra.Command, app, action string, payload any) error {
	if action == city.ActionReport {
		return errors.New("gateway offline")
	}
	return o.Client.Submit(cmd, app, action, payload)
}

// TestSimulatedDistrictConforms runs the simulator's registrations (its
// reports refused), checks every device it registered, then lets it
// report and checks them again.
func TestSimulatedDistrictConforms(t *testing.T) {
	c := newCity(t, 0)
	ch := checker(t)
	now := c.Time
	run := func(client sdk.Client, args ...string) (string, error) {
		cfg := city.SimConfig{Client: client, Clock: func() time.Time { return now }}
		cmd := city.SimCommandWithWait(cfg, func(ctx context.Context, d time.Duration) error { now = now.Add(d); return ctx.Err() })
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), err
	}
	gateway := sdktest.Client{Chain: c, Key: chaintest.Key("operator")}
	if out, err := run(offline{gateway}, "--devices", "20", "--rate", "20", "--count", "40"); err == nil || !strings.Contains(out, "20 registrations sent") {
		t.Fatalf("the offline run: %v\n%s", err, out)
	}
	var ids []string
	for _, d := range query[[]city.DeviceView](t, c, "devices", map[string]string{"prefix": "centro-"}) {
		if d.State.Readings != 0 {
			t.Fatalf("%s has %d readings before the simulator reported", d.ID, d.State.Readings)
		}
		ids = append(ids, d.ID)
	}
	if n := ch.Devices(t, c, ids...); n != 40 {
		t.Errorf("%d documents checked before the readings, want 40", n)
	}
	if out, err := run(gateway, "--devices", "20", "--rate", "20", "--count", "40"); err != nil || !strings.Contains(out, "done: 40 readings") {
		t.Fatalf("the run: %v\n%s", err, out)
	}
	for _, d := range query[[]city.DeviceView](t, c, "devices", map[string]string{"prefix": "centro-"}) {
		if d.State.Readings != 2 {
			t.Errorf("%s has %d readings, want 2", d.ID, d.State.Readings)
		}
	}
	if n := ch.Devices(t, c, ids...); n != 40 {
		t.Errorf("%d documents checked after the readings, want 40", n)
	}
}
