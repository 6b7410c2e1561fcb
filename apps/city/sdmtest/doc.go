// Package sdmtest checks NGSI-LD entities against the official JSON
// schemas of the FIWARE Smart Data Models that the city module exports:
// Streetlight, TrafficFlowObserved, AirQualityObserved and Device. The
// schemas are the copies in apps/city/testdata/sdm (see SOURCES.txt
// there); they refer to each other by URL, and the checker resolves those
// URLs to the copies, so it never reaches the network.
//
// The schemas describe an entity in the keyValues form (each attribute
// its bare value). An entity in the normalized form is first checked for
// NGSI-LD's structure (ETSI GS CIM 009: every attribute a Property,
// GeoProperty or Relationship object, with its value or object) and then
// reduced to keyValues and checked against the same schema. Both forms
// must also carry the @context the export promises: the NGSI-LD core
// context first, the model's own context last, defining every term the
// entity uses.
//
// It is a package, not a test file, so that the tests of the citychain
// command can check the demo's devices with it too.
package sdmtest
