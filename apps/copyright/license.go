package copyright

import (
	"fmt"
	"strings"

	"github.com/citychain/citychain/chain"
)

// Licences are named by SPDX licence identifiers (spdx.org/licenses), or
// by "LicenseRef-" and letters, digits, "." and "-" for a licence of the
// holder's own; README.md, "Licences", says more. The list is short on
// purpose: the licences a city's artists, archives and software makers
// meet most. Adding one is adding a string.
var knownLicenses = []string{
	// Creative Commons 4.0 and the public-domain dedication.
	"CC0-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC-BY-ND-4.0", "CC-BY-NC-SA-4.0", "CC-BY-NC-ND-4.0",
	// Software and fonts.
	"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "MPL-2.0",
	"GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later", "LGPL-3.0-only", "AGPL-3.0-only",
	"Unlicense", "OFL-1.1",
}

// licenseRefPrefix starts a custom licence identifier.
const licenseRefPrefix = "LicenseRef-"

// ValidateLicense checks that id is a known SPDX identifier, written as
// SPDX writes it, or a LicenseRef. field names the payload field in the
// error, which wraps chain.ErrBadPayload.
func ValidateLicense(field, id string) error {
	if id == "" {
		return fmt.Errorf("%w: %s: missing; use an SPDX identifier such as CC-BY-4.0 or a LicenseRef-name", chain.ErrBadPayload, field)
	}
	for _, k := range knownLicenses {
		if id == k {
			return nil
		}
		if strings.EqualFold(id, k) {
			return fmt.Errorf("%w: %s: write %q as %q", chain.ErrBadPayload, field, id, k)
		}
	}
	if len(id) > len(licenseRefPrefix) && strings.EqualFold(id[:len(licenseRefPrefix)], licenseRefPrefix) {
		if id[:len(licenseRefPrefix)] != licenseRefPrefix {
			return fmt.Errorf("%w: %s: write the prefix of %q as %q", chain.ErrBadPayload, field, id, licenseRefPrefix)
		}
		if len(id) > 64 {
			return fmt.Errorf("%w: %s: %d characters, limit 64", chain.ErrBadPayload, field, len(id))
		}
		for _, r := range id[len(licenseRefPrefix):] {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
				return fmt.Errorf("%w: %s: %q may hold only letters, digits, '.' and '-' after %s", chain.ErrBadPayload, field, id, licenseRefPrefix)
			}
		}
		return nil
	}
	return fmt.Errorf("%w: %s: %q is not a licence this registry knows (%s, or LicenseRef-...)",
		chain.ErrBadPayload, field, id, strings.Join(knownLicenses, ", "))
}
