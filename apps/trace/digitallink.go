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
	"01": {kind: "gtin", qualifiers: []string{"22", "10", "21", "235"}, check: numericKey(14),
		digits: func(v string, q map[string]string) (string, bool) { return v[1:13], q["21"] != "" || q["235"] != "" }},
	"00": {kind: "sscc", check: numericKey(18),
		digits: func(v string, _ map[string]string) (string, bool) { return v[1:17], true }},
	"8003": {kind: "grai", check: serialKey("0", "0 and 13 digits", 30),
		digits: func(v string, _ map[string]string) (string, bool) { return v[1:13], len(v) > 14 }},
	"8004": {kind: "giai", check: checkGIAI,
		digits: func(v string, _ map[string]string) (string, bool) { return leadingDigits(v), true }},
	"8018": {kind: "gsrn", check: numericKey(18),
		digits: func(v string, _ map[string]string) (string, bool) { return v[:17], true }},
	"8017": {kind: "gsrnp", check: numericKey(18),
		digits: func(v string, _ map[string]string) (string, bool) { return v[:17], true }},
	"253": {kind: "gdti", check: serialKey("", "13 digits", 30),
		digits: func(v string, _ map[string]string) (string, bool) { return v[:12], len(v) > 13 }},
	"255": {kind: "sgcn", check: checkGCN,
		digits: func(v string, _ map[string]string) (string, bool) { return v[:12], len(v) > 13 }},
	"401": {kind: "ginc", check: checkGIAI,
		digits: func(v string, _ map[string]string) (string, bool) { return leadingDigits(v), true }},
	"402": {kind: "gsin", check: numericKey(17),
		digits: func(v string, _ map[string]string) (string, bool) { return v[:16], true }},
	"417": {kind: "pgln", check: numericKey(13),
		digits: func(v string, _ map[string]string) (string, bool) { return v[:12], true }},
	"8006": {kind: "itip", qualifiers: []string{"22", "10", "21"}, check: checkITIP,
		digits: func(v string, q map[string]string) (string, bool) { return v[1:13], q["21"] != "" }},
	"8010": {kind: "cpi", qualifiers: []string{"8011"}, check: checkCPID,
		digits: func(v string, q map[string]string) (string, bool) { return leadingDigits(v), q["8011"] != "" }},
	// A location (readPoint, bizLocation), or an SGLN named as an object.
	"414": {kind: "sgln", qualifiers: []string{"254"}, check: numericKey(13),
		digits: func(v string, _ map[string]string) (string, bool) { return v[:12], true }},
}

// qualifierLimits gives the most characters of each qualifier's value.
var qualifierLimits = map[string]int{"22": 20, "10": 20, "21": 20, "254": 20, "235": 28, "8011": 12}

// dlSegment writes a value into a path segment of a canonical GS1 Digital
// Link: the characters an EPC URI escapes (TDS, table of escapes) and
// those the Digital Link standard escapes in a path ("!()*+,:") become
// %XX; every other character of the GS1 set stays as it is. The keys of
// the module and the event hash use this one spelling.
func dlSegment(v string) string {
	const escape = "\"%&/<>?!()*+,:#"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; strings.IndexByte(escape, c) >= 0 || c <= ' ' || c >= 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

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
	return ID{URI: s, Key: canonicalLink(ai, value, q), Kind: linkKind(ai, q), Class: !instance, Digits: digits}, nil
}

// canonicalLink returns the canonical key of a parsed Digital Link: the
// constrained form the CBV 2.0 event hash uses, on id.gs1.org, with only
// the finest level of identification: no CPV (22), and no lot (10) when
// there is a serial (21).
func canonicalLink(ai, value string, q map[string]string) string {
	key := linkBase + ai + "/" + dlSegment(value)
	for _, name := range linkKeys[ai].qualifiers {
		v, ok := q[name]
		if !ok || name == "22" || name == "10" && q["21"] != "" {
			continue
		}
		key += "/" + name + "/" + dlSegment(v)
	}
	return key
}

