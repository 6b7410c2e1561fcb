package city_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// TestAStreetlightReportsIsDimmedAndAcknowledges is the module's story:
// the operator registers a district, a gateway carries several readings
// in one transaction, the operator dims a lamp and the lamp answers.
func TestAStreetlightReportsIsDimmedAndAcknowledges(t *testing.T) {
	c := newCity(t, 0)
	registerAll(t, c, streetlight, counter, signalHead, airStation)

	// Four readings from three devices in one transaction, sent by a
	// gateway that is not a device and not an operator.
	r, err := c.Do(chaintest.Key("gateway"), city.Name, city.ActionReport, &city.Report{Readings: []city.Reading{
		reading(t, streetlight.ID, 1, kv("powerState", "on", "illuminanceLevel", "1", "powerConsumption", "61.5")),
		reading(t, streetlight.ID, 2, kv("powerState", "low", "illuminanceLevel", "0.5")),
		reading(t, counter.ID, 1, kv("intensity", "197", "occupancy", "0.76", "averageVehicleSpeed", "52.6", "congested", "true")),
		reading(t, airStation.ID, 7, kv("no2", "69", "pm10", "21.4", "pm25", "12", "o3", "45.5", "co", "0.5", "temperature", "-3.5")),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.Events); n != 4 {
		t.Errorf("%d events, want one per reading: %+v", n, r.Events)
	}

	sl := query[city.DeviceView](t, c, "device/"+streetlight.ID, nil)
	if sl.State.LastSeq != 2 || sl.State.Readings != 2 {
		t.Errorf("last seq %d, readings %d; want 2, 2", sl.State.LastSeq, sl.State.Readings)
	}
	for name, want := range map[string]string{"powerState": "low", "illuminanceLevel": "0.5", "powerConsumption": "61.5", "lanternHeight": "8"} {
		if got := sl.State.Attrs[name].Value; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if src := sl.State.Attrs["lanternHeight"].Source; src != "registration" {
		t.Errorf("lanternHeight came from %q, want registration", src)
	}
	h := query[city.HistoryAnswer](t, c, "history/"+streetlight.ID, nil)
	if len(h.Entries) != 2 || h.Entries[0].Seq != 2 || h.Entries[1].Seq != 1 {
		t.Fatalf("history = %+v, want seq 2 then 1", h.Entries)
	}
	if h.Entries[0].TxHash == (chain.Hash{}) {
		t.Error("history entry without its transaction hash")
	}
	if aq := query[city.DeviceView](t, c, "device/"+airStation.ID, nil); aq.State.Attrs["temperature"].Value != "-3.5" {
		t.Errorf("temperature = %q", aq.State.Attrs["temperature"].Value)
	}

	// The operator dims the lamp; the command waits for the device.
	if _, err := c.Do(chaintest.Key("operator"), city.Name, city.ActionCommand,
		&city.Command{Device: streetlight.ID, Action: "dim", Value: "0.40"}); err != nil {
		t.Fatal(err)
	}
	pending := query[[]city.CommandRecord](t, c, "commands", map[string]string{"status": "pending"})
	if len(pending) != 1 || pending[0].ID != 1 || pending[0].Value != "0.4" || pending[0].Attr != "illuminanceLevel" {
		t.Fatalf("pending = %+v", pending)
	}

	// The lamp acknowledges, signed with its own key; the gateway sends it.
	ack, err := city.SignAck(deviceKey(streetlight.ID), chaintest.ChainID,
		city.AckBody{Device: streetlight.ID, Command: 1, Result: city.ResultDone, Detail: "dimmed"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(chaintest.Key("gateway"), city.Name, city.ActionAck, &ack); err != nil {
		t.Fatal(err)
	}
	rec := query[city.CommandRecord](t, c, "command/1", nil)
	if rec.Status != city.StatusDone || rec.AckedAt != c.Height || rec.Detail != "dimmed" {
		t.Errorf("command after ack = %+v", rec)
	}
	sl = query[city.DeviceView](t, c, "device/"+streetlight.ID, nil)
	if v := sl.State.Attrs["illuminanceLevel"]; v.Value != "0.4" || v.Source != "command 1" {
		t.Errorf("illuminanceLevel after the ack = %+v", v)
	}
	if p := query[[]city.CommandRecord](t, c, "commands", map[string]string{"status": "pending"}); len(p) != 0 {
		t.Errorf("still pending: %+v", p)
	}

	// A traffic light that fails a command keeps its state.
	if _, err := c.Do(chaintest.Key("operator"), city.Name, city.ActionCommand,
		&city.Command{Device: signalHead.ID, Action: "set-signal", Value: "flashing"}); err != nil {
		t.Fatal(err)
	}
	fail, _ := city.SignAck(deviceKey(signalHead.ID), chaintest.ChainID, city.AckBody{Device: signalHead.ID, Command: 2, Result: city.ResultFailed, Detail: "lamp fault"})
	if _, err := c.Do(chaintest.Key("gateway"), city.Name, city.ActionAck, &fail); err != nil {
		t.Fatal(err)
	}
	tl := query[city.DeviceView](t, c, "device/"+signalHead.ID, nil)
	if _, set := tl.State.Attrs["value"]; set {
		t.Errorf("a failed command changed the state: %+v", tl.State.Attrs)
	}
	if cmds := query[[]city.CommandRecord](t, c, "commands/"+signalHead.ID, nil); len(cmds) != 1 || cmds[0].Status != city.StatusFailed {
		t.Errorf("traffic light's commands = %+v", cmds)
	}
}

// TestRejections is the table of what the chain refuses, and why: every
// error has its kind and names the field at fault.
func TestRejections(t *testing.T) {
	c := newCity(t, 0)
	registerAll(t, c, streetlight, counter, signalHead, airStation)
	if _, err := c.Do(chaintest.Key("gateway"), city.Name, city.ActionReport,
		&city.Report{Readings: []city.Reading{reading(t, streetlight.ID, 5, kv("powerState", "on"))}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(chaintest.Key("operator"), city.Name, city.ActionCommand, &city.Command{Device: streetlight.ID, Action: "reboot"}); err != nil {
		t.Fatal(err)
	}
	blockTime := c.Time.Add(time.Second)

	report := func(rs ...city.Reading) *city.Report { return &city.Report{Readings: rs} }
	forged, _ := city.SignReading(deviceKey("someone-else"), chaintest.ChainID,
		city.Observation{Device: streetlight.ID, Seq: 6, Values: kv("powerState", "off")})
	otherChain, _ := city.SignReading(deviceKey(streetlight.ID), "another-chain",
		city.Observation{Device: streetlight.ID, Seq: 6, Values: kv("powerState", "off")})
	future, _ := city.SignReading(deviceKey(streetlight.ID), chaintest.ChainID, city.Observation{Device: streetlight.ID, Seq: 6,
		ObservedAt: blockTime.Add(time.Hour).Format(time.RFC3339), Values: kv("powerState", "off")})
	ackBy := func(signer string, cmd uint64) *city.Ack {
		a, _ := city.SignAck(deviceKey(signer), chaintest.ChainID, city.AckBody{Device: streetlight.ID, Command: cmd, Result: city.ResultDone})
		return &a
	}
	wrongDevice, _ := city.SignAck(deviceKey(counter.ID), chaintest.ChainID, city.AckBody{Device: counter.ID, Command: 1, Result: city.ResultDone})

	cases := []struct {
		name    string
		sender  string
		action  string
		payload any
		want    []error
		field   string
	}{
		{"reading signed by the wrong key", "gateway", city.ActionReport, report(forged),
			[]error{city.ErrBadSignature, chain.ErrBadPayload}, "readings[0].signature"},
		{"reading signed for another chain", "gateway", city.ActionReport, report(otherChain),
			[]error{city.ErrBadSignature}, "readings[0].signature"},
		{"reading for an unregistered device", "gateway", city.ActionReport,
			report(reading(t, "centro-sl-999", 1, kv("powerState", "on"))),
			[]error{city.ErrUnknownDevice, chain.ErrNotFound}, "readings[0].body.device"},
		{"illuminance above 1", "gateway", city.ActionReport,
			report(reading(t, streetlight.ID, 6, kv("illuminanceLevel", "1.5"))),
			[]error{city.ErrOutOfRange, chain.ErrBadPayload}, "readings[0].body.values.illuminanceLevel"},
		{"more decimals than the model takes", "gateway", city.ActionReport,
			report(reading(t, streetlight.ID, 6, kv("illuminanceLevel", "0.1234"))),
			[]error{chain.ErrBadPayload}, "readings[0].body.values.illuminanceLevel"},
		{"an attribute the model lacks", "gateway", city.ActionReport,
			report(reading(t, streetlight.ID, 6, kv("intensity", "12"))),
			[]error{chain.ErrBadPayload}, "readings[0].body.values.intensity"},
		{"speed over 300 km/h", "gateway", city.ActionReport,
			report(reading(t, counter.ID, 1, kv("averageVehicleSpeed", "300.1"))),
			[]error{city.ErrOutOfRange}, "readings[0].body.values.averageVehicleSpeed"},
		{"negative intensity", "gateway", city.ActionReport,
			report(reading(t, counter.ID, 1, kv("intensity", "-1"))),
			[]error{city.ErrOutOfRange}, "readings[0].body.values.intensity"},
		{"occupancy above 1", "gateway", city.ActionReport,
			report(reading(t, counter.ID, 1, kv("occupancy", "1.01"))),
			[]error{city.ErrOutOfRange}, "readings[0].body.values.occupancy"},
		{"temperature below -60 °C", "gateway", city.ActionReport,
			report(reading(t, airStation.ID, 1, kv("temperature", "-60.1"))),
			[]error{city.ErrOutOfRange}, "readings[0].body.values.temperature"},
		{"traffic light showing blue", "gateway", city.ActionReport,
			report(reading(t, signalHead.ID, 1, kv("value", "blue"))),
			[]error{city.ErrOutOfRange}, "readings[0].body.values.value"},
		{"a bad second reading fails the report", "gateway", city.ActionReport,
			report(reading(t, counter.ID, 1, kv("intensity", "10")), reading(t, counter.ID, 2, kv("pm10", "3"))),
			[]error{chain.ErrBadPayload}, "readings[1].body.values.pm10"},
		{"replayed sequence number", "gateway", city.ActionReport,
			report(reading(t, streetlight.ID, 5, kv("powerState", "on"))),
			[]error{city.ErrStale}, "readings[0].body.seq"},
		{"reading from the future", "gateway", city.ActionReport, report(future),
			[]error{chain.ErrBadPayload}, "readings[0].body.observed_at"},
		{"command from a non-operator", "mallory", city.ActionCommand,
			&city.Command{Device: streetlight.ID, Action: "dim", Value: "0.1"},
			[]error{chain.ErrUnauthorized}, "sender"},
		{"registration by a non-operator", "mallory", city.ActionRegister,
			ptr(device("centro-sl-002", city.TypeStreetlight, "", "-3.71", "40.42", nil)),
			[]error{chain.ErrUnauthorized}, "sender"},
		{"registering an id twice", "operator", city.ActionRegister, &streetlight,
			[]error{city.ErrDuplicate}, "id"},
		{"dim level above 1", "operator", city.ActionCommand,
			&city.Command{Device: streetlight.ID, Action: "dim", Value: "2"},
			[]error{city.ErrOutOfRange}, "value (illuminanceLevel)"},
		{"a command the model lacks", "operator", city.ActionCommand,
			&city.Command{Device: streetlight.ID, Action: "set-signal", Value: "red"},
			[]error{chain.ErrBadPayload}, "action"},
		{"command to an unknown device", "operator", city.ActionCommand,
			&city.Command{Device: "nowhere", Action: "reboot"},
			[]error{city.ErrUnknownDevice}, "device"},
		{"ack signed by another device", "gateway", city.ActionAck, ackBy(counter.ID, 1),
			[]error{city.ErrBadSignature}, "signature"},
		{"ack for another device's command", "gateway", city.ActionAck, &wrongDevice,
			[]error{chain.ErrBadPayload}, "body.device"},
		{"ack for a command that does not exist", "gateway", city.ActionAck, ackBy(streetlight.ID, 9),
			[]error{chain.ErrNotFound}, "body.command"},
	}
	app := city.New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload, err := chain.EncodePayload(tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			// The mempool's stateless check first, then the block's.
			err = app.Check(tc.action, payload)
			if err == nil {
				ctx := chain.NewContext(city.Name, chain.NewOverlay(c.State()),
					chain.BlockInfo{ChainID: chaintest.ChainID, Height: c.Height + 1, Time: blockTime},
					chaintest.Addr(tc.sender), chain.Hash{1})
				err = app.Deliver(ctx, tc.action, payload)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			t.Log(err) // go test -v shows what a user would read
			for _, want := range tc.want {
				if !errors.Is(err, want) {
					t.Errorf("error %q is not %v", err, want)
				}
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %s", err, tc.field)
			}
		})
	}

	// The same through a real block: the receipt fails with the field in
	// its text, and the device's state does not move.
	raw, err := c.Tx(chaintest.Key("gateway"), city.Name, city.ActionReport, report(
		reading(t, streetlight.ID, 6, kv("powerState", "off")),
		reading(t, streetlight.ID, 7, kv("illuminanceLevel", "7"))))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.Block(raw)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != chain.StatusFailed || !strings.Contains(rs[0].Error, "readings[1].body.values.illuminanceLevel") {
		t.Errorf("receipt = %+v", rs[0])
	}
	if sl := query[city.DeviceView](t, c, "device/"+streetlight.ID, nil); sl.State.LastSeq != 5 || sl.State.Attrs["powerState"].Value != "on" {
		t.Errorf("a failed report changed the state: %+v", sl.State)
	}

	// A second ack of the same command is refused.
	if _, err := c.Do(chaintest.Key("gateway"), city.Name, city.ActionAck, ackBy(streetlight.ID, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(chaintest.Key("gateway"), city.Name, city.ActionAck, ackBy(streetlight.ID, 1)); err == nil || !strings.Contains(err.Error(), city.ErrNotPending.Error()) {
		t.Errorf("second ack: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestCheckRefusesMalformedPayloadsAtTheDoor covers what the mempool
// refuses without looking at state, from payloads as any client could
// write them in JSON.
func TestCheckRefusesMalformedPayloadsAtTheDoor(t *testing.T) {
	owner := chaintest.Addr("operator").String()
	pub := city.PubKeyHex(deviceKey("x"))
	reg := func(fields string) string {
		return `{"id":"sl-1","type":"Streetlight","pubkey":"` + pub + `","owner":"` + owner +
			`","district":"Centro","location":{"type":"Point","coordinates":["-3.7","40.4"]}` + fields + `}`
	}
	sig := strings.Repeat("ab", 64)
	cases := []struct {
		name, action, json string
		field              string
	}{
		{"unknown type", "register", strings.Replace(reg(""), "Streetlight", "Lamppost", 1), "type"},
		{"a Device without a category", "register", strings.Replace(reg(""), "Streetlight", "Device", 1), "category"},
		{"latitude beyond the pole", "register", strings.Replace(reg(""), `"40.4"`, `"91"`, 1), "location.coordinates[1]"},
		{"coordinates as numbers", "register", strings.Replace(reg(""), `["-3.7","40.4"]`, `[-3,40]`, 1), "location"},
		{"initial state out of range", "register", reg(`,"attrs":{"lanternHeight":"51"}`), "attrs.lanternHeight"},
		{"a slash in the id", "register", strings.Replace(reg(""), `"sl-1"`, `"sl/1"`, 1), "id"},
		{"a space in the district", "register", strings.Replace(reg(""), `"Centro"`, `"Old Town"`, 1), "district"},
		{"no readings", "report", `{"readings":[]}`, "readings"},
		{"seq zero", "report", `{"readings":[{"body":{"device":"sl-1","seq":0,"values":{"powerState":"on"}},"signature":"` + sig + `"}]}`, "readings[0].body.seq"},
		{"a short signature", "report", `{"readings":[{"body":{"device":"sl-1","seq":1,"values":{"powerState":"on"}},"signature":"abcd"}]}`, "readings[0].signature"},
		{"a time that is not RFC 3339", "report", `{"readings":[{"body":{"device":"sl-1","seq":1,"observed_at":"yesterday","values":{"powerState":"on"}},"signature":"` + sig + `"}]}`, "readings[0].body.observed_at"},
		{"an empty reading", "report", `{"readings":[{"body":{"device":"sl-1","seq":1,"values":{}},"signature":"` + sig + `"}]}`, "readings[0].body.values"},
		{"a command no model has", "command", `{"device":"sl-1","action":"explode"}`, "action"},
		{"an ack that is neither done nor failed", "ack", `{"body":{"device":"sl-1","command":1,"result":"maybe"},"signature":"` + sig + `"}`, "body.result"},
	}
	app := city.New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := chain.PayloadFromJSON([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			err = app.Check(tc.action, p)
			t.Log(err)
			if !errors.Is(err, chain.ErrBadPayload) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("Check = %v, want a bad payload naming %s", err, tc.field)
			}
		})
	}
	// A decimal written as a JSON number never becomes a payload at all:
	// the chain has no floats.
	if _, err := chain.PayloadFromJSON([]byte(`{"readings":[{"body":{"values":{"illuminanceLevel":0.5}}}]}`)); !errors.Is(err, chain.ErrBadPayload) {
		t.Errorf("a float in a payload: %v", err)
	}
	if err := app.Check("burn", nil); !errors.Is(err, chain.ErrUnknownAction) {
		t.Errorf("unknown action: %v", err)
	}
}

// TestIntegersAndBooleansFromOtherClients shows a client in another
// language at work: it builds the body as a plain map, signs the
// documented bytes itself, and gives whole numbers as integers and flags
// as booleans. The state keeps the same canonical text either way.
func TestIntegersAndBooleansFromOtherClients(t *testing.T) {
	c := newCity(t, 0)
	registerAll(t, c, counter)
	body := map[string]any{"device": counter.ID, "seq": 1,
		"values": map[string]any{"intensity": 197, "congested": false, "occupancy": "0.760"}}
	raw, err := chain.EncodePayload(body) // the canonical CBOR of the body, as it sits in the payload
	if err != nil {
		t.Fatal(err)
	}
	msg := append([]byte("citychain/city/observation\x00"+chaintest.ChainID+"\x00"), raw...)
	sig := hex.EncodeToString(deviceKey(counter.ID).Sign(msg))
	payload := map[string]any{"readings": []any{map[string]any{"body": body, "signature": sig}}}
	if _, err := c.Do(chaintest.Key("gateway"), city.Name, city.ActionReport, payload); err != nil {
		t.Fatal(err)
	}
	st := query[city.DeviceView](t, c, "device/"+counter.ID, nil).State
	if st.Attrs["intensity"].Value != "197" || st.Attrs["congested"].Value != "false" || st.Attrs["occupancy"].Value != "0.76" {
		t.Errorf("state = %+v", st.Attrs)
	}
}

// TestHistoryIsBounded: with a limit of 3, the fourth and fifth readings
// push the first two out of the state; the count and last seq go on.
func TestHistoryIsBounded(t *testing.T) {
	c := newCity(t, 3)
	registerAll(t, c, streetlight)
	for seq := uint64(1); seq <= 5; seq++ {
		if _, err := c.Do(chaintest.Key("gateway"), city.Name, city.ActionReport,
			&city.Report{Readings: []city.Reading{reading(t, streetlight.ID, seq*10, kv("powerState", "on"))}}); err != nil {
			t.Fatal(err)
		}
	}
	h := query[city.HistoryAnswer](t, c, "history/"+streetlight.ID, nil)
	var seqs []uint64
	for _, e := range h.Entries {
		seqs = append(seqs, e.Seq)
	}
	if len(seqs) != 3 || seqs[0] != 50 || seqs[2] != 30 {
		t.Errorf("history seqs = %v, want [50 40 30]", seqs)
	}
	keys := 0
	_ = c.State().Iterate(chain.AppKey(city.Name, []byte("hist/")), func(_, _ []byte) error { keys++; return nil })
	if keys != 3 {
		t.Errorf("%d history keys in the state, want 3", keys)
	}
	if st := query[city.DeviceView](t, c, "device/"+streetlight.ID, nil).State; st.Readings != 5 || st.LastSeq != 50 {
		t.Errorf("state = %+v", st)
	}
}

// TestBoundingBoxDistrictAndNGSI covers the spatial and district views and
// the NGSI-LD export.
func TestBoundingBoxDistrictAndNGSI(t *testing.T) {
	c := newCity(t, 0)
	registerAll(t, c, streetlight, counter, signalHead, airStation)
	if _, err := c.Do(chaintest.Key("gateway"), city.Name, city.ActionReport, &city.Report{Readings: []city.Reading{
		reading(t, streetlight.ID, 1, kv("powerState", "on", "illuminanceLevel", "0.75")),
		reading(t, counter.ID, 1, kv("intensity", "120")),
		reading(t, signalHead.ID, 1, kv("value", "green", "signalPlan", "day")),
		reading(t, airStation.ID, 1, kv("no2", "41.5", "pm10", "20")),
	}}); err != nil {
		t.Fatal(err)
	}

	ids := func(ds []city.DeviceView) string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return strings.Join(out, " ")
	}
	box := query[city.BBoxAnswer](t, c, "bbox", map[string]string{"min_lon": "-3.72", "min_lat": "40.42", "max_lon": "-3.70", "max_lat": "40.43"})
	if got := ids(box.Devices); got != "centro-tf-001 centro-tl-001 centro-sl-001" && got != "centro-sl-001 centro-tf-001 centro-tl-001" {
		// Grid order first, then id; all three lie in one cell here.
		t.Errorf("bbox around the centre = %q", got)
	}
	edge := query[city.BBoxAnswer](t, c, "bbox", map[string]string{"min_lon": "-3.7122", "min_lat": "40.4238", "max_lon": "-3.7122", "max_lat": "40.4238"})
	if got := ids(edge.Devices); got != streetlight.ID {
		t.Errorf("a box that is the lamp's point = %q", got)
	}
	world := query[city.BBoxAnswer](t, c, "bbox", map[string]string{"min_lon": "-180", "min_lat": "-90", "max_lon": "180", "max_lat": "90"})
	if len(world.Devices) != 4 {
		t.Errorf("the whole world holds %d devices, want 4", len(world.Devices))
	}
	if _, err := c.Query(city.Name, "bbox", map[string]string{"min_lon": "-3.6", "min_lat": "40.4", "max_lon": "-3.7", "max_lat": "40.5"}); !errors.Is(err, chain.ErrBadPayload) {
		t.Errorf("an inverted box: %v", err)
	}

	d := query[city.DistrictAnswer](t, c, "district/Centro", nil)
	s := d.Summary
	if s.Devices != 4 || s.StreetlightsLit != 1 || s.Signals["green"] != 1 || s.TrafficIntensity != "120" || s.MaxNO2 != "41.5" ||
		s.ByType["Device (actuator)"] != 1 || len(d.Devices) != 4 {
		t.Errorf("district Centro = %+v", d)
	}

	// NGSI-LD: the streetlight as a broker would receive it.
	raw, err := json.Marshal(query[json.RawMessage](t, c, "ngsi/"+streetlight.ID, nil))
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]any
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	if ctx, _ := e["@context"].([]any); len(ctx) != 2 || ctx[0] != city.NGSIContext || ctx[1] != "/v1/apps/city/context/Streetlight.jsonld" ||
		e["id"] != "urn:ngsi-ld:Streetlight:centro-sl-001" || e["type"] != "Streetlight" {
		t.Errorf("entity header = %v %v %v", e["@context"], e["id"], e["type"])
	}
	loc := e["location"].(map[string]any)
	coords := loc["value"].(map[string]any)["coordinates"].([]any)
	if loc["type"] != "GeoProperty" || coords[0] != -3.7122 || coords[1] != 40.4238 {
		t.Errorf("location = %v", loc)
	}
	il := e["illuminanceLevel"].(map[string]any)
	if il["type"] != "Property" || il["value"] != 0.75 || il["unitCode"] != "C62" || il["observedAt"] == nil {
		t.Errorf("illuminanceLevel = %v", il)
	}
	if ps := e["powerState"].(map[string]any); ps["value"] != "on" {
		t.Errorf("powerState = %v", ps)
	}
	if lh := e["lanternHeight"].(map[string]any); lh["value"] != 8.0 || lh["unitCode"] != "MTR" {
		t.Errorf("lanternHeight = %v", lh)
	}
	if !strings.Contains(string(raw), `"value":0.75`) {
		t.Errorf("numbers are not JSON numbers: %s", raw)
	}
	all := query[[]map[string]any](t, c, "ngsi", map[string]string{"district": "Centro"})
	if len(all) != 4 || all[3]["id"] != "urn:ngsi-ld:AirQualityObserved:retiro-aq-001" || all[3]["dateObserved"] == nil {
		t.Errorf("district export = %v", all)
	}
	if _, err := c.Query(city.Name, "ngsi/nowhere", nil); !errors.Is(err, city.ErrUnknownDevice) {
		t.Errorf("export of an unknown device: %v", err)
	}
}

// TestGenesis checks the operators and params that genesis sets.
func TestGenesis(t *testing.T) {
	c := newCity(t, 0)
	info := query[city.InfoAnswer](t, c, "info", nil)
	if info.ChainID != chaintest.ChainID || len(info.Operators) != 1 || info.Operators[0] != chaintest.Addr("operator") ||
		info.HistoryLimit != city.DefaultHistoryLimit {
		t.Errorf("info = %+v", info)
	}
	if g := city.DefaultGenesis(); len(g.Operators) != 0 {
		t.Errorf("default genesis has operators %v", g.Operators)
	}
	twice := city.GenesisState{Operators: []chain.Address{chaintest.Addr("a"), chaintest.Addr("a")}}
	if _, err := chaintest.New([]chain.App{city.New()}, map[string]any{city.Name: twice}); err == nil {
		t.Error("an operator listed twice was accepted")
	}
}
