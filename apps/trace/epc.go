package trace

import (
	"fmt"
	"net/url"
	"strings"
)

// An identifier names what an event is about. GS1 gives two spellings of
// the same identifier:
//
//   - the EPC URI, e.g. urn:epc:id:sgtin:9521111.054321.P1001, where the
//     dot after the GS1 company prefix says how long the prefix is;
//   - the GS1 Digital Link URI, e.g. https://id.gs1.org/01/09521111543216/21/P1001,
//     which carries the plain GS1 keys (GTIN, serial) and no prefix length.
//
// The module accepts both and turns each into one canonical key, the
// Digital Link form on https://id.gs1.org/, so that an object named in
// either spelling has one history. A URN can always be turned into a
// Digital Link; the way back needs the prefix length, which a Digital
// Link does not carry, so it is never attempted. Identifiers with no
// Digital Link form here (EPC patterns other than sgtin, GSIN, GINC, SGCN)
// keep their URN as key.

// MaxURI bounds the length of any URI in an event.
const MaxURI = 512

// ID is a parsed identifier of an object or a class of objects.
type ID struct {
	URI    string // as written in the event
	Key    string // canonical key, the same for both spellings of one identifier
	Kind   string // sgtin, sscc, grai, giai, gsrn, gdti, sgcn, ginc, gsin, lgtin, gtin, or idpat:{scheme}
	Class  bool   // names a class (a GTIN, a lot, a pattern), not one object
	Prefix string // the GS1 company prefix, when the URI spells it out (EPC URIs)
	Digits string // for Digital Links: the key digits a registered prefix must begin (see OwnedBy)
}

// OwnedBy reports whether one of prefixes covers the identifier. For an
// EPC URI the company prefix is explicit and must equal a registered one.
// For a Digital Link it is not: a registered prefix covers the identifier
// when the key's digits, after the GTIN indicator or SSCC extension digit,
// begin with it. "*" covers everything.
func (id ID) OwnedBy(prefixes []string) bool {
	for _, p := range prefixes {
		switch {
		case p == Wildcard:
			return true
		case id.Prefix != "":
			if id.Prefix == p {
				return true
			}
		case id.Digits != "" && strings.HasPrefix(id.Digits, p):
			return true
		}
	}
	return false
}

// scheme describes the components of one EPC URI scheme after its name:
// urn:epc:id:{scheme}:{prefix}.{second}[.{third}].
type scheme struct {
	parts    int  // components separated by dots
	digits   int  // total digits of the company prefix and the second component; 0 when free
	maxTotal int  // for free-form references: most characters of prefix + reference
	serial   int  // most characters of the third component
	numeric  bool // the third component is digits only
	ai       string
}

var schemes = map[string]scheme{
	"sgtin": {parts: 3, digits: 13, serial: 20, ai: "01"},
	"sscc":  {parts: 2, digits: 17, ai: "00"},
	"sgln":  {parts: 3, digits: 12, serial: 20, ai: "414"},
	"grai":  {parts: 3, digits: 12, serial: 16, ai: "8003"},
	"giai":  {parts: 2, maxTotal: 30, ai: "8004"},
	"gsrn":  {parts: 2, digits: 17, ai: "8018"},
	"gsrnp": {parts: 2, digits: 17, ai: "8017"},
	"gdti":  {parts: 3, digits: 12, serial: 17, ai: "253"},
	"sgcn":  {parts: 3, digits: 12, serial: 12, numeric: true},
	"ginc":  {parts: 2, maxTotal: 30},
	"gsin":  {parts: 2, digits: 16},
}

// ParseEPC parses an identifier of an object or class as it appears in
// epcList, parentID, childEPCs, inputEPCList, outputEPCList or a quantity
// element's epcClass: an EPC URI (urn:epc:id:, urn:epc:class:lgtin:,
// urn:epc:idpat:) or a GS1 Digital Link URI. It fails with
// ErrBadIdentifier, saying what is wrong.
func ParseEPC(s string) (ID, error) {
	if len(s) > MaxURI {
		return ID{}, fmt.Errorf("%d characters, limit %d", len(s), MaxURI)
	}
	switch {
	case strings.HasPrefix(s, "urn:epc:id:"):
		return parseEPCID(s)
	case strings.HasPrefix(s, "urn:epc:class:lgtin:"):
		return parseLGTIN(s)
	case strings.HasPrefix(s, "urn:epc:idpat:"):
		return parsePattern(s)
	case strings.HasPrefix(s, "https://"), strings.HasPrefix(s, "http://"):
		return parseDigitalLink(s)
	}
	return ID{}, fmt.Errorf("%q is neither an EPC URI (urn:epc:...) nor a GS1 Digital Link URI (https://...)", s)
}

