package city

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// This file is the simulator's physics: where a district's devices stand
// and what they would measure at a given time. It runs in the CLI only,
// so it may use floats and pseudo-randomness; everything it sends is
// turned into decimal text before it reaches a transaction, and the
// chain checks that text like any device's.
//
// Time of day is local solar time (UTC shifted by longitude/15 hours),
// which needs no time-zone database and is what the sun follows.

// rng is SplitMix64: a small generator seeded from --seed, so that one
// seed gives the same district and the same noise on every run.
type rng struct{ s uint64 }

func newRNG(seed string) *rng {
	h := chain.Sum([]byte("citychain/city/sim\x00" + seed))
	return &rng{s: binary.BigEndian.Uint64(h[:8])}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// normal returns a standard normal number (Box-Muller).
func (r *rng) normal() float64 {
	u := 1 - r.float() // (0, 1]: log(0) is not a number
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}

// simKind is what a simulated device is: what it registers as, and how
// it observes (given the local solar hour).
type simKind struct {
	short, typ, category, name string
	observe                    func(d *simDevice, r *rng, t time.Time, hour float64) map[string]string
}

// The kinds of simulated device.
var (
	simStreetlight = &simKind{"sl", TypeStreetlight, "", "Streetlight", (*simDevice).streetlight}
	simTraffic     = &simKind{"tf", TypeTrafficFlow, "", "Traffic counter", (*simDevice).traffic}
	simSignal      = &simKind{"tl", TypeDevice, CategoryActuator, "Traffic light", (*simDevice).trafficLight}
	simAir         = &simKind{"aq", TypeAirQuality, "", "Air station", (*simDevice).air}
)

// mix is the district's make-up: of every ten devices, five streetlights,
// two traffic counters, two traffic lights and one air station; the first
// four cover every kind.
var mix = []*simKind{simStreetlight, simTraffic, simSignal, simAir, simStreetlight, simStreetlight,
	simTraffic, simSignal, simStreetlight, simStreetlight}

// simDevice is one simulated device: its registration, its key, and its
// own character (how busy its road is, how strong its lamp).
type simDevice struct {
	kind     *simKind
	reg      Register
	key      *crypto.PrivateKey
	lon, lat float64
	seq      uint64
	factor   float64 // traffic: share of the busiest road; streetlight: rated watts
	offset   int64   // signal: seconds into its cycle at time zero
	// forced holds the values of the commands the device acknowledged
	// (a dim level, a power state, a lamp, a plan), by the attribute
	// they set; they hold until the simulator stops.
	forced map[string]string
}

// planDistrict lays out n devices around a centre, within about 400 m.
func planDistrict(r *rng, n int, seed, prefix, district string, lon, lat float64) []*simDevice {
	out := make([]*simDevice, n)
	for i := range out {
		k := mix[i%len(mix)]
		d := &simDevice{kind: k, forced: map[string]string{},
			lon: lon + (r.float()*2-1)*0.004, lat: lat + (r.float()*2-1)*0.003}
		id := fmt.Sprintf("%s%s-%03d", prefix, k.short, i+1)
		d.key = DeviceKey(seed, id)
		d.reg = Register{ID: id, Type: k.typ, Category: k.category, Name: fmt.Sprintf("%s %03d, %s", k.name, i+1, district),
			PubKey: PubKeyHex(d.key), District: district,
			Location: NewPoint(dec(d.lon, coordScale), dec(d.lat, coordScale)), Attrs: map[string]string{}}
		switch k {
		case simStreetlight:
			d.factor = 40 + 10*math.Floor(r.float()*7) // 40..100 W LED
			d.reg.Attrs["lanternHeight"] = dec(6+0.5*math.Floor(r.float()*13), 2)
			d.reg.Attrs["locationCategory"] = []string{"road", "sidewalk", "park", "pedestrianPath"}[r.next()%4]
			d.reg.Attrs["controllingMethod"] = "individual"
		case simTraffic:
			d.factor = 0.5 + 0.6*r.float()
			d.reg.Attrs["laneId"] = strconv.Itoa(1 + int(r.next()%2))
			d.reg.Attrs["laneDirection"] = "forward"
		case simSignal:
			d.offset = int64(r.next() % 120)
		case simAir:
			d.reg.Attrs["typeofLocation"] = "outdoor"
		}
		out[i] = d
	}
	return out
}

// observe returns what the device measures at time t, as text values of
// its model.
func (d *simDevice) observe(r *rng, t time.Time) map[string]string {
	return d.kind.observe(d, r, t, solarHour(t, d.lon))
}

// streetlight: lit from dusk to dawn (the sun more than 2° below the
// horizon), at half power in the small hours.
func (d *simDevice) streetlight(r *rng, t time.Time, h float64) map[string]string {
	dim, dimmed := d.forced["illuminanceLevel"]
	dimLevel, _ := strconv.ParseFloat(dim, 64)
	level, state := 0.0, "off"
	if sunElevation(t, d.lon, d.lat) < -2 {
		level, state = 1.0, "on"
		if h < 5 {
			level, state = 0.5, "low"
		}
		if dimmed {
			level, state = dimLevel, "on"
		}
	}
	if power := d.forced["powerState"]; power != "" {
		state = power
		switch state {
		case "off":
			level = 0
		case "low":
			level = 0.5
		case "on":
			level = 1
			if dimmed {
				level = dimLevel
			}
		}
	}
	watts := 0.0
	if level > 0 {
		watts = clamp(d.factor*level*(1+0.02*r.normal()), 0, 5000)
	}
	return map[string]string{
		"powerState":       state,
		"illuminanceLevel": dec(clamp(level, 0, 1), 3),
		"powerConsumption": dec(watts, 1),
		"voltage":          dec(clamp(230+2*r.normal(), 200, 260), 1),
		"status":           "ok",
	}
}

// trafficShare is how busy roads are, 0 to about 1, by hour: two rush
// hours and a lunch bump on weekdays, a late and flat day on weekends.
func trafficShare(t time.Time, h float64) float64 {
	g := func(mu, sigma float64) float64 { return math.Exp(-(h - mu) * (h - mu) / (2 * sigma * sigma)) }
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return 0.06 + 0.5*g(13, 3.5) + 0.3*g(20, 2)
	}
	return 0.06 + 0.9*g(8, 1.2) + 0.75*g(18, 1.6) + 0.4*g(13.5, 2.5)
}

