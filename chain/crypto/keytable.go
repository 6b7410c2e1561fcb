package crypto

import (
	"bytes"
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

// endoBeta is β, a cube root of 1 in the field: λ·(x, y) = (β·x, y)
// for every point (x, y) of the curve.
var endoBeta = fieldFromHex("7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501ee")

// baseOf is G's table, built once when first needed.
var baseOf = sync.OnceValue(newBaseComb)

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
