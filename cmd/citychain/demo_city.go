package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// The district the van crosses: three devices near one crossing.
type demoDevice struct {
	id, typ, category, name, lon, lat string
	attrs                             map[string]string
	key                               *crypto.PrivateKey
}

func (d *demo) districtDevices() []*demoDevice {
	seed := "demo " + d.run_
	devs := []*demoDevice{
		{id: "TL-" + d.run_, typ: city.TypeDevice, category: city.CategoryActuator, name: "Signal at Tea Street",
			lon: "121.4737", lat: "31.2304", attrs: map[string]string{"value": "red", "signalPlan": "weekday"}},
		{id: "SL-" + d.run_, typ: city.TypeStreetlight, name: "Lamp 17, Tea Street",
			lon: "121.4739", lat: "31.2305", attrs: map[string]string{"powerState": "on", "illuminanceLevel": "1"}},
		{id: "TF-" + d.run_, typ: city.TypeTrafficFlow, name: "Counter, Tea Street eastbound",
			lon: "121.4741", lat: "31.2303", attrs: map[string]string{"laneId": "1"}},
	}
	for _, dev := range devs {
		dev.key = city.DeviceKey(seed, dev.id)
	}
	return devs
}

// registration is what city hall sends to register the device.
func (dev *demoDevice) registration(owner chain.Address) city.Register {
	return city.Register{ID: dev.id, Type: dev.typ, Category: dev.category, Name: dev.name,
		PubKey: city.PubKeyHex(dev.key), Owner: owner, Location: city.NewPoint(dev.lon, dev.lat),
		District: "TeaQuarter", Attrs: dev.attrs}
}

// vanReport is what the district's devices observe as the van passes at
// now, each reading signed by its device.
func (d *demo) vanReport(devs []*demoDevice, now time.Time) (city.Report, error) {
	at := now.UTC().Format(time.RFC3339)
	obs := []city.Observation{
		{Device: devs[0].id, Seq: 1, ObservedAt: at, Values: map[string]string{"value": "green"}},
		{Device: devs[1].id, Seq: 1, ObservedAt: at, Values: map[string]string{"powerState": "on", "illuminanceLevel": "0.8"}},
		{Device: devs[2].id, Seq: 1, ObservedAt: at, Values: map[string]string{"intensity": "1", "averageVehicleSpeed": "32.5", "occupancy": "0.04"}},
	}
	var report city.Report
	for i, o := range obs {
		r, err := city.SignReading(devs[i].key, d.chainID, o)
		if err != nil {
			return report, err
		}
		report.Readings = append(report.Readings, r)
	}
	return report, nil
}

func (d *demo) cityStory() error {
	d.stage("The van crosses the district: smart-city devices (FIWARE)",
		`City hall (dev0), the district's operator, has registered its devices on chain,
		each with its own key: a traffic light, a streetlight and a traffic counter, as
		FIWARE Smart Data Models entities. As the van passes, the devices report
		readings signed by their own keys; the van's gateway (dev3) carries them in
		one transaction. Nobody can forge a reading without the device's key.`)
	devs := d.districtDevices()
	for _, dev := range devs {
		if _, err := d.send(actorCityHall, city.Name, city.ActionRegister, dev.registration(d.addr(actorCityHall))); err != nil {
			return err
		}
	}
	report, err := d.vanReport(devs, time.Now())
	if err != nil {
		return err
	}
	if _, err := d.send(actorVan, city.Name, city.ActionReport, report); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   the light turned green, the lamp shines at 0.8, the counter saw one vehicle at 32.5 km/h\n")

	d.stage("The city dims the streetlight behind the van",
		`The operator sends a command to the streetlight: dim to 0.3. The lamp answers
		with an acknowledgement signed by its own key; both are on chain, and the
		lamp's state changes only when it confirms.`)
	r, err := d.send(actorCityHall, city.Name, city.ActionCommand, city.Command{Device: devs[1].id, Action: "dim", Value: "0.3"})
	if err != nil {
		return err
	}
	cmdID, err := eventAttr(r, "command", "id")
	if err != nil {
		return err
	}
	id, _ := strconv.ParseUint(cmdID, 10, 64)
	ack, err := city.SignAck(devs[1].key, d.chainID, city.AckBody{Device: devs[1].id, Command: id, Result: city.ResultDone})
	if err != nil {
		return err
	}
	if _, err := d.send(actorVan, city.Name, city.ActionAck, ack); err != nil {
		return err
	}
	var state map[string]any
	if err := d.get("/v1/apps/city/device/"+devs[1].id, &state); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   streetlight %s acknowledged command %d\n", devs[1].id, id)
	d.link("the streetlight", "/v1/apps/city/device/"+devs[1].id)
	d.page("the district map", "#/city")
	d.page("the streetlight", "#/device/"+devs[1].id)
	d.link("the district", "/v1/apps/city/district/TeaQuarter")
	d.link("the lamp as NGSI-LD (Smart Data Models Streetlight)", "/v1/apps/city/ngsi/"+devs[1].id)
	d.link("the same, keyValues", "/v1/apps/city/ngsi/"+devs[1].id+"?options=keyValues")
	return nil
}
