package crypto

import (
	"crypto/sha256"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

var fieldPrime = secp256k1.S256().P

// The endomorphism's constants are what the method needs: cube roots of
// one that match (λ·G is G with x times β), and short vectors with
// a + b·λ = 0 (mod n).
func TestEndomorphismConstants(t *testing.T) {
	cube := func(v, m *big.Int) *big.Int { return new(big.Int).Exp(v, big.NewInt(3), m) }
	if cube(endoLambda, curveOrder).Cmp(big.NewInt(1)) != 0 {
		t.Fatal("λ³ != 1 (mod n)")
	}
	beta := hexInt("7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501ee")
	if cube(beta, fieldPrime).Cmp(big.NewInt(1)) != 0 {
		t.Fatal("β³ != 1 (mod p)")
	}
	for _, v := range [][2]*big.Int{{endoA1, endoB1}, {endoA2, endoB2}} {
		s := new(big.Int).Mul(v[1], endoLambda)
		if s.Add(s, v[0]).Mod(s, curveOrder).Sign() != 0 {
			t.Fatalf("a + b·λ != 0 (mod n) for a=%x b=%x", v[0], v[1])
		}
	}
	var lam secp256k1.ModNScalar
	lam.SetByteSlice(endoLambda.Bytes())
	var lg secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&lam, &lg)
	lg.ToAffine()
	gx := fieldOf(secp256k1.S256().Gx)
	gx.Mul(&endoBeta).Normalize()
	gy := fieldOf(secp256k1.S256().Gy)
	if !lg.X.Equals(&gx) || !lg.Y.Equals(&gy) {
		t.Fatal("λ·G is not (β·Gx, Gy)")
	}
}

// scalarCases are scalars at the edges of the range, and random ones.
func scalarCases(rng *rand.Rand, random int) []*big.Int {
	nm1 := new(big.Int).Sub(curveOrder, big.NewInt(1))
	cases := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), big.NewInt(15), big.NewInt(16), big.NewInt(31),
		nm1, new(big.Int).Sub(nm1, big.NewInt(1)), halfOrder, new(big.Int).Add(halfOrder, big.NewInt(1)),
		endoLambda, new(big.Int).Sub(curveOrder, endoLambda), new(big.Int).Lsh(big.NewInt(1), 128),
		new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(1))}
	for range random {
		var b [32]byte
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		cases = append(cases, new(big.Int).Mod(new(big.Int).SetBytes(b[:]), curveOrder))
	}
	return cases
}

// splitScalar gives halves that add back up to k and are about half as
// long: that is what saves the doublings.
func TestSplitScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range scalarCases(rng, 2000) {
		k1, k2 := splitScalar(k)
		sum := new(big.Int).Mul(k2, endoLambda)
		sum.Add(sum, k1).Mod(sum, curveOrder)
		if sum.Cmp(k) != 0 {
			t.Fatalf("k=%x: k1 + k2·λ = %x", k, sum)
		}
		if k1.BitLen() > 129 || k2.BitLen() > 129 {
			t.Fatalf("k=%x: halves of %d and %d bits", k, k1.BitLen(), k2.BitLen())
		}
	}
}

// The window NAF has odd digits in -15..15, non-zero digits at least
// five apart, and adds back up to |v|.
func TestWindowNAF(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := scalarCases(rng, 500)
	for _, k := range scalarCases(rng, 500) {
		k1, k2 := splitScalar(k)
		cases = append(cases, k1, k2)
	}
	for _, v := range cases {
		if v.BitLen() > 190 {
			continue
		}
		var d [wnafMaxDigits]int8
		n := wnaf(v, &d)
		sum, last := new(big.Int), -multiplesWindow
		for i := n - 1; i >= 0; i-- {
			sum.Lsh(sum, 1).Add(sum, big.NewInt(int64(d[i])))
			if d[i] == 0 {
				continue
			}
			if d[i]%2 == 0 || d[i] > 15 || d[i] < -15 {
				t.Fatalf("v=%x: digit %d", v, d[i])
			}
			if i > last-multiplesWindow && last >= 0 {
				t.Fatalf("v=%x: non-zero digits at %d and %d", v, last, i)
			}
			last = i
		}
		if sum.Cmp(new(big.Int).Abs(v)) != 0 {
			t.Fatalf("v=%x: digits add up to %x", v, sum)
		}
	}
}

// k·Q from the table is the library's k·Q, for keys and scalars at the
// edges and at random.
func TestMultiplesMatchTheLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 20 {
		seed := sha256.Sum256([]byte(fmt.Sprint("multiples key ", i)))
		priv, err := PrivateKeyFromBytes(seed[:])
		if err != nil {
			t.Fatal(err)
		}
		key := priv.PublicKey().withTable()
		var q secp256k1.JacobianPoint
		key.k.AsJacobian(&q)
		for _, k := range scalarCases(rng, 50) {
			var s secp256k1.ModNScalar
			s.SetByteSlice(k.Bytes())
			var want, got secp256k1.JacobianPoint
			secp256k1.ScalarMultNonConst(&s, &q, &want)
			key.table.mul(&s, &got)
			want.ToAffine()
			got.ToAffine()
			if !want.X.Equals(&got.X) || !want.Y.Equals(&got.Y) || !want.Z.Equals(&got.Z) {
				t.Fatalf("key %d, k=%x: table gives another point", i, k)
			}
		}
	}
}

// On random keys and messages, a key with its table and the same key
// without one agree on every signature: good ones, and ones with the
// message, r or s changed, or signed by another key.
func TestVerifyWithTableAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 300 {
		seed := sha256.Sum256([]byte(fmt.Sprint("verify key ", i)))
		priv, err := PrivateKeyFromBytes(seed[:])
		if err != nil {
			t.Fatal(err)
		}
		plain := priv.PublicKey()
		fast := plain.withTable()
		msg := []byte(fmt.Sprint("message ", i, " ", rng.Uint64()))
		sig := priv.Sign(msg)
		otherSeed := sha256.Sum256([]byte(fmt.Sprint("other key ", i)))
		otherPriv, _ := PrivateKeyFromBytes(otherSeed[:])
		flip := func(b []byte) []byte {
			c := append([]byte(nil), b...)
			c[rng.IntN(len(c))] ^= byte(1 << rng.IntN(8))
			return c
		}
		cases := []struct {
			name     string
			msg, sig []byte
			valid    bool
		}{
			{"good", msg, sig, true},
			{"message changed", flip(msg), sig, false},
			{"r changed", msg, append(flip(sig[:32]), sig[32:]...), false},
			{"s changed", msg, append(append([]byte(nil), sig[:32]...), flip(sig[32:])...), false},
			{"signed by another key", msg, otherPriv.Sign(msg), false},
		}
		for _, c := range cases {
			want, got := plain.Verify(c.msg, c.sig), fast.Verify(c.msg, c.sig)
			if (want == nil) != (got == nil) || (want != nil && want.Error() != got.Error()) {
				t.Fatalf("key %d, %s: library says %v, table says %v", i, c.name, want, got)
			}
			if (got == nil) != c.valid {
				t.Fatalf("key %d, %s: verify says %v", i, c.name, got)
			}
		}
	}
}
