package trace_test

import (
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/trace"
)

// TestTwoSpellingsOneKey: an EPC URI and the GS1 Digital Link of the
// same identifier share one canonical key, whatever the link's host.
func TestTwoSpellingsOneKey(t *testing.T) {
	cases := []struct {
		urn, link, key string
		class          bool
	}{
		{"urn:epc:id:sgtin:9521111.054321.P1001", "https://brand.example/01/09521111543213/21/P1001",
			"https://id.gs1.org/01/09521111543213/21/P1001", false},
		{"urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017",
			"https://id.gs1.org/01/10614141073464/21/2017", false},
		{"urn:epc:id:sgtin:9521111.054321.A%2FB", "https://id.gs1.org/01/09521111543213/21/A%2FB",
			"https://id.gs1.org/01/09521111543213/21/A%2FB", false},
		{"urn:epc:id:sscc:9521111.0000000017", "https://id.gs1.org/00/095211110000000174",
			"https://id.gs1.org/00/095211110000000174", false},
		{"urn:epc:class:lgtin:9521111.012345.LEAF2603A", "https://id.gs1.org/01/09521111123453/10/LEAF2603A",
			"https://id.gs1.org/01/09521111123453/10/LEAF2603A", true},
		{"urn:epc:idpat:sgtin:9521111.054321.*", "https://id.gs1.org/01/09521111543213",
			"https://id.gs1.org/01/09521111543213", true},
		{"urn:epc:id:grai:4012345.55555.987", "https://id.gs1.org/8003/04012345555554987",
			"https://id.gs1.org/8003/04012345555554987", false},
		{"urn:epc:id:giai:4000001.111", "https://id.gs1.org/8004/4000001111",
			"https://id.gs1.org/8004/4000001111", false},
		{"urn:epc:id:gsrn:95252084.000000001", "https://id.gs1.org/8018/952520840000000010",
			"https://id.gs1.org/8018/952520840000000010", false},
		{"urn:epc:id:gdti:95252084.0001.0003555480001000", "https://id.gs1.org/253/95252084000140003555480001000",
			"https://id.gs1.org/253/95252084000140003555480001000", false},
	}
	for _, tc := range cases {
		u, err := trace.ParseEPC(tc.urn)
		if err != nil {
			t.Errorf("%s: %v", tc.urn, err)
			continue
		}
		l, err := trace.ParseEPC(tc.link)
		if err != nil {
			t.Errorf("%s: %v", tc.link, err)
			continue
		}
		if u.Key != tc.key || l.Key != tc.key || u.Class != tc.class || l.Class != tc.class {
			t.Errorf("%s -> %s (class %v)\n%s -> %s (class %v)\nwant %s (class %v)", tc.urn, u.Key, u.Class, tc.link, l.Key, l.Class, tc.key, tc.class)
		}
	}
	// A GTIN-13 in a link is padded to 14 digits.
	short, err := trace.ParseEPC("https://id.gs1.org/01/9521111543213/21/P1001")
	if err != nil || short.Key != "https://id.gs1.org/01/09521111543213/21/P1001" {
		t.Errorf("GTIN-13: %v %s", err, short.Key)
	}
	// GS1's own examples carry valid check digits.
	for _, s := range []string{"https://id.gs1.org/01/09506000134352/10/ABC", "https://id.gs1.org/00/106141411234567897"} {
		if _, err := trace.ParseEPC(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestMalformedIdentifiers(t *testing.T) {
	for _, s := range []string{
		"",
		"urn:epc:id:sgtin:9521111.054321",     // no serial
		"urn:epc:id:sgtin:9521111.05432.1",    // 12 digits
		"urn:epc:id:sgtin:95211.0543210.1",    // prefix of 5 digits
		"urn:epc:id:sgtin:9521111.054321.a b", // space in serial
		"urn:epc:id:sgtin:9521111.054321.123456789012345678901", // serial of 21
		"urn:epc:id:sscc:9521111.00000017",                      // 15 digits
		"urn:epc:id:grai:4012345.5555.987",                      // 11 digits
		"urn:epc:id:giai:4000001.",                              // no reference
		"urn:epc:id:upc:123",                                    // unknown scheme
		"urn:epc:class:lgtin:9521111.012345.",                   // no lot
		"urn:epc:idpat:sgtin:9521111.054321.7",                  // no star
		"urn:epc:idpat:sgtin:*.*.*",                             // no company prefix
		"urn:epc:idpat:sgtin:9521111.*.7",                       // star before a value
		"https://id.gs1.org/01/09521111543214/21/P1",            // wrong check digit
		"https://id.gs1.org/01/0952111154321/21/P1",             // 13 digits but check digit of a GTIN-14 part
		"https://id.gs1.org/01/09521111543213/21",               // AI without value
		"https://id.gs1.org/01/09521111543213/21/P1/10/L1",      // qualifiers out of order
		"https://id.gs1.org/01/09521111543213/99/X",             // unknown qualifier
		"https://id.gs1.org/414/9521111000012",                  // a GLN with a wrong check digit
		"urn:epc:id:itip:4012345.012345.1.02.987",               // a piece of one digit
		"urn:epc:id:cpi:0614141.12abc.1",                        // a part reference in lower case
		"urn:epc:id:pgln:1234567.8901",                          // 11 digits
		"https://id.gs1.org/01/09521111543213/21/P1/235/X",      // a serial and a TPX
		"https://id.gs1.org/999/123",                            // no known key
		"https://example.com/products/tea",                      // no GS1 key
		"ftp://id.gs1.org/01/09521111543213",                    // not http(s)
		"urn:uuid:7d1e0c52-3a41-4f0e-9b6a-000000000101",
	} {
		if id, err := trace.ParseEPC(s); err == nil {
			t.Errorf("%q accepted as %+v", s, id)
		}
	}
}

// TestCompanyPrefixRules documents how a registered prefix covers an
// identifier: exactly for EPC URIs, which spell the prefix out; as a
// string prefix of the key digits after the indicator for Digital Links,
// which do not.
func TestCompanyPrefixRules(t *testing.T) {
	urn, _ := trace.ParseEPC("urn:epc:id:sgtin:9521111.054321.P1001")
	link, _ := trace.ParseEPC("https://id.gs1.org/01/09521111543213/21/P1001")
	cases := []struct {
		prefixes []string
		urn      bool
		link     bool
	}{
		{[]string{"9521111"}, true, true},
		{[]string{"952111"}, false, true}, // a shorter prefix: the link cannot tell them apart
		{[]string{"95211115"}, false, true},
		{[]string{"9523333"}, false, false},
		{[]string{"*"}, true, true},
		{nil, false, false},
	}
	for _, tc := range cases {
		if got := urn.OwnedBy(tc.prefixes); got != tc.urn {
			t.Errorf("URN owned by %v: %v", tc.prefixes, got)
		}
		if got := link.OwnedBy(tc.prefixes); got != tc.link {
			t.Errorf("link owned by %v: %v", tc.prefixes, got)
		}
	}
}

func TestLocations(t *testing.T) {
	cases := []struct{ in, gln, ext, key string }{
		{"urn:epc:id:sgln:9521111.00020.0", "9521111000204", "", "https://id.gs1.org/414/9521111000204"},
		{"urn:epc:id:sgln:9521111.00020.roller1", "9521111000204", "roller1", "https://id.gs1.org/414/9521111000204/254/roller1"},
		{"https://id.gs1.org/414/9521111000204/254/roller1", "9521111000204", "roller1", "https://id.gs1.org/414/9521111000204/254/roller1"},
		{"urn:epc:id:sgln:952005385.011.ts4711", "9520053850113", "ts4711", "https://id.gs1.org/414/9520053850113/254/ts4711"},
	}
	for _, tc := range cases {
		l, err := trace.ParseLocation(tc.in)
		if err != nil || l.GLN != tc.gln || l.Ext != tc.ext || l.Key() != tc.key {
			t.Errorf("%s: %+v %s, %v", tc.in, l, l.Key(), err)
		}
	}
	for _, s := range []string{"urn:epc:id:sgln:9521111.0020.0", "https://id.gs1.org/414/9521111000205", "urn:epc:id:sgtin:9521111.054321.1", "warehouse"} {
		if _, err := trace.ParseLocation(s); err == nil {
			t.Errorf("%q accepted as a location", s)
		}
	}
}

func TestVocabularies(t *testing.T) {
	cases := []struct{ in, want string }{
		{"shipping", "shipping"},
		{"urn:epcglobal:cbv:bizstep:shipping", "shipping"},
		{"https://ns.gs1.org/cbv/BizStep-shipping", "shipping"},
		{"sensor_reporting", "sensor_reporting"}, // new in CBV 2.0
		{"http://epcis.example.org/hc/bizstep/summarising_discharge", "http://epcis.example.org/hc/bizstep/summarising_discharge"},
		{"example:grading", "example:grading"},
	}
	for _, tc := range cases {
		if got, err := trace.BizSteps.Normalize(tc.in); err != nil || got != tc.want {
			t.Errorf("%s: %q %v", tc.in, got, err)
		}
	}
	for _, bad := range []string{"shiping", "Shipping", "urn:epcglobal:cbv:bizstep:flying", "urn:epcglobal:cbv:disp:in_transit", "in transit"} {
		if _, err := trace.BizSteps.Normalize(bad); err == nil {
			t.Errorf("%q accepted as a bizStep", bad)
		}
	}
	_, err := trace.BizSteps.Normalize("shiping")
	if err == nil || !strings.Contains(err.Error(), `did you mean "shipping"`) {
		t.Errorf("no suggestion: %v", err)
	}
	if _, err := trace.Dispositions.Normalize("completeness_verified"); err != nil {
		t.Errorf("CBV 2.0 disposition: %v", err)
	}
}
