package city_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/sdk/sdktest"

	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/chain/chaintest"
)

// TestCLIStory walks the README's story through the commands: make a
// device key, register a streetlight from its FIWARE example, report,
// command, acknowledge, and read it all back.
func TestCLIStory(t *testing.T) {
	c := newCity(t, 0)
	app := city.New()
	operator := sdktest.Client{Chain: c, Key: chaintest.Key("operator")}
	gateway := sdktest.Client{Chain: c, Key: chaintest.Key("gateway")}
	keyFile := filepath.Join(t.TempDir(), "sl.key")
	owner := chaintest.Addr("owner").String()

	out, err := sdktest.Run(t, app.TxCommands(operator), "keygen", "--out", keyFile)
	if err != nil || !strings.HasPrefix(out, "pubkey 02") && !strings.HasPrefix(out, "pubkey 03") {
		t.Fatalf("keygen: %v %q", err, out)
	}
	if _, err := sdktest.Run(t, app.TxCommands(operator), "keygen", "--out", keyFile); err == nil {
		t.Error("keygen overwrote a key file")
	}
	if _, err := sdktest.Run(t, app.TxCommands(operator), "register-device", "--fiware", "testdata/streetlight_keyvalues_ngsiv2.json",
		"--id", "gu-sl-4567", "--district", "Guadalajara", "--key-file", keyFile, "--owner", owner); err != nil {
		t.Fatal(err)
	}
	if _, err := sdktest.Run(t, app.TxCommands(operator), "register-device", "--id", "gu-tl-1", "--type", "Device", "--category", "actuator",
		"--pubkey", city.PubKeyHex(deviceKey("gu-tl-1")), "--owner", owner, "--lon", "-3.1646", "--lat", "40.6279",
		"--district", "Guadalajara", "--attr", "signalPlan=day"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // without --seq, the CLI asks the chain: seq 1, then 2
		if _, err := sdktest.Run(t, app.TxCommands(gateway), "report", "--device", "gu-sl-4567", "--key-file", keyFile,
			"--reading", "powerState=on", "--reading", "illuminanceLevel=0.9"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sdktest.Run(t, app.TxCommands(gateway), "report", "--device", "gu-sl-4567", "--key-file", keyFile,
		"--reading", "illuminanceLevel=9"); err == nil || !strings.Contains(err.Error(), "illuminanceLevel") {
		t.Errorf("an out-of-range report through the CLI: %v", err)
	}
	if _, err := sdktest.Run(t, app.TxCommands(operator), "command", "--device", "gu-sl-4567", "--action", "switch", "--value", "low"); err != nil {
		t.Fatal(err)
	}
	if _, err := sdktest.Run(t, app.TxCommands(gateway), "ack", "--command", "1", "--key-file", keyFile, "--detail", "ok"); err != nil {
		t.Fatal(err)
	}

	q := func(args ...string) string {
		t.Helper()
		out, err := sdktest.Run(t, app.QueryCommands(gateway), args...)
		if err != nil {
			t.Fatalf("query %v: %v", args, err)
		}
		return out
	}
	dev := q("device", "gu-sl-4567")
	for _, want := range []string{"Streetlight", "district Guadalajara", "-3.164486,40.627851", "last seq 2", "lanternHeight", "powerState", "low", "command 1"} {
		if !strings.Contains(dev, want) {
			t.Errorf("device view lacks %q:\n%s", want, dev)
		}
	}
	if h := q("history", "gu-sl-4567"); strings.Count(h, "illuminanceLevel=0.9") != 2 {
		t.Errorf("history:\n%s", h)
	}
	if b := q("bbox", "--min-lon", "-3.2", "--min-lat", "40.6", "--max-lon", "-3.1", "--max-lat", "40.7"); !strings.Contains(b, "gu-sl-4567") || !strings.Contains(b, "gu-tl-1") {
		t.Errorf("bbox:\n%s", b)
	}
	if d := q("district", "Guadalajara"); !strings.Contains(d, "2 devices") || !strings.Contains(d, "streetlights lit 1") {
		t.Errorf("district:\n%s", d)
	}
	var e map[string]any
	if err := json.Unmarshal([]byte(q("ngsi", "gu-sl-4567")), &e); err != nil || e["id"] != "urn:ngsi-ld:Streetlight:gu-sl-4567" {
		t.Errorf("ngsi: %v %v", err, e)
	}
	if err := json.Unmarshal([]byte(q("ngsi", "gu-sl-4567", "--key-values")), &e); err != nil || e["powerState"] != "low" {
		t.Errorf("ngsi --key-values: %v %v", err, e)
	}
	var signals []map[string]any
	if err := json.Unmarshal([]byte(q("ngsi", "--district", "Guadalajara", "--type", "Device")), &signals); err != nil ||
		len(signals) != 1 || signals[0]["id"] != "urn:ngsi-ld:Device:gu-tl-1" {
		t.Errorf("ngsi --district --type: %v %v", err, signals)
	}
	if cmds := q("commands", "gu-sl-4567"); !strings.Contains(cmds, "switch") || !strings.Contains(cmds, "done") {
		t.Errorf("commands:\n%s", cmds)
	}
	if m := q("models"); !strings.Contains(m, "0..300, 1 decimals") || !strings.Contains(m, "(a registration must give it)") ||
		!strings.Contains(m, "(registered as ok unless given)") {
		t.Errorf("models:\n%s", m)
	}
	if i := q("info"); !strings.Contains(i, chaintest.Addr("operator").String()) {
		t.Errorf("info:\n%s", i)
	}
}
