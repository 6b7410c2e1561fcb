package trace

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// obj reads one JSON object of an event (decoded with UseNumber) and
// names every field by its path, so that each error says where it is:
// "events[2].readPoint.id".
type obj struct {
	m    map[string]any
	path string
}

func (o obj) at(name string) string { return o.path + "." + name }

func (o obj) has(name string) bool { _, ok := o.m[name]; return ok }

// known fails on the first key, in sorted order, that is neither in
// allowed nor a namespaced extension. EPCIS lets anyone add fields under
// their own namespace ("example:myField"); the module keeps those as
// written and does not interpret them.
func (o obj) known(allowed ...string) error {
	keys := make([]string, 0, len(o.m))
	for k := range o.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if isExtension(k) || slices.Contains(allowed, k) {
			continue
		}
		return fieldError(o.at(k), ErrBadValue, "unknown field (extension fields need a namespace prefix, as in \"example:%s\")", k)
	}
	return nil
}

// isExtension reports whether a key is a namespaced (prefix:name or URI)
// extension field.
func isExtension(k string) bool {
	i := strings.IndexByte(k, ':')
	return i > 0 && i < len(k)-1 && !strings.HasPrefix(k, "@")
}

// str returns a string field; absent is "" unless required.
func (o obj) str(name string, required bool) (string, error) {
	v, ok := o.m[name]
	if !ok {
		if required {
			return "", fieldError(o.at(name), ErrMissingField, "required")
		}
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", fieldError(o.at(name), ErrBadValue, "must be a string, not %s", jsonType(v))
	}
	if s == "" {
		return "", fieldError(o.at(name), ErrBadValue, "must not be empty")
	}
	return s, nil
}

// uri returns a field that must be a URI.
func (o obj) uri(name string, required bool) (string, error) {
	s, err := o.str(name, required)
	if err != nil || s == "" {
		return s, err
	}
	if !isURI(s) || len(s) > MaxURI {
		return "", fieldError(o.at(name), ErrBadValue, "%q is not a URI of at most %d characters", s, MaxURI)
	}
	return s, nil
}

// word returns a field from a CBV vocabulary, normalized to its bare word.
func (o obj) word(name string, v *vocab, required bool) (string, error) {
	s, err := o.str(name, required)
	if err != nil || s == "" {
		return s, err
	}
	w, err := v.Normalize(s)
	if err != nil {
		return "", fieldError(o.at(name), ErrUnknownWord, "%v", err)
	}
	return w, nil
}

// time returns a field that must be an RFC 3339 date-time with a zone.
func (o obj) time(name string, required bool) (time.Time, error) {
	s, err := o.str(name, required)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fieldError(o.at(name), ErrBadValue, "%q is not an RFC 3339 date-time with a time zone (2026-03-01T08:30:00.000+05:30)", s)
	}
	return t, nil
}

// list returns an array field; absent is nil.
func (o obj) list(name string) ([]any, error) {
	v, ok := o.m[name]
	if !ok {
		return nil, nil
	}
	l, isList := v.([]any)
	if !isList {
		return nil, fieldError(o.at(name), ErrBadValue, "must be a list, not %s", jsonType(v))
	}
	return l, nil
}

// object returns an object field, or ok=false when it is absent.
func (o obj) object(name string, required bool) (obj, bool, error) {
	v, present := o.m[name]
	if !present {
		if required {
			return obj{}, false, fieldError(o.at(name), ErrMissingField, "required")
		}
		return obj{}, false, nil
	}
	return asObj(v, o.at(name))
}

func asObj(v any, path string) (obj, bool, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return obj{}, false, fieldError(path, ErrBadValue, "must be an object, not %s", jsonType(v))
	}
	return obj{m: m, path: path}, true, nil
}

// objects returns the elements of a list field, each of which must be an object.
func (o obj) objects(name string) ([]obj, error) {
	l, err := o.list(name)
	if err != nil {
		return nil, err
	}
	out := make([]obj, len(l))
	for i, v := range l {
		if out[i], _, err = asObj(v, fmt.Sprintf("%s[%d]", o.at(name), i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// strings returns a list field whose elements must be non-empty strings.
func (o obj) strings(name string) ([]string, error) {
	l, err := o.list(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(l))
	for i, v := range l {
		s, ok := v.(string)
		if !ok || s == "" {
			return nil, fieldError(fmt.Sprintf("%s[%d]", o.at(name), i), ErrBadValue, "must be a non-empty string")
		}
		out[i] = s
	}
	return out, nil
}

// decimalPattern is the JSON number grammar. A decimal arrives either as
// an integer or, because payloads carry no floats, as a string holding
// the number exactly as the document wrote it ("26.0", "1.5E2").
var decimalPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// decimal checks an optional decimal field and returns its text.
func (o obj) decimal(name string) (string, error) {
	v, ok := o.m[name]
	if !ok {
		return "", nil
	}
	switch t := v.(type) {
	case json.Number:
		return t.String(), nil
	case string:
		if decimalPattern.MatchString(t) {
			return t, nil
		}
		return "", fieldError(o.at(name), ErrBadValue, "%q is not a decimal number", t)
	}
	return "", fieldError(o.at(name), ErrBadValue, "must be a number or a decimal string, not %s", jsonType(v))
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
