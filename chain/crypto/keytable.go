package crypto

import (
	"encoding/hex"
	"math/big"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// A key table makes the verifications of one public key Q faster from its
// second verification on. ECDSA verification computes u1·G + u2·Q;
// the library's u2·Q splits u2 into two half-length scalars with the
// curve's endomorphism (k·Q = k1·Q + k2·λQ, where λQ = (β·x, y) costs one
// field multiplication) and walks them in non-adjacent form, adding Q or
// λQ at about one bit in three. A table of the odd multiples Q, 3Q, ...,
// 15Q, kept in affine form, lets the same walk use a width-5 window
// instead: one addition about every six bits, each an addition of a point
// with z = 1, the cheaper kind. The doublings, the base-point part (which
// the library already does from its own tables) and the final comparison
// are the library's functions and unchanged; so is the answer, which the
// tests compare with the library's verification.
//
// Building a table costs about a fifth of a verification (seven additions
// and one field inversion shared by all its points), so a key gets one
// only when it is verified again (PublicKey.Verify).

const (
	tableWindow = 5                      // width of the signed digits
	tableLen    = 1 << (tableWindow - 2) // odd multiples 1, 3, ..., 15
)

// keyTable holds the odd multiples of a public key and of its image under
// the endomorphism, normalized affine coordinates.
type keyTable struct {
	x, y [tableLen]secp256k1.FieldVal // (2i+1)·Q
	bx   [tableLen]secp256k1.FieldVal // β·x of the same points: (2i+1)·λQ
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
	var q2 secp256k1.JacobianPoint
	pts[0].Set(q)
	secp256k1.DoubleNonConst(q, &q2)
	for i := 1; i < tableLen; i++ {
		secp256k1.AddNonConst(&pts[i-1], &q2, &pts[i])
	}
	// One inversion for all: acc[i] = z0·z1·...·zi.
	var acc [tableLen]secp256k1.FieldVal
	acc[0].Set(&pts[0].Z)
	for i := 1; i < tableLen; i++ {
		acc[i].Mul2(&acc[i-1], &pts[i].Z).Normalize()
	}
	var inv secp256k1.FieldVal
	inv.Set(&acc[tableLen-1]).Inverse().Normalize() // 1/(z0·...·zn)
	t := &keyTable{}
	for i := tableLen - 1; i >= 0; i-- {
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
		t.x[i].Mul2(&pts[i].X, &zi2).Normalize()
		t.y[i].Mul2(&pts[i].Y, &zi3).Normalize()
		t.bx[i].Mul2(&t.x[i], &endoBeta).Normalize()
	}
	return t
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

// maxDigits bounds the width-5 form of a split scalar (under 2^130).
const maxDigits = 132

// wnaf returns the signed digits of k ≥ 0 in width-5 non-adjacent form,
// least significant first: every digit is 0 or odd in [-15, 15], and of
// any five consecutive digits at most one is not 0.
func wnaf(k *big.Int, d *[maxDigits]int8) int {
	var w [3]uint64 // k, little-endian words; k < 2^130 after a split
	var buf [24]byte
	k.FillBytes(buf[:])
	for i := range 3 {
		for j := range 8 {
			w[i] |= uint64(buf[23-8*i-j]) << (8 * j)
		}
	}
	n := 0
	for (w[0]|w[1]|w[2]) != 0 && n < maxDigits {
		var dig int64
		if w[0]&1 == 1 {
			dig = int64(w[0] & (1<<tableWindow - 1))
			if dig >= 1<<(tableWindow-1) {
				dig -= 1 << tableWindow
			}
			if dig > 0 { // w -= dig
				var b uint64
				w[0], b = subWord(w[0], uint64(dig), 0)
				w[1], b = subWord(w[1], 0, b)
				w[2], _ = subWord(w[2], 0, b)
			} else { // w += -dig
				var c uint64
				w[0], c = addWord(w[0], uint64(-dig), 0)
				w[1], c = addWord(w[1], 0, c)
				w[2], _ = addWord(w[2], 0, c)
			}
		}
		d[n] = int8(dig)
		n++
		w[0] = w[0]>>1 | w[1]<<63
		w[1] = w[1]>>1 | w[2]<<63
		w[2] >>= 1
	}
	return n
}

func addWord(a, b, c uint64) (uint64, uint64) {
	s := a + b
	c1 := uint64(0)
	if s < a {
		c1 = 1
	}
	s2 := s + c
	if s2 < s {
		c1 = 1
	}
	return s2, c1
}

func subWord(a, b, c uint64) (uint64, uint64) {
	d := a - b
	b1 := uint64(0)
	if a < b {
		b1 = 1
	}
	d2 := d - c
	if d < c {
		b1 = 1
	}
	return d2, b1
}

// mul sets result to k·Q.
func (t *keyTable) mul(k *secp256k1.ModNScalar, result *secp256k1.JacobianPoint) {
	k1, k2, neg1, neg2 := splitScalar(k)
	var d1, d2 [maxDigits]int8
	n1, n2 := wnaf(k1, &d1), wnaf(k2, &d2)
	var q, p secp256k1.JacobianPoint // q starts at infinity
	p.Z.SetInt(1)
	for i := max(n1, n2) - 1; i >= 0; i-- {
		secp256k1.DoubleNonConst(&q, &q)
		if d := d1[i]; d != 0 {
			t.load(&p, d, neg1, false)
			secp256k1.AddNonConst(&q, &p, &q)
		}
		if d := d2[i]; d != 0 {
			t.load(&p, d, neg2, true)
			secp256k1.AddNonConst(&q, &p, &q)
		}
	}
	result.Set(&q)
}

// load sets p (whose z is 1) to d·Q, or d·λQ when endo is set, negated
// when neg is set.
func (t *keyTable) load(p *secp256k1.JacobianPoint, d int8, neg, endo bool) {
	if d < 0 {
		d, neg = -d, !neg
	}
	i := d >> 1
	if endo {
		p.X.Set(&t.bx[i])
	} else {
		p.X.Set(&t.x[i])
	}
	p.Y.Set(&t.y[i])
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
