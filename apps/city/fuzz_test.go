package city_test

// FuzzParseFIWARE feeds FIWARE entities, as `citychain tx city
// register-device --fiware FILE` and `report --fiware FILE` read them, to
// the importer: whatever the file holds, it returns a device or an error
// naming the problem, and never panics. A device it returns is one the
// model describes, every value in the model's own form.
//
//	go test ./apps/city/ -run '^$' -fuzz FuzzParseFIWARE -fuzztime 30s

import (
	"slices"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/apps/sdk/sdktest"
)

func FuzzParseFIWARE(f *testing.F) {
	sdktest.AddFiles(f, "testdata/*.json*")
	f.Add([]byte(`{"type": "Streetlight", "location": {"type": "Point", "coordinates": [1e400, 0]}}`))
	f.Add([]byte(`{"type": "AirQualityObserved", "NO2": {"value": "-0.0000000000000000001"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := city.ParseFIWARE(data)
		if err != nil {
			return
		}
		if im == nil {
			t.Fatal("no error and no device")
		}
		r := im.Register
		model, err := city.ModelFor(r.Type, r.Category)
		if err != nil {
			t.Fatalf("imported a %s (category %q) no model describes: %v", r.Type, r.Category, err)
		}
		// Installation attributes go to the registration, the others to
		// the observation; each value is already normalized, so
		// normalizing it again changes nothing.
		for install, values := range map[bool]map[string]string{true: r.Attrs, false: im.Values} {
			for name, v := range values {
				a, ok := model.Attr(name)
				if !ok || a.Install != install {
					t.Fatalf("attribute %s (installation: %v) is not one of the %s model's", name, install, r.Type)
				}
				if again, err := a.Normalize(v); err != nil || again != v {
					t.Fatalf("attribute %s = %q normalizes again to %q, %v", name, v, again, err)
				}
			}
		}
		if im.ObservedAt != "" {
			at, err := time.Parse(time.RFC3339Nano, im.ObservedAt)
			if err != nil || at.Location() != time.UTC {
				t.Fatalf("observed at %q: not an RFC 3339 time in UTC (%v)", im.ObservedAt, err)
			}
		}
		if !slices.IsSorted(im.Skipped) {
			t.Fatalf("skipped attributes %v not sorted", im.Skipped)
		}
	})
}
