package city

import (
	"fmt"
	"strconv"
	"strings"
)

// Measurements are decimals ("12.2 °C", "0.75"), but the state machine
// has no floats: two machines may round a float differently, and then
// they disagree on the state root. So a decimal travels as text and is
// held as a fixed-point integer: the number times 10^scale, where scale is
// the attribute's precision in fractional digits. "12.2" at scale 1 is
// 122; at scale 3 it is 12200. Comparisons against a model's range are
// integer comparisons, and the value is stored back as text in one
// canonical spelling.

// maxScale bounds the precision of any attribute; 10^maxScale must fit in
// an int64 together with the integer part.
const maxScale = 9

// maxDigits bounds the digits of a decimal, so that its scaled value fits
// in an int64 (whose limit has 19 digits).
const maxDigits = 18

var pow10 = [maxScale + 1]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000}

// parseFixed parses a decimal written as text, such as "-3.25", into the
// integer value*10^scale. It accepts an optional leading minus, at least
// one digit before an optional point, and at most scale digits after it;
// no plus sign, exponent or blank. The error says what is wrong with the
// text, for the caller to prefix with the field's name.
func parseFixed(s string, scale int) (int64, error) {
	if scale < 0 || scale > maxScale {
		panic(fmt.Sprintf("city: scale %d out of range", scale)) // model tables are code
	}
	body, neg := strings.CutPrefix(s, "-")
	whole, frac, hasPoint := strings.Cut(body, ".")
	switch {
	case whole == "":
		return 0, fmt.Errorf("%q is not a decimal number (digits before the point are required)", s)
	case hasPoint && frac == "":
		return 0, fmt.Errorf("%q is not a decimal number (digits after the point are required)", s)
	case strings.Trim(whole+frac, "0123456789") != "":
		return 0, fmt.Errorf("%q is not a decimal number (write digits, an optional '-' and '.', no exponent)", s)
	case len(frac) > scale:
		return 0, fmt.Errorf("%q has %d decimal places, this attribute takes at most %d", s, len(frac), scale)
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole)+scale > maxDigits {
		return 0, fmt.Errorf("%q is too large", s)
	}
	digits := whole + frac + strings.Repeat("0", scale-len(frac))
	if digits == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if neg {
		v = -v
	}
	return v, nil
}

// scaleInt returns n*10^scale for an integer read from a payload, or an
// error when it does not fit.
func scaleInt[T int64 | uint64](n T, scale int) (int64, error) {
	p := pow10[scale]
	if n > T(maxFixed/p) || n < 0 && int64(n) < -maxFixed/p {
		return 0, fmt.Errorf("%d is too large", n)
	}
	return int64(n) * p, nil
}

// maxFixed is the largest magnitude a scaled value may have: 18 digits.
const maxFixed = 999_999_999_999_999_999

// formatFixed writes a scaled value back as the shortest decimal text:
// 750 at scale 3 is "0.75", 10000 at scale 3 is "10".
func formatFixed(v int64, scale int) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	if scale > 0 {
		if len(s) <= scale {
			s = strings.Repeat("0", scale-len(s)+1) + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if neg && s != "0" {
		s = "-" + s
	}
	return s
}
