package trace

import (
	"fmt"
	"regexp"
)

// parseWhereWhy reads the fields all event types share: where
// (readPoint, bizLocation) and why (bizStep, disposition, business
// transactions, sources and destinations), and the sensor data.
func parseWhereWhy(o obj, e *Event) (err error) {
	if e.BizStep, err = o.word("bizStep", BizSteps, false); err != nil {
		return err
	}
	if e.Disposition, err = o.word("disposition", Dispositions, false); err != nil {
		return err
	}
	if err = parsePersistentDisposition(o); err != nil {
		return err
	}
	if e.ReadPoint, err = o.location("readPoint"); err != nil {
		return err
	}
	if e.BizLocation, err = o.location("bizLocation"); err != nil {
		return err
	}
	if err = parseBizTransactions(o, e.Type == TransactionEvent); err != nil {
		return err
	}
	if err = parseSourceDest(o, "sourceList", "source"); err != nil {
		return err
	}
	if err = parseSourceDest(o, "destinationList", "destination"); err != nil {
		return err
	}
	e.Sensors, err = parseSensors(o)
	return err
}

// location reads readPoint or bizLocation: {"id": SGLN} plus extensions.
func (o obj) location(name string) (*Location, error) {
	l, ok, err := o.object(name, false)
	if err != nil || !ok {
		return nil, err
	}
	if err := l.known("id"); err != nil {
		return nil, err
	}
	s, err := l.str("id", true)
	if err != nil {
		return nil, err
	}
	loc, err := ParseLocation(s)
	if err != nil {
		return nil, fieldError(l.at("id"), ErrBadIdentifier, "%v", err)
	}
	return &loc, nil
}

// id reads a single identifier of one object (parentID).
func (o obj) id(name string, required bool) (*ID, error) {
	s, err := o.str(name, required)
	if err != nil || s == "" {
		return nil, err
	}
	id, err := ParseEPC(s)
	if err != nil {
		return nil, fieldError(o.at(name), ErrBadIdentifier, "%v", err)
	}
	if id.Class {
		return nil, fieldError(o.at(name), ErrBadIdentifier, "%q names a class of objects, not one object", s)
	}
	return &id, nil
}

// ids reads a list of identifiers of single objects (epcList, childEPCs,
// inputEPCList, outputEPCList). The standard asks for unique items; two
// spellings of one object count as the same.
func (o obj) ids(name string) ([]ID, error) {
	ss, err := o.strings(name)
	if err != nil {
		return nil, err
	}
	out := make([]ID, len(ss))
	seen := make(map[string]int, len(ss))
	for i, s := range ss {
		path := fmt.Sprintf("%s[%d]", o.at(name), i)
		id, err := ParseEPC(s)
		if err != nil {
			return nil, fieldError(path, ErrBadIdentifier, "%v", err)
		}
		if id.Class {
			return nil, fieldError(path, ErrBadIdentifier, "%q names a class of objects; list classes in a quantity list", s)
		}
		if j, dup := seen[id.Key]; dup {
			return nil, fieldError(path, ErrBadValue, "%q is already in %s[%d]", s, o.at(name), j)
		}
		seen[id.Key] = i
		out[i] = id
	}
	return out, nil
}

var (
	uomPattern = regexp.MustCompile(`^[A-Z0-9]{2,3}$`)
	hexPattern = regexp.MustCompile(`^[A-Fa-f0-9]+$`)
)

// quantities reads a quantity list: {"epcClass", "quantity", "uom"}.
func (o obj) quantities(name string) ([]Quantity, error) {
	elems, err := o.objects(name)
	if err != nil {
		return nil, err
	}
	out := make([]Quantity, len(elems))
	for i, q := range elems {
		if err := q.known("epcClass", "quantity", "uom"); err != nil {
			return nil, err
		}
		s, err := q.str("epcClass", true)
		if err != nil {
			return nil, err
		}
		class, err := ParseEPC(s)
		if err != nil {
			return nil, fieldError(q.at("epcClass"), ErrBadIdentifier, "%v", err)
		}
		if !class.Class {
			return nil, fieldError(q.at("epcClass"), ErrBadIdentifier, "%q names one object, not a class (urn:epc:class:lgtin:..., urn:epc:idpat:..., or a Digital Link without a serial)", s)
		}
		if !q.has("quantity") {
			return nil, fieldError(q.at("quantity"), ErrMissingField, "required")
		}
		amount, err := q.decimal("quantity")
		if err != nil {
			return nil, err
		}
		if amount[0] == '-' {
			return nil, fieldError(q.at("quantity"), ErrBadValue, "%s is negative", amount)
		}
		uom, err := q.str("uom", false)
		if err != nil {
			return nil, err
		}
		if uom != "" && !uomPattern.MatchString(uom) {
			return nil, fieldError(q.at("uom"), ErrBadValue, "%q is not a UN/CEFACT Rec. 20 unit code (2 or 3 capitals or digits, such as KGM)", uom)
		}
		out[i] = Quantity{Class: class, Amount: amount, UOM: uom}
	}
	return out, nil
}

