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
// Public keys travel in their 33-byte compressed form. Signing uses RFC 6979
// deterministic nonces, so the same key and message always give the same
// signature, which keeps the golden test vectors stable.
package crypto