// traffic: vehicles per 5-minute period on one lane (about 150 at
// capacity), with speed falling as the lane fills.
func (d *simDevice) traffic(r *rng, t time.Time, h float64) map[string]string {
	const capacity = 150.0
	n := math.Round(clamp(capacity*trafficShare(t, h)*d.factor*(1+0.1*r.normal()), 0, 3*capacity))
	occ := clamp(math.Pow(n/capacity, 1.5)*0.6+0.01+0.01*r.normal(), 0, 0.95)
	speed := clamp(50*(1-0.85*math.Pow(occ, 1.2))+3*r.normal(), 3, 120)
	headway := 300.0
	if n > 0 {
		headway = 300 / n
	}
	return map[string]string{
		"intensity":            dec(n, 0),
		"occupancy":            dec(occ, 3),
		"averageVehicleSpeed":  dec(speed, 1),
		"averageVehicleLength": dec(clamp(4.6+0.4*r.normal(), 3, 12), 2),
		"averageHeadwayTime":   dec(headway, 2),
		"congested":            strconv.FormatBool(occ > 0.5),
	}
}

// trafficLight: a fixed-time plan; flashing amber at night.
func (d *simDevice) trafficLight(_ *rng, t time.Time, h float64) map[string]string {
	plan := "day"
	switch {
	case h < 5:
		plan = "night"
	case (h >= 7 && h < 9.5) || (h >= 17 && h < 19.5):
		plan = "rush-hour"
	}
	if p := d.forced["signalPlan"]; p != "" {
		plan = p
	}
	cycle := int64(90)
	if plan == "rush-hour" {
		cycle = 120
	}
	state := "flashing"
	if plan != "night" {
		phase := (t.Unix() + d.offset) % cycle
		green := cycle * 45 / 100
		switch {
		case phase < green:
			state = "green"
		case phase < green+4:
			state = "amber"
		default:
			state = "red"
		}
	}
	if lamp := d.forced["value"]; lamp != "" {
		state = lamp
	}
	return map[string]string{"value": state, "signalPlan": plan, "deviceState": "ok"}
}

