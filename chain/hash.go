package chain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// HashSize is the length of every hash on the chain (SHA-256).
const HashSize = 32

// Hash is a SHA-256 digest. Its JSON form is lowercase hex.
type Hash [HashSize]byte

// Sum returns SHA-256 of b.
func Sum(b []byte) Hash { return sha256.Sum256(b) }

// String returns the hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zero bytes.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText encodes h as hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText parses 64 hex characters.
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseHash parses a 64-character hex string.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*HashSize {
		return h, fmt.Errorf("hash must be %d hex characters, got %d", 2*HashSize, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("hash is not hex: %w", err)
	}
	return h, nil
}

// MerkleRoot returns the root of a binary Merkle tree over leaves, in the
// style of RFC 6962: leaf = H(0x00 || data), node = H(0x01 || left || right),
// the left subtree holds the largest power of two below n. The root of no
// leaves is the zero hash. Leaf and node prefixes differ so a leaf can
// never be passed off as an inner node.
func MerkleRoot(leaves [][]byte) Hash {
	if len(leaves) == 0 {
		return Hash{}
	}
	return merkle(leaves)
}

func merkle(leaves [][]byte) Hash {
	if len(leaves) == 1 {
		return sha256.Sum256(append([]byte{0}, leaves[0]...))
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := merkle(leaves[:k]), merkle(leaves[k:])
	buf := make([]byte, 0, 1+2*HashSize)
	buf = append(buf, 1)
	buf = append(buf, l[:]...)
	buf = append(buf, r[:]...)
	return sha256.Sum256(buf)
}
