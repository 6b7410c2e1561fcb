package trace

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// parseWhereWhy reads the fields all event types share: where
// (readPoint, bizLocation) and why (bizStep, disposition, business
// transactions, sources and destinations), and the sensor data.
func parseWhereWhy(o obj, e *Event) {
	e.BizStep = o.word("bizStep", BizSteps, false)
	e.Disposition = o.word("disposition", Dispositions, false)
	parsePersistentDisposition(o)
	e.ReadPoint = o.location("readPoint")
	e.BizLocation = o.location("bizLocation")
	if bts := parseTypedList(o, "bizTransactionList", "bizTransaction", BizTransactionTypes, false); len(bts) == 0 && e.Type == TransactionEvent {
		o.fail("bizTransactionList", ErrMissingField, "a TransactionEvent names at least one business transaction")
	}
	parseTypedList(o, "sourceList", "source", SourceDestTypes, true)
	parseTypedList(o, "destinationList", "destination", SourceDestTypes, true)
	e.Sensors = parseSensors(o)
}

// location reads readPoint or bizLocation: {"id": SGLN} plus extensions.
func (o obj) location(name string) *Location {
	l, ok := o.object(name)
	if !ok {
		return nil
	}
	l.known("id")
	s := l.str("id", true)
	loc, err := ParseLocation(s)
	if err != nil {
		l.fail("id", ErrBadIdentifier, "%v", err)
		return nil
	}
	return &loc
}

// epc parses s, the identifier in the field name, which must name a
// class of objects when class is set and one object when not; misfit
// says what it names instead.
func (o obj) epc(name, s string, class bool, misfit string) ID {
	id, err := ParseEPC(s)
	switch {
	case err != nil:
		o.fail(name, ErrBadIdentifier, "%v", err)
	case id.Class != class:
		o.fail(name, ErrBadIdentifier, "%q %s", s, misfit)
	}
	return id
}

// id reads a single identifier of one object (parentID).
func (o obj) id(name string, required bool) *ID {
	s := o.str(name, required)
	if s == "" {
		return nil
	}
	id := o.epc(name, s, false, "names a class of objects, not one object")
	return &id
}

// ids reads a list of identifiers of single objects (epcList, childEPCs,
// inputEPCList, outputEPCList) that play the part as. The standard asks
// for unique items; two spellings of one object count as the same.
func (o obj) ids(name, as string) []Named {
	ss := o.strings(name)
	out := make([]Named, len(ss))
	seen := make(map[string]int, len(ss))
	for i, s := range ss {
		at := fmt.Sprintf("%s[%d]", name, i)
		id := o.epc(at, s, false, "names a class of objects; list classes in a quantity list")
		if j, dup := seen[id.Key]; dup {
			o.fail(at, ErrBadValue, "%q is already in %s[%d]", s, o.at(name), j)
		}
		seen[id.Key], out[i] = i, Named{ID: id, As: as, Field: at}
	}
	return out
}

var (
	uomPattern = regexp.MustCompile(`^[A-Z0-9]{2,3}$`)
	hexPattern = regexp.MustCompile(`^[A-Fa-f0-9]+$`)
)

// quantities reads a quantity list: {"epcClass", "quantity", "uom"},
// whose classes play the part as. The amounts are checked, not kept.
func (o obj) quantities(name, as string) []Named {
	var out []Named
	for i, q := range o.objects(name) {
		q.known("epcClass", "quantity", "uom")
		class := q.epc("epcClass", q.str("epcClass", true), true,
			"names one object, not a class (urn:epc:class:lgtin:..., urn:epc:idpat:..., or a Digital Link without a serial)")
		if !q.has("quantity") {
			q.fail("quantity", ErrMissingField, "required")
		}
		amount := q.decimal("quantity")
		if strings.HasPrefix(amount, "-") {
			q.fail("quantity", ErrBadValue, "%s is negative", amount)
		}
		uom := q.str("uom", false)
		if uom != "" && !uomPattern.MatchString(uom) {
			q.fail("uom", ErrBadValue, "%q is not a UN/CEFACT Rec. 20 unit code (2 or 3 capitals or digits, such as KGM)", uom)
		}
		out = append(out, Named{ID: class, As: as, Field: fmt.Sprintf("%s[%d].epcClass", name, i)})
	}
	return out
}

