package city

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/citychain/citychain/apps/sdk"
)

// Imported is a FIWARE entity, as the Smart Data Models publish examples
// and as context brokers return them, split into what this module
// stores: a registration and one observation. FIWARE does not carry a
// device key or a chain address, so Register.PubKey and Register.Owner
// are left for the caller, and so is Register.Location when the entity
// has none.
type Imported struct {
	Register   Register
	Values     map[string]string // the observation, in the model's text form
	ObservedAt string            // RFC 3339 in UTC; "" when the entity gives no time
	Skipped    []string          // attributes the model leaves out, sorted
}

// ParseFIWARE reads one entity in any of the three forms the Smart Data
// Models use: NGSI-v2 keyValues ("powerState": "off"), NGSI-v2
// normalized ("powerState": {"type": "Text", "value": "off"}) and
// NGSI-LD normalized ({"type": "Property", "value": "off"}, with an
// "urn:ngsi-ld:" id and an @context).
//
// The mapping:
//
//	id                 the device id, without the urn:ngsi-ld:{type}: prefix
//	type               the model; Device also reads deviceCategory (or category)
//	location           a Point; for a LineString or Polygon its first vertex
//	areaServed         the district (else municipalityInfo.district, else
//	                   address.addressLocality), with blanks made '-'
//	name               the name
//	dateObserved(To), observationDateTime, dateLastValueReported
//	                   the observation's time
//	attributes of the model: installation attributes (lanternHeight, ...)
//	                   to the registration, the others to the observation
//
// Numbers are rounded to the model's precision and coordinates to six
// decimal places; the rounding is exact decimal arithmetic (math/big),
// not floats. A value the model refuses is an error that names the
// attribute; an attribute the model does not have is listed in Skipped.
func ParseFIWARE(data []byte) (*Imported, error) {
	var doc map[string]any
	if err := sdk.DecodeNumbers(data, &doc); err != nil {
		return nil, fmt.Errorf("FIWARE entity: %w", err)
	}
	typ, _ := unwrap(doc["type"]).(string)
	id, _ := unwrap(doc["id"]).(string)
	if typ == "" || id == "" {
		return nil, fmt.Errorf("FIWARE entity: id and type are required")
	}
	category := ""
	if typ == TypeDevice {
		category = cmp.Or(firstString(unwrap(doc["deviceCategory"])), firstString(unwrap(doc["category"])))
	}
	model, err := ModelFor(typ, category)
	if err != nil {
		return nil, fmt.Errorf("FIWARE entity %s: %w", id, err)
	}
	name, _ := unwrap(doc["name"]).(string)
	im := &Imported{Values: map[string]string{}, Register: Register{Type: typ, Category: category, Name: name,
		ID: sanitize(strings.TrimPrefix(id, "urn:ngsi-ld:"+typ+":"), MaxIDLen, idChars), District: districtOf(doc), Attrs: map[string]string{}}}
	r := &im.Register
	if loc, ok := unwrap(doc["location"]).(map[string]any); ok {
		if r.Location, err = pointOf(loc); err != nil {
			return nil, fmt.Errorf("FIWARE entity %s: location: %w", id, err)
		}
	}
	if im.ObservedAt, err = observedAt(doc); err != nil {
		return nil, fmt.Errorf("FIWARE entity %s: %w", id, err)
	}
	for _, key := range slices.Sorted(maps.Keys(doc)) {
		if entityKeys[key] {
			continue
		}
		attr := cmp.Or(renamed[key], key) // the examples write typeOfLocation, the schema typeofLocation
		a, ok := model.Attr(attr)
		if !ok || olderRSSI(a, doc[key]) {
			im.Skipped = append(im.Skipped, key)
			continue
		}
		v, err := a.Normalize(fromJSON(a, unwrap(doc[key])))
		if err != nil {
			return nil, fmt.Errorf("FIWARE entity %s: %s: %w", id, key, err)
		}
		if a.Install {
			r.Attrs[attr] = v
		} else {
			im.Values[attr] = v
		}
	}
	return im, nil
}

// entityKeys are read into the registration or the time, or describe
// the record rather than the city; they are not attributes.
var entityKeys = map[string]bool{
	"id": true, "type": true, "@context": true, "location": true, "areaServed": true, "address": true,
	"name": true, "deviceCategory": true, "category": true, "municipalityInfo": true,
	"dateObserved": true, "dateObservedFrom": true, "dateObservedTo": true, "observationDateTime": true,
	"dateLastValueReported": true, "dateCreated": true, "dateModified": true, "source": true, "dataProvider": true,
}

