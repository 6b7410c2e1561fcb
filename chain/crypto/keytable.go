package crypto

import (
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"math/bits"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// A key table makes the verifications of one public key Q faster from its
// second verification on. ECDSA verification computes u1·G + u2·Q; the
// library's u2·Q splits u2 into two half-length scalars with the curve's
// endomorphism (k·Q = k1·Q + k2·λQ, where λQ = (β·x, y) costs one field
// multiplication) and walks them bit by bit: about 130 doublings, and an
// addition of Q or λQ at about one bit in three.
//
// With a table the walk is a comb. Write a half scalar's 132 bits as six
// rows of 22 (the teeth) and read it a column at a time: column i holds
// the bits i, 22+i, 44+i, ... of the scalar, a 6-bit number m, and the
// table holds T[m] = Σ 2^(22j)·Q over the bits j set in m, for every m from
// 1 to 63. Then k·Q is the sum of 2^i·T[column i], which a walk from the
// top column down computes with 21 doublings and one table addition per
// column, and both halves share the doublings (the second half adds
// λT[m], whose x is β times T[m]'s). So u2·Q costs 21 doublings and at
// most 44 additions of a point with z = 1, the cheaper kind, instead of
// about 130 doublings and 43 additions. The base-point part (which the
// library already does from its own tables) and the final comparison
// are the library's functions and unchanged; so is the answer, which the
// tests compare with the library's verification.
//
// Building a table costs about a verification (110 doublings, 57
// additions and two field inversions) and about 5 KB, so a key gets one
// only when it is verified again (PublicKey.Verify).

const (
	combTeeth   = 6                // rows of a split scalar
	combSpacing = 22               // columns: 6 x 22 = 132 bits, above a half's 129
	tableLen    = 1<<combTeeth - 1 // T[1] ... T[63]
)

// keyTable holds T[m] for m = 1 ... 63 at index m-1, normalized affine
// coordinates.
type keyTable struct {
	x, y [tableLen]secp256k1.FieldVal
}

// The endomorphism and the lattice basis that splits a scalar, the
// published constants of secp256k1 (Guide to Elliptic Curve Cryptography,
// section 3.5; the same values as libsecp256k1 and dcrd). The tests check
// that λ·G = (β·Gx, Gy) and that every split recombines to its scalar.
var (
	endoBeta = fieldFromHex("7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501ee")
	curveN   = bigFromHex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
	halfN    = new(big.Int).Rsh(curveN, 1)
	glvA1    = bigFromHex("3086d221a7d46bcde86c90e49284eb15")
	glvB1    = new(big.Int).Neg(bigFromHex("e4437ed6010e88286f547fa90abfe4c3"))
	glvA2    = bigFromHex("114ca50f7a8e2f3f657c1108d9d44cfd8")
	glvB2    = glvA1
	negB1    = new(big.Int).Neg(glvB1)
)

func bigFromHex(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("bad constant " + s)
	}
	return v
}

func fieldFromHex(s string) secp256k1.FieldVal {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	var f secp256k1.FieldVal
	f.SetByteSlice(b)
	return f
}

// newKeyTable computes the table of the affine point (x, y).
func newKeyTable(q *secp256k1.JacobianPoint) *keyTable {
	var pts [tableLen]secp256k1.JacobianPoint
	// The rows: T[2^j] = 2^(22j)·Q, brought to z = 1 so that every other
	// entry is a sum of the cheaper kind.
	var rows [combTeeth]secp256k1.JacobianPoint
	rows[0].Set(q)
	for j := 1; j < combTeeth; j++ {
		rows[j].Set(&rows[j-1])
		for range combSpacing {
			secp256k1.DoubleNonConst(&rows[j], &rows[j])
		}
	}
	toAffine(rows[:])
	for j := range combTeeth {
		pts[1<<j-1].Set(&rows[j])
	}
	// Every other m: T[m] = T[m without its top bit] + T[its top bit].
	// Both are multiples of Q by different numbers under 2^111, so neither
	// the sum nor its parts is the point at infinity.
	for m := 3; m <= tableLen; m++ {
		top := bits.Len(uint(m)) - 1
		if m == 1<<top {
			continue
		}
		secp256k1.AddNonConst(&pts[m^1<<top-1], &rows[top], &pts[m-1])
	}
	toAffine(pts[:])
	t := &keyTable{}
	for i := range pts {
		t.x[i].Set(&pts[i].X)
		t.y[i].Set(&pts[i].Y)
	}
	return t
}

// toAffine brings points, none of them the point at infinity, to z = 1
// with one field inversion for all: with acc[i] = z0·z1·...·zi, 1/zi is
// acc[i-1] / acc[i].
func toAffine(pts []secp256k1.JacobianPoint) {
	acc := make([]secp256k1.FieldVal, len(pts))
	acc[0].Set(&pts[0].Z)
	for i := 1; i < len(pts); i++ {
		acc[i].Mul2(&acc[i-1], &pts[i].Z).Normalize()
	}
	var inv secp256k1.FieldVal
	inv.Set(&acc[len(pts)-1]).Inverse().Normalize() // 1/(z0·...·zn)
	for i := len(pts) - 1; i >= 0; i-- {
		var zi secp256k1.FieldVal // 1/zi
		if i > 0 {
			zi.Mul2(&inv, &acc[i-1]).Normalize()
			inv.Mul(&pts[i].Z).Normalize() // now 1/(z0·...·z(i-1))
		} else {
			zi.Set(&inv)
		}
		var zi2, zi3 secp256k1.FieldVal
		zi2.SquareVal(&zi)
		zi3.Mul2(&zi2, &zi)
		pts[i].X.Mul2(&pts[i].X, &zi2).Normalize()
		pts[i].Y.Mul2(&pts[i].Y, &zi3).Normalize()
		pts[i].Z.SetInt(1)
	}
}

