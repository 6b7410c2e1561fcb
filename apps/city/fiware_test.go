package city_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/chain/chaintest"
)

// exampleDirs are where FIWARE examples are found: our copies (see
// testdata/SOURCES.txt), and the project's shared test data when it is
// checked out next to the repository or named by CITYCHAIN_SMARTCITY_TESTDATA.
func exampleDirs(t *testing.T) []string {
	dirs := []string{"testdata"}
	shared := os.Getenv("CITYCHAIN_SMARTCITY_TESTDATA")
	if shared == "" {
		shared = filepath.Join("..", "..", "..", "shared", "testdata", "smartcity")
	}
	if st, err := os.Stat(shared); err == nil && st.IsDir() {
		dirs = append(dirs, shared)
	} else {
		t.Logf("no shared smart-city test data at %s; using testdata only", shared)
	}
	return dirs
}

func exampleFiles(t *testing.T) []string {
	var files []string
	for _, dir := range exampleDirs(t) {
		for _, pat := range []string{"*.json", "*.jsonld"} {
			m, err := filepath.Glob(filepath.Join(dir, pat))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, m...)
		}
	}
	sort.Strings(files)
	if len(files) < 5 {
		t.Fatalf("found only %d FIWARE examples: %v", len(files), files)
	}
	return files
}

// TestFIWAREExamplesBecomeRegistrationsAndReadings reads every FIWARE
// example, registers it as a device and sends its values as a signed
// reading, on one chain. Each file's id gets a per-file suffix, since
// both copies of an example name the same entity.
func TestFIWAREExamplesBecomeRegistrationsAndReadings(t *testing.T) {
	c := newCity(t, 0)
	for i, file := range exampleFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			im, err := city.ParseFIWARE(data)
			if err != nil {
				t.Fatal(err)
			}
			reg := im.Register
			reg.ID = strings.TrimSuffix(reg.ID[:min(len(reg.ID), city.MaxIDLen-4)], "-") + "-" + string(rune('a'+i))
			reg.PubKey, reg.Owner = city.PubKeyHex(deviceKey(reg.ID)), chaintest.Addr("operator")
			if reg.Location.Type == "" { // the Device example has no location
				reg.Location = city.NewPoint("-5.1", "37.2")
			}
			if reg.District == "" {
				reg.District = "imported"
			}
			if err := reg.Validate(); err != nil {
				t.Fatal(err)
			}
			registerAll(t, c, reg)
			if len(im.Values) > 0 {
				r, err := city.SignReading(deviceKey(reg.ID), chaintest.ChainID,
					city.Observation{Device: reg.ID, Seq: 1, ObservedAt: im.ObservedAt, Values: im.Values})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Do(chaintest.Key("gateway"), city.Name, city.ActionReport, &city.Report{Readings: []city.Reading{r}}); err != nil {
					t.Fatal(err)
				}
			}
			st := query[city.DeviceView](t, c, "device/"+reg.ID, nil).State
			if len(st.Attrs) != len(im.Values)+len(im.Register.Attrs) {
				t.Errorf("state has %d attributes, the file gave %d", len(st.Attrs), len(im.Values)+len(im.Register.Attrs))
			}
			t.Logf("%s %s: %d values, %d installation attributes, skipped %v", reg.Type, reg.ID, len(im.Values), len(im.Register.Attrs), im.Skipped)
		})
	}
}

