package city_test

import (
	"fmt"
	"os"

	"github.com/citychain/citychain/apps/city"
)

// ExampleParseFIWARE reads the Smart Data Models' TrafficFlowObserved
// example: the lane's first vertex becomes the counter's point, the end of
// the observation interval its time, and the measurements one reading.
func ExampleParseFIWARE() {
	data, err := os.ReadFile("testdata/trafficflowobserved_keyvalues_ngsiv2.json")
	if err != nil {
		panic(err)
	}
	im, err := city.ParseFIWARE(data)
	if err != nil {
		panic(err)
	}
	r := im.Register
	fmt.Println(r.Type, r.ID, r.Location.Coordinates, r.District)
	fmt.Println("installation:", r.Attrs)
	fmt.Println("observed at:", im.ObservedAt)
	fmt.Println("reading:", im.Values)
	// Output:
	// TrafficFlowObserved TrafficFlowObserved-Valladolid-osm-60821110 [-4.737354 41.653818] Valladolid
	// installation: map[laneDirection:forward laneId:1]
	// observed at: 2016-12-07T11:15:00Z
	// reading: map[averageHeadwayTime:0.5 averageVehicleLength:9.87 averageVehicleSpeed:52.6 intensity:197 occupancy:0.76 reversedLane:false]
}

// ExampleEntity shows a streetlight as an NGSI-LD entity in both forms.
// Its status is the one its registration recorded by default.
func ExampleEntity() {
	d := &city.Device{ID: "centro-sl-001", Type: city.TypeStreetlight, District: "Centro",
		Location: city.NewPoint("-3.7122", "40.4238"), Time: "2026-01-01T08:00:00Z"}
	s := &city.State{Attrs: map[string]city.Value{
		"illuminanceLevel": {Value: "0.75", ObservedAt: "2026-01-01T20:00:00Z"},
		"status":           {Value: "ok", ObservedAt: "2026-01-01T08:00:00Z"},
	}}
	e := city.Entity(d, s, city.Normalized)
	fmt.Println(e["@context"])
	fmt.Println(e["id"], e["type"])
	fmt.Println(e["illuminanceLevel"])
	kv := city.Entity(d, s, city.KeyValues)
	fmt.Println(kv["illuminanceLevel"], kv["status"], kv["location"])
	// Output:
	// [https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld /v1/apps/city/context/Streetlight.jsonld]
	// urn:ngsi-ld:Streetlight:centro-sl-001 Streetlight
	// map[observedAt:2026-01-01T20:00:00Z type:Property unitCode:C62 value:0.75]
	// 0.75 ok map[coordinates:[-3.7122 40.4238] type:Point]
}
