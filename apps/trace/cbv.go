package trace

import (
	"fmt"
	"slices"
	"strings"
)

// The CBV 2.0 (Core Business Vocabulary) gives the words that fill an
// event's "why" fields. In EPCIS 2.0 JSON-LD a standard word is written
// bare ("shipping"); the same word may also appear as its URN
// (urn:epcglobal:cbv:bizstep:shipping), its web URI
// (https://ref.gs1.org/cbv/BizStep-shipping), the web URI of the drafts
// (https://ns.gs1.org/cbv/BizStep-shipping) or a compact IRI
// (cbv:BizStep-shipping). All spellings mean the same word. The module
// stores the bare word, the only form the EPCIS 2.0 JSON schema allows
// for a standard value, so a captured event comes back as the standard
// writes it; the event hash (hash.go) uses the web URI.
//
// A value with a colon that is not in a CBV namespace is a user-defined
// vocabulary entry (a URI such as http://example.org/bizstep/grading or a
// compact IRI such as example:grading) and is accepted as written, as the
// standard allows. A bare word that is not in the list is refused: it is
// almost always a typo ("shiping").

// vocab is one CBV vocabulary.
type vocab struct {
	name     string   // for error messages: "bizStep"
	iri      string   // IRI prefix of the standard words in the event hash, "" when they have none
	spelling []string // other prefixes a standard word may be written with
	words    []string // the standard words, sorted
}

// cbvVocab returns a CBV vocabulary whose words are written
// urn:epcglobal:cbv:{urn}:{word} and https://ref.gs1.org/cbv/{code}-{word}.
func cbvVocab(name, urn, code string, words ...string) *vocab {
	return &vocab{name: name, iri: cbvIRI + code + "-", words: slices.Sorted(slices.Values(words)),
		spelling: []string{"urn:epcglobal:cbv:" + urn + ":", "https://ns.gs1.org/cbv/" + code + "-",
			"http://ns.gs1.org/cbv/" + code + "-", "cbv:" + code + "-"}}
}

// gs1Vocab returns a vocabulary of the GS1 web vocabulary, whose words
// are written https://ref.gs1.org/voc/{word}, https://gs1.org/voc/{word}
// or gs1:{word}; legacy, when not empty, is a code older drafts put
// before the word ("MT-").
func gs1Vocab(name, legacy string, words ...string) *vocab {
	v := &vocab{name: name, iri: gs1IRI, words: slices.Sorted(slices.Values(words)),
		spelling: []string{"gs1:", "https://gs1.org/voc/", "https://www.gs1.org/voc/", "http://gs1.org/voc/"}}
	if legacy != "" {
		v.spelling = append(v.spelling, gs1IRI+legacy, "https://gs1.org/voc/"+legacy, "gs1:"+legacy)
	}
	return v
}

// The IRI prefixes of the CBV and of the GS1 web vocabulary.
const (
	cbvIRI = "https://ref.gs1.org/cbv/"
	gs1IRI = "https://ref.gs1.org/voc/"
)

// has reports whether w is one of the standard words.
func (v *vocab) has(w string) bool { _, ok := slices.BinarySearch(v.words, w); return ok }

// BizSteps is the CBV 2.0 business step vocabulary.
var BizSteps = cbvVocab("CBV 2.0 bizStep", "bizstep", "BizStep",
	"accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
	"creating_class_instance", "cycle_counting", "decommissioning", "departing", "destroying",
	"disassembling", "dispensing", "encoding", "entering_exiting", "holding", "inspecting",
	"installing", "killing", "loading", "other", "packing", "picking", "receiving", "removing",
	"repackaging", "repairing", "replacing", "reserving", "retail_selling", "sampling",
	"sensor_reporting", "shipping", "staging_outbound", "stock_taking", "stocking", "storing",
	"transporting", "unloading", "unpacking", "void_shipping")

// Dispositions is the CBV 2.0 disposition vocabulary.
var Dispositions = cbvVocab("CBV 2.0 disposition", "disp", "Disp",
	"active", "available", "completeness_inferred", "completeness_verified", "conformant",
	"container_closed", "container_open", "damaged", "destroyed", "dispensed", "disposed",
	"encoded", "expired", "in_progress", "in_transit", "inactive", "mismatch_class",
	"mismatch_instance", "mismatch_quantity", "needs_replacement", "no_pedigree_match",
	"non_conformant", "non_sellable_other", "partially_dispensed", "recalled", "reserved",
	"retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen",
	"unavailable", "unknown")

// BizTransactionTypes is the CBV 2.0 business transaction type vocabulary.
var BizTransactionTypes = cbvVocab("CBV 2.0 bizTransaction type", "btt", "BTT",
	"bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma",
	"testprd", "testres", "upevt")

// SourceDestTypes is the CBV 2.0 source/destination type vocabulary.
var SourceDestTypes = cbvVocab("CBV 2.0 source/destination type", "sdt", "SDT",
	"location", "owning_party", "possessing_party")

