// Package leaktest helps tests show that a program's output never holds a
// secret: a private key's bytes or a passphrase. It lists the spellings a
// careless log line or error could give a secret and finds any of them in
// a text. It is for tests only; nothing in the node imports it.
package leaktest

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Window is how many characters in a row of a spelling count as a leak:
// enough to narrow a search for the secret, too many to match by chance.
const Window = 16

// Forms returns the spellings of secret that output could carry: hex in
// either case, base64 in each alphabet at each of the three alignments
// (so the secret is found inside a longer encoded blob too), Go's %v of a
// byte slice, and the quoted string a structured log writes for one.
func Forms(secret []byte) []string {
	forms := []string{hex.EncodeToString(secret), strings.ToUpper(hex.EncodeToString(secret)),
		fmt.Sprint(secret), strconv.Quote(string(secret))}
	for skip := range 3 {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			s := enc.EncodeToString(secret[skip:])
			forms = append(forms, s[4:len(s)-4]) // the edges depend on the bytes around
		}
	}
	return forms
}

// Find returns where Window characters in a row of one of forms appear
// in text, with some text around them, or "" when none does. A form
// shorter than Window (a short passphrase) is looked for whole.
func Find(text string, forms []string) string {
	for _, f := range forms {
		n := min(Window, len(f))
		for i := 0; i+n <= len(f) && n > 0; i++ {
			part := f[i : i+n]
			if at := strings.Index(text, part); at >= 0 {
				return fmt.Sprintf("%q at byte %d: %q", part, at, text[max(at-80, 0):min(at+n+40, len(text))])
			}
		}
	}
	return ""
}
