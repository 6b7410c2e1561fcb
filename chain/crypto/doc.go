// Package crypto holds the signature scheme of CityChain: secp256k1 keys,
// ECDSA over SHA-256, and the one fixed signature form the chain accepts.
//
// A signature is exactly 64 bytes, r||s, each a big-endian 32-byte integer.
// The verifier accepts a signature only when it is in canonical form:
//
//   - r and s are both in [1, N-1], where N is the order of the curve;
//   - s is in the lower half of that range (s <= N/2), the "low-S" rule.
//
// ECDSA signatures are malleable: if (r, s) is valid then so is (r, N-s).
// Without the low-S rule anyone could flip s on a transaction in flight and
// produce a second, equally valid encoding with a different transaction hash.
// Requiring low-S gives every signed message exactly one accepted signature
// per nonce, which is why the hash of a signed transaction identifies it.
//
// Verification is the library's ECDSA equation. A public key verified a
// second time builds a table of sums of its multiples and uses it from
// then on, beside one such table of the generator for the whole process
// (keytable.go): each later check does a seventh of the library's
// doublings in faster field arithmetic, about a fifth of its time, with
// the same answer as the library's, which the tests compare on the
// Wycheproof vectors and on random keys, scalars and signatures. Keys
// kept by a KeyCache, a node's senders and validators, profit.
//
// Public keys travel in their 33-byte compressed form. Signing uses RFC 6979
// deterministic nonces, so the same key and message always give the same
// signature, which keeps the golden test vectors stable.
package crypto
