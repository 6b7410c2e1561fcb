package crypto

import "github.com/decred/dcrd/dcrec/secp256k1/v4"

// WithTable builds k's table now, so that every verification of k goes
// through it, and returns k.
func WithTable(k *PublicKey) *PublicKey {
	var q secp256k1.JacobianPoint
	k.k.AsJacobian(&q)
	k.tab.Store(newKeyTable(&q))
	return k
}

// HasTable reports whether k has built its table.
func HasTable(k *PublicKey) bool { return k.tab.Load() != nil }