// ErrorReasons is the CBV 2.0 error reason vocabulary of errorDeclaration.
var ErrorReasons = cbvVocab("CBV 2.0 error reason", "er", "ER",
	"did_not_occur", "incorrect_data")

// MeasurementTypes is the GS1 measurement type vocabulary of
// sensorReport.type (gs1:Temperature), as the EPCIS 2.0 JSON schema
// lists it.
var MeasurementTypes = gs1Vocab("GS1 measurement type", "MT-",
	"AbsoluteHumidity", "AbsorbedDose", "AbsorbedDoseRate", "Acceleration", "Radioactivity",
	"Altitude", "AmountOfSubstance", "AmountOfSubstancePerUnitVolume", "Angle",
	"AngularAcceleration", "AngularMomentum", "AngularVelocity", "Area", "Capacitance",
	"Conductance", "Conductivity", "Count", "Density", "Dimensionless", "DoseEquivalent",
	"DoseEquivalentRate", "DynamicViscosity", "ElectricCharge", "ElectricCurrent",
	"ElectricCurrentDensity", "ElectricFieldStrength", "Energy", "Exposure", "Force",
	"Frequency", "Illuminance", "Inductance", "Irradiance", "KinematicViscosity", "Length",
	"LinearMomentum", "Luminance", "LuminousFlux", "LuminousIntensity", "MagneticFlux",
	"MagneticFluxDensity", "MagneticVectorPotential", "Mass", "MassConcentration",
	"MassFlowRate", "MassPerAreaTime", "MemoryCapacity", "MolalityOfSolute", "MolarEnergy",
	"MolarMass", "MolarVolume", "Power", "Pressure", "RadiantFlux", "RadiantIntensity",
	"RelativeHumidity", "Resistance", "Resistivity", "SolidAngle", "SpecificVolume", "Speed",
	"SurfaceDensity", "SurfaceTension", "Temperature", "Time", "Torque", "Voltage", "Volume",
	"VolumeFlowRate", "VolumeFraction", "VolumetricFlux", "Wavenumber")

// SensorAlertTypes is the vocabulary of sensorReport.exception.
var SensorAlertTypes = gs1Vocab("GS1 sensor alert type", "", "ALARM_CONDITION", "ERROR_CONDITION")

// Components is the CBV 2.0 vocabulary of sensorReport.component.
var Components = cbvVocab("CBV 2.0 component", "comp", "Comp",
	"altitude", "axial_distance", "azimuth", "easting", "elevation_angle", "geocoordinate",
	"height", "latitude", "longitude", "northing", "polar_angle", "spherical_radius", "x", "y", "z")

// Normalize returns the bare word for a standard value in any of its
// spellings, or a user-defined URI unchanged. It fails with
// ErrUnknownWord for a bare word, or a word in a CBV or GS1 namespace,
// that the vocabulary does not have.
func (v *vocab) Normalize(s string) (string, error) {
	if v.has(s) {
		return s, nil
	}
	for _, prefix := range v.prefixes() {
		if !strings.HasPrefix(s, prefix) {
			continue
		}
		if w := strings.TrimPrefix(s, prefix); v.has(w) {
			return w, nil
		}
		return "", v.unknown(s)
	}
	if strings.Contains(s, ":") && isURI(s) && !inStandardNamespace(s) {
		return s, nil // a user vocabulary, by URI or compact IRI
	}
	return "", v.unknown(s)
}

// prefixes lists every prefix a standard word of v may be written with.
func (v *vocab) prefixes() []string {
	if v.iri == "" {
		return v.spelling
	}
	return append([]string{v.iri}, v.spelling...)
}

// IRI returns the full IRI of a normalized value: the vocabulary's IRI
// for a standard word, the value itself for a user-defined one.
func (v *vocab) IRI(w string) string {
	if v.has(w) && v.iri != "" {
		return v.iri + w
	}
	return w
}

// inStandardNamespace reports whether s is written in a CBV namespace,
// where only the standard's own words exist.
func inStandardNamespace(s string) bool {
	for _, ns := range []string{"urn:epcglobal:cbv:", "https://ns.gs1.org/cbv/", "http://ns.gs1.org/cbv/", cbvIRI} {
		if strings.HasPrefix(s, ns) {
			return true
		}
	}
	return false
}

func (v *vocab) unknown(s string) error {
	word := s
	if i := strings.LastIndexAny(s, ":-"); i >= 0 {
		word = s[i+1:]
	}
	best, bestDist := "", 4 // suggest only words within 3 edits
	for _, w := range v.words {
		if d := editDistance(strings.ToLower(word), strings.ToLower(w)); d < bestDist {
			best, bestDist = w, d
		}
	}
	if best != "" {
		return fmt.Errorf("%q is not a standard %s (did you mean %q?), nor a user-defined URI", s, v.name, best)
	}
	return fmt.Errorf("%q is not a standard %s (%d words, from %q to %q), nor a user-defined URI", s, v.name, len(v.words), v.words[0], v.words[len(v.words)-1])
}

// editDistance is the Levenshtein distance: the fewest insertions,
// deletions and substitutions that turn a into b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
