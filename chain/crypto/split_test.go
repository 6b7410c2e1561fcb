package crypto

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
)

// The split and the signed digits (split.go) on their own: the published
// constants, every split summing back to its scalar within its bound, and
// the columns summing back to the number they stand for.

// bigOf is the number of little-endian words w.
func bigOf(w [3]uint64) *big.Int {
	v := new(big.Int)
	for i := len(w) - 1; i >= 0; i-- {
		v.Lsh(v, 64).Or(v, new(big.Int).SetUint64(w[i]))
	}
	return v
}

// wordsOf is k ≥ 0, under 2^192, as little-endian words.
func wordsOf(k *big.Int) [3]uint64 {
	var w [3]uint64
	for i := range w {
		w[i] = new(big.Int).Rsh(k, uint(64*i)).Uint64()
	}
	return w
}

// The split's two 384-bit fractions are the g1 and g2 of libsecp256k1
// (secp256k1_scalar_split_lambda in its scalar_impl.h).
func TestSplitConstants(t *testing.T) {
	for i, c := range []struct {
		got  [4]uint64
		want string
	}{
		{splitG1, "3086d221a7d46bcde86c90e49284eb153daa8a1471e8ca7fe893209a45dbb031"},
		{splitG2, "e4437ed6010e88286f547fa90abfe4c4221208ac9df506c61571b4ae8ac47f71"},
	} {
		if got := fmt.Sprintf("%016x%016x%016x%016x", c.got[3], c.got[2], c.got[1], c.got[0]); got != c.want {
			t.Errorf("g%d = %s, want %s", i+1, got, c.want)
		}
	}
}

func TestSplitScalarRecombines(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	ks := edgeScalars()
	for range 20000 {
		b := randomScalar(r).Bytes()
		ks = append(ks, new(big.Int).SetBytes(b[:]))
	}
	for _, k := range ks {
		w1, w2, neg1, neg2 := splitScalar(scalarOf(k))
		k1, k2 := bigOf(w1), bigOf(w2)
		if k1.BitLen() > 129 || k2.BitLen() > 129 {
			t.Fatalf("k = %x: split into %d and %d bits, want at most 129", k, k1.BitLen(), k2.BitLen())
		}
		a, b := new(big.Int).Set(k1), new(big.Int).Set(k2)
		if neg1 {
			a.Neg(a)
		}
		if neg2 {
			b.Neg(b)
		}
		sum := new(big.Int).Mul(b, glvLambda)
		sum.Add(sum, a).Mod(sum, curveN)
		if want := new(big.Int).Mod(k, curveN); sum.Cmp(want) != 0 {
			t.Fatalf("k = %x: k1 + k2·λ = %x mod n", want, sum)
		}
	}
}

func TestCombColumnsRecombine(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	one := big.NewInt(1)
	ks := []*big.Int{big.NewInt(0), one, big.NewInt(2), big.NewInt(63), big.NewInt(64),
		new(big.Int).Lsh(one, 18), new(big.Int).Lsh(one, 19), new(big.Int).Lsh(one, 128),
		new(big.Int).Sub(new(big.Int).Lsh(one, 129), one), new(big.Int).Lsh(one, 129),
		new(big.Int).Sub(new(big.Int).Lsh(one, 130), one)}
	for range 3000 {
		k := new(big.Int).SetUint64(r.Uint64())
		k.Lsh(k, 64).Or(k, new(big.Int).SetUint64(r.Uint64()))
		k.Lsh(k, 2).Or(k, big.NewInt(int64(r.IntN(4))))
		ks = append(ks, k.Rsh(k, uint(r.IntN(60))))
	}
	for _, k := range ks {
		for _, neg := range []bool{false, true} {
			c := recode(wordsOf(k), neg)
			// Σ 2^i · column i, each column Σ ±2^(19j), must be σ·k', and
			// k' must be k or, for an even k, k+1.
			sum := new(big.Int)
			for i := combSpacing - 1; i >= 0; i-- {
				m := c.column(i)
				if m < 0 || m > columnMask {
					t.Fatalf("k = %x: column %d is %d, want 0 to %d", k, i, m, columnMask)
				}
				col := new(big.Int)
				for j := range combTeeth {
					d := new(big.Int).Lsh(one, uint(j*combSpacing))
					if m>>j&1 == 1 {
						col.Add(col, d)
					} else {
						col.Sub(col, d)
					}
				}
				sum.Lsh(sum, 1).Add(sum, col)
			}
			want := new(big.Int).Set(k)
			if c.even {
				want.Add(want, one)
			}
			if c.even != (k.Bit(0) == 0) {
				t.Fatalf("k = %x: marked even %v", k, c.even)
			}
			if neg {
				want.Neg(want)
			}
			if sum.Cmp(want) != 0 {
				t.Fatalf("k = %x, negative %v: columns sum to %x, want %x", k, neg, sum, want)
			}
		}
	}
}