// parseCertificationInfo reads certificationInfo: a URI or a list of URIs.
func parseCertificationInfo(o obj) {
	const name = "certificationInfo"
	if _, isStr := o.m[name].(string); isStr || !o.has(name) {
		o.uri(name, false)
		return
	}
	try := obj{m: o.m, path: o.path, err: new(error)}
	uris := try.strings(name)
	if *try.err != nil {
		o.fail(name, ErrBadValue, "must be a URI or a list of URIs")
	}
	for i, s := range uris {
		if !isURI(s) {
			o.fail(fmt.Sprintf("%s[%d]", name, i), ErrBadValue, "%q is not a URI", s)
		}
	}
}

func parsePersistentDisposition(o obj) {
	p, ok := o.object("persistentDisposition")
	if !ok {
		return
	}
	p.known("set", "unset")
	for _, name := range []string{"set", "unset"} {
		for i, w := range p.strings(name) {
			if _, err := Dispositions.Normalize(w); err != nil {
				p.fail(fmt.Sprintf("%s[%d]", name, i), ErrUnknownWord, "%v", err)
			}
		}
	}
}

// parseTypedList reads bizTransactionList, sourceList or
// destinationList: objects with a "type" from the vocabulary types and a
// URI under field.
func parseTypedList(o obj, list, field string, types *vocab, typeRequired bool) []obj {
	elems := o.objects(list)
	for _, el := range elems {
		el.known("type", field)
		el.word("type", types, typeRequired)
		el.uri(field, true)
	}
	return elems
}

// Fields of sensorMetadata and sensorReport, by how they are checked.
var (
	sensorTimes = []string{"time", "startTime", "endTime"}
	sensorURIs  = []string{"deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules",
		"microorganism", "chemicalSubstance", "uriValue", "coordinateReferenceSystem"}
	sensorDecimals = []string{"value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"}
)

// parseSensors reads sensorElementList: each element has an optional
// sensorMetadata and a non-empty sensorReport list. Measured values are
// decimals: integers, or strings for fractions (payloads carry no floats).
func parseSensors(o obj) int {
	elems := o.objects("sensorElementList")
	for _, el := range elems {
		el.known("sensorMetadata", "sensorReport")
		if md, ok := el.object("sensorMetadata"); ok {
			md.known(slices.Concat(sensorTimes, sensorURIs[:5])...)
			checkSensorFields(md)
		}
		reports := el.objects("sensorReport")
		if len(reports) == 0 {
			el.fail("sensorReport", ErrMissingField, "a sensor element has at least one report")
		}
		for _, r := range reports {
			checkSensorReport(r)
		}
	}
	return len(elems)
}

func checkSensorReport(r obj) {
	r.known(slices.Concat([]string{"type", "exception", "component", "stringValue", "booleanValue", "hexBinaryValue", "uom"},
		sensorTimes[:1], sensorURIs, sensorDecimals)...)
	if !r.has("type") && !r.has("exception") {
		r.fail("type", ErrMissingField, "a sensor report has a measurement type (or an exception)")
	}
	r.word("type", MeasurementTypes, false)
	r.word("exception", SensorAlertTypes, false)
	r.word("component", Components, false)
	for _, name := range sensorDecimals {
		r.decimal(name)
	}
	if v, ok := r.m["booleanValue"]; ok {
		if _, isBool := v.(bool); !isBool {
			r.fail("booleanValue", ErrBadValue, "must be true or false")
		}
	}
	if h := r.str("hexBinaryValue", false); h != "" && !hexPattern.MatchString(h) {
		r.fail("hexBinaryValue", ErrBadValue, "%q is not hexadecimal", h)
	}
	r.str("stringValue", false)
	r.str("uom", false)
	checkSensorFields(r)
}

// checkSensorFields checks the time and URI fields a sensor object has.
func checkSensorFields(o obj) {
	for _, name := range sensorTimes {
		o.time(name, false)
	}
	for _, name := range sensorURIs {
		o.uri(name, false)
	}
}