// linkKind names what a Digital Link identifies, in the words of the EPC
// schemes: sgtin for a GTIN with a serial, lgtin with a lot, upui with a
// third-party controlled extension.
func linkKind(ai string, q map[string]string) string {
	switch {
	case ai == "01" && q["21"] != "":
		return "sgtin"
	case ai == "01" && q["235"] != "":
		return "upui"
	case ai == "01" && q["10"] != "":
		return "lgtin"
	}
	return linkKeys[ai].kind
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
	}
	if ai == "01" && (len(value) == 8 || len(value) == 12 || len(value) == 13) {
		value = strings.Repeat("0", 14-len(value)) + value
	}
	if err := linkKeys[ai].check(value); err != nil {
		return "", "", nil, fmt.Errorf("%q: AI %s: %w", s, ai, err)
	}
	q, err = checkQualifiers(s, ai, quals, linkKeys[ai].qualifiers)
	if err == nil && q["235"] != "" && len(q) > 1 {
		err = fmt.Errorf("%q: AI 235 (third-party controlled extension) stands alone after the GTIN", s)
	}
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
	return "", "", nil, unsupported(fmt.Sprintf("%q has no GS1 primary key (such as /01/{GTIN}) in its path: "+
		"identifiers outside the GS1 system are URIs EPCIS 2.0 allows (CBV 2.0, private or industry-specific identifiers), "+
		"but the capture rules of this module need a GS1 company prefix", s))
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
		if len(v) > qualifierLimits[name] || !isRawCSet82(v) || name == "8011" && !allDigits(v) {
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

// serialKey returns the check of AI 8003 (GRAI: lead "0"), AI 253 (GDTI:
// no lead): lead, 13 digits ending in a check digit, then an optional
// serial that keeps the value within most characters. want says how the
// value starts, for errors.
func serialKey(lead, want string, most int) func(string) error {
	return func(v string) error {
		n := len(lead) + 13
		if len(v) < n || !strings.HasPrefix(v, lead) {
			return fmt.Errorf("%q must start with %s", v, want)
		}
		if err := numericKey(13)(v[len(lead):n]); err != nil {
			return err
		}
		if len(v) > most || !isRawCSet82(v[n:]) {
			return fmt.Errorf("%q: serial must be up to %d characters of the GS1 character set", v, most-n)
		}
		return nil
	}
}

// checkGCN checks AI 255: a GCN of 13 digits and an optional serial of
// up to 12 digits.
func checkGCN(v string) error {
	if err := serialKey("", "13 digits", 25)(v); err != nil {
		return err
	}
	if !allDigits(v) {
		return fmt.Errorf("%q: a coupon serial is digits", v)
	}
	return nil
}

// checkITIP checks AI 8006: a GTIN-14 and two pairs of digits, the piece
// number and the total count of pieces.
func checkITIP(v string) error {
	if len(v) != 18 || !allDigits(v) {
		return fmt.Errorf("%q must be 18 digits: a GTIN, the piece and the total", v)
	}
	return numericKey(14)(v[:14])
}

// checkCPID checks AI 8010: up to 30 characters of the GS1 character set
// 39 (digits, capitals, "#", "-", "/"), starting with a company prefix.
func checkCPID(v string) error {
	if len(v) > 30 || len(leadingDigits(v)) < 6 || strings.Trim(v, decimalDigits+"ABCDEFGHIJKLMNOPQRSTUVWXYZ#-/") != "" {
		return fmt.Errorf("%q must be up to 30 digits, capitals, \"#\", \"-\" or \"/\", starting with a company prefix", v)
	}
	return nil
}

// checkGIAI checks AI 8004 (and AI 401, a GINC, which has the same
// shape): up to 30 characters that start with a company prefix (at least
// 6 digits).
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
