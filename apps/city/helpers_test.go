package city_test

import (
	"encoding/json"
	"testing"

	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
	"github.com/citychain/citychain/chain/crypto"
)

// The cast: "operator" is the city operator (dev0 in citychain dev),
// "gateway" carries readings and acknowledgements, "mallory" is anyone
// else. Devices sign with keys derived from the seed "test".
const seed = "test"

// newCity starts a chain whose city operator is "operator".
func newCity(t testing.TB, historyLimit uint64) *chaintest.Chain {
	t.Helper()
	g := city.DevGenesis(chaintest.Addr("operator"))
	g.HistoryLimit = historyLimit
	c, err := chaintest.New([]chain.App{city.New()}, map[string]any{city.Name: g})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func deviceKey(id string) *crypto.PrivateKey { return city.DeviceKey(seed, id) }

// device returns a registration at a point in the district "Centro".
func device(id, typ, category, lon, lat string, attrs map[string]string) city.Register {
	return city.Register{ID: id, Type: typ, Category: category, PubKey: city.PubKeyHex(deviceKey(id)),
		Owner: chaintest.Addr("operator"), Location: city.NewPoint(lon, lat), District: "Centro", Attrs: attrs}
}

// A small district around Plaza de España, Madrid; the air station is
// across the city, outside the centre's bounding box.
var (
	streetlight = device("centro-sl-001", city.TypeStreetlight, "", "-3.7122", "40.4238", map[string]string{"lanternHeight": "8", "powerState": "off"})
	counter     = device("centro-tf-001", city.TypeTrafficFlow, "", "-3.7110", "40.4230", map[string]string{"laneId": "1"})
	signalHead  = device("centro-tl-001", city.TypeDevice, city.CategoryActuator, "-3.7115", "40.4235", nil)
	airStation  = device("retiro-aq-001", city.TypeAirQuality, "", "-3.6823", "40.4153", nil)
)

// registerAll registers the district's devices, one block each.
func registerAll(t testing.TB, c *chaintest.Chain, regs ...city.Register) {
	t.Helper()
	for _, r := range regs {
		if _, err := c.Do(chaintest.Key("operator"), city.Name, city.ActionRegister, &r); err != nil {
			t.Fatalf("register %s: %v", r.ID, err)
		}
	}
}

// reading signs an observation with the device's own key.
func reading(t testing.TB, id string, seq uint64, values map[string]string) city.Reading {
	t.Helper()
	r, err := city.SignReading(deviceKey(id), chaintest.ChainID, city.Observation{Device: id, Seq: seq, Values: values})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func kv(pairs ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

// query asks the city app and returns the answer as it crosses the wire.
func query[T any](t testing.TB, c *chaintest.Chain, path string, args map[string]string) T {
	t.Helper()
	a, err := c.Query(city.Name, path, args)
	if err != nil {
		t.Fatalf("query %s: %v", path, err)
	}
	var out T
	raw, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("query %s: %v in %s", path, err, raw)
	}
	return out
}
