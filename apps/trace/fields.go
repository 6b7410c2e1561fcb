package trace

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// obj reads one JSON object of an event (decoded with UseNumber) and
// names every field by its path, so that each error says where it is:
// "events[2].readPoint.id". The objects of one event share one error
// slot that keeps the first error found: a read that fails records it
// and returns what it could read (often nothing), and every later error
// is dropped, so the event is refused for the same field as a parse
// that stopped at the first error. ParseEvent returns that error once
// the event is read; the code that parses an event is thus the list of
// what it checks, in the order it checks it.
type obj struct {
	m    map[string]any
	path string
	err  *error
}

func (o obj) at(name string) string { return o.path + "." + name }

func (o obj) has(name string) bool { _, ok := o.m[name]; return ok }

// fail records an error at the field name ("quantity", "epcList[2]")
// unless the event already has one.
func (o obj) fail(name string, kind error, format string, args ...any) {
	if *o.err == nil {
		*o.err = fieldError(o.at(name), kind, format, args...)
	}
}

// known fails on the first key, in sorted order, that is neither in
// allowed nor a namespaced extension. EPCIS lets anyone add fields under
// their own namespace ("example:myField"); the module keeps those as
// written and does not interpret them.
func (o obj) known(allowed ...string) {
	for _, k := range slices.Sorted(maps.Keys(o.m)) {
		if !isExtension(k) && !slices.Contains(allowed, k) {
			o.fail(k, ErrBadValue, "unknown field (extension fields need a namespace prefix, as in \"example:%s\")", k)
		}
	}
}

// only fails on the first key, in sorted order, that is not in allowed,
// extension or not: the EPCIS 2.0 JSON schema closes these objects
// (quantity elements, business transactions, sources, destinations,
// persistentDisposition) to extensions.
func (o obj) only(allowed ...string) {
	for _, k := range slices.Sorted(maps.Keys(o.m)) {
		if !slices.Contains(allowed, k) {
			o.fail(k, ErrBadValue, "unknown field: the EPCIS 2.0 JSON schema allows only %s here, and no extension fields", strings.Join(allowed, ", "))
		}
	}
}

// isExtension reports whether a key is a namespaced (prefix:name or URI)
// extension field.
func isExtension(k string) bool {
	i := strings.IndexByte(k, ':')
	return i > 0 && i < len(k)-1 && !strings.HasPrefix(k, "@")
}

// str returns a string field; absent is "" and fails if required.
func (o obj) str(name string, required bool) string {
	v, ok := o.m[name]
	s, isStr := v.(string)
	switch {
	case !ok && required:
		o.fail(name, ErrMissingField, "required")
	case !ok:
	case !isStr:
		o.fail(name, ErrBadValue, "must be a string, not %s", jsonType(v))
	case s == "":
		o.fail(name, ErrBadValue, "must not be empty")
	}
	return s
}

// uri returns a field that must be a URI.
func (o obj) uri(name string, required bool) string {
	s := o.str(name, required)
	if s != "" && (!isURI(s) || len(s) > MaxURI) {
		o.fail(name, ErrBadValue, "%q is not a URI of at most %d characters", s, MaxURI)
	}
	return s
}

// word returns a field from a CBV vocabulary, normalized to its bare
// word, and writes the bare word back into the event: a standard value is
// stored and answered as the EPCIS 2.0 JSON schema requires, whatever
// spelling it was captured in.
func (o obj) word(name string, v *vocab, required bool) string {
	s := o.str(name, required)
	if s == "" {
		return ""
	}
	w, err := v.Normalize(s)
	if err != nil {
		o.fail(name, ErrUnknownWord, "%v", err)
		return ""
	}
	o.m[name] = w
	return w
}

// time returns a field that must be an RFC 3339 date-time with a zone.
func (o obj) time(name string, required bool) time.Time {
	s := o.str(name, required)
	t, err := time.Parse(time.RFC3339Nano, s)
	if s != "" && err != nil {
		o.fail(name, ErrBadValue, "%q is not an RFC 3339 date-time with a time zone (2026-03-01T08:30:00.000+05:30)", s)
	}
	return t
}

// list returns an array field; absent is nil.
func (o obj) list(name string) []any {
	v, ok := o.m[name]
	l, isList := v.([]any)
	if ok && !isList {
		o.fail(name, ErrBadValue, "must be a list, not %s", jsonType(v))
	}
	return l
}

// object returns an object field, and false when it is absent or is not
// an object.
func (o obj) object(name string) (obj, bool) {
	v, ok := o.m[name]
	if !ok {
		return obj{}, false
	}
	return o.asObj(name, v)
}

// asObj returns v, the value of the field name, as an object.
func (o obj) asObj(name string, v any) (obj, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		o.fail(name, ErrBadValue, "must be an object, not %s", jsonType(v))
	}
	return obj{m: m, path: o.at(name), err: o.err}, ok
}

// objects returns the elements of a list field, each of which must be an object.
func (o obj) objects(name string) []obj {
	var out []obj
	for i, v := range o.list(name) {
		if el, ok := o.asObj(fmt.Sprintf("%s[%d]", name, i), v); ok {
			out = append(out, el)
		}
	}
	return out
}

// strings returns a list field whose elements must be non-empty strings.
func (o obj) strings(name string) []string {
	l := o.list(name)
	out := make([]string, len(l))
	for i, v := range l {
		if out[i], _ = v.(string); out[i] == "" {
			o.fail(fmt.Sprintf("%s[%d]", name, i), ErrBadValue, "must be a non-empty string")
		}
	}
	return out
}

// decimalPattern is the JSON number grammar. A decimal arrives either as
// an integer or, because payloads carry no floats, as a string holding
// the number exactly as the document wrote it ("26.0", "1.5E2").
var decimalPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// decimal checks an optional decimal field and returns its text. A
// decimal that arrived as a string goes back into the event as a JSON
// number with the same text, so the stored event says 200.5 where the
// document did, exactly, with no float in between.
func (o obj) decimal(name string) string {
	v, ok := o.m[name]
	switch t := v.(type) {
	case json.Number:
		return t.String()
	case string:
		if !decimalPattern.MatchString(t) {
			o.fail(name, ErrBadValue, "%q is not a decimal number", t)
			return t
		}
		o.m[name] = json.Number(t)
		return t
	}
	if ok {
		o.fail(name, ErrBadValue, "must be a number or a decimal string, not %s", jsonType(v))
	}
	return ""
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
		l.fail("id", kindOf(err), "%v", err)
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
		o.fail(name, kindOf(err), "%v", err)
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

var uomPattern = regexp.MustCompile(`^[A-Z0-9]{2,3}$`)

// quantities reads a quantity list: {"epcClass", "quantity", "uom"},
// whose classes play the part as. Only epcClass is required: without a
// quantity the element says that some unknown amount of the class took
// part. The amounts are checked, not kept.
func (o obj) quantities(name, as string) []Named {
	var out []Named
	for i, q := range o.objects(name) {
		q.only("epcClass", "quantity", "uom")
		class := q.epc("epcClass", q.str("epcClass", true), true,
			"names one object, not a class (urn:epc:class:lgtin:..., urn:epc:idpat:..., or a Digital Link without a serial)")
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

var uriPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]*:[^\s"<>\\^` + "`" + `{|}]+$`)

// isURI reports whether s looks like an absolute URI or a compact IRI
// (scheme or prefix, a colon, then no spaces or forbidden characters).
func isURI(s string) bool { return uriPattern.MatchString(s) }

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