func parseCertificationInfo(o obj) error {
	v, ok := o.m["certificationInfo"]
	if !ok {
		return nil
	}
	if _, isStr := v.(string); isStr {
		_, err := o.uri("certificationInfo", false)
		return err
	}
	ss, err := o.strings("certificationInfo")
	if err != nil {
		return fieldError(o.at("certificationInfo"), ErrBadValue, "must be a URI or a list of URIs")
	}
	for i, s := range ss {
		if !isURI(s) {
			return fieldError(fmt.Sprintf("%s[%d]", o.at("certificationInfo"), i), ErrBadValue, "%q is not a URI", s)
		}
	}
	return nil
}

func parsePersistentDisposition(o obj) error {
	p, ok, err := o.object("persistentDisposition", false)
	if err != nil || !ok {
		return err
	}
	if err := p.known("set", "unset"); err != nil {
		return err
	}
	for _, name := range []string{"set", "unset"} {
		words, err := p.strings(name)
		if err != nil {
			return err
		}
		for i, w := range words {
			if _, err := Dispositions.Normalize(w); err != nil {
				return fieldError(fmt.Sprintf("%s[%d]", p.at(name), i), ErrUnknownWord, "%v", err)
			}
		}
	}
	return nil
}

func parseBizTransactions(o obj, required bool) error {
	list, err := o.objects("bizTransactionList")
	if err != nil {
		return err
	}
	if required && len(list) == 0 {
		return fieldError(o.at("bizTransactionList"), ErrMissingField, "a TransactionEvent names at least one business transaction")
	}
	for _, bt := range list {
		if err := bt.known("type", "bizTransaction"); err != nil {
			return err
		}
		if _, err := bt.word("type", BizTransactionTypes, false); err != nil {
			return err
		}
		if _, err := bt.uri("bizTransaction", true); err != nil {
			return err
		}
	}
	return nil
}

// parseSourceDest reads sourceList or destinationList: {"type", "source"}.
func parseSourceDest(o obj, list, field string) error {
	elems, err := o.objects(list)
	if err != nil {
		return err
	}
	for _, sd := range elems {
		if err := sd.known("type", field); err != nil {
			return err
		}
		if _, err := sd.word("type", SourceDestTypes, true); err != nil {
			return err
		}
		if _, err := sd.uri(field, true); err != nil {
			return err
		}
	}
	return nil
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
func parseSensors(o obj) (int, error) {
	elems, err := o.objects("sensorElementList")
	if err != nil {
		return 0, err
	}
	for _, el := range elems {
		if err := el.known("sensorMetadata", "sensorReport"); err != nil {
			return 0, err
		}
		if md, ok, err := el.object("sensorMetadata", false); err != nil {
			return 0, err
		} else if ok {
			if err := md.known(append(append([]string(nil), sensorTimes...), sensorURIs[:5]...)...); err != nil {
				return 0, err
			}
			if err := checkSensorFields(md); err != nil {
				return 0, err
			}
		}
		reports, err := el.objects("sensorReport")
		if err != nil {
			return 0, err
		}
		if len(reports) == 0 {
			return 0, fieldError(el.at("sensorReport"), ErrMissingField, "a sensor element has at least one report")
		}
		for _, r := range reports {
			if err := checkSensorReport(r); err != nil {
				return 0, err
			}
		}
	}
	return len(elems), nil
}

func checkSensorReport(r obj) error {
	allowed := []string{"type", "exception", "component", "stringValue", "booleanValue", "hexBinaryValue", "uom"}
	allowed = append(append(append(allowed, sensorTimes[:1]...), sensorURIs...), sensorDecimals...)
	if err := r.known(allowed...); err != nil {
		return err
	}
	if !r.has("type") && !r.has("exception") {
		return fieldError(r.at("type"), ErrMissingField, "a sensor report has a measurement type (or an exception)")
	}
	if _, err := r.word("type", MeasurementTypes, false); err != nil {
		return err
	}
	if _, err := r.word("exception", SensorAlertTypes, false); err != nil {
		return err
	}
	if _, err := r.word("component", Components, false); err != nil {
		return err
	}
	for _, name := range sensorDecimals {
		if _, err := r.decimal(name); err != nil {
			return err
		}
	}
	if v, ok := r.m["booleanValue"]; ok {
		if _, isBool := v.(bool); !isBool {
			return fieldError(r.at("booleanValue"), ErrBadValue, "must be true or false")
		}
	}
	if h, err := r.str("hexBinaryValue", false); err != nil {
		return err
	} else if h != "" && !hexPattern.MatchString(h) {
		return fieldError(r.at("hexBinaryValue"), ErrBadValue, "%q is not hexadecimal", h)
	}
	if _, err := r.str("stringValue", false); err != nil {
		return err
	}
	if _, err := r.str("uom", false); err != nil {
		return err
	}
	return checkSensorFields(r)
}

// checkSensorFields checks the time and URI fields a sensor object has.
func checkSensorFields(o obj) error {
	for _, name := range sensorTimes {
		if _, err := o.time(name, false); err != nil {
			return err
		}
	}
	for _, name := range sensorURIs {
		if _, err := o.uri(name, false); err != nil {
			return err
		}
	}
	return nil
}
