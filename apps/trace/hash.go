package trace

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The event hash of CBV 2.0 names an event by its content, whatever its
// syntax: the same event written in XML or JSON, with its fields in any
// order, its identifiers as EPC URIs or Digital Links, its vocabulary
// bare or as URNs, hashes the same. Trading partners use it to spot a
// duplicate, and to find the event an errorDeclaration without eventID
// declares erroneous. The module computes it for every captured event,
// stores it, answers it, and refuses to record the same event twice.
//
// The hash is the SHA-256 of a pre-hash string, written as a named
// information URI (RFC 6920) with the algorithm's version:
//
//	ni:///sha-256;{64 hex digits}?ver=CBV2.0
//
// The pre-hash string concatenates, with no separators, key=value pairs
// in the canonical property order of the standard: eventType, eventTime,
// eventTimeZoneOffset, epcList, parentID, inputEPCList, childEPCs, the
// quantity lists, outputEPCList, outputQuantityList, action,
// transformationID, bizStep, disposition, persistentDisposition,
// readPoint, bizLocation, bizTransactionList, sourceList,
// destinationList, the sensor elements, ilmd, then the user extensions.
// A list or object writes its name, then its members. Values are
// canonical: times in UTC with milliseconds, numbers without trailing
// zeros, CBV words as web URIs (https://ref.gs1.org/cbv/BizStep-shipping),
// GS1 identifiers as constrained Digital Links on id.gs1.org, extension
// names as {namespace}local. The members of every list, and the
// extensions, are sorted. eventID, recordTime, errorDeclaration and
// certificationInfo are left out, so a declaration that repeats an event
// hashes like it.
//
// Two points the standard leaves open follow the reference
// implementation (github.com/RalphTro/epcis-event-hash-generator): a
// value that reads as a number is written as Python writes the number
// (1e-05 for 0.00001; up to 15 significant digits, beyond which this
// module keeps the exact decimal), and an extension inside readPoint,
// bizLocation or a sensor element goes to the trailing block of
// extensions, behind the name of its enclosing field.

// HashVersion is the version of the event hash algorithm, as the hash
// URI states it.
const HashVersion = "CBV2.0"

// Namespaces maps the prefixes of a JSON-LD @context to their IRIs; the
// hash writes an extension named prefix:local as {IRI}local.
type Namespaces map[string]string

// standardNamespaces are the prefixes the EPCIS 2.0 context defines,
// with the IRIs the event hash expands them to.
var standardNamespaces = Namespaces{
	"gs1":    gs1IRI,
	"cbv":    cbvIRI,
	"epcis":  "https://ref.gs1.org/epcis/",
	"cbvmda": "urn:epcglobal:cbv:mda",
}

// ContextNamespaces returns the prefixes a JSON-LD @context (a URI, an
// object, or a list of them, as decoded from JSON) defines, over the
// standard ones. Remote contexts are never fetched: only the prefixes
// written in the document count, which is what the standard's examples
// do ({"example": "http://ns.example.com/epcis/"}).
func ContextNamespaces(context any) Namespaces {
	ns := maps.Clone(standardNamespaces)
	items, isList := context.([]any)
	if !isList {
		items = []any{context}
	}
	for _, it := range items {
		m, _ := it.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if iri, ok := m[k].(string); ok && !strings.ContainsAny(k, ":@") {
				ns[k] = iri
			}
		}
	}
	ns["gs1"] = gs1IRI
	return ns
}

// EventHash returns the CBV 2.0 event hash of an event that ParseEvent
// accepted (and normalized), and the pre-hash string it hashes. ns
// resolves the prefixes of extension fields.
func EventHash(event map[string]any, ns Namespaces) (hash, prehash string) {
	h := hasher{ns: ns}
	prehash = h.event(event)
	sum := sha256.Sum256([]byte(prehash))
	return "ni:///sha-256;" + hex.EncodeToString(sum[:]) + "?ver=" + HashVersion, prehash
}

// hasher writes pre-hash strings. kind is the vocabulary of the "type"
// fields of the members it writes: business transaction, source or
// destination types, or measurement types.
type hasher struct {
	ns   Namespaces
	kind *vocab
}