func parseEPCID(s string) (ID, error) {
	name, body, _ := strings.Cut(strings.TrimPrefix(s, "urn:epc:id:"), ":")
	sc, ok := schemes[name]
	if !ok || name == "sgln" {
		return ID{}, fmt.Errorf("%q: urn:epc:id:%s is not an object identifier scheme this module knows (sgtin, sscc, grai, giai, gsrn, gsrnp, gdti, sgcn, ginc, gsin)", s, name)
	}
	parts, err := splitParts(s, body, sc)
	if err != nil {
		return ID{}, err
	}
	id := ID{URI: s, Key: s, Kind: name, Prefix: parts[0]}
	if sc.ai != "" {
		id.Key = urnToLink(name, parts)
	}
	return id, nil
}

// splitParts splits and checks the dot-separated components of an EPC URI.
func splitParts(s, body string, sc scheme) ([]string, error) {
	parts := strings.SplitN(body, ".", sc.parts)
	if len(parts) != sc.parts {
		return nil, fmt.Errorf("%q: want %d dot-separated components", s, sc.parts)
	}
	cp := parts[0]
	if len(cp) < 6 || len(cp) > 12 || !allDigits(cp) {
		return nil, fmt.Errorf("%q: company prefix %q must be 6 to 12 digits", s, cp)
	}
	switch {
	case sc.digits > 0:
		if !allDigits(parts[1]) || len(cp)+len(parts[1]) != sc.digits {
			return nil, fmt.Errorf("%q: company prefix and %q together must be %d digits", s, parts[1], sc.digits)
		}
	default:
		if parts[1] == "" || len(cp)+len(unescape(parts[1])) > sc.maxTotal || !isCSet82(parts[1]) {
			return nil, fmt.Errorf("%q: reference %q must be 1 to %d characters of the GS1 character set", s, parts[1], sc.maxTotal-len(cp))
		}
	}
	if sc.parts == 3 {
		ser := parts[2]
		if ser == "" || len(unescape(ser)) > sc.serial || !isCSet82(ser) || (sc.numeric && !allDigits(ser)) {
			return nil, fmt.Errorf("%q: serial %q must be 1 to %d characters of the GS1 character set", s, ser, sc.serial)
		}
	}
	return parts, nil
}

func parseLGTIN(s string) (ID, error) {
	body := strings.TrimPrefix(s, "urn:epc:class:lgtin:")
	parts, err := splitParts(s, body, scheme{parts: 3, digits: 13, serial: 20})
	if err != nil {
		return ID{}, err
	}
	gtin := gtin14(parts[0], parts[1])
	return ID{URI: s, Key: linkBase + "01/" + gtin + "/10/" + url.PathEscape(unescape(parts[2])),
		Kind: "lgtin", Class: true, Prefix: parts[0]}, nil
}

// parsePattern parses an EPC pattern such as urn:epc:idpat:sgtin:9521111.054321.*,
// which names every serial of one GTIN. Once a component is "*", every
// later one must be too; the company prefix must be given.
func parsePattern(s string) (ID, error) {
	name, body, _ := strings.Cut(strings.TrimPrefix(s, "urn:epc:idpat:"), ":")
	sc, ok := schemes[name]
	if !ok {
		return ID{}, fmt.Errorf("%q: unknown pattern scheme %q", s, name)
	}
	parts := strings.SplitN(body, ".", sc.parts)
	if len(parts) != sc.parts {
		return ID{}, fmt.Errorf("%q: want %d dot-separated components", s, sc.parts)
	}
	if len(parts[0]) < 6 || len(parts[0]) > 12 || !allDigits(parts[0]) {
		return ID{}, fmt.Errorf("%q: a pattern must start with a company prefix of 6 to 12 digits", s)
	}
	star := false
	for i, p := range parts[1:] {
		switch {
		case p == "*":
			star = true
		case star:
			return ID{}, fmt.Errorf("%q: component %d follows a \"*\" and must be \"*\" too", s, i+2)
		}
	}
	if !star {
		return ID{}, fmt.Errorf("%q: a pattern has at least one \"*\" (use urn:epc:id: for one object)", s)
	}
	if parts[1] != "*" { // then only the serial is "*": check the rest as with serial 1
		if _, err := splitParts(s, parts[0]+"."+parts[1]+".1", sc); err != nil {
			return ID{}, err
		}
	}
	id := ID{URI: s, Key: s, Kind: "idpat:" + name, Class: true, Prefix: parts[0]}
	if name == "sgtin" && parts[1] != "*" {
		id.Key = linkBase + "01/" + gtin14(parts[0], parts[1]) // every serial of one GTIN: the GTIN itself
	}
	return id, nil
}

