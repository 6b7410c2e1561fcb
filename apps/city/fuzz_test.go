package city_test

// FuzzParseFIWARE feeds FIWARE entities, as `citychain tx city
// register-device --fiware FILE` and `report --fiware FILE` read them, to
// the importer: whatever the file holds, it returns
// a device or an error naming the problem, and never panics.
//
//	go test ./apps/city/ -run '^$' -fuzz FuzzParseFIWARE -fuzztime 30s

import (
	"testing"

	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/apps/sdk/sdktest"
)

func FuzzParseFIWARE(f *testing.F) {
	sdktest.AddFiles(f, "testdata/*.json*")
	f.Add([]byte(`{"type": "Streetlight", "location": {"type": "Point", "coordinates": [1e400, 0]}}`))
	f.Add([]byte(`{"type": "AirQualityObserved", "NO2": {"value": "-0.0000000000000000001"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = city.ParseFIWARE(data)
	})
}
