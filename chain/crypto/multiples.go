package crypto

import (
	"encoding/binary"
	"math/big"
	"math/bits"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// Checking an ECDSA signature computes the point u1·G + u2·Q, where G is
// the curve's generator, Q the signer's public key and u1, u2 come from
// the signature. u1·G is cheap: G is fixed, and the library keeps tables
// of its multiples. u2·Q is most of the work: with the library's method,
// about 130 doublings and 90 additions of points.
//
// A key that signs many transactions can pay once for tables of its own
// multiples, kept with the parsed key in the KeyCache, and then compute
// u2·Q with about 66 doublings and 44 additions. Three ideas combine:
//
//   - The endomorphism. For β a cube root of 1 modulo the field prime p
//     and λ one modulo the group order n, the map (x, y) -> (β·x, y)
//     multiplies any point by λ. Writing u2 = k1 + k2·λ (mod n) with k1,
//     k2 about half as long as n (the "GLV decomposition", Guide to
//     Elliptic Curve Cryptography, algorithm 3.74) gives
//     u2·Q = k1·Q + k2·(λQ): two products of half the length, whose
//     doublings are shared. The library does this too.
//   - Splitting again in the middle. With R = 2^65·Q, made once per key,
//     k1·Q = lo·Q + hi·R for k1 = lo + hi·2^65; the same for k2. Four
//     products of about 65 bits share 66 doublings.
//   - A window NAF. Each of the four numbers is written with digits
//     ±1, ±3, ..., ±15 spaced at least five bits apart, so about one bit
//     in six costs an addition (one in three with the library's digits
//     -1, 0, 1). The tables hold the odd multiples Q, 3Q, ..., 15Q and
//     R, 3R, ..., 15R, each also with β·x for the λ side.
//
// The result is the same point, so the check gives the same answers; the
// tests compare the two methods on Project Wycheproof's vectors and on
// random keys, scalars and signatures.

// multiplesWindow is the width of the window NAF digits: 5 bits, digits
// ±1, ±3, ..., ±15, so a table holds 8 odd multiples. multiplesSplit is
// where each half of the scalar is cut: R = 2^multiplesSplit·Q.
const (
	multiplesWindow = 5
	multiplesCount  = 1 << (multiplesWindow - 2)
	multiplesSplit  = 65
)

// The constants of secp256k1's endomorphism (SEC 2; libsecp256k1).
var (
	curveOrder = hexInt("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
	halfOrder  = new(big.Int).Rsh(curveOrder, 1)
	// endoLambda is λ: λ³ = 1 (mod n).
	endoLambda = hexInt("5363ad4cc05c30e0a5261c028812645a122e22ea20816678df02967c1b23bd72")
	// endoBeta is β: β³ = 1 (mod p), and (β·x, y) = λ·(x, y).
	endoBeta = fieldOf(hexInt("7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501ee"))
	// (a1, b1) and (a2, b2) are short vectors with a + b·λ = 0 (mod n).
	endoA1 = hexInt("3086d221a7d46bcde86c90e49284eb15")
	endoB1 = new(big.Int).Neg(hexInt("e4437ed6010e88286f547fa90abfe4c3"))
	endoA2 = hexInt("114ca50f7a8e2f3f657c1108d9d44cfd8")
	endoB2 = endoA1
	// orderAsField is n as a field element, for the last step of Verify.
	orderAsField = fieldOf(curveOrder)
)

func hexInt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("bad constant " + s) // fixed constants above
	}
	return v
}

func fieldOf(v *big.Int) secp256k1.FieldVal {
	var b [32]byte
	v.FillBytes(b[:])
	var f secp256k1.FieldVal
	f.SetBytes(&b)
	return f
}

// multiples holds the odd multiples Q, 3Q, ..., 15Q of a public key Q
// and R, 3R, ..., 15R of R = 2^65·Q. It is never modified once made, so
// many goroutines may use it.
type multiples struct {
	q, r [multiplesCount]affinePoint
}

// affinePoint is a point with Z = 1, which makes adding it to another
// cheaper, and β·x, which makes it λ times the point.
type affinePoint struct {
	x, y, betaX secp256k1.FieldVal
}

