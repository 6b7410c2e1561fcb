package city

import (
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/citychain/citychain/chain"
)

// NGSI-LD (ETSI GS CIM 009) is the API smart-city platforms such as
// FIWARE's context brokers speak. An entity there is a JSON-LD object
// with an id that is a URN, a type, and attributes. The export writes a
// device and its latest state in either of the two forms NGSI-LD gives
// an entity, so that the chain's view of the city can be loaded into any
// NGSI-LD broker and checked against the Smart Data Models' schemas:
//
//	normalized  each attribute an object: a Property {"type": "Property",
//	            "value": ..., "unitCode": UN/CEFACT code, "observedAt": ...},
//	            a GeoProperty (location, a GeoJSON value)
//	keyValues   each attribute its bare value (options=keyValues; the
//	            "simplified" form), as the Smart Data Models' schemas and
//	            example.json files are written
//
// The members, in both forms:
//
//	@context    the NGSI-LD core context, then the model's own Smart Data
//	            Models context, served by the node (ContextPath)
//	id          urn:ngsi-ld:{type}:{device id}
//	type        the model (Streetlight, ...)
//	location    the registered Point, coordinates as numbers
//	areaServed  the district
//	owner       the owner's address, in a list
//	name, deviceCategory (a Device's category, in a list)
//	each attribute of the state, as the current model reads it
//	dateObserved           TrafficFlowObserved and AirQualityObserved: the
//	                       last reading's time, or the registration's before
//	                       any reading (the values then are the registration's)
//	dateLastValueReported  Device: the last reading's time
//
// Numbers are written as JSON numbers straight from their decimal text
// (json.Number), so the export, like the state, never goes through a
// float.

// NGSIContext is the NGSI-LD core context, first in every export's
// @context.
const NGSIContext = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"

// Form is one of NGSI-LD's two representations of an entity.
type Form int

// The forms of an export.
const (
	Normalized Form = iota // attributes as Property and GeoProperty objects
	KeyValues              // attributes as their bare values
)

// ParseForm reads the NGSI-LD "options" argument: "" or "normalized",
// "keyValues" or its newer name "simplified".
func ParseForm(options string) (Form, error) {
	switch options {
	case "", "normalized":
		return Normalized, nil
	case "keyValues", "simplified":
		return KeyValues, nil
	}
	return 0, fmt.Errorf("%w: options: %q, want keyValues (or simplified) or normalized", chain.ErrBadPayload, options)
}

// contexts holds the models' Smart Data Models contexts, as published
// (see context/SOURCES.txt), by the file each entity type uses.
//
//go:embed context/*.jsonld
var contexts embed.FS

var contextFiles = map[string]string{
	TypeStreetlight: "Streetlighting.jsonld",
	TypeTrafficFlow: "Transportation.jsonld",
	TypeAirQuality:  "Environment.jsonld",
	TypeDevice:      "Device.jsonld",
}

// ContextPath returns the path on the node of the Smart Data Models
// context of an entity type, "/v1/apps/city/context/{type}.jsonld".
func ContextPath(typ string) string { return "/v1/apps/" + Name + "/context/" + typ + ".jsonld" }

// Context returns the Smart Data Models context document of an entity
// type, as "context/{type}.jsonld" names it.
func Context(file string) (json.RawMessage, error) {
	typ, ok := strings.CutSuffix(file, ".jsonld")
	name, known := contextFiles[typ]
	if !ok || !known {
		return nil, fmt.Errorf("%w: context %q: there are %s.jsonld, %s.jsonld, %s.jsonld and %s.jsonld", chain.ErrNotFound,
			file, TypeStreetlight, TypeTrafficFlow, TypeAirQuality, TypeDevice)
	}
	return contexts.ReadFile("context/" + name)
}

// EntityID returns the NGSI-LD id of a device, such as
// "urn:ngsi-ld:Streetlight:centro-sl-001".
func EntityID(typ, id string) string { return "urn:ngsi-ld:" + typ + ":" + id }

