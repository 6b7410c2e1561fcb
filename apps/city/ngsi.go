package city

import (
	"encoding/json"
	"maps"
	"slices"
)

// NGSI-LD (ETSI GS CIM 009) is the API smart-city platforms such as
// FIWARE's context brokers speak. An entity there is a JSON-LD object
// with an id that is a URN, a type, and attributes that are each a
// Property ({"type": "Property", "value": ...}), a GeoProperty (a
// GeoJSON value) or a Relationship (an "object" that is another entity's
// id). The export below writes a device and its latest state in that
// normalized form, so that the chain's view of the city can be loaded
// into any NGSI-LD broker:
//
//	id          urn:ngsi-ld:{type}:{device id}
//	type        the FIWARE type (Streetlight, ...)
//	location    GeoProperty, the registered Point
//	areaServed  the district
//	owner       the owner's address
//	each attribute of the state: Property with value, unitCode (UN/CEFACT)
//	            and observedAt
//
// Numbers are written as JSON numbers straight from their decimal text
// (json.Number), so the export, like the state, never goes through a
// float.

// NGSIContext is the @context of every exported entity: the NGSI-LD core
// context. The FIWARE attribute names used here are the Smart Data
// Models' own, whose contexts a broker may add.
const NGSIContext = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"

// EntityID returns the NGSI-LD id of a device, such as
// "urn:ngsi-ld:Streetlight:centro-sl-001".
func EntityID(typ, id string) string { return "urn:ngsi-ld:" + typ + ":" + id }

// Entity returns the device and its state as an NGSI-LD entity in
// normalized form, ready to be marshalled as JSON-LD.
func Entity(d *Device, s *State) map[string]any {
	e := map[string]any{
		"@context":   NGSIContext,
		"id":         EntityID(d.Type, d.ID),
		"type":       d.Type,
		"areaServed": property(d.District, "", ""),
		"owner":      property([]string{d.Owner.String()}, "", ""),
	}
	if c := d.Location.Coordinates; len(c) == 2 { // always so for a registered device
		e["location"] = map[string]any{
			"type":  "GeoProperty",
			"value": map[string]any{"type": "Point", "coordinates": []json.Number{json.Number(c[0]), json.Number(c[1])}},
		}
	}
	if d.Name != "" {
		e["name"] = property(d.Name, "", "")
	}
	if d.Category != "" {
		e["deviceCategory"] = property([]string{d.Category}, "", "")
	}
	model, err := ModelFor(d.Type, d.Category)
	for _, name := range slices.Sorted(maps.Keys(s.Attrs)) {
		v := s.Attrs[name]
		var a *Attr
		if err == nil {
			a, _ = model.Attr(name)
		}
		if a == nil { // a value the current model does not know: keep it as text
			e[name] = property(v.Value, "", v.ObservedAt)
			continue
		}
		e[name] = property(jsonValue(a, v.Value), a.Unit, v.ObservedAt)
	}
	if s.ObservedAt != "" {
		when := map[string]any{"@type": "DateTime", "@value": s.ObservedAt}
		switch d.Type {
		case TypeTrafficFlow, TypeAirQuality:
			e["dateObserved"] = property(when, "", "")
		case TypeDevice:
			e["dateLastValueReported"] = property(when, "", "")
		}
	}
	return e
}

func property(value any, unit, observedAt string) map[string]any {
	p := map[string]any{"type": "Property", "value": value}
	if unit != "" {
		p["unitCode"] = unit
	}
	if observedAt != "" {
		p["observedAt"] = observedAt
	}
	return p
}

// jsonValue turns a stored text value back into its JSON type.
func jsonValue(a *Attr, v string) any {
	switch a.Kind {
	case KindNumber:
		if _, err := parseFixed(v, a.Scale); err == nil { // stored values always parse
			return json.Number(v)
		}
	case KindBool:
		return v == "true"
	}
	return v
}