// newMultiples makes the tables of q, a point with Z = 1 that is not the
// point at infinity (a parsed public key): about 70 doublings and one
// field inversion, the cost of half a signature check.
func newMultiples(q *secp256k1.JacobianPoint) *multiples {
	var r secp256k1.JacobianPoint
	r.Set(q)
	for range multiplesSplit {
		secp256k1.DoubleNonConst(&r, &r)
	}
	var jac [2 * multiplesCount]secp256k1.JacobianPoint
	oddMultiples(q, jac[:multiplesCount])
	oddMultiples(&r, jac[multiplesCount:])
	toAffine(jac[:])
	var t multiples
	for i := range multiplesCount {
		t.q[i].set(&jac[i])
		t.r[i].set(&jac[multiplesCount+i])
	}
	return &t
}

// oddMultiples fills out with p, 3p, 5p, ...
func oddMultiples(p *secp256k1.JacobianPoint, out []secp256k1.JacobianPoint) {
	var twice secp256k1.JacobianPoint
	secp256k1.DoubleNonConst(p, &twice)
	out[0].Set(p)
	for i := 1; i < len(out); i++ {
		secp256k1.AddNonConst(&out[i-1], &twice, &out[i])
	}
}

func (a *affinePoint) set(p *secp256k1.JacobianPoint) {
	a.x.Set(&p.X)
	a.y.Set(&p.Y)
	a.betaX.Mul2(&p.X, &endoBeta).Normalize()
}

// toAffine scales every point to Z = 1 with one field inversion for all
// of them (Montgomery's trick: invert the product of the Zs, then peel
// each Z's inverse off it). No point may be the point at infinity, which
// odd multiples of a point of prime order never are.
func toAffine(ps []secp256k1.JacobianPoint) {
	prefix := make([]secp256k1.FieldVal, len(ps)) // Z0·Z1·...·Zi
	prefix[0].Set(&ps[0].Z)
	for i := 1; i < len(ps); i++ {
		prefix[i].Mul2(&prefix[i-1], &ps[i].Z)
	}
	var inv secp256k1.FieldVal // (Z0·...·Zi)^-1, from i = last down
	inv.Set(&prefix[len(ps)-1]).Inverse()
	for i := len(ps) - 1; i >= 0; i-- {
		var zInv secp256k1.FieldVal
		if i > 0 {
			zInv.Mul2(&inv, &prefix[i-1])
			inv.Mul(&ps[i].Z)
		} else {
			zInv.Set(&inv)
		}
		var zInv2, zInv3 secp256k1.FieldVal
		zInv2.SquareVal(&zInv)
		zInv3.Mul2(&zInv2, &zInv)
		ps[i].X.Mul(&zInv2).Normalize()
		ps[i].Y.Mul(&zInv3).Normalize()
		ps[i].Z.SetInt(1)
	}
}

// term is one of the four products of mul: a number in window NAF, its
// sign, the table of the point it multiplies, and whether that point is
// taken times λ.
type term struct {
	digits [wnafMaxDigits]int8
	n      int
	neg    bool
	table  *[multiplesCount]affinePoint
	endo   bool
}

// mul sets result to k·Q, normalized.
func (t *multiples) mul(k *secp256k1.ModNScalar, result *secp256k1.JacobianPoint) {
	kb := k.Bytes()
	k1, k2 := splitScalar(new(big.Int).SetBytes(kb[:]))
	var terms [4]term
	for i, half := range []*big.Int{k1, k2} {
		abs := new(big.Int).Abs(half)
		lo := new(big.Int).And(abs, lowBits)
		hi := abs.Rsh(abs, multiplesSplit)
		terms[2*i] = term{neg: half.Sign() < 0, table: &t.q, endo: i == 1}
		terms[2*i+1] = term{neg: half.Sign() < 0, table: &t.r, endo: i == 1}
		terms[2*i].n = wnaf(lo, &terms[2*i].digits)
		terms[2*i+1].n = wnaf(hi, &terms[2*i+1].digits)
	}
	length := 0
	for i := range terms {
		length = max(length, terms[i].n)
	}
	var acc secp256k1.JacobianPoint // the point at infinity
	for i := length - 1; i >= 0; i-- {
		secp256k1.DoubleNonConst(&acc, &acc)
		for j := range terms {
			if d := terms[j].digits[i]; d != 0 {
				terms[j].add(&acc, d)
			}
		}
	}
	result.Set(&acc)
}

