package crypto

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"math/bits"
	"sync"

	curve "github.com/consensys/gnark-crypto/ecc/secp256k1"
	"github.com/consensys/gnark-crypto/ecc/secp256k1/fp"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// A key table makes the verifications of one public key Q faster from its
// second verification on. ECDSA verification computes u1·G + u2·Q. The
// library does the two products apart: u1·G by adding one precomputed
// multiple of G per byte of u1 (32 additions), u2·Q by splitting u2 into
// two half-length scalars with the curve's endomorphism (k·Q = k1·Q +
// k2·λQ, where λQ = (β·x, y) costs one field multiplication) and walking
// them bit by bit: about 130 doublings and an addition of Q or λQ at
// about one bit in three.
//
// With a table both products are one signed comb. Each half scalar k
// (at most 129 bits) is made odd (k+1 when even, the one extra P taken
// off at the end) and written with 133 digits, each +1 or -1, never 0:
// with v = (k + 2^133 - 1) / 2, k = Σ (2·bit_b(v) - 1)·2^b. Read those
// digits as seven rows of 19 (the teeth), a column at a time: column i
// holds the digits i, 19+i, 38+i, ... and stands for the point
// Σ ±2^(19j)·P, and k·P is the sum of 2^i times column i, which a walk
// from the top column down computes with 18 doublings and one addition
// per column. A column whose top digit is -1 is the negation of the
// column with every digit flipped, so a table of the 64 columns whose
// top digit is +1 gives all 128 (a negation is free: y becomes -y), and
// a negative half flips every digit too. All four halves share the
// doublings:
//
//   - the key's table holds Q's 64 columns, for k1 and (times β) k2;
//   - one table for the whole process holds G's columns for both halves
//     of u1 at once, a column of k1 and a column of k2 together: 2^13
//     points in 512 KB, so u1·G costs one addition per column.
//
// So u1·G + u2·Q costs 18 doublings and 57 additions of a point with
// z = 1, the cheaper kind, plus one more for each even half (two on
// average), instead of the library's 130 doublings and 75 additions.
// The final comparison is the library's, step for step, and so is the
// answer, which the tests compare with the library's verification.
//
// The points of the combs are gnark-crypto's (its secp256k1 package):
// its field elements are four 64-bit words, multiplied with the
// processor's 64×64-bit product, where dcrd's are ten 26-bit limbs, and
// an addition of a point with z = 1 takes a little over half as long.
// Keys, signatures and scalars stay dcrd's, so the split and the final
// comparison read the same numbers as the library's verification.
//
// Building a key's table costs about half a library verification (120
// doublings, 69 additions and two batched field inversions) and about
// 4 KB, so a key gets one only when it is verified again
// (PublicKey.Verify). G's table is built at the first verification that
// needs it, in about 5 ms.

const (
	combTeeth   = 7                       // rows of a half scalar's digits
	combSpacing = 19                      // columns
	combBits    = combTeeth * combSpacing // 133 digits, above a half's 129 bits and its +1
	tableLen    = 1 << (combTeeth - 1)    // a key's columns with the top digit +1
	columnMask  = 1<<combTeeth - 1        // a column's seven digits
	baseLen     = 1 << (2*combTeeth - 1)  // G's paired columns with the top digit +1
)

// keyTable holds a key's columns, normalized affine coordinates: entry m
// is the column whose digit j (j < 6) is +1 when bit j of m is set and -1
// when not, and whose top digit is +1. It also keeps Q itself, for the
// even halves.
type keyTable struct {
	pts [tableLen]curve.G1Affine
	q   curve.G1Affine
}

// baseComb is keyTable's counterpart for G, each entry a pair of
// columns: bits 0 to 6 of the index the digits of a column of u1's first
// half (times G), bits 7 to 12 and a top +1 those of its second half's
// (times λG).
type baseComb struct {
	pts [baseLen]curve.G1Affine
	g   curve.G1Affine // G itself, for the even halves
}

