package trace

import (
	"fmt"
	"slices"
	"strings"
)

// The CBV 2.0 (Core Business Vocabulary) gives the words that fill an
// event's "why" fields. In EPCIS 2.0 JSON-LD a standard word is written
// bare ("shipping"); the same word may also appear as its URN
// (urn:epcglobal:cbv:bizstep:shipping) or its web URI
// (https://ns.gs1.org/cbv/BizStep-shipping). All three spellings mean the
// same word, and the module keeps the bare word in its indexes.
//
// A value with a colon that is not in a CBV namespace is a user-defined
// vocabulary entry (a URI such as http://example.org/bizstep/grading or a
// compact IRI such as example:grading) and is accepted as written, as the
// standard allows. A bare word that is not in the list is refused: it is
// almost always a typo ("shiping").

// vocab is one CBV vocabulary.
type vocab struct {
	name  string   // for error messages: "bizStep"
	urn   string   // URN prefix of the standard words, "" when none
	web   string   // web URI prefix of the standard words, "" when none
	words []string // the standard words, sorted
}

func newVocab(name, urn, web string, words ...string) *vocab {
	return &vocab{name: name, urn: urn, web: web, words: slices.Sorted(slices.Values(words))}
}

// has reports whether w is one of the standard words.
func (v *vocab) has(w string) bool { _, ok := slices.BinarySearch(v.words, w); return ok }

// BizSteps is the CBV 2.0 business step vocabulary.
var BizSteps = newVocab("CBV 2.0 bizStep", "urn:epcglobal:cbv:bizstep:", "https://ns.gs1.org/cbv/BizStep-",
	"accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
	"creating_class_instance", "cycle_counting", "decommissioning", "departing", "destroying",
	"disassembling", "dispensing", "encoding", "entering_exiting", "holding", "inspecting",
	"installing", "killing", "loading", "other", "packing", "picking", "receiving", "removing",
	"repackaging", "repairing", "replacing", "reserving", "retail_selling", "sampling",
	"sensor_reporting", "shipping", "staging_outbound", "stock_taking", "stocking", "storing",
	"transporting", "unloading", "unpacking", "void_shipping")

// Dispositions is the CBV 2.0 disposition vocabulary.
var Dispositions = newVocab("CBV 2.0 disposition", "urn:epcglobal:cbv:disp:", "https://ns.gs1.org/cbv/Disp-",
	"active", "available", "completeness_inferred", "completeness_verified", "conformant",
	"container_closed", "container_open", "damaged", "destroyed", "dispensed", "disposed",
	"encoded", "expired", "in_progress", "in_transit", "inactive", "mismatch_class",
	"mismatch_instance", "mismatch_quantity", "needs_replacement", "no_pedigree_match",
	"non_conformant", "non_sellable_other", "partially_dispensed", "recalled", "reserved",
	"retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen",
	"unavailable", "unknown")

// BizTransactionTypes is the CBV 2.0 business transaction type vocabulary.
var BizTransactionTypes = newVocab("CBV 2.0 bizTransaction type", "urn:epcglobal:cbv:btt:", "https://ns.gs1.org/cbv/BTT-",
	"bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma",
	"testprd", "testres")

// SourceDestTypes is the CBV 2.0 source/destination type vocabulary.
var SourceDestTypes = newVocab("CBV 2.0 source/destination type", "urn:epcglobal:cbv:sdt:", "https://ns.gs1.org/cbv/SDT-",
	"location", "owning_party", "possessing_party")

// ErrorReasons is the CBV 2.0 error reason vocabulary of errorDeclaration.
var ErrorReasons = newVocab("CBV 2.0 error reason", "urn:epcglobal:cbv:er:", "https://ns.gs1.org/cbv/ER-",
	"did_not_occur", "incorrect_data")

// MeasurementTypes is the GS1 measurement type vocabulary of sensorReport.type.
var MeasurementTypes = newVocab("GS1 measurement type", "gs1:MT-", "https://gs1.org/voc/MT-",
	"AbsoluteHumidity", "AbsorbedDose", "AbsorbedDoseRate", "Acceleration", "Activity",
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
var SensorAlertTypes = newVocab("sensor alert type", "", "", "ALARM_CONDITION", "ERROR_CONDITION")

// Components is the vocabulary of sensorReport.component.
var Components = newVocab("component", "", "",
	"altitude", "axial_distance", "azimuth", "easting", "elevation_angle", "geocoordinate",
	"height", "latitude", "longitude", "northing", "polar_angle", "spherical_radius", "x", "y", "z")

// Normalize returns the bare word for a standard value in any of its
// spellings, or a user-defined URI unchanged. It fails with
// ErrUnknownWord for a bare word, or a word in a CBV namespace, that the
// vocabulary does not have.
func (v *vocab) Normalize(s string) (string, error) {
	if v.has(s) {
		return s, nil
	}
	for _, prefix := range []string{v.urn, v.web} {
		if prefix == "" || !strings.HasPrefix(s, prefix) {
			continue
		}
		if w := strings.TrimPrefix(s, prefix); v.has(w) {
			return w, nil
		}
		return "", v.unknown(s)
	}
	if strings.Contains(s, ":") && isURI(s) && !strings.HasPrefix(s, "urn:epcglobal:cbv:") {
		return s, nil // a user vocabulary, by URI or compact IRI
	}
	return "", v.unknown(s)
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
