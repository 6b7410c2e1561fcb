package city_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/sdk/sdktest"

	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/chain/chaintest"
)

// simulator returns a run function for the simulator over the chain, on a
// fake clock that each wait moves forward: no test sleeps. afterWaits,
// when positive, cancels the run (Ctrl-C) after that many waits.
func simulator(c *chaintest.Chain, signer string, afterWaits int) func(t *testing.T, args ...string) (string, error) {
	now := c.Time
	waits := 0
	return func(t *testing.T, args ...string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		wait := func(ctx context.Context, d time.Duration) error {
			now = now.Add(d)
			waits++
			if afterWaits > 0 && waits >= afterWaits {
				cancel()
			}
			return ctx.Err()
		}
		cfg := city.SimConfig{Client: sdktest.Client{Chain: c, Key: chaintest.Key(signer)}, Clock: func() time.Time { return now }}
		cmd := city.SimCommandWithWait(cfg, wait)
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(ctx)
		return out.String(), err
	}
}

// TestSimulatedDistrict runs the simulator twice against one chain: the
// first run registers ten devices and reports; between the runs the
// operator sends two commands; the second run obeys them and carries on
// from each device's last sequence number.
func TestSimulatedDistrict(t *testing.T) {
	c := newCity(t, 0)
	sim := simulator(c, "operator", 0)
	out, err := sim(t, "--devices", "10", "--rate", "5", "--count", "40")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "10 registrations sent") || !strings.Contains(out, "done: 40 readings") {
		t.Errorf("first run said:\n%s", out)
	}
	devs := query[[]city.DeviceView](t, c, "devices", map[string]string{"prefix": "centro-"})
	if len(devs) != 10 {
		t.Fatalf("%d devices on chain, want 10", len(devs))
	}
	for _, d := range devs {
		if d.State.Readings != 4 || d.State.LastSeq != 4 {
			t.Errorf("%s: %d readings, last seq %d; want 4 and 4 (round robin)", d.ID, d.State.Readings, d.State.LastSeq)
		}
	}
	if s := query[city.DistrictAnswer](t, c, "district/Centro", nil).Summary; s.Devices != 10 || s.ByType["Streetlight"] != 5 || s.ByType["AirQualityObserved"] != 1 {
		t.Errorf("district summary = %+v", s)
	}

	for _, cmd := range []city.Command{{Device: "centro-sl-001", Action: "dim", Value: "0.25"}, {Device: "centro-tl-003", Action: "set-signal", Value: "red"}} {
		if _, err := c.Do(chaintest.Key("operator"), city.Name, city.ActionCommand, &cmd); err != nil {
			t.Fatal(err)
		}
	}
	out, err = sim(t, "--devices", "10", "--rate", "10", "--count", "10")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "10 already on chain, 0 registrations sent") || !strings.Contains(out, "2 commands obeyed") {
		t.Errorf("second run said:\n%s", out)
	}
	for _, n := range []string{"1", "2"} {
		if rec := query[city.CommandRecord](t, c, "command/"+n, nil); rec.Status != city.StatusDone {
			t.Errorf("command %s = %+v", n, rec)
		}
	}
	tl := query[city.DeviceView](t, c, "device/centro-tl-003", nil)
	if tl.State.LastSeq != 5 || tl.State.Attrs["value"].Value != "red" || tl.State.Attrs["value"].Source != "reading" {
		t.Errorf("the forced traffic light reports %+v", tl.State)
	}
}

func TestSimulatorIsBoundedAndStopsOnCtrlC(t *testing.T) {
	c := newCity(t, 0)
	if _, err := simulator(c, "operator", 0)(t, "--duration", "0"); err == nil || !strings.Contains(err.Error(), "bounded") {
		t.Errorf("an unbounded run: %v", err)
	}
	// Ctrl-C after three ticks: a clean stop with a summary, no error.
	out, err := simulator(c, "operator", 3)(t, "--devices", "4", "--rate", "2", "--duration", "1h")
	if err != nil || !strings.Contains(out, "done: 6 readings") {
		t.Errorf("interrupted run: %v\n%s", err, out)
	}
	// --duration on the fake clock: 10 s at 2 per second.
	out, err = simulator(c, "operator", 0)(t, "--devices", "4", "--rate", "2", "--duration", "10s")
	if err != nil || !strings.Contains(out, "done: 20 readings") {
		t.Errorf("10 s run: %v\n%s", err, out)
	}
}

func TestSimulatorNeedsAnOperatorToRegister(t *testing.T) {
	c := newCity(t, 0)
	_, err := simulator(c, "mallory", 0)(t, "--devices", "2", "--count", "2")
	if err == nil || !strings.Contains(err.Error(), "not a city operator") {
		t.Errorf("a run by a non-operator: %v", err)
	}
}

// TestSimulatorRefusesBadNumbers: every numeric flag refuses what is
// not a number, an infinity and a value outside its range, naming the
// flag, before the simulator sends or reads anything.
func TestSimulatorRefusesBadNumbers(t *testing.T) {
	c := newCity(t, 0)
	cases := []struct {
		flag, value string
	}{
		{"--rate", "NaN"}, {"--rate", "+Inf"}, {"--rate", "-Inf"}, {"--rate", "0"}, {"--rate", "-1"},
		{"--rate", "1e-300"}, {"--rate", "0.0009"}, {"--rate", "1001"},
		{"--speed", "NaN"}, {"--speed", "Inf"}, {"--speed", "0"}, {"--speed", "-2"}, {"--speed", "1e300"},
		{"--lon", "NaN"}, {"--lon", "Inf"}, {"--lon", "180.5"}, {"--lon", "east"},
		{"--lat", "NaN"}, {"--lat", "-Inf"}, {"--lat", "86"},
		{"--duration", "-1s"}, {"--count", "-5"},
	}
	root := c.Root
	for _, tc := range cases {
		out, err := simulator(c, "operator", 0)(t, "--devices", "2", "--count", "4", tc.flag, tc.value)
		if err == nil || !strings.HasPrefix(err.Error(), tc.flag+" ") {
			t.Errorf("%s %s: %v, want an error naming %s\n%s", tc.flag, tc.value, err, tc.flag, out)
		}
	}
	if c.Root != root {
		t.Error("a refused run changed the chain")
	}
	// The bounds of rate and speed themselves are fine: at the slowest
	// rate the first tick is due at once.
	out, err := simulator(c, "operator", 0)(t, "--devices", "2", "--count", "1", "--duration", "0",
		"--rate", "0.001", "--speed", "86400")
	if err != nil || !strings.Contains(out, "done: 1 readings") {
		t.Errorf("a run at the bounds: %v\n%s", err, out)
	}
}