// Field orders of the standard, and the fields the hash leaves out.
var (
	hashOrder = []string{"epcList", "parentID", "inputEPCList", "childEPCs", "quantityList",
		"childQuantityList", "inputQuantityList", "outputEPCList", "outputQuantityList", "action",
		"transformationID", "bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation",
		"bizTransactionList", "sourceList", "destinationList", "sensorElementList", "ilmd"}
	hashLeftOut    = []string{"type", "eventTime", "eventTimeZoneOffset", "eventID", "recordTime", "errorDeclaration", "certificationInfo", "@context"}
	metadataOrder  = []string{"time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules"}
	sensorRptOrder = []string{"type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time",
		"microorganism", "chemicalSubstance", "value", "component", "stringValue", "booleanValue", "hexBinaryValue",
		"uriValue", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem"}
	// vocabOf names the vocabulary of the standard fields whose words the
	// hash writes as IRIs ("type" is the hasher's kind).
	vocabOf = map[string]*vocab{"bizStep": BizSteps, "disposition": Dispositions, "set": Dispositions,
		"unset": Dispositions, "exception": SensorAlertTypes, "component": Components}
	// cbvURNs are the URN forms of CBV words inside other values, and the
	// codes of their web URIs.
	cbvURNs = [][2]string{{"bizstep", "BizStep"}, {"disp", "Disp"}, {"btt", "BTT"}, {"sdt", "SDT"}, {"er", "ER"}}
)

func (h hasher) event(e map[string]any) string {
	var b strings.Builder
	b.WriteString("eventType=" + h.canon("", e["type"], nil))
	b.WriteString(h.pair("eventTime", e["eventTime"]))
	b.WriteString(h.pair("eventTimeZoneOffset", e["eventTimeZoneOffset"]))
	var ext []string // the trailing block of extensions
	for _, name := range hashOrder {
		v, ok := e[name]
		if !ok {
			continue
		}
		switch name {
		case "epcList", "inputEPCList", "childEPCs", "outputEPCList":
			b.WriteString(h.list(name, v, func(x any) string { return h.pair("epc", x) }))
		case "quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList":
			b.WriteString(h.list(name, v, func(x any) string {
				return h.members("quantityElement", asMap(x), "epcClass", "quantity", "uom")
			}))
		case "persistentDisposition":
			p := asMap(v)
			b.WriteString(name + h.list("", p["set"], func(x any) string { return h.pair("set", x) }) +
				h.list("", p["unset"], func(x any) string { return h.pair("unset", x) }))
		case "readPoint", "bizLocation":
			b.WriteString(h.members(name, asMap(v), "id"))
			if more := h.extensions(asMap(v), "id"); len(more) > 0 {
				ext = append(ext, name+strings.Join(more, ""))
			}
		case "bizTransactionList", "sourceList", "destinationList":
			id, typed := strings.TrimSuffix(name, "List"), hasher{ns: h.ns, kind: SourceDestTypes}
			if name == "bizTransactionList" {
				typed.kind = BizTransactionTypes
			}
			b.WriteString(h.list(name, v, func(x any) string { return typed.members("", asMap(x), "type", id) }))
		case "sensorElementList":
			// CBV 2.0 writes each sensorElement, without the list's name.
			b.WriteString(h.list("", v, h.sensorElement))
			for _, el := range asList(v) {
				if more := h.sensorExtensions(asMap(el)); more != "" {
					ext = append(ext, more)
				}
			}
		case "ilmd":
			if more := h.extensions(asMap(v)); len(more) > 0 {
				b.WriteString(name + strings.Join(more, ""))
			}
		default:
			b.WriteString(h.pair(name, v))
		}
	}
	ext = append(ext, h.extensions(e, slices.Concat(hashOrder, hashLeftOut)...)...)
	slices.Sort(ext)
	b.WriteString(strings.Join(ext, ""))
	return b.String()
}

// sensorElement writes one sensor element: its metadata, then its
// reports, sorted.
func (h hasher) sensorElement(x any) string {
	el, typed := asMap(x), hasher{ns: h.ns, kind: MeasurementTypes}
	reports := h.list("", el["sensorReport"], func(r any) string { return typed.members("sensorReport", asMap(r), sensorRptOrder...) })
	return "sensorElement" + h.members("sensorMetadata", asMap(el["sensorMetadata"]), metadataOrder...) + reports
}

// sensorExtensions writes the extensions of one sensor element, of its
// metadata and of its reports, as a block of the trailing extensions.
func (h hasher) sensorExtensions(el map[string]any) string {
	parts := h.extensions(el, "sensorMetadata", "sensorReport")
	if more := h.extensions(asMap(el["sensorMetadata"]), metadataOrder...); len(more) > 0 {
		parts = append(parts, "sensorMetadata"+strings.Join(more, ""))
	}
	for _, r := range asList(el["sensorReport"]) {
		if more := h.extensions(asMap(r), sensorRptOrder...); len(more) > 0 {
			parts = append(parts, "sensorReport"+strings.Join(more, ""))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	slices.Sort(parts)
	return "sensorElement" + strings.Join(parts, "")
}

// list writes name and then each element as write renders it, sorted;
// nothing when no element writes anything.
func (h hasher) list(name string, v any, write func(any) string) string {
	var parts []string
	for _, x := range asList(v) {
		if s := write(x); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	slices.Sort(parts)
	return name + strings.Join(parts, "")
}

// members writes name and then the fields of m in the order given, those
// present; nothing when none is.
func (h hasher) members(name string, m map[string]any, order ...string) string {
	var b strings.Builder
	for _, f := range order {
		if v, ok := m[f]; ok {
			b.WriteString(h.pair(f, v))
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return name + b.String()
}

// pair writes one standard field, key=value, or nothing when the value
// is empty.
func (h hasher) pair(key string, v any) string {
	voc := vocabOf[key]
	if key == "type" {
		voc = h.kind
	}
	if s := h.canon(key, v, voc); s != "" {
		return key + "=" + s
	}
	return ""
}

// extensions writes the fields of m that are not among standard, each
// as {namespace}local=value (an object or list: the name, then its
// members), sorted.
func (h hasher) extensions(m map[string]any, standard ...string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(standard, k) {
			out = append(out, h.extension(k, m[k])...)
		}
	}
	slices.Sort(out)
	return out
}

// extension writes one extension field; a list gives one entry per
// element, each under the field's name.
func (h hasher) extension(k string, v any) []string {
	key := h.expand(k)
	switch t := v.(type) {
	case map[string]any:
		return []string{key + strings.Join(h.extensions(t), "")}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, h.extension(k, x)...)
		}
		return out
	}
	if s := h.canon(key, v, nil); s != "" {
		return []string{key + "=" + s}
	}
	return []string{key}
}

// expand writes a field name prefix:local as {IRI}local when the
// context defines the prefix.
func (h hasher) expand(k string) string {
	if prefix, local, ok := strings.Cut(k, ":"); ok {
		if iri, known := h.ns[prefix]; known {
			return "{" + iri + "}" + local
		}
	}
	return k
}

// canon writes a value in its canonical form. key is the field's name:
// a value under a name that says "time" is a timestamp, written in UTC
// with milliseconds; a standard word of voc becomes its IRI; every other
// text is trimmed, and then a CBV URN becomes its web URI, a standard
// compact IRI (cbv:..., gs1:...) its IRI, a number loses its trailing
// zeros, and a GS1 identifier becomes its constrained Digital Link.
func (h hasher) canon(key string, v any, voc *vocab) string {
	var s string
	switch t := v.(type) {
	case string:
		s = strings.TrimSpace(t)
	case json.Number:
		s = t.String()
	case bool:
		return strconv.FormatBool(t)
	default:
		return ""
	}
	if lk := strings.ToLower(key); strings.Contains(lk, "time") && !strings.Contains(lk, "offset") {
		if utc, ok := utcMillis(s); ok {
			return utc
		}
		return s
	}
	if voc != nil && voc.has(s) {
		return voc.IRI(s)
	}
	for _, c := range cbvURNs {
		s = strings.ReplaceAll(s, "urn:epcglobal:cbv:"+c[0]+":", cbvIRI+c[1]+"-")
	}
	if prefix, rest, ok := strings.Cut(s, ":"); ok {
		if iri := h.ns[prefix]; strings.HasPrefix(iri, "https://ref.gs1.org/") || strings.HasPrefix(iri, "https://gs1.org/") {
			s = iri + rest
		}
	}
	if n, ok := canonNumber(s); ok {
		return n
	}
	if strings.HasPrefix(s, "urn:epc:") || strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		if id, err := ParseEPC(s); err == nil && strings.HasPrefix(id.Key, linkBase) {
			return id.Key
		}
	}
	return s
}

// asMap and asList read what ParseEvent has already checked.
func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asList(v any) []any         { l, _ := v.([]any); return l }

var numberPattern = regexp.MustCompile(`^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]{1,4}))?$`)

// canonNumber writes a decimal as the reference implementation does
// (Python's float, then int when whole): no sign for positive numbers,
// no leading or trailing zeros, 1000 for 1e3, 1e-05 for 0.00001. Up to
// 15 significant digits this is exact, as a binary double keeps them;
// beyond, the exact decimal is written, with no exponent. Numbers past
// ±10^400, which a double cannot hold, are left as written.
func canonNumber(s string) (string, bool) {
	m := numberPattern.FindStringSubmatch(s)
	if m == nil || m[2]+m[3] == "" {
		return "", false
	}
	exp, _ := strconv.Atoi(m[4])
	digits := strings.TrimLeft(m[2]+m[3], "0")
	exp -= len(m[3])
	if digits == "" {
		return "0", true
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	digits = trimmed
	if exp > 400 || exp < -400 {
		return "", false
	}
	sign := ""
	if m[1] == "-" {
		sign = "-"
	}
	n := len(digits)
	lead := exp + n - 1 // the power of ten of the first digit
	switch {
	case exp >= 0:
		return sign + digits + strings.Repeat("0", exp), true
	case lead < -4 && n <= 15:
		mant := digits[:1]
		if n > 1 {
			mant += "." + digits[1:]
		}
		return sign + mant + "e-" + twoDigits(-lead), true
	case lead >= 0:
		return sign + digits[:lead+1] + "." + digits[lead+1:], true
	}
	return sign + "0." + strings.Repeat("0", -lead-1) + digits, true
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

var fractionPattern = regexp.MustCompile(`T[0-9:]+\.([0-9]+)`)

// utcMillis writes an RFC 3339 date-time in UTC with exactly three
// decimals; a fourth decimal of 5 or more rounds the third up.
func utcMillis(s string) (string, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "", false
	}
	t = t.UTC().Truncate(time.Second)
	if m := fractionPattern.FindStringSubmatch(s); m != nil {
		frac := m[1] + "000"
		ms, _ := strconv.Atoi(frac[:3])
		if frac[3] >= '5' {
			ms++
		}
		t = t.Add(time.Duration(ms) * time.Millisecond)
	}
	return t.Format("2006-01-02T15:04:05.000Z"), true
}
