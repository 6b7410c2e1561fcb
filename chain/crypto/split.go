package crypto

import (
	"encoding/binary"
	"math/big"
	"math/bits"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// The scalar side of the combs (keytable.go): a scalar split into two
// halves of at most 129 bits with the curve's endomorphism, and each half
// written in the signed digits the combs read a column at a time.

// The group order, the endomorphism's λ and the lattice basis that splits
// a scalar, the published constants of secp256k1 (Guide to Elliptic Curve
// Cryptography, section 3.5; the same values as libsecp256k1 and dcrd).
// The tests check that λ·G = (β·Gx, Gy) and that every split recombines
// to its scalar.
var (
	glvLambda = bigFromHex("5363ad4cc05c30e0a5261c028812645a122e22ea20816678df02967c1b23bd72")
	curveN    = bigFromHex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
	glvA1     = bigFromHex("3086d221a7d46bcde86c90e49284eb15")
	glvB1     = new(big.Int).Neg(bigFromHex("e4437ed6010e88286f547fa90abfe4c3"))
	glvA2     = bigFromHex("114ca50f7a8e2f3f657c1108d9d44cfd8")
	glvB2     = glvA1
	// The split's constants in the forms it uses (see splitScalar): λ,
	// -b1 and b2 as scalars, and g1 = round(2^384·b2/n), g2 =
	// round(2^384·(-b1)/n) as 64-bit words.
	scalarLambda = scalarFromBig(glvLambda)
	scalarNegB1  = scalarFromBig(new(big.Int).Neg(glvB1))
	scalarB2     = scalarFromBig(glvB2)
	splitG1      = shiftedQuotient(glvB2)
	splitG2      = shiftedQuotient(new(big.Int).Neg(glvB1))
)

func bigFromHex(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("bad constant " + s)
	}
	return v
}

func scalarFromBig(v *big.Int) secp256k1.ModNScalar {
	var b [32]byte
	v.FillBytes(b[:])
	var k secp256k1.ModNScalar
	k.SetBytes(&b)
	return k
}

// shiftedQuotient returns round(2^384·b/n) as little-endian words.
func shiftedQuotient(b *big.Int) [4]uint64 {
	q := new(big.Int).Lsh(b, 384)
	q.Add(q, new(big.Int).Rsh(curveN, 1)).Quo(q, curveN)
	var buf [32]byte
	q.FillBytes(buf[:])
	var w [4]uint64
	readWords(w[:], &buf)
	return w
}

// readWords sets w to the low 64·len(w) bits of the big-endian b, as
// little-endian words.
func readWords(w []uint64, b *[32]byte) {
	for i := range w {
		w[i] = binary.BigEndian.Uint64(b[24-8*i:])
	}
}

// splitScalar writes k as k1 + k2·λ (mod n) with |k1| and |k2| under
// 2^129, returning their absolute values as little-endian words and their
// signs. It is the split of libsecp256k1 (and of dcrd), in fixed-size
// words: with c1 = round(k·b2/n) and c2 = round(k·(-b1)/n), each taken
// as the top bits of k times a 384-bit fraction, k2 = -(c1·b1 + c2·b2)
// and k1 = k - k2·λ, both mod n; a residue above n/2 stands for the
// negative number it is n away from.
func splitScalar(k *secp256k1.ModNScalar) (k1, k2 [3]uint64, neg1, neg2 bool) {
	kb := k.Bytes()
	var kw [4]uint64
	readWords(kw[:], &kb)
	c1, c2 := mulShift384(&kw, &splitG1), mulShift384(&kw, &splitG2)
	var s2, t secp256k1.ModNScalar
	s2.Mul2(&c1, &scalarNegB1)
	t.Mul2(&c2, &scalarB2).Negate()
	s2.Add(&t)
	var s1 secp256k1.ModNScalar
	s1.Mul2(&s2, &scalarLambda).Negate().Add(k)
	if neg1 = s1.IsOverHalfOrder(); neg1 {
		s1.Negate()
	}
	if neg2 = s2.IsOverHalfOrder(); neg2 {
		s2.Negate()
	}
	return lowWords(&s1), lowWords(&s2), neg1, neg2
}

// mulShift384 returns round(k·g / 2^384) as a scalar; it is under 2^128
// for the split's constants.
func mulShift384(k, g *[4]uint64) secp256k1.ModNScalar {
	var p [8]uint64
	for i := range k {
		var carry uint64
		for j := range g {
			hi, lo := bits.Mul64(k[i], g[j])
			var c uint64
			lo, c = bits.Add64(lo, p[i+j], 0)
			hi += c
			lo, c = bits.Add64(lo, carry, 0)
			hi += c
			p[i+j], carry = lo, hi
		}
		p[i+len(g)] = carry
	}
	// Bits 384 and up, plus bit 383 to round.
	r0, c := bits.Add64(p[6], p[5]>>63, 0)
	r1 := p[7] + c
	var b [32]byte
	binary.BigEndian.PutUint64(b[16:], r1)
	binary.BigEndian.PutUint64(b[24:], r0)
	var s secp256k1.ModNScalar
	s.SetBytes(&b)
	return s
}

// lowWords returns the low 192 bits of s as little-endian words.
func lowWords(s *secp256k1.ModNScalar) [3]uint64 {
	b := s.Bytes()
	var w [3]uint64
	readWords(w[:], &b)
	return w
}

// combScalar is a half scalar σ·k (σ = ±1, 0 ≤ k < 2^132) in signed digits.
type combScalar struct {
	v    [3]uint64 // (k' + 2^133 - 1) / 2, k' = k if odd, else k+1: its bit b is 1 for digit +1
	flip int       // columnMask when σ = -1, which flips every digit
	even bool      // k' = k+1: σ·P is to be taken off at the end
}

// recode returns k (neg: -k), as little-endian words, in signed digits.
func recode(k [3]uint64, neg bool) combScalar {
	var c combScalar
	if k[0]&1 == 0 {
		k[0] |= 1
		c.even = true
	}
	// + 2^133 - 1: bits 0 to 132 set, then halved.
	a0, carry := bits.Add64(k[0], ^uint64(0), 0)
	a1, carry := bits.Add64(k[1], ^uint64(0), carry)
	a2, _ := bits.Add64(k[2], 1<<(combBits-128)-1, carry)
	c.v = [3]uint64{a0>>1 | a1<<63, a1>>1 | a2<<63, a2 >> 1}
	if neg {
		c.flip = columnMask
	}
	return c
}

// splitRecoded is splitScalar's two halves in signed digits.
func splitRecoded(k *secp256k1.ModNScalar) (combScalar, combScalar) {
	k1, k2, neg1, neg2 := splitScalar(k)
	return recode(k1, neg1), recode(k2, neg2)
}

// column returns column i of c, the digits i, 19+i, ... 114+i, as bits 0
// to 6 (1 for +1).
func (c *combScalar) column(i int) int {
	m := 0
	for j := range combTeeth {
		b := j*combSpacing + i
		m |= int(c.v[b>>6]>>(b&63)&1) << j
	}
	return m ^ c.flip
}
