package trace

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
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
// Digital Link form on https://id.gs1.org/ (the constrained canonical
// link of the CBV 2.0 event hash), so that an object named in either
// spelling has one history. A URN can always be turned into a Digital
// Link; the way back needs the prefix length, which a Digital Link does
// not carry, so it is never attempted. EPC patterns with a "*" before
// the serial have no Digital Link form and keep their URN as key.

// MaxURI bounds the length of any URI in an event.
const MaxURI = 512

// ID is a parsed identifier of an object or a class of objects.
type ID struct {
	URI    string // as written in the event
	Key    string // canonical key, the same for both spellings of one identifier
	Kind   string // an EPC scheme (sgtin, sscc, sgln, ...), lgtin, gtin, or idpat:{scheme}
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
// urn:epc:id:{scheme}:{prefix}.{second}[.{third}...] (EPC Tag Data
// Standard 2.x, section 6.3).
type scheme struct {
	parts    int    // components separated by dots
	digits   int    // total digits of the company prefix and the second component; 0 when free
	maxTotal int    // for free-form references: most characters of prefix + reference
	serial   int    // most characters of the last component, when there are three or more
	numeric  bool   // the last component is digits only
	cset39   bool   // the reference is written in GS1 character set 39 (CPI)
	title    string // the identifier's name in the Tag Data Standard
}

var schemes = map[string]scheme{
	"sgtin": {parts: 3, digits: 13, serial: 20, title: "SGTIN"},
	"sscc":  {parts: 2, digits: 17, title: "SSCC"},
	"sgln":  {parts: 3, digits: 12, serial: 20, title: "SGLN"},
	"grai":  {parts: 3, digits: 12, serial: 16, title: "GRAI"},
	"giai":  {parts: 2, maxTotal: 30, title: "GIAI"},
	"gsrn":  {parts: 2, digits: 17, title: "GSRN"},
	"gsrnp": {parts: 2, digits: 17, title: "GSRNP"},
	"gdti":  {parts: 3, digits: 12, serial: 17, title: "GDTI"},
	"cpi":   {parts: 3, maxTotal: 30, serial: 12, numeric: true, cset39: true, title: "CPI"},
	"sgcn":  {parts: 3, digits: 12, serial: 12, numeric: true, title: "SGCN"},
	"ginc":  {parts: 2, maxTotal: 30, title: "GINC"},
	"gsin":  {parts: 2, digits: 16, title: "GSIN"},
	"itip":  {parts: 5, digits: 13, serial: 20, title: "ITIP"},
	"upui":  {parts: 3, digits: 13, serial: 28, title: "UPUI"},
	"pgln":  {parts: 2, digits: 12, title: "PGLN"},
}

// otherSchemes are the EPC schemes of the Tag Data Standard that carry no
// GS1 company prefix; the capture rules (participant.go) cannot say who
// owns them, so the module refuses them by name.
var otherSchemes = map[string]string{
	"gid":   "General Identifier (GID)",
	"usdod": "US Department of Defense identifier (USDOD)",
	"adi":   "Aerospace and Defense Identifier (ADI)",
	"bic":   "BIC container code",
	"imovn": "IMO vessel number",
}

// ParseEPC parses an identifier of an object or class as it appears in
// epcList, parentID, childEPCs, inputEPCList, outputEPCList or a quantity
// element's epcClass: an EPC URI (urn:epc:id:, urn:epc:class:lgtin:,
// urn:epc:idpat:) or a GS1 Digital Link URI. An SGLN names a place that
// is itself the object (a location associated with sensors, say). It
// fails with an error of kind ErrUnsupported for a URI that EPCIS allows
// but this module does not take (kindOf tells), and ErrBadIdentifier
// otherwise, saying what is wrong.
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
	case isURI(s) && !strings.HasPrefix(s, "urn:epc:"):
		return ID{}, unsupported(fmt.Sprintf("%q: identifiers outside the GS1 system are URIs EPCIS 2.0 allows "+
			"(CBV 2.0, private or industry-specific identifiers), but the capture rules of this module need a GS1 company prefix", s))
	}
	return ID{}, fmt.Errorf("%q is neither an EPC URI (urn:epc:...) nor a GS1 Digital Link URI (https://...)", s)
}