// air: NO2, particles and CO follow the traffic; ozone follows the sun;
// temperature the season and the hour.
func (d *simDevice) air(r *rng, t time.Time, h float64) map[string]string {
	tf := trafficShare(t, h)
	sun := math.Max(0, math.Sin(sunElevation(t, d.lon, d.lat)*math.Pi/180))
	no2 := clamp(12+55*tf+4*r.normal(), 1, 1000)
	o3 := clamp(20+70*sun-0.3*no2+5*r.normal(), 2, 1000)
	pm10 := clamp(14+20*tf+3*r.normal(), 1, 1000)
	pm25 := clamp(0.55*pm10+r.normal(), 0.5, pm10)
	co := clamp(0.25+0.6*tf+0.05*r.normal(), 0.05, 50)
	season := math.Cos(2 * math.Pi * float64(t.YearDay()-200) / 365)
	if d.lat < 0 {
		season = -season
	}
	daily := math.Cos(2 * math.Pi * (h - 15) / 24)
	temp := clamp(14+9*season+5*daily+0.5*r.normal(), -60, 60)
	rh := clamp(0.6-0.15*daily+0.03*r.normal(), 0.05, 1)
	model, _ := ModelFor(TypeAirQuality, "")
	levels, _ := model.Attr("airQualityLevel") // good to hazardous
	level := levels.Enum[len(levels.Enum)-1]
	for i, upTo := range []float64{40, 90, 120, 230, 340} { // NO2 below which each level holds
		if no2 < upTo {
			level = levels.Enum[i]
			break
		}
	}
	return map[string]string{
		"no2": dec(no2, 1), "o3": dec(o3, 1), "pm10": dec(pm10, 1), "pm25": dec(pm25, 1), "co": dec(co, 3),
		"temperature": dec(temp, 1), "relativeHumidity": dec(rh, 3), "airQualityLevel": level,
	}
}

// solarHour is the local solar time of t at a longitude, in hours [0, 24).
func solarHour(t time.Time, lon float64) float64 {
	u := t.UTC()
	h := float64(u.Hour()) + float64(u.Minute())/60 + float64(u.Second())/3600 + lon/15
	return math.Mod(h+48, 24)
}

// sunElevation is the sun's height above the horizon in degrees, from
// the day's declination and the hour angle. Good to a degree or so,
// which is all a street lamp's light sensor needs.
func sunElevation(t time.Time, lon, lat float64) float64 {
	rad := math.Pi / 180
	decl := 23.44 * rad * math.Sin(2*math.Pi*float64(284+t.UTC().YearDay())/365)
	hourAngle := (solarHour(t, lon) - 12) * 15 * rad
	phi := lat * rad
	s := math.Sin(phi)*math.Sin(decl) + math.Cos(phi)*math.Cos(decl)*math.Cos(hourAngle)
	return math.Asin(s) / rad
}

// dec writes x as decimal text with at most scale decimal places.
func dec(x float64, scale int) string {
	v, err := parseFixed(strconv.FormatFloat(x, 'f', scale, 64), scale)
	if err != nil {
		return "0"
	}
	return formatFixed(v, scale)
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }
