package trace

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The five EPCIS 2.0 event types.
const (
	ObjectEvent         = "ObjectEvent"         // something happened to objects: commissioned, observed, shipped
	AggregationEvent    = "AggregationEvent"    // objects were packed into (or out of) a container
	TransformationEvent = "TransformationEvent" // inputs were consumed to make outputs
	TransactionEvent    = "TransactionEvent"    // objects were tied to (or untied from) a business transaction
	AssociationEvent    = "AssociationEvent"    // a component (a sensor) was attached to (or removed from) an asset
)

// The actions of every event type but TransformationEvent.
const (
	ActionAdd     = "ADD"     // the objects come into being, or join the container/transaction
	ActionObserve = "OBSERVE" // the objects were seen; nothing about them changed
	ActionDelete  = "DELETE"  // the objects end, or leave the container/transaction
)

// Fields every event may carry, then those of the "where" and "why"
// dimensions that all types share; typeFields adds each type's "what"
// beside its what lists (whatLists).
var (
	commonFields = []string{"@context", "type", "eventID", "eventTime", "eventTimeZoneOffset",
		"recordTime", "errorDeclaration", "certificationInfo"}
	whereWhyFields = []string{"bizStep", "disposition", "persistentDisposition", "readPoint",
		"bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList"}
	typeFields = map[string][]string{
		ObjectEvent:         {"action", "ilmd"},
		AggregationEvent:    {"action", "parentID"},
		TransactionEvent:    {"action", "parentID"},
		TransformationEvent: {"transformationID", "ilmd"},
		AssociationEvent:    {"action", "parentID"},
	}
)

// Event is one validated EPCIS 2.0 event: what (the identifiers it
// names, each with the part it plays), when (eventTime and its zone
// offset), where (readPoint, bizLocation) and why (bizStep, disposition,
// transactions). Vocabulary words are normalized to their bare CBV form;
// JSON is the event exactly as captured, which is what the chain stores
// and proves.
type Event struct {
	Type           string
	Action         string // "" for TransformationEvent
	EventID        string
	Time           time.Time
	TimeZoneOffset string
	BizStep        string
	Disposition    string
	ReadPoint      *Location
	BizLocation    *Location

	Parent  *ID     // parentID (Aggregation, Association, Transaction)
	Named   []Named // every identifier the event names: parentID first, then its whatLists in order
	Sensors int     // number of sensorElementList entries

	Declaration *Declaration // set when the event declares an earlier one erroneous
	JSON        string
	// Hash is the CBV 2.0 event hash (ni:///sha-256;...?ver=CBV2.0),
	// set by Capture.DecodePayload, which knows the @context (hash.go).
	Hash string
}

// Declaration is an errorDeclaration: the event carrying it repeats an
// earlier event (same eventID) and says that event was wrong. Corrective
// names the events that replace it.
type Declaration struct {
	Time       time.Time
	Reason     string
	Corrective []string
}

// Named is one identifier an event names, the part it plays there, and
// the field that names it ("epcList[2]", "inputQuantityList[0].epcClass").
type Named struct {
	ID    ID
	As    string // one of the As... constants
	Field string
}

// The parts an identifier plays in an event, as kept in the EPC index.
const (
	AsEPC            = "epc"
	AsQuantity       = "quantity"
	AsParent         = "parent"
	AsChild          = "child"
	AsChildImplied   = "child_implied" // unpacked by a DELETE that named only the parent
	AsChildQuantity  = "child_quantity"
	AsInput          = "input"
	AsInputQuantity  = "input_quantity"
	AsOutput         = "output"
	AsOutputQuantity = "output_quantity"
)

// whatLists are the "what" lists of each event type, in the order the
// event names their identifiers: the field, and the part its identifiers
// play. A part ending in "quantity" is a list of quantities of classes;
// the others list single objects.
var whatLists = map[string][]struct{ field, as string }{
	ObjectEvent:         {{"epcList", AsEPC}, {"quantityList", AsQuantity}},
	TransactionEvent:    {{"epcList", AsEPC}, {"quantityList", AsQuantity}},
	AggregationEvent:    {{"childEPCs", AsChild}, {"childQuantityList", AsChildQuantity}},
	AssociationEvent:    {{"childEPCs", AsChild}, {"childQuantityList", AsChildQuantity}},
	TransformationEvent: {{"inputEPCList", AsInput}, {"inputQuantityList", AsInputQuantity}, {"outputEPCList", AsOutput}, {"outputQuantityList", AsOutputQuantity}},
}