// The endomorphism and the lattice basis that splits a scalar, the
// published constants of secp256k1 (Guide to Elliptic Curve Cryptography,
// section 3.5; the same values as libsecp256k1 and dcrd). The tests check
// that λ·G = (β·Gx, Gy) and that every split recombines to its scalar.
var (
	endoBeta  = fieldFromHex("7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501ee")
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
	// baseOf is G's table, built once when first needed.
	baseOf = sync.OnceValue(newBaseComb)
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

func fieldFromHex(s string) fp.Element {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	var f fp.Element
	if err := f.SetBytesCanonical(b); err != nil {
		panic(err)
	}
	return f
}

// pointOf returns dcrd's affine point q (z = 1) as gnark-crypto's.
func pointOf(q *secp256k1.JacobianPoint) curve.G1Affine {
	var p curve.G1Affine
	x, y := q.X.Bytes(), q.Y.Bytes()
	p.X.SetBytes(x[:])
	p.Y.SetBytes(y[:])
	return p
}

// newKeyTable computes the table of the affine point q (z = 1).
func newKeyTable(q *secp256k1.JacobianPoint) *keyTable {
	t := &keyTable{q: pointOf(q)}
	// The rows: 2^(19j)·Q for j = 0 ... 6.
	var rows [combTeeth]curve.G1Jac
	rows[0].FromAffine(&t.q)
	for j := 1; j < combTeeth; j++ {
		rows[j].Set(&rows[j-1])
		for range combSpacing {
			rows[j].DoubleAssign()
		}
	}
	columnSums(rows[:], t.pts[:])
	return t
}

// newBaseComb computes G's table: rows 2^(19j)·G, then 2^(19j)·λG, the
// last of them the top digit.
func newBaseComb() *baseComb {
	b := &baseComb{}
	_, b.g = curve.Generators()
	var rows [2 * combTeeth]curve.G1Jac
	rows[0].FromAffine(&b.g)
	for j := 1; j < combTeeth; j++ {
		rows[j].Set(&rows[j-1])
		for range combSpacing {
			rows[j].DoubleAssign()
		}
	}
	for j, r := range toAffine(rows[:combTeeth]) {
		r.X.Mul(&r.X, &endoBeta)
		rows[combTeeth+j].FromAffine(&r)
	}
	columnSums(rows[:], b.pts[:])
	return b
}

// columnSums writes to out the affine points of the 2^n sums of the n+1
// points rows whose last term is +rows[n]: sum m adds rows[b] where bit b
// of m is set and subtracts it where not. None is the point at infinity:
// for a key's table each is a multiple of Q by a number of 115 bits or
// fewer whose top term outweighs the rest together; for G's, a·G + b·λG
// with a and b of at most 115 bits and b not zero, which only a pair of
// at least 127 bits sends to infinity (such pairs are what the split's
// basis is made of).
func columnSums(rows []curve.G1Jac, out []curve.G1Affine) {
	n := len(rows) - 1
	// Going from sum m&(m-1) to sum m turns one -rows[b] into +rows[b]:
	// an addition of 2·rows[b], brought to z = 1 to be the cheaper kind.
	twice := make([]curve.G1Jac, n)
	for b := range twice {
		twice[b].Double(&rows[b])
	}
	twiceAff := toAffine(twice)
	// The sums are made a chunk at a time and each chunk brought to
	// z = 1 with one inversion, so that G's table of 8,192 needs no more
	// than a chunk's worth of memory besides itself. Sum m&(m-1) comes
	// before sum m, in this chunk or already written out.
	const chunk = 256
	sums := make([]curve.G1Jac, min(chunk, 1<<n))
	for start := 0; start < 1<<n; start += len(sums) {
		for i := range sums {
			m := start + i
			if m == 0 {
				sums[0].Set(&rows[n])
				for b := range n {
					sums[0].SubAssign(&rows[b])
				}
				continue
			}
			prev := m & (m - 1)
			if prev >= start {
				sums[i].Set(&sums[prev-start])
			} else {
				sums[i].FromAffine(&out[prev])
			}
			sums[i].AddMixed(&twiceAff[bits.TrailingZeros(uint(m))])
		}
		copy(out[start:], toAffine(sums))
	}
}

// toAffine returns pts, none of them the point at infinity, at z = 1,
// with one field inversion for all (gnark-crypto's
// BatchJacobianToAffineG1 does the same on several goroutines, which the
// chain's packages do not start).
func toAffine(pts []curve.G1Jac) []curve.G1Affine {
	zs := make([]fp.Element, len(pts))
	for i := range pts {
		zs[i] = pts[i].Z
	}
	inv := fp.BatchInvert(zs)
	out := make([]curve.G1Affine, len(pts))
	for i := range pts {
		var z2, z3 fp.Element
		z2.Square(&inv[i])
		z3.Mul(&z2, &inv[i])
		out[i].X.Mul(&pts[i].X, &z2)
		out[i].Y.Mul(&pts[i].Y, &z3)
	}
	return out
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

// mulAdd sets result to u1·G + u2·Q.
//
// The 57 points of the walk are read from the tables first and added
// after. Reading a table entry often misses the processor's nearest
// caches (G's table is 512 KB, and a node checks the keys of hundreds of
// senders in turn): read one at a time between additions, each miss
// would be waited for alone, while reads that follow one another are
// waited for together.
func (t *keyTable) mulAdd(u1, u2 *secp256k1.ModNScalar, result *curve.G1Jac) {
	base := baseOf()
	g1, g2 := splitRecoded(u1)
	q1, q2 := splitRecoded(u2)
	var pts [combSpacing][3]curve.G1Affine
	var neg [combSpacing][3]bool
	for i := range combSpacing {
		pts[i][0], neg[i][0] = base.entry(g1.column(i) | g2.column(i)<<combTeeth)
		pts[i][1], neg[i][1] = t.entry(q1.column(i))
		pts[i][2], neg[i][2] = t.entry(q2.column(i))
	}
	var acc curve.G1Jac
	acc.X.SetOne()
	acc.Y.SetOne() // (1, 1, 0): the point at infinity
	for i := combSpacing - 1; i >= 0; i-- {
		if i < combSpacing-1 {
			acc.DoubleAssign()
		}
		p := &pts[i]
		p[2].X.Mul(&p[2].X, &endoBeta) // the second half of u2 is times λQ
		for j := range p {
			if neg[i][j] {
				p[j].Y.Neg(&p[j].Y)
			}
			acc.AddMixed(&p[j])
		}
	}
	takeOff(&acc, &g1, &base.g, false)
	takeOff(&acc, &g2, &base.g, true)
	takeOff(&acc, &q1, &t.q, false)
	takeOff(&acc, &q2, &t.q, true)
	result.Set(&acc)
}

// takeOff subtracts σ·P from acc when c's half was even (and so written
// as k+1), or σ·λP when endo.
func takeOff(acc *curve.G1Jac, c *combScalar, pt *curve.G1Affine, endo bool) {
	if !c.even {
		return
	}
	p := *pt
	if endo {
		p.X.Mul(&p.X, &endoBeta)
	}
	if c.flip == 0 {
		p.Y.Neg(&p.Y)
	}
	acc.AddMixed(&p)
}

// entry returns the table's point for the column m of seven digits (bit
// 6 the top one) and whether it is to be negated: a column whose top
// digit is -1 is minus the column with every digit flipped.
func (t *keyTable) entry(m int) (curve.G1Affine, bool) {
	neg := m>>(combTeeth-1) == 0
	if neg {
		m = ^m
	}
	return t.pts[m&(tableLen-1)], neg
}

// entry returns the point for a pair of columns, of u1's first half
// (bits 0 to 6 of m) and its second (bits 7 to 13, bit 13 the top
// digit), times G and λG, and whether it is to be negated.
func (b *baseComb) entry(m int) (curve.G1Affine, bool) {
	neg := m>>(2*combTeeth-1) == 0
	if neg {
		m = ^m
	}
	return b.pts[m&(baseLen-1)], neg
}

var (
	// orderAsField is the group order n as a field element (n < p).
	orderAsField = fieldFromHex(curveN.Text(16))
	// primeMinusOrder is p - n, big-endian: an r at or above it has no
	// r + n below p.
	primeMinusOrder = func() [32]byte {
		p := new(big.Int).Lsh(big.NewInt(1), 256)
		p.Sub(p, big.NewInt(0x1000003d1))
		var b [32]byte
		p.Sub(p, curveN).FillBytes(b[:])
		return b
	}()
)

// verify is the ECDSA check of dcrd's Signature.Verify, step for step,
// with u1·G + u2·Q taken from the combs: r and s must not be zero (as
// scalars they are already below n), and the x coordinate of u1·G +
// u2·Q, reduced mod n, must equal r. The comparison is done on the
// Jacobian coordinates, as there: X = r·Z², or (r+n)·Z² when r+n < p.
func (t *keyTable) verify(hash []byte, r, s *secp256k1.ModNScalar) bool {
	if r.IsZero() || s.IsZero() {
		return false
	}
	var e secp256k1.ModNScalar
	e.SetByteSlice(hash)
	w := new(secp256k1.ModNScalar).InverseValNonConst(s)
	u1 := new(secp256k1.ModNScalar).Mul2(&e, w)
	u2 := new(secp256k1.ModNScalar).Mul2(r, w)
	var x curve.G1Jac
	t.mulAdd(u1, u2, &x)
	if x.Z.IsZero() {
		return false
	}
	var z, rf, res fp.Element
	z.Square(&x.Z)
	rb := r.Bytes()
	rf.SetBytes(rb[:])
	if res.Mul(&rf, &z); res.Equal(&x.X) {
		return true
	}
	if bytes.Compare(rb[:], primeMinusOrder[:]) >= 0 {
		return false
	}
	rf.Add(&rf, &orderAsField)
	res.Mul(&rf, &z)
	return res.Equal(&x.X)
}
