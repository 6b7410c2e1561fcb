// Package city keeps the devices of a smart city on the chain:
// streetlights, traffic counters, air-quality stations and traffic
// lights, described by the FIWARE Smart Data Models (Streetlight,
// TrafficFlowObserved, AirQualityObserved, Device).
//
// The story in four actions:
//
//	register  a city operator registers a device with its own
//	          secp256k1 key, its type, a GeoJSON point, a district and
//	          an owner
//	report    readings go on chain, several per transaction, each signed
//	          by its device's key; whoever sends the transaction (a
//	          gateway) does not matter. Values are checked against the
//	          device's model (units, ranges, enumerations) and merged into
//	          its latest state; a bounded history keeps the last ones
//	command   an operator asks a device to act: dim a streetlight, set a
//	          traffic light's plan
//	ack       the device answers, signed with its key; a command done
//	          sets the attribute it names in the device's state
//
// Queries give a device's state and history, the devices in a bounding
// box, the state of a district, and any device as an NGSI-LD entity.
// `citychain sim city` (sim.go) runs a simulated district against a node.
//
// Files, one concern each:
//
//	model.go    the device models: attributes, kinds, units, ranges, commands
//	decimal.go  fixed-point decimals: how "12.2 °C" is checked without floats
//	geo.go      GeoJSON points, the grid index, bounding boxes
//	msgs.go     the actions' payloads, their wire forms and stateless checks
//	sign.go     what a device signs, and device keys
//	keeper.go   state records, state keys and the rules of each action
//	app.go      the action table (sdk.Module), InitGenesis, DevGenesis
//	query.go    the query table: /v1/apps/city/...
//	ngsi.go     the NGSI-LD export (Smart Data Models; contexts in context/)
//	fiware.go   reading FIWARE entities (NGSI-v2 and NGSI-LD) into messages
//	cli.go      citychain tx city ...
//	cliquery.go citychain query city ...
//	sim.go, simmodel.go  the district simulator (CLI only)
//	wiring.go   the optional interfaces: simulator, dev genesis, explorer
//
// State (under the app's prefix "a/city/"; an address is 20 raw bytes, n
// a number as 8 bytes big-endian, cells as in geo.go):
//
//	params                      Params, fixed at genesis
//	op/{address}                0x01: a city operator
//	dev/{id}                    Device, fixed at registration
//	state/{id}                  State: latest value of every attribute
//	hist/{id}/{n}               HistoryEntry: the n-th reading accepted
//	grid/{lat cell}{lon cell}{id}  0x01: the spatial index
//	dist/{district}/{id}        0x01: the district index
//	cmd/{n}                     CommandRecord
//	devcmd/{id}/{n}             0x01: commands by device
//	pending/{n}                 0x01: commands not yet acknowledged
//	seq/cmd                     the last command number
//
// Invariants:
//   - a device's key, type, place and district never change, and it is
//     filed under exactly one grid cell (the one holding its point) and
//     one district;
//   - every value in a State or HistoryEntry passed its model's check
//     and is in canonical text; no float is ever parsed or stored;
//   - a reading is accepted only with a valid signature of the device's
//     key over the exact bytes in the transaction, and with a seq above
//     the device's last: a reading cannot be replayed or forged by the
//     gateway that carries it;
//   - hist/{id}/ holds the entries n in (Readings-HistoryLimit,
//     Readings], no more: each accepted reading deletes the one that
//     falls out of the window;
//   - pending/{n} exists exactly while command n has status pending; a
//     command is acknowledged at most once, by its own device.
package city
