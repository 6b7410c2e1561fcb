package sdk

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/citychain/citychain/chain"
)

// TextRule says what CheckText accepts beyond printable UTF-8 without
// surrounding spaces.
type TextRule uint8

const (
	// Optional lets the empty string pass.
	Optional TextRule = 1 << iota
	// Multiline lets line feeds through (other control characters never).
	Multiline
)

// CheckText requires printable UTF-8 of at most max bytes without
// leading or trailing space, and not blank unless Optional. Its errors
// wrap chain.ErrBadPayload and name field.
func CheckText(field, s string, max int, rules ...TextRule) error {
	var r TextRule
	for _, x := range rules {
		r |= x
	}
	switch {
	case s == "" && r&Optional != 0:
		return nil
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("%w: %s: missing", chain.ErrBadPayload, field)
	case len(s) > max:
		return fmt.Errorf("%w: %s: %d bytes, limit %d", chain.ErrBadPayload, field, len(s), max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s: not UTF-8", chain.ErrBadPayload, field)
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("%w: %s: leading or trailing space", chain.ErrBadPayload, field)
	}
	for _, c := range s {
		if unicode.IsControl(c) && (c != '\n' || r&Multiline == 0) {
			return fmt.Errorf("%w: %s: control character %U", chain.ErrBadPayload, field, c)
		}
	}
	return nil
}
