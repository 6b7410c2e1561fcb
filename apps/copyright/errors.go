package copyright

import "errors"

// Error kinds of the copyright module. Failed transactions also use the
// chain's kinds: chain.ErrBadPayload for malformed input (the message
// names the field), chain.ErrUnauthorized when the sender may not act on
// a work or grant, chain.ErrNotFound for unknown works and grants.
var (
	// ErrBadCode means a string is not a well-formed ISCC unit.
	ErrBadCode = errors.New("bad ISCC code")
	// ErrDuplicate means a file with the same SHA-256 or Instance-Code
	// is already registered: the first to file keeps the record.
	ErrDuplicate = errors.New("already registered")
	// ErrInactiveGrant means a grant is revoked or expired.
	ErrInactiveGrant = errors.New("grant not active")
	// ErrBadCertificate means a certificate fails offline verification.
	ErrBadCertificate = errors.New("certificate does not verify")
)
