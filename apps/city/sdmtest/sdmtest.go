package sdmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/chain/chaintest"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// CoreContext is the NGSI-LD core context, first in every entity's
// @context.
const CoreContext = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"

// coreTerms are the terms of the NGSI-LD core context an entity may use
// without its model's context defining them.
var coreTerms = map[string]bool{"@context": true, "id": true, "type": true, "location": true,
	"Property": true, "GeoProperty": true, "Relationship": true, "value": true, "object": true,
	"unitCode": true, "observedAt": true, "DateTime": true}

// schemaFiles are the local copies of the schemas, by the URLs that name
// them: their $id, and the URLs the others refer to them by.
var schemaFiles = map[string]string{
	"https://smart-data-models.github.io/dataModel.Streetlighting/Streetlight/schema.json":                     "Streetlight.schema.json",
	"https://smart-data-models.github.io/dataModel.Transportation/TrafficFlowObserved/schema.json":             "TrafficFlowObserved.schema.json",
	"https://smart-data-models.github.io/dataModel.Environment/AirQualityObserved/schema.json":                 "AirQualityObserved.schema.json",
	"https://smart-data-models.github.io/dataModel.Device/Device/schema.json":                                  "Device.schema.json",
	"https://smart-data-models.github.io/data-models/common-schema.json":                                       "common-schema.json",
	"https://smart-data-models.github.io/dataModel.Device/device-schema.json":                                  "device-schema.json",
	"https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/Environment-schema.json": "Environment-schema.json",
}

// models are the entity types checked, by the $id of their schema.
var models = map[string]string{
	"Streetlight":         "https://smart-data-models.github.io/dataModel.Streetlighting/Streetlight/schema.json",
	"TrafficFlowObserved": "https://smart-data-models.github.io/dataModel.Transportation/TrafficFlowObserved/schema.json",
	"AirQualityObserved":  "https://smart-data-models.github.io/dataModel.Environment/AirQualityObserved/schema.json",
	"Device":              "https://smart-data-models.github.io/dataModel.Device/Device/schema.json",
}

// Dir returns the directory of the schemas: apps/city/testdata/sdm, found
// from this file's place in the source tree.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "sdm")
}

// Checker checks entities against the compiled schemas.
type Checker struct {
	schemas    map[string]*jsonschema.Schema
	context    func(ref string) ([]byte, error)
	extensions map[string]bool
}

// Extensions are the attributes of the city's models that no Smart Data
// Model defines: a traffic light's signalPlan (model.go). They expand to
// NGSI-LD's default context, as NGSI-LD has it for such attributes.
var Extensions = []string{"signalPlan"}

// New compiles the schemas in dir. context returns the document a
// reference in an entity's @context names; nil reads the city's own
// copies for the references that end in city.ContextPath's form. The
// extensions are attribute names no model defines that an entity may
// carry all the same.
func New(dir string, context func(ref string) ([]byte, error), extensions ...string) (*Checker, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(localLoader(dir))
	if context == nil {
		context = cityContext
	}
	ch := &Checker{schemas: map[string]*jsonschema.Schema{}, context: context, extensions: map[string]bool{}}
	for _, typ := range slices.Sorted(maps.Keys(models)) {
		s, err := c.Compile(models[typ])
		if err != nil {
			return nil, fmt.Errorf("schema of %s: %w", typ, err)
		}
		ch.schemas[typ] = s
	}
	for _, e := range extensions {
		ch.extensions[e] = true
	}
	return ch, nil
}

// cityContext returns the context a reference in city.ContextPath's form
// names, relative or made absolute by the node.
func cityContext(ref string) ([]byte, error) {
	_, file, ok := strings.Cut(ref, strings.TrimSuffix(city.ContextPath(""), ".jsonld")) // "/v1/apps/city/context/"
	if !ok {
		return nil, fmt.Errorf("not a context the city serves")
	}
	return city.Context(file)
}

// Devices checks the city's export of each device on the chain c
// (ngsi/{id}), in both forms, and reports each failure on t with the
// document that failed. It returns the number of documents checked.
func (ch *Checker) Devices(t testing.TB, c *chaintest.Chain, ids ...string) int {
	t.Helper()
	n := 0
	for _, id := range ids {
		for _, form := range []struct {
			args  map[string]string
			check func([]byte) error
		}{{nil, ch.Normalized}, {map[string]string{"options": "keyValues"}, ch.KeyValues}} {
			a, err := c.Query(city.Name, "ngsi/"+id, form.args)
			if err != nil {
				t.Errorf("export %s: %v", id, err)
				continue
			}
			doc, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			if err := form.check(doc); err != nil {
				t.Errorf("export of %s %v does not conform: %v\n%s", id, form.args, err, doc)
			}
			n++
		}
	}
	return n
}

// localLoader loads the schemas from dir by their URLs, and refuses any
// other URL instead of fetching it.
type localLoader string

