package sdk

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/citychain/citychain/chain"
)

// Stateless checks of payload fields that hold an address, a hash or a
// time as text. Like CheckText, their errors wrap chain.ErrBadPayload
// and name the field.

// Check is one rule of a payload, for FirstError's list: nil when ok
// holds, else the message format makes, as an error that wraps
// chain.ErrBadPayload and whatever the message wraps with %w. The
// message begins with the field it is about:
//
//	sdk.Check(m.Amount != 0, "amount: must be positive")
func Check(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf("%w: %w", chain.ErrBadPayload, fmt.Errorf(format, args...))
}

// CheckAddress requires an address (city1...) other than the zero one.
func CheckAddress(field, s string) error {
	a, err := chain.ParseAddress(s)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", chain.ErrBadPayload, field, err)
	}
	if a.IsZero() {
		return fmt.Errorf("%w: %s: the zero address", chain.ErrBadPayload, field)
	}
	return nil
}

// ParseHex decodes s, which must be exactly size bytes in hex (a SHA-256
// is 32): 2*size hex digits.
func ParseHex(field, s string, size int) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != size {
		return nil, fmt.Errorf("%w: %s: want %d hex digits, got %q", chain.ErrBadPayload, field, 2*size, s)
	}
	return b, nil
}

// CheckTime requires *s to be an RFC 3339 time, with any offset and
// fraction, and rewrites it in TimeLayout (UTC, milliseconds), the form
// of every stored time, so that one instant is always one text. An
// empty *s passes when rules has Optional.
func CheckTime(field string, s *string, rules ...TextRule) error {
	if *s == "" {
		return CheckText(field, *s, 0, rules...)
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return fmt.Errorf("%w: %s: %q is not an RFC 3339 time such as 2027-01-01T00:00:00Z", chain.ErrBadPayload, field, *s)
	}
	*s = FormatTime(t)
	return nil
}
