package trace

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// linkBase is the host of canonical GS1 Digital Links. Any host may
// appear in an event (a brand's own resolver); the key is rewritten to
// this one, because the GS1 keys, not the host, identify the object.
const linkBase = "https://id.gs1.org/"

// linkKey describes one primary key of a GS1 Digital Link: its
// application identifier (AI), the qualifiers that may follow it, in
// order, and how to check its value.
type linkKey struct {
	kind       string
	qualifiers []string
	check      func(v string) error
	// digits returns the digits a registered company prefix must begin
	// (after an indicator or extension digit) and whether v names one
	// object rather than a class.
	digits func(v string, q map[string]string) (string, bool)
}

var linkKeys = map[string]linkKey{
	"01": {kind: "gtin", qualifiers: []string{"22", "10", "21"}, check: numericKey(14),
		digits: func(v string, q map[string]string) (string, bool) { return v[1:13], q["21"] != "" }},
	"00": {kind: "sscc", check: numericKey(18),
		digits: func(v string, _ map[string]string) (string, bool) { return v[1:17], true }},
	"8003": {kind: "grai", check: serialKey("0", "0 and 13 digits"),
		digits: func(v string, _ map[string]string) (string, bool) { return v[1:13], len(v) > 14 }},
	"8004": {kind: "giai", check: checkGIAI,
		digits: func(v string, _ map[string]string) (string, bool) { return leadingDigits(v), true }},
	"8018": {kind: "gsrn", check: numericKey(18),
		digits: func(v string, _ map[string]string) (string, bool) { return v[:17], true }},
	"8017": {kind: "gsrnp", check: numericKey(18),
		digits: func(v string, _ map[string]string) (string, bool) { return v[:17], true }},
	"253": {kind: "gdti", check: serialKey("", "13 digits"),
		digits: func(v string, _ map[string]string) (string, bool) { return v[:12], len(v) > 13 }},
	"414": {kind: "gln", qualifiers: []string{"254"}, check: numericKey(13)}, // a location, not an object
}

// qualifierLimits gives the most characters of each qualifier's value.
var qualifierLimits = map[string]int{"22": 20, "10": 20, "21": 20, "254": 20}

// parseDigitalLink parses a GS1 Digital Link URI that names an object or
// a class: https://{any host}/{optional path}/{AI}/{value}[/{AI}/{value}...].
// The query string (?linkType=...) is allowed and ignored. A GTIN written
// with 8, 12 or 13 digits is padded to 14 in the key.
func parseDigitalLink(s string) (ID, error) {
	ai, value, q, err := parseLink(s, false)
	if err != nil {
		return ID{}, err
	}
	lk := linkKeys[ai]
	digits, instance := lk.digits(value, q)
	key := linkBase + ai + "/" + url.PathEscape(value)
	for _, name := range lk.qualifiers {
		if v, ok := q[name]; ok {
			key += "/" + name + "/" + url.PathEscape(v)
		}
	}
	kind := lk.kind
	switch {
	case ai == "01" && instance:
		kind = "sgtin"
	case ai == "01" && q["10"] != "":
		kind = "lgtin"
	}
	return ID{URI: s, Key: key, Kind: kind, Class: !instance, Digits: digits}, nil
}

// parseLink finds and checks the primary key of a Digital Link, a GLN
// when location is set and the key of an object or class otherwise, and
// the qualifiers after it.
func parseLink(s string, location bool) (ai, value string, q map[string]string, err error) {
	ai, value, quals, err := splitLink(s)
	switch {
	case err != nil:
		return "", "", nil, err
	case location && ai != "414":
		return "", "", nil, fmt.Errorf("%q: a location is a GLN, AI 414, not AI %s", s, ai)
	case !location && ai == "414":
		return "", "", nil, fmt.Errorf("%q names a location (AI 414), not an object", s)
	}
	if ai == "01" && (len(value) == 8 || len(value) == 12 || len(value) == 13) {
		value = strings.Repeat("0", 14-len(value)) + value
	}
	if err := linkKeys[ai].check(value); err != nil {
		return "", "", nil, fmt.Errorf("%q: AI %s: %w", s, ai, err)
	}
	q, err = checkQualifiers(s, ai, quals, linkKeys[ai].qualifiers)
	return ai, value, q, err
}

