package crypto

import "errors"

// Error kinds returned by this package. Callers test them with errors.Is.
var (
	// ErrBadSignature means the signature is well formed but does not verify.
	ErrBadSignature = errors.New("signature does not verify")
	// ErrMalformedSignature means the bytes are not a 64-byte r||s signature
	// with r and s in [1, N-1].
	ErrMalformedSignature = errors.New("malformed signature")
	// ErrHighS means s is above N/2: the signature is valid ECDSA but not in
	// the canonical low-S form the chain requires.
	ErrHighS = errors.New("signature s value is high (non-canonical)")
	// ErrMalformedPublicKey means the bytes are not a valid compressed
	// secp256k1 point.
	ErrMalformedPublicKey = errors.New("malformed public key")
	// ErrMalformedPrivateKey means the bytes are not a valid secret scalar.
	ErrMalformedPrivateKey = errors.New("malformed private key")
)