func parseEPCID(s string) (ID, error) {
	name, body, _ := strings.Cut(strings.TrimPrefix(s, "urn:epc:id:"), ":")
	if title, ok := otherSchemes[name]; ok {
		return ID{}, unsupported(fmt.Sprintf("%q is a %s (EPC Tag Data Standard 2.x, section 6.3): "+
			"it carries no GS1 company prefix, which the capture rules of this module need", s, title))
	}
	sc, ok := schemes[name]
	if !ok {
		return ID{}, fmt.Errorf("%q: urn:epc:id:%s is not an EPC scheme of the Tag Data Standard 2.x (sgtin, sscc, sgln, grai, giai, gsrn, gsrnp, gdti, cpi, sgcn, ginc, gsin, itip, upui, pgln)", s, name)
	}
	parts, err := splitParts(s, body, sc)
	if err != nil {
		return ID{}, err
	}
	return ID{URI: s, Key: urnToLink(name, parts), Kind: name, Prefix: parts[0]}, nil
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
	case sc.cset39:
		if ref := unescape(parts[1]); ref == "" || len(cp)+len(ref) > sc.maxTotal || !isCSet82(parts[1]) ||
			strings.Trim(ref, decimalDigits+"ABCDEFGHIJKLMNOPQRSTUVWXYZ#-/") != "" {
			return nil, fmt.Errorf("%q: reference %q must be 1 to %d digits, capitals, \"#\", \"-\" or \"/\"", s, parts[1], sc.maxTotal-len(cp))
		}
	default:
		if parts[1] == "" || len(cp)+len(unescape(parts[1])) > sc.maxTotal || !isCSet82(parts[1]) {
			return nil, fmt.Errorf("%q: reference %q must be 1 to %d characters of the GS1 character set", s, parts[1], sc.maxTotal-len(cp))
		}
	}
	for _, two := range parts[2:max(2, sc.parts-1)] { // the piece and total of an ITIP
		if len(two) != 2 || !allDigits(two) {
			return nil, fmt.Errorf("%q: piece and total %q must be 2 digits each", s, two)
		}
	}
	if sc.parts >= 3 {
		ser := parts[sc.parts-1]
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
	return ID{URI: s, Key: linkBase + "01/" + gtin + "/10/" + dlSegment(unescape(parts[2])),
		Kind: "lgtin", Class: true, Prefix: parts[0]}, nil
}

// parsePattern parses an EPC pattern such as urn:epc:idpat:sgtin:9521111.054321.*,
// which names every serial of one GTIN. Once a component is "*", every
// later one must be too; the company prefix must be given. A pattern
// whose only "*" is the serial names a class that has a Digital Link
// (a GTIN, an asset type, a document type, ...): that link is its key.
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
	star := 0 // index of the first "*"
	for i, p := range parts[1:] {
		switch {
		case p == "*" && star == 0:
			star = i + 1
		case p != "*" && star > 0:
			return ID{}, fmt.Errorf("%q: component %d follows a \"*\" and must be \"*\" too", s, i+2)
		}
	}
	if star == 0 {
		return ID{}, fmt.Errorf("%q: a pattern has at least one \"*\" (use urn:epc:id: for one object)", s)
	}
	id := ID{URI: s, Key: s, Kind: "idpat:" + name, Class: true, Prefix: parts[0]}
	if star == sc.parts-1 && sc.parts >= 3 { // only the serial is "*": check the rest with a serial of 1
		whole, err := splitParts(s, strings.Join(parts[:star], ".")+".1", sc)
		if err != nil {
			return ID{}, err
		}
		if link := urnToLink(name, whole); name != "sgln" {
			id.Key = strings.TrimSuffix(link, serialSuffix(name))
		}
	}
	return id, nil
}