// olderRSSI reports whether v is an rssi the model cannot take as dBm:
// one with a unitCode other than DBM (mW), or without a unit and not
// negative, as the models' older 0..1 ratio (their Device example has
// 0.86). A ratio does not convert to dBm; the importer skips it.
func olderRSSI(a *Attr, v any) bool {
	if a.Name != "rssi" {
		return false
	}
	if m, ok := v.(map[string]any); ok && m["unitCode"] != nil {
		return m["unitCode"] != a.Unit
	}
	n, ok := unwrap(v).(json.Number)
	return !ok || !strings.HasPrefix(string(n), "-")
}

// unwrap returns the value of a normalized attribute ({"value": ...},
// {"object": ...}, {"@value": ...}) and any other value unchanged.
func unwrap(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if x, ok := m["@value"]; ok {
		return x
	}
	if _, typed := m["type"]; !typed {
		return v
	}
	if x, ok := m["value"]; ok {
		return unwrap(x)
	}
	if x, ok := m["object"]; ok {
		return x
	}
	return v
}

// fromJSON turns a decoded JSON value into what Attr.Normalize takes:
// numbers for a numeric attribute become decimal text at the attribute's
// precision, rounded half away from zero.
func fromJSON(a *Attr, v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	if a.Kind == KindNumber {
		if s, err := roundDecimal(string(n), a.Scale); err == nil {
			return s
		}
	}
	return string(n) // text, or a number Normalize says what is wrong with
}

// roundDecimal rounds a JSON number to scale decimal places, exactly.
func roundDecimal(s string, scale int) (string, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", fmt.Errorf("%q is not a number", s)
	}
	out := r.FloatString(scale)
	v, err := parseFixed(out, scale)
	if err != nil {
		return "", err
	}
	return formatFixed(v, scale), nil
}

// pointOf reads a GeoJSON geometry as a Point: a Point itself, or the
// first vertex of a LineString, Polygon or MultiPoint.
func pointOf(g map[string]any) (Point, error) {
	coords := g["coordinates"]
	switch g["type"] {
	case "Point":
	case "LineString", "MultiPoint":
		coords = first(coords)
	case "Polygon":
		coords = first(first(coords))
	default:
		return Point{}, fmt.Errorf("geometry %v is not supported", g["type"])
	}
	pair, ok := coords.([]any)
	if !ok || len(pair) < 2 {
		return Point{}, fmt.Errorf("coordinates are not a [longitude, latitude] pair")
	}
	var text [2]string
	for i := range text {
		n, ok := pair[i].(json.Number)
		if !ok {
			return Point{}, fmt.Errorf("coordinate %d is not a number", i)
		}
		s, err := roundDecimal(string(n), coordScale)
		if err != nil {
			return Point{}, err
		}
		text[i] = s
	}
	return NewPoint(text[0], text[1]).normalized()
}

func first(v any) any {
	if l, ok := v.([]any); ok && len(l) > 0 {
		return l[0]
	}
	return nil
}

func firstString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	s, _ := first(v).(string)
	return s
}

// districtOf reads the district: areaServed, else municipalityInfo.district,
// else address.addressLocality.
func districtOf(doc map[string]any) string {
	area, _ := unwrap(doc["areaServed"]).(string)
	muni, _ := unwrap(doc["municipalityInfo"]).(map[string]any)
	addr, _ := unwrap(doc["address"]).(map[string]any)
	district, _ := muni["district"].(string)
	locality, _ := addr["addressLocality"].(string)
	return sanitize(cmp.Or(area, district, locality), MaxDistrictLen, districtChars)
}

// sanitize makes s a valid id (extra is idChars) or district name
// (districtChars): other characters become '-', runs of them one '-'.
func sanitize(s string, maxLen int, extra string) string {
	var b strings.Builder
	dash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if nameChar(c, extra) {
			b.WriteByte(c)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > maxLen {
		out = out[:maxLen]
	}
	return out
}

// observedAt finds the time of the observation: the end of dateObserved
// (which may be an ISO 8601 interval), or the time of the last report.
// FIWARE times without a zone are UTC.
func observedAt(doc map[string]any) (string, error) {
	for _, k := range []string{"dateObservedTo", "dateObserved", "observationDateTime", "dateLastValueReported"} {
		s, ok := unwrap(doc[k]).(string)
		if !ok || s == "" {
			continue
		}
		if _, end, isInterval := strings.Cut(s, "/"); isInterval {
			s = end
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
			if t, err := time.Parse(layout, s); err == nil {
				return formatTime(t), nil
			}
		}
		return "", fmt.Errorf("%s: %q is not an ISO 8601 time", k, s)
	}
	return "", nil
}