// TestFIWAREMapping pins down what each example maps to.
func TestFIWAREMapping(t *testing.T) {
	read := func(name string) *city.Imported {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		im, err := city.ParseFIWARE(data)
		if err != nil {
			t.Fatal(err)
		}
		return im
	}
	sl := read("streetlight_keyvalues_ngsiv2.json")
	if r := sl.Register; r.ID != "streetlight:guadalajara:4567" || r.Type != city.TypeStreetlight ||
		!reflect.DeepEqual(r.Location.Coordinates, []string{"-3.164486", "40.627851"}) ||
		r.District != "Roundabouts-city-entrance" ||
		!reflect.DeepEqual(r.Attrs, kv("lanternHeight", "10", "locationCategory", "centralIsland", "controllingMethod", "individual")) {
		t.Errorf("streetlight registration = %+v", r)
	}
	if !reflect.DeepEqual(sl.Values, kv("powerState", "off", "status", "ok", "powerConsumption", "10", "powerFactor", "0.7", "voltage", "50")) ||
		sl.ObservedAt != "2021-01-11T10:21:02Z" {
		t.Errorf("streetlight observation = %v at %s", sl.Values, sl.ObservedAt)
	}
	if !contains(sl.Skipped, "current") || !contains(sl.Skipped, "deviceInfo") {
		t.Errorf("skipped = %v", sl.Skipped)
	}
	// The NGSI-v2 normalized form of the same entity reads the same.
	if n := read("streetlight_normalized_ngsiv2.json"); !reflect.DeepEqual(n.Register, sl.Register) || !reflect.DeepEqual(n.Values, sl.Values) {
		t.Errorf("normalized form differs:\n%+v\n%+v", n, sl)
	}

	tf := read("trafficflowobserved_keyvalues_ngsiv2.json")
	if !reflect.DeepEqual(tf.Register.Location.Coordinates, []string{"-4.737354", "41.653818"}) || tf.Register.District != "Valladolid" {
		t.Errorf("traffic registration = %+v (want the line's first vertex)", tf.Register)
	}
	if !reflect.DeepEqual(tf.Values, kv("intensity", "197", "occupancy", "0.76", "averageVehicleSpeed", "52.6",
		"averageVehicleLength", "9.87", "averageHeadwayTime", "0.5", "reversedLane", "false")) || tf.ObservedAt != "2016-12-07T11:15:00Z" {
		t.Errorf("traffic observation = %v at %s", tf.Values, tf.ObservedAt)
	}

	aq := read("airqualityobserved_keyvalues_ngsiv2.json")
	if aq.Values["co"] != "500" || aq.Values["temperature"] != "12.2" || aq.Values["relativeHumidity"] != "0.54" ||
		aq.Values["airQualityLevel"] != "moderate" || aq.Register.Attrs["typeofLocation"] != "outdoor" || aq.ObservedAt != "2016-03-15T11:00:00Z" {
		t.Errorf("air quality = %+v", aq)
	}

	dev := read("device_normalized_ngsild.jsonld")
	if r := dev.Register; r.ID != "device-9845A" || r.Category != city.CategorySensor || r.Location.Type != "" ||
		!reflect.DeepEqual(r.Attrs, kv("controlledProperty", "fillingLevel,temperature")) {
		t.Errorf("device registration = %+v", r)
	}
	// The example's rssi (0.86, no unit) is the older 0..1 ratio, which
	// no arithmetic turns into the dBm the model asks for: skipped.
	if !reflect.DeepEqual(dev.Values, kv("value", "l%3D0.22%3Bt%3D21.2", "batteryLevel", "0.75", "deviceState", "ok")) ||
		!contains(dev.Skipped, "rssi") {
		t.Errorf("device observation = %v, skipped %v", dev.Values, dev.Skipped)
	}
}

// TestNGSIExportReadsBack: what the chain exports as NGSI-LD, the
// importer reads back to the same registration and values.
func TestNGSIExportReadsBack(t *testing.T) {
	c := newCity(t, 0)
	registerAll(t, c, streetlight)
	if _, err := c.Do(chaintest.Key("gateway"), city.Name, city.ActionReport, &city.Report{Readings: []city.Reading{
		reading(t, streetlight.ID, 1, kv("powerState", "on", "illuminanceLevel", "0.875", "voltage", "229.5")),
	}}); err != nil {
		t.Fatal(err)
	}
	a, err := c.Query(city.Name, "ngsi/"+streetlight.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	im, err := city.ParseFIWARE(raw)
	if err != nil {
		t.Fatal(err)
	}
	if im.Register.ID != streetlight.ID || im.Register.District != "Centro" ||
		!reflect.DeepEqual(im.Register.Location, streetlight.Location) ||
		!reflect.DeepEqual(im.Register.Attrs, kv("lanternHeight", "8")) ||
		!reflect.DeepEqual(im.Values, kv("powerState", "on", "illuminanceLevel", "0.875", "voltage", "229.5", "status", "ok")) {
		t.Errorf("read back %+v\nfrom %s", im, raw)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