// splitScalar writes k as k1 + k2·λ (mod n) with |k1| and |k2| about 128
// bits, returning their absolute values and signs.
func splitScalar(k *secp256k1.ModNScalar) (k1, k2 *big.Int, neg1, neg2 bool) {
	kb := k.Bytes()
	kk := new(big.Int).SetBytes(kb[:])
	c1 := new(big.Int).Mul(glvB2, kk)
	c1.Add(c1, halfN).Quo(c1, curveN)
	c2 := new(big.Int).Mul(negB1, kk)
	c2.Add(c2, halfN).Quo(c2, curveN)
	k1 = new(big.Int).Sub(kk, new(big.Int).Mul(c1, glvA1))
	k1.Sub(k1, new(big.Int).Mul(c2, glvA2))
	k2 = new(big.Int).Mul(c1, glvB1)
	k2.Neg(k2).Sub(k2, new(big.Int).Mul(c2, glvB2))
	neg1, neg2 = k1.Sign() < 0, k2.Sign() < 0
	return k1.Abs(k1), k2.Abs(k2), neg1, neg2
}

// words returns k ≥ 0, under 2^192, as little-endian 64-bit words.
func words(k *big.Int) [3]uint64 {
	var buf [24]byte
	k.FillBytes(buf[:])
	var w [3]uint64
	for i := range 3 {
		w[i] = binary.BigEndian.Uint64(buf[16-8*i:])
	}
	return w
}

// column returns the comb column i of k: bit i of k, bit 22+i as the next
// bit, and so on for the six rows.
func column(k *[3]uint64, i int) int {
	m := 0
	for j := range combTeeth {
		b := j*combSpacing + i
		m |= int(k[b>>6]>>(b&63)&1) << j
	}
	return m
}

// mul sets result to k·Q.
func (t *keyTable) mul(k *secp256k1.ModNScalar, result *secp256k1.JacobianPoint) {
	k1, k2, neg1, neg2 := splitScalar(k)
	w1, w2 := words(k1), words(k2)
	var q, p secp256k1.JacobianPoint // q starts at infinity
	p.Z.SetInt(1)
	for i := combSpacing - 1; i >= 0; i-- {
		secp256k1.DoubleNonConst(&q, &q)
		if m := column(&w1, i); m != 0 {
			t.load(&p, m, neg1, false)
			secp256k1.AddNonConst(&q, &p, &q)
		}
		if m := column(&w2, i); m != 0 {
			t.load(&p, m, neg2, true)
			secp256k1.AddNonConst(&q, &p, &q)
		}
	}
	result.Set(&q)
}

// load sets p (whose z is 1) to T[m], or λT[m] when endo is set, negated
// when neg is set.
func (t *keyTable) load(p *secp256k1.JacobianPoint, m int, neg, endo bool) {
	if endo {
		p.X.Mul2(&t.x[m-1], &endoBeta).Normalize()
	} else {
		p.X.Set(&t.x[m-1])
	}
	p.Y.Set(&t.y[m-1])
	if neg {
		p.Y.Negate(1).Normalize()
	}
}

// orderAsField is the group order n as a field element (n < p).
var orderAsField = fieldFromHex(curveN.Text(16))

// verify is the ECDSA check of dcrd's Signature.Verify, step for step,
// with u2·Q taken from the table: r and s must not be zero (as scalars
// they are already below n), and the x coordinate of u1·G + u2·Q,
// reduced mod n, must equal r. The comparison is done on the Jacobian
// coordinates, as there.
func (t *keyTable) verify(hash []byte, r, s *secp256k1.ModNScalar) bool {
	if r.IsZero() || s.IsZero() {
		return false
	}
	var e secp256k1.ModNScalar
	e.SetByteSlice(hash)
	w := new(secp256k1.ModNScalar).InverseValNonConst(s)
	u1 := new(secp256k1.ModNScalar).Mul2(&e, w)
	u2 := new(secp256k1.ModNScalar).Mul2(r, w)
	var x, u1G, u2Q secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(u1, &u1G)
	t.mul(u2, &u2Q)
	secp256k1.AddNonConst(&u1G, &u2Q, &x)
	if (x.X.IsZero() && x.Y.IsZero()) || x.Z.IsZero() {
		return false
	}
	z := new(secp256k1.FieldVal).SquareVal(&x.Z)
	var rb [32]byte
	r.PutBytes(&rb)
	var rf secp256k1.FieldVal
	rf.SetBytes(&rb)
	res := new(secp256k1.FieldVal).Mul2(&rf, z).Normalize()
	if res.Equals(&x.X) {
		return true
	}
	if rf.IsGtOrEqPrimeMinusOrder() {
		return false
	}
	rf.Add(&orderAsField)
	res.Mul2(&rf, z).Normalize()
	return res.Equals(&x.X)
}
