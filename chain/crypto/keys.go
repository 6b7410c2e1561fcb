package crypto

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync/atomic"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

const (
	// PublicKeySize is the length of a compressed public key.
	PublicKeySize = 33
	// PrivateKeySize is the length of a serialized private key.
	PrivateKeySize = 32
	// SignatureSize is the length of an r||s signature.
	SignatureSize = 64
)

// PrivateKey is a secp256k1 secret key.
type PrivateKey struct{ k *secp256k1.PrivateKey }

// PublicKey is a secp256k1 public key. It is safe for concurrent use;
// at its second verification it builds a table of its multiples that
// makes every later one faster (keytable.go), so a key kept and used
// again, as the KeyCache keeps a sender's, pays off.
type PublicKey struct {
	k        *secp256k1.PublicKey
	checks   atomic.Uint32            // verifications before tab was built
	building atomic.Bool              // one goroutine has begun the table
	tab      atomic.Pointer[keyTable] // nil until the second verification
}

// tableAt is the verification at which a key builds its table. The table
// costs about half a library verification and saves about four fifths of
// each one after, so the check that builds it already costs less than
// the library's; a key verified once (a transaction from a sender never
// seen before) never builds it, which keeps one-off senders' keys small.
const tableAt = 2

// tablesBuilt counts the tables keys have built, for the tests.
var tablesBuilt atomic.Int64

// GenerateKey returns a new private key from the operating system's
// random source.
func GenerateKey() (*PrivateKey, error) {
	k, err := secp256k1.GeneratePrivateKeyFromRand(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return &PrivateKey{k: k}, nil
}

// PrivateKeyFromBytes parses a 32-byte secret. It fails with
// ErrMalformedPrivateKey when the length is wrong or the scalar is zero or
// not below the curve order.
func PrivateKeyFromBytes(b []byte) (*PrivateKey, error) {
	if len(b) != PrivateKeySize {
		return nil, fmt.Errorf("%w: want %d bytes, got %d", ErrMalformedPrivateKey, PrivateKeySize, len(b))
	}
	var s secp256k1.ModNScalar
	if overflow := s.SetByteSlice(b); overflow || s.IsZero() {
		return nil, fmt.Errorf("%w: scalar out of range", ErrMalformedPrivateKey)
	}
	return &PrivateKey{k: secp256k1.NewPrivateKey(&s)}, nil
}

// PrivateKeyFromHex parses a hex-encoded 32-byte secret.
func PrivateKeyFromHex(s string) (*PrivateKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedPrivateKey, err)
	}
	return PrivateKeyFromBytes(b)
}

// Bytes returns the 32-byte secret.
func (p *PrivateKey) Bytes() []byte { return p.k.Serialize() }

// PublicKey returns the matching public key.
func (p *PrivateKey) PublicKey() *PublicKey { return &PublicKey{k: p.k.PubKey()} }

// Sign signs SHA-256(msg) and returns the 64-byte r||s form with low S.
// The nonce is derived by RFC 6979, so signing is deterministic.
func (p *PrivateKey) Sign(msg []byte) []byte {
	h := sha256.Sum256(msg)
	sig := ecdsa.Sign(p.k, h[:]) // already canonical (low-S)
	out := make([]byte, SignatureSize)
	r, s := sig.R(), sig.S()
	r.PutBytesUnchecked(out[:32])
	s.PutBytesUnchecked(out[32:])
	return out
}

// PublicKeyFromBytes parses a public key. Transactions carry the 33-byte
// compressed form; the 65-byte uncompressed form is accepted here for tools
// and test vectors. Points not on the curve fail with ErrMalformedPublicKey.
func PublicKeyFromBytes(b []byte) (*PublicKey, error) {
	k, err := secp256k1.ParsePubKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedPublicKey, err)
	}
	return &PublicKey{k: k}, nil
}

// ParseCompressedPublicKey parses exactly the 33-byte compressed form, the
// only form the chain accepts inside transactions and validator sets.
func ParseCompressedPublicKey(b []byte) (*PublicKey, error) {
	if len(b) != PublicKeySize {
		return nil, fmt.Errorf("%w: want %d bytes (compressed), got %d", ErrMalformedPublicKey, PublicKeySize, len(b))
	}
	return PublicKeyFromBytes(b)
}

// Bytes returns the 33-byte compressed encoding.
func (k *PublicKey) Bytes() []byte { return k.k.SerializeCompressed() }

// Verify checks sig, a 64-byte r||s signature, over SHA-256(msg). It returns
// nil only for a canonical signature that verifies: ErrMalformedSignature
// for a wrong length or r, s outside [1, N-1], ErrHighS for s > N/2, and
// ErrBadSignature when the equation does not hold.
func (k *PublicKey) Verify(msg, sig []byte) error {
	if len(sig) != SignatureSize {
		return fmt.Errorf("%w: want %d bytes, got %d", ErrMalformedSignature, SignatureSize, len(sig))
	}
	var r, s secp256k1.ModNScalar
	if overflow := r.SetByteSlice(sig[:32]); overflow || r.IsZero() {
		return fmt.Errorf("%w: r out of range", ErrMalformedSignature)
	}
	if overflow := s.SetByteSlice(sig[32:]); overflow || s.IsZero() {
		return fmt.Errorf("%w: s out of range", ErrMalformedSignature)
	}
	if s.IsOverHalfOrder() {
		return ErrHighS
	}
	h := sha256.Sum256(msg)
	if !k.check(h[:], &r, &s) {
		return ErrBadSignature
	}
	return nil
}

// check is the ECDSA equation, through the key's table once it has one.
// Both ways give the same answer (keytable_test.go compares them). One
// goroutine builds the table; others checking the same key meanwhile go
// through the library rather than build it again (the checks of one
// sender's transactions can run side by side).
func (k *PublicKey) check(hash []byte, r, s *secp256k1.ModNScalar) bool {
	t := k.tab.Load()
	if t == nil && k.checks.Add(1) >= tableAt && k.building.CompareAndSwap(false, true) {
		var q secp256k1.JacobianPoint
		k.k.AsJacobian(&q)
		t = newKeyTable(&q)
		k.tab.Store(t)
		tablesBuilt.Add(1)
	}
	if t != nil {
		return t.verify(hash, r, s)
	}
	return ecdsa.NewSignature(r, s).Verify(hash, k.k)
}

// Equal reports whether two public keys are the same point.
func (k *PublicKey) Equal(o *PublicKey) bool { return o != nil && k.k.IsEqual(o.k) }
