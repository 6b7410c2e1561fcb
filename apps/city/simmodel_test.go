package city

import (
	"strconv"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

// plan lays out ten devices of every kind around Madrid's centre.
func plan(lon, lat float64) []*simDevice {
	ds := planDistrict(newRNG("t"), 10, "t", "t-", "Centro", lon, lat)
	for _, d := range ds {
		d.reg.Owner = chain.Address{1}
	}
	return ds
}

// TestSimulatedDevicesStayInsideTheirModels runs every simulated device
// through two days in winter and in summer, north and south of the
// equator, and checks every value as the chain would.
func TestSimulatedDevicesStayInsideTheirModels(t *testing.T) {
	r := newRNG("values")
	for _, place := range []struct{ lon, lat float64 }{{-3.7038, 40.4168}, {151.2093, -33.8688}, {18.9553, 69.6492}} {
		ds := plan(place.lon, place.lat)
		for _, d := range ds {
			if err := d.reg.Validate(); err != nil {
				t.Fatalf("registration of %s: %v", d.reg.ID, err)
			}
			model, _ := ModelFor(d.reg.Type, d.reg.Category)
			for _, start := range []time.Time{time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 4, 0, 0, 0, 0, time.UTC)} {
				for at := start; at.Before(start.Add(48 * time.Hour)); at = at.Add(7 * time.Minute) {
					if _, err := checkValues("values", model, d.observe(r, at)); err != nil {
						t.Fatalf("%s at %s: %v", d.reg.ID, at, err)
					}
				}
			}
		}
	}
}

func TestStreetlightsFollowDuskAndDawn(t *testing.T) {
	lamp := plan(-3.7038, 40.4168)[0] // Madrid; solar time is UTC - 15 minutes
	r := newRNG("dusk")
	day := func(hh, mm int) map[string]string {
		return lamp.observe(r, time.Date(2026, 6, 21, hh, mm, 0, 0, time.UTC))
	}
	if v := day(12, 0); v["powerState"] != "off" || v["illuminanceLevel"] != "0" || v["powerConsumption"] != "0" {
		t.Errorf("midsummer noon: %v", v)
	}
	if v := day(22, 0); v["powerState"] != "on" || v["illuminanceLevel"] != "1" {
		t.Errorf("midsummer 22:00 UTC, after dusk: %v", v)
	}
	if v := day(2, 0); v["powerState"] != "low" || v["illuminanceLevel"] != "0.5" {
		t.Errorf("small hours: %v", v)
	}
	// In midsummer the lamp goes out between 4 and 5 UTC, in midwinter
	// after 7: the switch follows the sun, not a clock.
	if v := day(5, 0); v["powerState"] != "off" {
		t.Errorf("midsummer dawn at 05:00 UTC: %v", v)
	}
	if v := lamp.observe(r, time.Date(2026, 12, 21, 7, 0, 0, 0, time.UTC)); v["powerState"] != "on" {
		t.Errorf("midwinter 07:00 UTC, before dawn: %v", v)
	}
	lamp.forced["illuminanceLevel"] = "0.3" // a dim command the lamp obeyed
	if v := day(22, 0); v["illuminanceLevel"] != "0.3" {
		t.Errorf("dimmed lamp: %v", v)
	}
}

func TestTrafficFollowsTheRushHours(t *testing.T) {
	ds := plan(0, 45) // solar time is UTC here
	counter, lights := ds[1], ds[2]
	r := newRNG("traffic")
	mean := func(at time.Time) float64 {
		sum := 0.0
		for range 50 {
			n, _ := strconv.ParseFloat(counter.observe(r, at)["intensity"], 64)
			sum += n
		}
		return sum / 50
	}
	wednesday := func(hh int) time.Time { return time.Date(2026, 1, 7, hh, 0, 0, 0, time.UTC) }
	rush, night, noon := mean(wednesday(8)), mean(wednesday(3)), mean(wednesday(11))
	if !(rush > 2*noon && noon > 2*night) {
		t.Errorf("mean intensity at 08:00 %.1f, 11:00 %.1f, 03:00 %.1f: want the rush hour busiest and the night quietest", rush, noon, night)
	}
	if sunday := mean(time.Date(2026, 1, 11, 8, 0, 0, 0, time.UTC)); sunday > rush/2 {
		t.Errorf("Sunday 08:00 has %.1f vehicles, a weekday %.1f", sunday, rush)
	}
	if v := lights.observe(r, wednesday(3)); v["value"] != "flashing" || v["signalPlan"] != "night" {
		t.Errorf("traffic light at night: %v", v)
	}
	seen := map[string]bool{}
	for s := 0; s < 120; s++ {
		seen[lights.observe(r, wednesday(12).Add(time.Duration(s)*time.Second))["value"]] = true
	}
	if !seen["green"] || !seen["amber"] || !seen["red"] {
		t.Errorf("a day cycle shows %v", seen)
	}
}