// lowBits masks the low multiplesSplit bits of a number.
var lowBits = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), multiplesSplit), big.NewInt(1))

// add adds d times the term's point to acc, for an odd digit d.
func (tm *term) add(acc *secp256k1.JacobianPoint, d int8) {
	neg := tm.neg
	if d < 0 {
		d, neg = -d, !neg
	}
	a := &tm.table[d/2] // d·P, since d = 2i+1 sits at i
	var p secp256k1.JacobianPoint
	if tm.endo {
		p.X.Set(&a.betaX)
	} else {
		p.X.Set(&a.x)
	}
	p.Y.Set(&a.y)
	if neg {
		p.Y.Negate(1).Normalize()
	}
	p.Z.SetInt(1)
	secp256k1.AddNonConst(acc, &p, acc)
}

// splitScalar returns k1, k2 with k = k1 + k2·λ (mod n) and both of
// about 128 bits, for 0 <= k < n: k1 = k - c1·a1 - c2·a2 and
// k2 = -c1·b1 - c2·b2, with c1 = round(b2·k/n) and c2 = round(-b1·k/n).
func splitScalar(k *big.Int) (k1, k2 *big.Int) {
	c1 := new(big.Int).Mul(endoB2, k)
	c1.Add(c1, halfOrder).Quo(c1, curveOrder)
	c2 := new(big.Int).Mul(endoB1, k)
	c2.Neg(c2).Add(c2, halfOrder).Quo(c2, curveOrder)
	k1 = new(big.Int).Mul(c1, endoA1)
	k1.Sub(k, k1).Sub(k1, new(big.Int).Mul(c2, endoA2))
	k2 = new(big.Int).Mul(c1, endoB1)
	k2.Neg(k2).Sub(k2, new(big.Int).Mul(c2, endoB2))
	return k1, k2
}

// wnafMaxDigits bounds the window NAF of a number below 2^190, one digit
// more than its bits, with room. The halves of a scalar have about 129
// bits.
const wnafMaxDigits = 193

// wnaf writes |v| in window NAF, least significant digit first, and
// returns the number of digits; digits are odd in -15..15 or 0, and any
// two non-zero digits are at least five apart. |v| must be below 2^190.
func wnaf(v *big.Int, out *[wnafMaxDigits]int8) int {
	abs := new(big.Int).Abs(v)
	if abs.BitLen() > 190 {
		panic("wnaf: scalar half too long") // splitScalar gives about 129 bits
	}
	var be [24]byte
	abs.FillBytes(be[:])
	// |v| as little-endian 64-bit words, two bits of room on top.
	w := [3]uint64{binary.BigEndian.Uint64(be[16:]), binary.BigEndian.Uint64(be[8:]), binary.BigEndian.Uint64(be[:8])}
	n := 0
	for w[0]|w[1]|w[2] != 0 {
		var d int8
		if w[0]&1 == 1 {
			d = int8(w[0] & (1<<multiplesWindow - 1))
			if d >= 1<<(multiplesWindow-1) {
				d -= 1 << multiplesWindow
			}
			// w -= d: the low bits become zero.
			var borrow, carry uint64
			if d > 0 {
				w[0], borrow = bits.Sub64(w[0], uint64(d), 0)
				w[1], borrow = bits.Sub64(w[1], 0, borrow)
				w[2], _ = bits.Sub64(w[2], 0, borrow)
			} else {
				w[0], carry = bits.Add64(w[0], uint64(-d), 0)
				w[1], carry = bits.Add64(w[1], 0, carry)
				w[2], _ = bits.Add64(w[2], 0, carry)
			}
		}
		out[n] = d
		n++
		w[0] = w[0]>>1 | w[1]<<63
		w[1] = w[1]>>1 | w[2]<<63
		w[2] >>= 1
	}
	return n
}