// splitLink finds the primary key in a Digital Link's path: the first
// segment that is a known AI and has a value after it. Segments
// before it are the resolver's own path and are ignored.
func splitLink(s string) (ai, value string, quals []string, err error) {
	u, perr := url.Parse(s)
	if perr != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", "", nil, fmt.Errorf("%q is not an absolute http(s) URI with a host", s)
	}
	segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	for i := 0; i+1 < len(segs); i++ {
		if _, known := linkKeys[segs[i]]; !known {
			continue
		}
		rest := segs[i:]
		if len(rest)%2 != 0 {
			return "", "", nil, fmt.Errorf("%q: the path after AI %s must be AI/value pairs", s, segs[i])
		}
		vals := make([]string, len(rest))
		for j, seg := range rest {
			if vals[j], perr = url.PathUnescape(seg); perr != nil || vals[j] == "" {
				return "", "", nil, fmt.Errorf("%q: bad path segment %q", s, seg)
			}
		}
		return vals[0], vals[1], vals[2:], nil
	}
	return "", "", nil, fmt.Errorf("%q has no GS1 primary key (such as /01/{GTIN}) in its path", s)
}

// checkQualifiers checks the AI/value pairs after the primary key: each
// must be allowed for it, appear once, in the standard's order, and hold
// 1 to 20 characters of the GS1 character set.
func checkQualifiers(s, ai string, pairs []string, allowed []string) (map[string]string, error) {
	q := map[string]string{}
	next := 0
	for i := 0; i < len(pairs); i += 2 {
		name, v := pairs[i], pairs[i+1]
		pos := slices.Index(allowed[next:], name)
		if pos < 0 {
			return nil, fmt.Errorf("%q: AI %s may not follow AI %s here (allowed, in order: %s)", s, name, ai, strings.Join(allowed, ", "))
		}
		next += pos + 1
		if len(v) > qualifierLimits[name] || !isRawCSet82(v) {
			return nil, fmt.Errorf("%q: AI %s value %q must be 1 to %d characters of the GS1 character set", s, name, v, qualifierLimits[name])
		}
		q[name] = v
	}
	return q, nil
}

func numericKey(n int) func(string) error {
	return func(v string) error {
		if len(v) != n || !allDigits(v) {
			return fmt.Errorf("%q must be %d digits", v, n)
		}
		if !validCheckDigit(v) {
			return fmt.Errorf("%q has a wrong check digit (want %d)", v, checkDigit(v[:n-1]))
		}
		return nil
	}
}

// serialKey returns the check of AI 8003 (GRAI: lead "0") or AI 253
// (GDTI: no lead): lead, 13 digits ending in a check digit, then an
// optional serial that keeps the value within 30 characters (16 for a
// GRAI, 17 for a GDTI). want says how the value starts, for errors.
func serialKey(lead, want string) func(string) error {
	return func(v string) error {
		n := len(lead) + 13
		if len(v) < n || !strings.HasPrefix(v, lead) {
			return fmt.Errorf("%q must start with %s", v, want)
		}
		if err := numericKey(13)(v[len(lead):n]); err != nil {
			return err
		}
		if len(v) > 30 || !isRawCSet82(v[n:]) {
			return fmt.Errorf("%q: serial must be up to %d characters of the GS1 character set", v, 30-n)
		}
		return nil
	}
}

// checkGIAI checks AI 8004: up to 30 characters that start with a
// company prefix (at least 6 digits).
func checkGIAI(v string) error {
	if len(v) > 30 || len(leadingDigits(v)) < 6 || !isRawCSet82(v) {
		return fmt.Errorf("%q must be up to 30 characters of the GS1 character set, starting with a company prefix", v)
	}
	return nil
}

func leadingDigits(v string) string { return v[:len(v)-len(strings.TrimLeft(v, decimalDigits))] }

// isRawCSet82 reports whether an unescaped value uses only GS1's
// 82-character set (AI encodable character set 82).
func isRawCSet82(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '!' || c > 'z' || c == '#' || c == '$' || c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '`' {
			return false
		}
	}
	return true
}
