package trace

import "testing"

// TestCanonNumber: numbers as the reference implementation writes them
// (Python's float, then int when whole), exactly and without floats.
func TestCanonNumber(t *testing.T) {
	cases := []struct{ in, want string }{
		{"26", "26"}, {"26.0", "26"}, {"26.10", "26.1"}, {"-3.25", "-3.25"}, {"+5", "5"},
		{"007", "7"}, {"0", "0"}, {"-0.0", "0"}, {"0.5", "0.5"}, {".5", "0.5"}, {"5.", "5"},
		{"1e3", "1000"}, {"1.5E-2", "0.015"}, {"0.0001", "0.0001"}, {"0.00001", "1e-05"},
		{"0.000123", "0.000123"}, {"0.0000123", "1.23e-05"}, {"1e-100", "1e-100"},
		{"200.5", "200.5"}, {"123456789012345", "123456789012345"},
	}
	for _, tc := range cases {
		if got, ok := canonNumber(tc.in); !ok || got != tc.want {
			t.Errorf("canonNumber(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	for _, s := range []string{"", "-", ".", "e5", "1e", "12a", "inf", "nan", "1_000", "geo:1,2", "+01:00", "1e999"} {
		if got, ok := canonNumber(s); ok {
			t.Errorf("canonNumber(%q) = %q, a number", s, got)
		}
	}
}

// TestUTCMillis: timestamps in UTC with milliseconds; a fourth decimal of
// 5 to 9 rounds the third up, carrying into the seconds.
func TestUTCMillis(t *testing.T) {
	cases := []struct{ in, want string }{
		{"2020-03-04T11:00:30+01:00", "2020-03-04T10:00:30.000Z"},
		{"2005-04-03T20:33:31.116000-06:00", "2005-04-04T02:33:31.116Z"},
		{"2023-01-18T11:04:03.1415Z", "2023-01-18T11:04:03.142Z"},
		{"2023-01-18T11:04:03.1414999Z", "2023-01-18T11:04:03.141Z"},
		{"2023-12-31T23:59:59.9995Z", "2024-01-01T00:00:00.000Z"},
		{"2019-04-02T15:00:00.5+05:30", "2019-04-02T09:30:00.500Z"},
	}
	for _, tc := range cases {
		if got, ok := utcMillis(tc.in); !ok || got != tc.want {
			t.Errorf("utcMillis(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := utcMillis("2020-03-04"); ok {
		t.Errorf("a date alone is not a timestamp")
	}
}

// TestDLSegment: the characters a canonical Digital Link escapes.
func TestDLSegment(t *testing.T) {
	for in, want := range map[string]string{"P1001": "P1001", "A/B": "A%2FB", "x!y(1)*": "x%21y%281%29%2A",
		"a+b,c:d": "a%2Bb%2Cc%3Ad", `"%&<>?`: "%22%25%26%3C%3E%3F", "-._'=;": "-._'=;"} {
		if got := dlSegment(in); got != want {
			t.Errorf("dlSegment(%q) = %q, want %q", in, got, want)
		}
	}
}