func (dir localLoader) Load(u string) (any, error) {
	file, ok := schemaFiles[u]
	if !ok {
		return nil, fmt.Errorf("no local copy of %s (the checker never reaches the network)", u)
	}
	f, err := os.Open(filepath.Join(string(dir), file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}

// KeyValues checks an entity in the keyValues form: its @context and
// terms, and its attributes against the schema of its type.
func (ch *Checker) KeyValues(doc []byte) error {
	e, err := ch.decode(doc)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(e)) {
		if attr, ok := e[k].(map[string]any); ok && isAttributeType(attr["type"]) {
			return fmt.Errorf("%s: an NGSI-LD %v object, not a bare value: the entity is not in the keyValues form", k, attr["type"])
		}
	}
	return ch.validate(e)
}

// Normalized checks an entity in the normalized form: its @context and
// terms, NGSI-LD's structure of every attribute, and the values, reduced
// to keyValues, against the schema of its type.
func (ch *Checker) Normalized(doc []byte) error {
	e, err := ch.decode(doc)
	if err != nil {
		return err
	}
	kv := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(e)) {
		switch k {
		case "@context", "id", "type":
			kv[k] = e[k]
			continue
		}
		if kv[k], err = attributeValue(k, e[k]); err != nil {
			return err
		}
	}
	return ch.validate(kv)
}

// decode reads an entity and checks what both forms share: an id that is
// a URI, a type with a schema, and an @context of the core context and
// the model's own, which defines every term the entity uses.
func (ch *Checker) decode(doc []byte) (map[string]any, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	e, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("an entity is a JSON object")
	}
	typ, _ := e["type"].(string)
	if _, ok := ch.schemas[typ]; !ok {
		return nil, fmt.Errorf("type: %q is none of the models checked", e["type"])
	}
	id, _ := e["id"].(string)
	if u, err := url.Parse(id); err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("id: %q is not a URI", id)
	}
	refs, _ := e["@context"].([]any)
	if len(refs) < 2 || refs[0] != CoreContext {
		return nil, fmt.Errorf("@context: %v, want the NGSI-LD core context and then the model's", e["@context"])
	}
	last, _ := refs[len(refs)-1].(string)
	raw, err := ch.context(last)
	if err != nil {
		return nil, fmt.Errorf("@context %s: %w", last, err)
	}
	var ctx struct {
		Terms map[string]any `json:"@context"`
	}
	if err := json.Unmarshal(raw, &ctx); err != nil || len(ctx.Terms) == 0 {
		return nil, fmt.Errorf("@context %s: not a JSON-LD context (%v)", last, err)
	}
	if iri, _ := ctx.Terms[typ].(string); !strings.HasPrefix(iri, "https://smartdatamodels.org/") || !strings.HasSuffix(iri, "/"+typ) {
		return nil, fmt.Errorf("@context %s: does not define the type %s as a Smart Data Model (%v)", last, typ, ctx.Terms[typ])
	}
	for _, k := range slices.Sorted(maps.Keys(e)) {
		if _, defined := ctx.Terms[k]; !defined && !coreTerms[k] && !ch.extensions[k] {
			return nil, fmt.Errorf("%s: a term the context %s does not define (it would expand to NGSI-LD's default context)", k, last)
		}
	}
	return e, nil
}

func (ch *Checker) validate(e map[string]any) error {
	typ := e["type"].(string) // decode checked it
	if err := ch.schemas[typ].Validate(e); err != nil {
		return fmt.Errorf("%s schema: %w", typ, err)
	}
	return nil
}

func isAttributeType(t any) bool {
	return t == "Property" || t == "GeoProperty" || t == "Relationship"
}

// attributeValue checks one attribute of a normalized entity and returns
// its keyValues value: a Property's value (a DateTime's text), a
// GeoProperty's GeoJSON, a Relationship's object.
func attributeValue(name string, v any) (any, error) {
	a, ok := v.(map[string]any)
	if !ok || !isAttributeType(a["type"]) {
		return nil, fmt.Errorf("%s: %v is not a Property, GeoProperty or Relationship object", name, v)
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		switch k {
		case "type", "value", "object":
		case "unitCode":
			if s, ok := a[k].(string); !ok || s == "" || a["type"] != "Property" {
				return nil, fmt.Errorf("%s.unitCode: %v: a Property's unit is a UN/CEFACT code", name, a[k])
			}
		case "observedAt":
			s, _ := a[k].(string)
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil || !strings.HasSuffix(s, "Z") {
				return nil, fmt.Errorf("%s.observedAt: %v is not a date-time in UTC", name, a[k])
			}
		default:
			return nil, fmt.Errorf("%s.%s: not a member the export writes", name, k)
		}
	}
	if name == "location" && a["type"] != "GeoProperty" {
		return nil, fmt.Errorf("location: a %v, but NGSI-LD's location is a GeoProperty", a["type"])
	}
	switch a["type"] {
	case "Relationship":
		if a["object"] == nil || a["value"] != nil {
			return nil, fmt.Errorf("%s: a Relationship has an object and no value", name)
		}
		return a["object"], nil
	case "GeoProperty":
		g, ok := a["value"].(map[string]any)
		if !ok || g["type"] == nil || g["coordinates"] == nil {
			return nil, fmt.Errorf("%s: a GeoProperty's value is a GeoJSON geometry, not %v", name, a["value"])
		}
		return g, nil
	}
	if a["value"] == nil || a["object"] != nil {
		return nil, fmt.Errorf("%s: a Property has a value and no object", name)
	}
	if dt, ok := a["value"].(map[string]any); ok && dt["@type"] == "DateTime" {
		s, _ := dt["@value"].(string)
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil || len(dt) != 2 {
			return nil, fmt.Errorf("%s: %v is not a DateTime", name, dt)
		}
		return s, nil
	}
	return a["value"], nil
}
