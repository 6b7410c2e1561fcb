package city

import "testing"

func TestFixedPointDecimals(t *testing.T) {
	cases := []struct {
		in    string
		scale int
		want  int64
		text  string // canonical form; "" when in is refused
	}{
		{"0.75", 3, 750, "0.75"},
		{"0.750", 3, 750, "0.75"},
		{"1", 3, 1000, "1"},
		{"-3.5", 1, -35, "-3.5"},
		{"-0", 2, 0, "0"},
		{"-0.05", 2, -5, "-0.05"},
		{"007.10", 2, 710, "7.1"},
		{"197", 0, 197, "197"},
		{"-3.712247", 6, -3712247, "-3.712247"},
		{"999999999999.999999", 6, 999999999999999999, "999999999999.999999"},
		{"0.1234", 3, 0, ""},              // too precise
		{"1e3", 0, 0, ""},                 // no exponents
		{"+1", 0, 0, ""},                  // no plus sign
		{".5", 1, 0, ""},                  // digits before the point
		{"5.", 1, 0, ""},                  // digits after the point
		{"", 0, 0, ""},                    // empty
		{"1 000", 0, 0, ""},               // no blanks
		{"NaN", 2, 0, ""},                 // not a number at all
		{"1000000000000000000", 0, 0, ""}, // 19 digits
	}
	for _, tc := range cases {
		got, err := parseFixed(tc.in, tc.scale)
		if tc.text == "" {
			if err == nil {
				t.Errorf("parseFixed(%q, %d) = %d, want an error", tc.in, tc.scale, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseFixed(%q, %d) = %d, %v; want %d", tc.in, tc.scale, got, err, tc.want)
			continue
		}
		if s := formatFixed(got, tc.scale); s != tc.text {
			t.Errorf("formatFixed(%d, %d) = %q, want %q", got, tc.scale, s, tc.text)
		}
	}
	if _, err := scaleInt(int64(1_000_000_000_000), 6); err == nil {
		t.Error("scaleInt overflowed silently")
	}
	if _, err := scaleInt(uint64(1<<63), 0); err == nil || err.Error() != "9223372036854775808 is too large" {
		t.Errorf("scaleInt of 2^63: %v", err)
	}
}

func TestGridCells(t *testing.T) {
	for _, tc := range []struct{ v, cell int64 }{{0, 0}, {9_999, 0}, {10_000, 1}, {-1, -1}, {-10_000, -1}, {-10_001, -2}} {
		if got := cell(tc.v); got != tc.cell {
			t.Errorf("cell(%d) = %d, want %d", tc.v, got, tc.cell)
		}
	}
	// Keys of cells sort like the cells: west of Greenwich before east.
	if a, b := string(cellPrefix(0, -1)), string(cellPrefix(0, 1)); a >= b {
		t.Errorf("cell keys out of order: %x >= %x", a, b)
	}
}