// Location is a parsed readPoint or bizLocation: a GS1 location number
// (GLN) with an optional extension that names a place inside it (a dock,
// a shelf). Written as an SGLN EPC URI (urn:epc:id:sgln:9521111.00020.0)
// or a Digital Link (https://id.gs1.org/414/9521111000205/254/dock2).
type Location struct {
	URI    string
	GLN    string // 13 digits with the check digit
	Ext    string // "" when the location is the whole GLN (SGLN extension "0")
	Prefix string // company prefix, when the URI spells it out
}

// Key is the canonical Digital Link form of the location.
func (l Location) Key() string {
	k := linkBase + "414/" + l.GLN
	if l.Ext != "" {
		k += "/254/" + url.PathEscape(l.Ext)
	}
	return k
}

// OwnedBy reports whether a company prefix in prefixes covers the
// location's GLN, by the same rule as ID.OwnedBy.
func (l Location) OwnedBy(prefixes []string) bool {
	id := ID{Prefix: l.Prefix}
	if l.Prefix == "" {
		id.Digits = l.GLN[:12]
	}
	return id.OwnedBy(prefixes)
}

// ParseLocation parses an SGLN EPC URI or a GS1 Digital Link with AI 414
// (a GLN) and an optional AI 254 (its extension).
func ParseLocation(s string) (Location, error) {
	if len(s) > MaxURI {
		return Location{}, fmt.Errorf("%d characters, limit %d", len(s), MaxURI)
	}
	if strings.HasPrefix(s, "urn:epc:id:sgln:") {
		parts, err := splitParts(s, strings.TrimPrefix(s, "urn:epc:id:sgln:"), schemes["sgln"])
		if err != nil {
			return Location{}, err
		}
		l := Location{URI: s, GLN: withCheckDigit(parts[0] + parts[1]), Prefix: parts[0]}
		if parts[2] != "0" {
			l.Ext = unescape(parts[2])
		}
		return l, nil
	}
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		_, gln, q, err := parseLink(s, true)
		if err != nil {
			return Location{}, err
		}
		l := Location{URI: s, GLN: gln, Ext: q["254"]}
		if l.Ext == "0" {
			l.Ext = ""
		}
		return l, nil
	}
	return Location{}, fmt.Errorf("%q is neither an SGLN (urn:epc:id:sgln:...) nor a GS1 Digital Link with a GLN (https://.../414/...)", s)
}

// urnToLink turns the components of an EPC URI into the canonical
// Digital Link. The scheme must have an AI in the schemes table.
func urnToLink(name string, p []string) string {
	switch name {
	case "sgtin":
		return linkBase + "01/" + gtin14(p[0], p[1]) + "/21/" + url.PathEscape(unescape(p[2]))
	case "sscc":
		return linkBase + "00/" + withCheckDigit(p[1][:1]+p[0]+p[1][1:])
	case "grai":
		return linkBase + "8003/" + url.PathEscape("0"+withCheckDigit(p[0]+p[1])+unescape(p[2]))
	case "giai":
		return linkBase + "8004/" + url.PathEscape(p[0]+unescape(p[1]))
	case "gsrn":
		return linkBase + "8018/" + withCheckDigit(p[0]+p[1])
	case "gsrnp":
		return linkBase + "8017/" + withCheckDigit(p[0]+p[1])
	case "gdti":
		return linkBase + "253/" + url.PathEscape(withCheckDigit(p[0]+p[1])+unescape(p[2]))
	}
	panic("trace: urnToLink called for scheme " + name)
}

// gtin14 builds a GTIN-14 from an SGTIN's company prefix and item
// reference, whose first digit is the indicator.
func gtin14(cp, itemRef string) string { return withCheckDigit(itemRef[:1] + cp + itemRef[1:]) }

// withCheckDigit appends the GS1 mod-10 check digit to a digit string.
func withCheckDigit(d string) string { return d + string(rune('0'+checkDigit(d))) }

// checkDigit computes the GS1 check digit: from the right, digits are
// weighted 3, 1, 3, 1, ... and the check digit tops the sum up to a
// multiple of ten.
func checkDigit(d string) int {
	sum := 0
	for i := 0; i < len(d); i++ {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 0 {
			n *= 3
		}
		sum += n
	}
	return (10 - sum%10) % 10
}

func validCheckDigit(d string) bool {
	return len(d) > 1 && allDigits(d) && checkDigit(d[:len(d)-1]) == int(d[len(d)-1]-'0')
}

const decimalDigits = "0123456789"

func allDigits(s string) bool { return s != "" && strings.Trim(s, decimalDigits) == "" }

// isCSet82 reports whether s is written in the characters an EPC URI
// allows in a serial: letters, digits, a few marks, and %XX escapes for
// the rest of GS1's 82-character set.
func isCSet82(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!'()*+,-.:;=_", c) >= 0:
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// unescape decodes the %XX escapes of an EPC URI component. The input
// has passed isCSet82, so it cannot fail.
func unescape(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}