// Entity returns the device and its state as an NGSI-LD entity in the
// given form, ready to be marshalled as JSON-LD.
func Entity(d *Device, s *State, form Form) map[string]any {
	e := map[string]any{
		"@context": []string{NGSIContext, ContextPath(d.Type)},
		"id":       EntityID(d.Type, d.ID),
		"type":     d.Type,
	}
	put := func(name string, v any, unit, observedAt string) {
		if form == KeyValues {
			e[name] = v
			return
		}
		p := map[string]any{"type": "Property", "value": v}
		if unit != "" {
			p["unitCode"] = unit
		}
		if observedAt != "" {
			p["observedAt"] = observedAt
		}
		e[name] = p
	}
	putTime := func(name, t string) {
		if form == KeyValues {
			e[name] = t
		} else {
			put(name, map[string]any{"@type": "DateTime", "@value": t}, "", "")
		}
	}
	if form == KeyValues {
		e["location"] = d.Location.GeoJSON()
	} else {
		e["location"] = map[string]any{"type": "GeoProperty", "value": d.Location.GeoJSON()}
	}
	put("areaServed", d.District, "", "")
	put("owner", []string{d.Owner.String()}, "", "")
	if d.Name != "" {
		put("name", d.Name, "", "")
	}
	if d.Category != "" {
		put("deviceCategory", []string{d.Category}, "", "")
	}
	for _, a := range exported(d, s) {
		put(a.name, a.value, a.unit, a.observedAt)
	}
	switch {
	case d.Type == TypeTrafficFlow || d.Type == TypeAirQuality:
		putTime("dateObserved", cmp.Or(s.ObservedAt, d.Time))
	case d.Type == TypeDevice && s.ObservedAt != "":
		putTime("dateLastValueReported", s.ObservedAt)
	}
	return e
}

// attribute is one attribute of an export.
type attribute struct {
	name       string
	value      any
	unit       string
	observedAt string
}

// exported returns the state's attributes as the current model reads
// them, in name order. A state written by an older chain may differ from
// what the model now allows: a value stored under an old name is read
// under the new one (typeOfLocation), a value the model now refuses is
// left out rather than exported as something it is not (a laneId of 0,
// an rssi stored as a 0..1 ratio), and an attribute a registration now
// records by default is exported with that default, as of the
// registration.
func exported(d *Device, s *State) []attribute {
	model, err := ModelFor(d.Type, d.Category)
	if err != nil { // no registered device lacks a model; keep what is stored, as text
		var out []attribute
		for _, k := range slices.Sorted(maps.Keys(s.Attrs)) {
			out = append(out, attribute{name: k, value: s.Attrs[k].Value, observedAt: s.Attrs[k].ObservedAt})
		}
		return out
	}
	values := map[string]Value{}
	for _, k := range slices.Sorted(maps.Keys(s.Attrs)) {
		name := k
		if now, ok := renamed[k]; ok {
			name = now
			if _, both := s.Attrs[now]; both {
				continue // a value under the new name is newer
			}
		}
		values[name] = s.Attrs[k]
	}
	var out []attribute
	for _, a := range model.Attrs {
		v, ok := values[a.Name]
		if !ok && a.Default != "" {
			v, ok = Value{Value: a.Default, ObservedAt: d.Time}, true
		}
		if !ok {
			continue
		}
		text, err := a.Normalize(v.Value)
		if err != nil {
			continue
		}
		out = append(out, attribute{name: a.Name, value: jsonValue(&a, text), unit: a.Unit, observedAt: v.ObservedAt})
	}
	slices.SortFunc(out, func(x, y attribute) int { return strings.Compare(x.name, y.name) })
	return out
}

// jsonValue turns a value in canonical text into its JSON type.
func jsonValue(a *Attr, v string) any {
	switch a.Kind {
	case KindNumber:
		return json.Number(v)
	case KindBool:
		return v == "true"
	case KindList:
		return strings.Split(v, ",")
	}
	return v
}
