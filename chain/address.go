package chain

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/citychain/citychain/chain/crypto"
)

// AddressPrefix is the bech32 human-readable part of every address.
const AddressPrefix = "city"

// AddressSize is the length of an address in bytes.
const AddressSize = 20

// Address identifies an account: the first 20 bytes of SHA-256 over the
// account's 33-byte compressed public key. Its text form is bech32 with
// the prefix "city", e.g. city1qy352eufqy352eufqy352eufqy352euf3v7ad8.
type Address [AddressSize]byte

// AddressOf returns the address of a public key.
func AddressOf(pub *crypto.PublicKey) Address {
	return AddressFromPubKeyBytes(pub.Bytes())
}

// AddressFromPubKeyBytes returns the address of a compressed public key
// given as bytes, without checking that it is a valid point.
func AddressFromPubKeyBytes(pub []byte) Address {
	h := sha256.Sum256(pub)
	var a Address
	copy(a[:], h[:AddressSize])
	return a
}

// String returns the bech32 form.
func (a Address) String() string {
	if s, ok := addrText.get(a); ok {
		return s
	}
	s := a.format()
	addrText.put(a, s)
	return s
}

// format computes the bech32 form.
func (a Address) format() string {
	conv, err := bech32.ConvertBits(a[:], 8, 5, true)
	if err != nil {
		panic(err) // 20 bytes always convert
	}
	s, err := bech32.Encode(AddressPrefix, conv)
	if err != nil {
		panic(err)
	}
	return s
}

// IsZero reports whether a is the zero address.
func (a Address) IsZero() bool { return a == Address{} }

// MarshalText encodes a in bech32.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses a bech32 address.
func (a *Address) UnmarshalText(b []byte) error {
	p, err := ParseAddress(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// ParseAddress parses a bech32 address with the prefix "city". The error
// says whether the checksum, the prefix or the length is wrong. Only the
// BIP-173 bech32 checksum is accepted, not bech32m, so an address has one
// lowercase text form.
func ParseAddress(s string) (Address, error) {
	if a, ok := addrParsed.get(s); ok {
		return a, nil
	}
	a, err := parseAddress(s)
	if err == nil {
		addrParsed.put(strings.Clone(s), a) // not the buffer s may point into
	}
	return a, err
}

// parseAddress parses the bech32 form.
func parseAddress(s string) (Address, error) {
	var a Address
	hrp, data, version, err := bech32.DecodeGeneric(s)
	if err != nil {
		return a, fmt.Errorf("address %q: %w", s, err)
	}
	if version != bech32.Version0 {
		return a, fmt.Errorf("address %q: bech32m checksum, want bech32", s)
	}
	if hrp != AddressPrefix {
		return a, fmt.Errorf("address %q: prefix is %q, want %q", s, hrp, AddressPrefix)
	}
	conv, err := bech32.ConvertBits(data, 5, 8, false)
	if err != nil {
		return a, fmt.Errorf("address %q: %w", s, err)
	}
	if len(conv) != AddressSize {
		return a, fmt.Errorf("address %q: %d bytes, want %d", s, len(conv), AddressSize)
	}
	copy(a[:], conv)
	return a, nil
}