// serialSuffix is what urnToLink appends for a serial of "1", which a
// pattern's key leaves out.
func serialSuffix(name string) string {
	switch name {
	case "sgtin", "itip":
		return "/21/1"
	case "upui":
		return "/235/1"
	case "cpi":
		return "/8011/1"
	}
	return "1"
}

// Location is a parsed readPoint or bizLocation: a GS1 location number
// (GLN) with an optional extension that names a place inside it (a dock,
// a shelf), written as an SGLN EPC URI (urn:epc:id:sgln:9521111.00020.0)
// or a Digital Link (https://id.gs1.org/414/9521111000205/254/dock2); or
// a geographic point, a geo: URI (RFC 5870), which belongs to nobody.
type Location struct {
	URI    string
	GLN    string // 13 digits with the check digit; "" for a geographic point
	Ext    string // "" when the location is the whole GLN (SGLN extension "0")
	Prefix string // company prefix, when the URI spells it out
}

// Key is the canonical form of the location: its Digital Link, or the
// geo: URI as written.
func (l Location) Key() string {
	if l.GLN == "" {
		return l.URI
	}
	k := linkBase + "414/" + l.GLN
	if l.Ext != "" {
		k += "/254/" + dlSegment(l.Ext)
	}
	return k
}

// OwnedBy reports whether a company prefix in prefixes covers the
// location's GLN, by the same rule as ID.OwnedBy. A geographic point is
// owned by nobody.
func (l Location) OwnedBy(prefixes []string) bool {
	if l.GLN == "" {
		return false
	}
	id := ID{Prefix: l.Prefix}
	if l.Prefix == "" {
		id.Digits = l.GLN[:12]
	}
	return id.OwnedBy(prefixes)
}

// ParseLocation parses an SGLN EPC URI, a GS1 Digital Link with AI 414
// (a GLN) and an optional AI 254 (its extension), or a geo: URI. Other
// location URIs, which CBV 2.0 allows as private identifiers, fail with
// an error of kind ErrUnsupported.
func ParseLocation(s string) (Location, error) {
	if len(s) > MaxURI {
		return Location{}, fmt.Errorf("%d characters, limit %d", len(s), MaxURI)
	}
	switch {
	case strings.HasPrefix(s, "urn:epc:id:sgln:"):
		parts, err := splitParts(s, strings.TrimPrefix(s, "urn:epc:id:sgln:"), schemes["sgln"])
		if err != nil {
			return Location{}, err
		}
		l := Location{URI: s, GLN: withCheckDigit(parts[0] + parts[1]), Prefix: parts[0]}
		if parts[2] != "0" {
			l.Ext = unescape(parts[2])
		}
		return l, nil
	case strings.HasPrefix(s, "https://"), strings.HasPrefix(s, "http://"):
		_, gln, q, err := parseLink(s, true)
		if err != nil {
			return Location{}, err
		}
		l := Location{URI: s, GLN: gln, Ext: q["254"]}
		if l.Ext == "0" {
			l.Ext = ""
		}
		return l, nil
	case strings.HasPrefix(s, "geo:"):
		return Location{URI: s}, checkGeo(s)
	case isURI(s) && !strings.HasPrefix(s, "urn:epc:"):
		return Location{}, unsupported(fmt.Sprintf("%q: location identifiers other than an SGLN, a GS1 Digital Link with a GLN (AI 414) "+
			"or a geo: URI are private identifiers (CBV 2.0, location identifiers), and the capture rules of this module need a GLN", s))
	}
	return Location{}, fmt.Errorf("%q is neither an SGLN (urn:epc:id:sgln:...), a GS1 Digital Link with a GLN (https://.../414/...) nor a geo: URI", s)
}

