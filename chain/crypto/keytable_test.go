package crypto

import (
	"crypto/sha256"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sync"
	"testing"

	curve "github.com/consensys/gnark-crypto/ecc/secp256k1"
	"github.com/consensys/gnark-crypto/ecc/secp256k1/fp"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// The table's verification must give the library's answer for every
// input: these tests compare the two on points, scalars and signatures,
// valid and not, and check the endomorphism's constants and every entry
// of the tables (split_test.go checks the split and the digits).

var halfN = new(big.Int).Rsh(curveN, 1)

func scalarOf(v *big.Int) *secp256k1.ModNScalar {
	var b [32]byte
	new(big.Int).Mod(v, curveN).FillBytes(b[:])
	var s secp256k1.ModNScalar
	s.SetBytes(&b)
	return &s
}

func randomScalar(r *rand.Rand) *secp256k1.ModNScalar {
	var b [32]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	var s secp256k1.ModNScalar
	s.SetBytes(&b)
	return &s
}

func testKey(tb testing.TB, r *rand.Rand) *PrivateKey {
	tb.Helper()
	for {
		s := randomScalar(r)
		if s.IsZero() {
			continue
		}
		b := s.Bytes()
		k, err := PrivateKeyFromBytes(b[:])
		if err != nil {
			tb.Fatal(err)
		}
		return k
	}
}

// edgeScalars are scalars whose split or columns sit at a boundary: 1 and
// n-1, the halves of n, λ and its neighbours (split to about (0, ±1)),
// powers of two near the split's width.
func edgeScalars() []*big.Int {
	one := big.NewInt(1)
	out := []*big.Int{one, big.NewInt(2), big.NewInt(15), big.NewInt(16), big.NewInt(17),
		new(big.Int).Sub(curveN, one), halfN, new(big.Int).Add(halfN, one),
		glvLambda, new(big.Int).Add(glvLambda, one), new(big.Int).Sub(glvLambda, one),
		new(big.Int).Sub(curveN, glvLambda)}
	for _, e := range []uint{64, 127, 128, 129, 255} {
		p := new(big.Int).Lsh(one, e)
		out = append(out, p, new(big.Int).Sub(p, one))
	}
	return out
}

func TestEndomorphismConstants(t *testing.T) {
	// λ·G = (β·Gx, Gy).
	var lg, g secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(scalarOf(glvLambda), &lg)
	lg.ToAffine()
	secp256k1.ScalarBaseMultNonConst(scalarOf(big.NewInt(1)), &g)
	g.ToAffine()
	gp, lgp := pointOf(&g), pointOf(&lg)
	var bx fp.Element
	bx.Mul(&gp.X, &endoBeta)
	if !bx.Equal(&lgp.X) || !gp.Y.Equal(&lgp.Y) {
		t.Fatal("λ·G is not (β·Gx, Gy): the endomorphism constants are wrong")
	}
	// Both basis vectors (a, b) of the split lie in the lattice a + b·λ ≡ 0.
	for i, v := range [][2]*big.Int{{glvA1, glvB1}, {glvA2, glvB2}} {
		x := new(big.Int).Mul(v[1], glvLambda)
		x.Add(x, v[0]).Mod(x, curveN)
		if x.Sign() != 0 {
			t.Errorf("basis vector %d: a + b·λ = %x mod n, want 0", i+1, x)
		}
	}
}

// multiple returns the affine point k·P (P affine), for k of any sign.
func multiple(k *big.Int, p *secp256k1.JacobianPoint) secp256k1.JacobianPoint {
	var out secp256k1.JacobianPoint
	secp256k1.ScalarMultNonConst(scalarOf(k), p, &out)
	out.ToAffine()
	return out
}

// checkColumns compares every entry of a table with the multiple it
// stands for, computed by the library: entry m of n rows is Σ ±2^(19j)
// over the rows, + where bit j of m is set, and + for the top row; the
// rows past combTeeth are those of λ.
func checkColumns(t *testing.T, name string, pts []curve.G1Affine, rows int, p *secp256k1.JacobianPoint) {
	t.Helper()
	for m := range pts {
		k := new(big.Int)
		for j := range rows {
			d := new(big.Int).Lsh(big.NewInt(1), uint(j%combTeeth*combSpacing))
			if j >= combTeeth {
				d.Mul(d, glvLambda)
			}
			if j == rows-1 || m>>j&1 == 1 {
				k.Add(k, d)
			} else {
				k.Sub(k, d)
			}
		}
		want := multiple(k, p)
		if w := pointOf(&want); !pts[m].Equal(&w) {
			t.Fatalf("%s: entry %d is %v, want %v", name, m, &pts[m], &w)
		}
	}
}

func TestCombTablesHoldTheirColumns(t *testing.T) {
	var g secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(scalarOf(big.NewInt(1)), &g)
	g.ToAffine()
	base := baseOf()
	checkColumns(t, "G's table", base.pts[:], 2*combTeeth, &g)
	if gp := pointOf(&g); !base.g.Equal(&gp) {
		t.Fatal("G's table keeps another point as G")
	}
	r := rand.New(rand.NewPCG(13, 13))
	for i := range 3 {
		var q secp256k1.JacobianPoint
		testKey(t, r).PublicKey().k.AsJacobian(&q)
		tab := newKeyTable(&q)
		checkColumns(t, fmt.Sprintf("key %d", i), tab.pts[:], combTeeth, &q)
		if qp := pointOf(&q); !tab.q.Equal(&qp) {
			t.Fatalf("key %d: the table keeps another point as Q", i)
		}
	}
}

func TestKeyTableMultipliesAsTheLibrary(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	ks := []*secp256k1.ModNScalar{new(secp256k1.ModNScalar)} // zero too
	for _, e := range edgeScalars() {
		ks = append(ks, scalarOf(e))
	}
	for i := range 40 {
		pub := testKey(t, r).PublicKey()
		var q secp256k1.JacobianPoint
		pub.k.AsJacobian(&q)
		tab := newKeyTable(&q)
		pairs := [][2]*secp256k1.ModNScalar{}
		for _, k := range ks {
			pairs = append(pairs, [2]*secp256k1.ModNScalar{k, randomScalar(r)}, [2]*secp256k1.ModNScalar{randomScalar(r), k})
		}
		pairs = append(pairs, [2]*secp256k1.ModNScalar{ks[i%len(ks)], ks[(i*7+3)%len(ks)]})
		for range 50 {
			pairs = append(pairs, [2]*secp256k1.ModNScalar{randomScalar(r), randomScalar(r)})
		}
		for _, u := range pairs {
			var got curve.G1Jac
			var want, u1G, u2Q secp256k1.JacobianPoint
			tab.mulAdd(u[0], u[1], &got)
			secp256k1.ScalarBaseMultNonConst(u[0], &u1G)
			secp256k1.ScalarMultNonConst(u[1], &q, &u2Q)
			secp256k1.AddNonConst(&u1G, &u2Q, &want)
			if got.Z.IsZero() != (want.Z.IsZero() || want.X.IsZero() && want.Y.IsZero()) {
				t.Fatalf("key %d, u1 = %v, u2 = %v: combs and library disagree on the point at infinity", i, u[0], u[1])
			}
			if got.Z.IsZero() {
				continue
			}
			want.ToAffine()
			var ga curve.G1Affine
			ga.FromJacobian(&got)
			if wa := pointOf(&want); !ga.Equal(&wa) {
				t.Fatalf("key %d, u1 = %v, u2 = %v: combs give %v, library %v", i, u[0], u[1], &ga, &wa)
			}
		}
	}
	// u1·G + u2·Q at infinity: Q = G with u2 = -u1.
	var g secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(scalarOf(big.NewInt(1)), &g)
	g.ToAffine()
	tab := newKeyTable(&g)
	for _, k := range ks[1:] {
		var got curve.G1Jac
		tab.mulAdd(k, new(secp256k1.ModNScalar).NegateVal(k), &got)
		if !got.Z.IsZero() {
			t.Fatalf("u1 = %v: u1·G - u1·G is not the point at infinity", k)
		}
	}
}

func TestKeyTableVerifiesAsTheLibrary(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	var accepted, refused int
	for i := range 150 {
		key := testKey(t, r)
		other := testKey(t, r)
		var q secp256k1.JacobianPoint
		key.PublicKey().k.AsJacobian(&q)
		tab := newKeyTable(&q)
		msg := []byte(fmt.Sprintf("transfer %d", i))
		h := sha256.Sum256(msg)
		sig := key.Sign(msg)
		var rs, ss, or, os secp256k1.ModNScalar
		rs.SetByteSlice(sig[:32])
		ss.SetByteSlice(sig[32:])
		osig := other.Sign(msg)
		or.SetByteSlice(osig[:32])
		os.SetByteSlice(osig[32:])
		bad := h
		bad[i%32] ^= 1 << (i % 8)
		zero := new(secp256k1.ModNScalar)
		type verifyCase struct {
			name string
			hash []byte
			r, s *secp256k1.ModNScalar
		}
		cases := []verifyCase{
			{"valid", h[:], &rs, &ss},
			{"other hash", bad[:], &rs, &ss},
			{"other key's signature", h[:], &or, &os},
			{"s negated", h[:], &rs, new(secp256k1.ModNScalar).NegateVal(&ss)},
			{"r + 1", h[:], new(secp256k1.ModNScalar).Add2(&rs, scalarOf(big.NewInt(1))), &ss},
			{"random r and s", h[:], randomScalar(r), randomScalar(r)},
			{"r zero", h[:], zero, &ss},
			{"s zero", h[:], &rs, zero},
		}
		for _, c := range cases {
			want := ecdsa.NewSignature(c.r, c.s).Verify(c.hash, key.PublicKey().k)
			if got := tab.verify(c.hash, c.r, c.s); got != want {
				t.Fatalf("key %d, %s: table says %v, library %v", i, c.name, got, want)
			}
			if want {
				accepted++
			} else {
				refused++
			}
		}
	}
	// Valid signatures and their negated-s twins verify (ECDSA itself has
	// no low-S rule; Verify adds it): both answers must have been seen.
	if accepted < 300 || refused < 600 {
		t.Fatalf("accepted %d, refused %d: the cases did not cover both answers", accepted, refused)
	}
}

// parsedKey returns a random private key and its public key as a node
// parses it from a transaction, with no table yet.
func parsedKey(t *testing.T, seed uint64) (*PrivateKey, *PublicKey) {
	t.Helper()
	key := testKey(t, rand.New(rand.NewPCG(seed, seed)))
	pub, err := ParseCompressedPublicKey(key.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return key, pub
}

func TestPublicKeyBuildsItsTableAtTheSecondCheck(t *testing.T) {
	key, pub := parsedKey(t, 11)
	msg := []byte("pay")
	sig := key.Sign(msg)
	forged := append([]byte(nil), sig...)
	forged[5] ^= 1
	if err := pub.Verify(msg, sig); err != nil || HasTable(pub) {
		t.Fatalf("first check: err %v, table built %v; want nil, false", err, HasTable(pub))
	}
	if err := pub.Verify(msg, forged); err == nil || !HasTable(pub) {
		t.Fatalf("second check (forged): err %v, table built %v; want an error and a table", err, HasTable(pub))
	}
	for range 3 {
		if err := pub.Verify(msg, sig); err != nil {
			t.Fatalf("with its table: %v", err)
		}
		if err := pub.Verify(msg, forged); err == nil {
			t.Fatal("with its table, a forged signature verifies")
		}
	}
}

func TestPublicKeyVerifiesConcurrently(t *testing.T) {
	key, pub := parsedKey(t, 12)
	msgs := make([][]byte, 8)
	sigs := make([][]byte, 8)
	for i := range msgs {
		msgs[i] = []byte{byte(i)}
		sigs[i] = key.Sign(msgs[i])
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for j := range 8 {
				m := (g + j) % 8
				if err := pub.Verify(msgs[m], sigs[m]); err != nil {
					errs <- fmt.Errorf("goroutine %d, message %d: %w", g, m, err)
				}
				if err := pub.Verify(msgs[m], sigs[(m+1)%8]); err == nil {
					errs <- fmt.Errorf("goroutine %d: message %d verified with another's signature", g, m)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !HasTable(pub) {
		t.Fatal("no table after 128 checks")
	}
}

// FuzzKeyTableVerify compares the table's answer with the library's for
// any key, hash and (r, s).
func FuzzKeyTableVerify(f *testing.F) {
	f.Add(uint64(1), []byte("msg"), []byte{1}, []byte{2}, true)
	f.Add(uint64(2), []byte{}, []byte{0xff, 0xff}, []byte{0x80}, false)
	f.Fuzz(func(t *testing.T, seed uint64, msg, rb, sb []byte, sign bool) {
		key := testKey(t, rand.New(rand.NewPCG(seed, 0)))
		h := sha256.Sum256(msg)
		var r, s secp256k1.ModNScalar
		if sign {
			sig := key.Sign(msg)
			r.SetByteSlice(sig[:32])
			s.SetByteSlice(sig[32:])
		}
		if len(rb) > 0 {
			r.SetByteSlice(rb[:min(len(rb), 32)])
		}
		if len(sb) > 0 {
			s.SetByteSlice(sb[:min(len(sb), 32)])
		}
		var q secp256k1.JacobianPoint
		key.PublicKey().k.AsJacobian(&q)
		want := ecdsa.NewSignature(&r, &s).Verify(h[:], key.PublicKey().k)
		if got := newKeyTable(&q).verify(h[:], &r, &s); got != want {
			t.Fatalf("table says %v, library %v", got, want)
		}
	})
}

func BenchmarkVerifyLibrary(b *testing.B) {
	key := testKey(b, rand.New(rand.NewPCG(1, 1)))
	pub := key.PublicKey()
	msg := []byte("transfer")
	sig := key.Sign(msg)
	h := sha256.Sum256(msg)
	var r, s secp256k1.ModNScalar
	r.SetByteSlice(sig[:32])
	s.SetByteSlice(sig[32:])
	for b.Loop() {
		if !ecdsa.NewSignature(&r, &s).Verify(h[:], pub.k) {
			b.Fatal("refused")
		}
	}
}

// BenchmarkVerifyWithTable is PublicKey.Verify of a key that has built
// its table, as a cached sender's key has.
func BenchmarkVerifyWithTable(b *testing.B) {
	key := testKey(b, rand.New(rand.NewPCG(1, 1)))
	pub := WithTable(key.PublicKey())
	msg := []byte("transfer")
	sig := key.Sign(msg)
	for b.Loop() {
		if err := pub.Verify(msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyManySenders is BenchmarkVerifyWithTable over 400 keys
// in turn, as a node at 2,000 tx/s from 400 senders checks them: their
// tables (1.6 MB) and G's (512 KB) no longer fit in the processor's
// nearest caches, so a check also waits on the memory its points come
// from.
func BenchmarkVerifyManySenders(b *testing.B) {
	const senders = 400
	r := rand.New(rand.NewPCG(2, 2))
	keys := make([]*PublicKey, senders)
	sigs := make([][]byte, senders)
	msg := []byte("transfer")
	for i := range keys {
		key := testKey(b, r)
		keys[i] = WithTable(key.PublicKey())
		sigs[i] = key.Sign(msg)
	}
	i := 0
	for b.Loop() {
		if err := keys[i].Verify(msg, sigs[i]); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % senders
	}
}

func BenchmarkKeyTableBuild(b *testing.B) {
	pub := testKey(b, rand.New(rand.NewPCG(1, 1))).PublicKey()
	var q secp256k1.JacobianPoint
	pub.k.AsJacobian(&q)
	for b.Loop() {
		newKeyTable(&q)
	}
}

// BenchmarkBaseCombBuild is G's table, built once a process.
func BenchmarkBaseCombBuild(b *testing.B) {
	for b.Loop() {
		newBaseComb()
	}
}

func TestPublicKeyBuildsOneTableUnderConcurrentChecks(t *testing.T) {
	for round := range 20 {
		key, pub := parsedKey(t, uint64(100+round))
		msg := []byte("pay")
		sig := key.Sign(msg)
		if err := pub.Verify(msg, sig); err != nil { // the first check
			t.Fatal(err)
		}
		before := tablesBuilt.Load()
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Go(func() {
				<-start
				if err := pub.Verify(msg, sig); err != nil {
					errs <- err
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := tablesBuilt.Load() - before; n != 1 || !HasTable(pub) {
			t.Fatalf("round %d: 16 checks side by side built %d tables (has one: %v), want 1", round, n, HasTable(pub))
		}
	}
}
