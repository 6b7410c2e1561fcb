package sdk

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/citychain/citychain/chain"
)

// Add returns a+b or chain.ErrOverflow.
func Add(a, b uint64) (uint64, error) {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return 0, fmt.Errorf("%d + %d: %w", a, b, chain.ErrOverflow)
	}
	return s, nil
}

// Sub returns a-b, or chain.ErrOverflow when b > a.
func Sub(a, b uint64) (uint64, error) {
	d, borrow := bits.Sub64(a, b, 0)
	if borrow != 0 {
		return 0, fmt.Errorf("%d - %d: %w", a, b, chain.ErrOverflow)
	}
	return d, nil
}

// Uint64Bytes encodes n as 8 big-endian bytes, the form that sorts like
// the number in key order.
func Uint64Bytes(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// IDAtEnd reads the number that ends an index key: an id or a sequence
// number, 8 bytes big-endian (Uint64Bytes) after the key's prefix and
// the other parts it is filed under.
func IDAtEnd(key []byte) (uint64, error) {
	if len(key) < 8 {
		return 0, fmt.Errorf("index key %q is too short", key)
	}
	return binary.BigEndian.Uint64(key[len(key)-8:]), nil
}

// BytesUint64 decodes 8 big-endian bytes; nil is zero.
func BytesUint64(b []byte) (uint64, error) {
	if b == nil {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("stored integer has %d bytes, want 8", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// ModuleAddress returns the address of an account owned by a module, such
// as an escrow. Nobody has its private key: it is a hash of the name, so
// only the module's own code can move its funds.
func ModuleAddress(name string) chain.Address {
	h := chain.Sum([]byte("citychain/module/" + name))
	var a chain.Address
	copy(a[:], h[:chain.AddressSize])
	return a
}

// Mul returns a*b or chain.ErrOverflow.
func Mul(a, b uint64) (uint64, error) {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return 0, fmt.Errorf("%d * %d: %w", a, b, chain.ErrOverflow)
	}
	return lo, nil
}