// geoPattern is a geo: URI of RFC 5870: latitude, longitude, an optional
// altitude, then parameters such as ;u=35 (uncertainty in metres).
var geoPattern = regexp.MustCompile(`^geo:(-?[0-9]{1,3}(?:\.[0-9]+)?),(-?[0-9]{1,3}(?:\.[0-9]+)?)(?:,-?[0-9]+(?:\.[0-9]+)?)?((?:;[A-Za-z0-9-]+(?:=[A-Za-z0-9!$&'()*+.:\[\]_~%-]+)?)*)$`)

// checkGeo checks a geo: URI: its form, and that the latitude lies within
// ±90 and the longitude within ±180 degrees (compared as decimal text:
// no floats).
func checkGeo(s string) error {
	m := geoPattern.FindStringSubmatch(s)
	if m == nil {
		return fmt.Errorf("%q is not a geo: URI (RFC 5870) such as geo:22.3193,114.1694", s)
	}
	if !withinDegrees(m[1], 90) || !withinDegrees(m[2], 180) {
		return fmt.Errorf("%q: latitude must lie within ±90 and longitude within ±180 degrees", s)
	}
	if params := strings.ToLower(m[3]); strings.Contains(params, ";crs=") && !strings.Contains(params, ";crs=wgs84") {
		return unsupported(fmt.Sprintf("%q: coordinate reference systems other than WGS-84 (RFC 5870, section 3.4.2)", s))
	}
	return nil
}

// withinDegrees reports whether the decimal d lies within ±limit.
func withinDegrees(d string, limit int) bool {
	whole, frac, _ := strings.Cut(strings.TrimPrefix(d, "-"), ".")
	n, _ := strconv.Atoi(whole)
	return n < limit || n == limit && strings.Trim(frac, "0") == ""
}

// urnToLink turns the components of an EPC URI into the canonical
// Digital Link (the constrained form of the CBV 2.0 event hash).
func urnToLink(name string, p []string) string {
	switch name {
	case "sgtin":
		return linkBase + "01/" + gtin14(p[0], p[1]) + "/21/" + dlSegment(unescape(p[2]))
	case "sscc":
		return linkBase + "00/" + withCheckDigit(p[1][:1]+p[0]+p[1][1:])
	case "sgln":
		l := Location{GLN: withCheckDigit(p[0] + p[1])}
		if p[2] != "0" {
			l.Ext = unescape(p[2])
		}
		return l.Key()
	case "grai":
		return linkBase + "8003/" + dlSegment("0"+withCheckDigit(p[0]+p[1])+unescape(p[2]))
	case "giai":
		return linkBase + "8004/" + dlSegment(p[0]+unescape(p[1]))
	case "gsrn":
		return linkBase + "8018/" + withCheckDigit(p[0]+p[1])
	case "gsrnp":
		return linkBase + "8017/" + withCheckDigit(p[0]+p[1])
	case "gdti":
		return linkBase + "253/" + dlSegment(withCheckDigit(p[0]+p[1])+unescape(p[2]))
	case "cpi":
		return linkBase + "8010/" + dlSegment(p[0]+unescape(p[1])) + "/8011/" + p[2]
	case "sgcn":
		return linkBase + "255/" + withCheckDigit(p[0]+p[1]) + p[2]
	case "ginc":
		return linkBase + "401/" + dlSegment(p[0]+unescape(p[1]))
	case "gsin":
		return linkBase + "402/" + withCheckDigit(p[0]+p[1])
	case "itip":
		return linkBase + "8006/" + gtin14(p[0], p[1]) + p[2] + p[3] + "/21/" + dlSegment(unescape(p[4]))
	case "upui":
		return linkBase + "01/" + gtin14(p[0], p[1]) + "/235/" + dlSegment(unescape(p[2]))
	case "pgln":
		return linkBase + "417/" + withCheckDigit(p[0]+p[1])
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