// Keys returns the canonical keys of the identifiers the event names in
// the parts given, in the order it names them; nil when there are none.
func (e *Event) Keys(parts ...string) []string {
	var out []string
	for _, n := range e.Named {
		if slices.Contains(parts, n.As) {
			out = append(out, n.ID.Key)
		}
	}
	return out
}

var zoneOffset = regexp.MustCompile(`^[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)$`)

// ParseEvent validates one event object of a capture (decoded from JSON
// with UseNumber, so numbers are json.Number and decimals are strings).
// path names the event in errors ("events[0]"). Every error wraps
// chain.ErrBadPayload and one of ErrMissingField, ErrUnknownWord,
// ErrBadIdentifier or ErrBadValue, and names the field.
func ParseEvent(m map[string]any, path string) (*Event, error) {
	o := obj{m: m, path: path, err: new(error)}
	e := &Event{Type: o.str("type", true)}
	what, ok := typeFields[e.Type]
	switch {
	case !ok && isExtension(e.Type):
		o.fail("type", ErrUnsupported, "%q: user-defined event types (EPCIS 2.0 section 7.4.1, EPCISEvent; JSON schema Extended-Event) are not kept here; this module records the five standard types", e.Type)
		return nil, *o.err
	case !ok:
		o.fail("type", ErrUnknownWord, "%q is not an EPCIS 2.0 event type (ObjectEvent, AggregationEvent, TransformationEvent, TransactionEvent, AssociationEvent)", e.Type)
		return nil, *o.err
	}
	allowed := slices.Concat(commonFields, whereWhyFields, what)
	for _, l := range whatLists[e.Type] {
		allowed = append(allowed, l.field)
	}
	o.known(allowed...)
	parseWhen(o, e)
	parseWhereWhy(o, e)
	parseWhat(o, e)
	parseDeclaration(o, e)
	if *o.err != nil {
		return nil, *o.err
	}
	j, err := json.Marshal(m)
	if err != nil {
		return nil, fieldError(path, ErrBadValue, "%v", err)
	}
	e.JSON = string(j)
	return e, nil
}

// parseWhen reads the "when" and identity fields.
func parseWhen(o obj, e *Event) {
	e.Time = o.time("eventTime", true)
	if e.TimeZoneOffset = o.str("eventTimeZoneOffset", true); !zoneOffset.MatchString(e.TimeZoneOffset) {
		o.fail("eventTimeZoneOffset", ErrBadValue, "%q is not an offset from -14:00 to +14:00 such as \"+05:30\"", e.TimeZoneOffset)
	}
	o.time("recordTime", false)
	e.EventID = o.uri("eventID", false)
	parseCertificationInfo(o)
}

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

// parseWhat reads the identifiers of each event type and checks that
// the type's required ones are there.
func parseWhat(o obj, e *Event) {
	if e.Type != TransformationEvent {
		if e.Action = o.str("action", true); e.Action != ActionAdd && e.Action != ActionObserve && e.Action != ActionDelete {
			o.fail("action", ErrUnknownWord, "%q is not ADD, OBSERVE or DELETE", e.Action)
		}
	}
	if o.has("ilmd") {
		if e.Type == ObjectEvent && e.Action != ActionAdd {
			o.fail("ilmd", ErrBadValue, "instance/lot master data belongs to objects coming into being: only with action ADD (EPCIS 2.0 section 7.4.2, ObjectEvent)")
		}
		if ilmd, ok := o.object("ilmd"); ok {
			ilmd.known() // every ILMD field is an extension (JSON schema: property names are URIs)
		}
	}
	for _, l := range whatLists[e.Type] {
		if strings.HasSuffix(l.as, AsQuantity) {
			e.Named = append(e.Named, o.quantities(l.field, l.as)...)
		} else {
			e.Named = append(e.Named, o.ids(l.field, l.as)...)
		}
	}
	// known has refused these two in a type that does not have them.
	o.uri("transformationID", false)
	needParent := e.Type == AssociationEvent || (e.Type == AggregationEvent && e.Action != ActionObserve)
	if e.Parent = o.id("parentID", needParent); e.Parent != nil {
		e.Named = append([]Named{{ID: *e.Parent, As: AsParent, Field: "parentID"}}, e.Named...)
	}
	requireWhat(o, e)
}

// requireWhat applies each type's rule for which "what" fields must be
// present, as the EPCIS 2.0 JSON schema states it.
func requireWhat(o obj, e *Event) {
	switch e.Type {
	case ObjectEvent:
		if !o.has("epcList") && len(e.Keys(AsQuantity)) == 0 && (e.Sensors == 0 || e.ReadPoint == nil) {
			o.fail("epcList", ErrMissingField, "an ObjectEvent needs epcList, quantityList, or sensorElementList with a readPoint")
		}
	case TransactionEvent:
		if !o.has("epcList") && len(e.Keys(AsQuantity)) == 0 && e.Action != ActionDelete {
			o.fail("epcList", ErrMissingField, "a TransactionEvent needs epcList or quantityList")
		}
	case AggregationEvent, AssociationEvent:
		if len(e.Keys(AsChild, AsChildQuantity)) == 0 && e.Action != ActionDelete {
			o.fail("childEPCs", ErrMissingField, "an %s with action %s needs childEPCs or childQuantityList", e.Type, e.Action)
		}
	case TransformationEvent:
		in, out := len(e.Keys(AsInput, AsInputQuantity)), len(e.Keys(AsOutput, AsOutputQuantity))
		if in == 0 && out == 0 || (!o.has("transformationID") && (in == 0 || out == 0)) {
			field := "inputEPCList"
			if in > 0 {
				field = "outputEPCList"
			}
			o.fail(field, ErrMissingField, "a TransformationEvent needs inputs and outputs (or a transformationID and one of them)")
		}
	}
}

// parseDeclaration reads errorDeclaration. The event it declares
// erroneous is the one with the same eventID, or, when there is none,
// the one with the same CBV 2.0 event hash: the hash leaves the
// errorDeclaration out, so a declaration that repeats the event hashes
// like it.
func parseDeclaration(o obj, e *Event) {
	d, ok := o.object("errorDeclaration")
	if !ok {
		return
	}
	d.known("declarationTime", "reason", "correctiveEventIDs")
	e.Declaration = &Declaration{Time: d.time("declarationTime", true), Reason: d.word("reason", ErrorReasons, false),
		Corrective: d.strings("correctiveEventIDs")}
	for i, id := range e.Declaration.Corrective {
		if !isURI(id) || len(id) > MaxURI {
			d.fail(fmt.Sprintf("correctiveEventIDs[%d]", i), ErrBadValue, "%q is not a URI", id)
		}
	}
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

// parsePersistentDisposition reads persistentDisposition: dispositions
// to set and to unset, at least one list, none empty; each word is
// normalized like disposition.
func parsePersistentDisposition(o obj) {
	p, ok := o.object("persistentDisposition")
	if !ok {
		return
	}
	p.only("set", "unset")
	if !p.has("set") && !p.has("unset") {
		o.fail("persistentDisposition", ErrMissingField, "names dispositions to set or to unset (EPCIS 2.0 JSON schema: set or unset is required)")
	}
	for _, name := range []string{"set", "unset"} {
		words := p.strings(name)
		if p.has(name) && len(words) == 0 {
			p.fail(name, ErrBadValue, "must list at least one disposition")
		}
		for i, w := range words {
			bare, err := Dispositions.Normalize(w)
			if err != nil {
				p.fail(fmt.Sprintf("%s[%d]", name, i), ErrUnknownWord, "%v", err)
				continue
			}
			if slices.Contains(words[:i], bare) {
				p.fail(fmt.Sprintf("%s[%d]", name, i), ErrBadValue, "%q is listed twice", w)
			}
			words[i] = bare
			p.m[name].([]any)[i] = bare
		}
	}
}

// parseTypedList reads bizTransactionList, sourceList or
// destinationList: objects with a "type" from the vocabulary types and a
// URI under field.
func parseTypedList(o obj, list, field string, types *vocab, typeRequired bool) []obj {
	elems := o.objects(list)
	for _, el := range elems {
		el.only("type", field)
		el.word("type", types, typeRequired)
		el.uri(field, true)
	}
	return elems
}

var hexPattern = regexp.MustCompile(`^[A-Fa-f0-9]+$`)

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
	r.word("type", MeasurementTypes, true) // the EPCIS 2.0 JSON schema requires it, with an exception too
	r.word("exception", SensorAlertTypes, false)
	r.word("component", Components, false)
	for _, name := range sensorDecimals {
		r.decimal(name)
	}
	if _, isBool := r.m["booleanValue"].(bool); r.has("booleanValue") && !isBool {
		r.fail("booleanValue", ErrBadValue, "must be true or false")
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
