package crypto_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/citychain/citychain/chain/crypto"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// testKey derives a fixed key from a label, so failures are reproducible.
func testKey(t testing.TB, label string) *crypto.PrivateKey {
	t.Helper()
	seed := sha256.Sum256([]byte(label))
	k, err := crypto.PrivateKeyFromBytes(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// scalar32 writes n as a 32-byte big-endian number.
func scalar32(n *big.Int) []byte { return n.FillBytes(make([]byte, 32)) }

// withS returns a copy of sig whose s half is replaced by s.
func withS(sig, s []byte) []byte {
	out := append([]byte(nil), sig[:32]...)
	return append(out, s...)
}

// withR returns a copy of sig whose r half is replaced by r.
func withR(sig, r []byte) []byte {
	out := append([]byte(nil), r...)
	return append(out, sig[32:]...)
}

func TestSignVerifyRoundTrip(t *testing.T) {
	key := testKey(t, "alice")
	pub := key.PublicKey()
	for _, msg := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("city"), 1000)} {
		sig := key.Sign(msg)
		if len(sig) != crypto.SignatureSize {
			t.Fatalf("signature is %d bytes, want %d", len(sig), crypto.SignatureSize)
		}
		if err := pub.Verify(msg, sig); err != nil {
			t.Fatalf("Verify(own signature over %d bytes) = %v", len(msg), err)
		}
	}
}

func TestSignIsDeterministicAndLowS(t *testing.T) {
	key := testKey(t, "bob")
	half := new(big.Int).Rsh(secp256k1.Params().N, 1)
	for i := range 64 {
		msg := []byte(fmt.Sprintf("message %d", i))
		a, b := key.Sign(msg), key.Sign(msg)
		if !bytes.Equal(a, b) {
			t.Fatalf("two signatures over %q differ", msg)
		}
		if new(big.Int).SetBytes(a[32:]).Cmp(half) > 0 {
			t.Fatalf("signature over %q has high S", msg)
		}
	}
}

// TestSignKnownAnswers checks RFC 6979 nonces against signatures that
// other secp256k1 libraries publish for the same keys and messages
// (SHA-256, s normalised to the low half).
func TestSignKnownAnswers(t *testing.T) {
	tests := []struct {
		key, msg, sig string
	}{
		{
			"0000000000000000000000000000000000000000000000000000000000000001", "Satoshi Nakamoto",
			"934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8" +
				"2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5",
		},
		{
			"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "Satoshi Nakamoto",
			"fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d0" +
				"6b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5",
		},
		{
			"f8b8af8ce3c7cca5e300d33939540c10d45ce001b8f252bfbc57ba0342904181", "Alan Turing",
			"7063ae83e7f62bbb171798131b4a0564b956930092b33b07b395615d9ec7e15c" +
				"58dfcc1e00a35e1572f366ffe34ba0fc47db1e7189759b9fb233c5b05ab388ea",
		},
	}
	for _, tc := range tests {
		key, err := crypto.PrivateKeyFromHex(tc.key)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(key.Sign([]byte(tc.msg))); got != tc.sig {
			t.Errorf("Sign(%q) with key %s...\n got %s\nwant %s", tc.msg, tc.key[:8], got, tc.sig)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	key := testKey(t, "carol")
	pub := key.PublicKey()
	msg := []byte("pay 10 to dave")
	sig := key.Sign(msg)

	n := secp256k1.Params().N
	half := new(big.Int).Rsh(n, 1)
	s := new(big.Int).SetBytes(sig[32:])
	flipped := func(i int) []byte {
		out := append([]byte(nil), sig...)
		out[i] ^= 0x01
		return out
	}
	allOnes := bytes.Repeat([]byte{0xff}, 32)

	tests := []struct {
		name string
		msg  []byte
		sig  []byte
		want error
	}{
		{"flipped byte in r", msg, flipped(5), crypto.ErrBadSignature},
		{"flipped byte in s", msg, flipped(40), crypto.ErrBadSignature},
		{"other message", []byte("pay 11 to dave"), sig, crypto.ErrBadSignature},
		{"high S (N - s)", msg, withS(sig, scalar32(new(big.Int).Sub(n, s))), crypto.ErrHighS},
		// N/2 is the largest s that passes the low-S rule, so this is only
		// a bad signature; one more is the smallest high S.
		{"s = N/2", msg, withS(sig, scalar32(half)), crypto.ErrBadSignature},
		{"s = N/2 + 1", msg, withS(sig, scalar32(new(big.Int).Add(half, big.NewInt(1)))), crypto.ErrHighS},
		{"r = 0", msg, withR(sig, make([]byte, 32)), crypto.ErrMalformedSignature},
		{"s = 0", msg, withS(sig, make([]byte, 32)), crypto.ErrMalformedSignature},
		{"r = N", msg, withR(sig, scalar32(n)), crypto.ErrMalformedSignature},
		{"s = N", msg, withS(sig, scalar32(n)), crypto.ErrMalformedSignature},
		{"s = N + 1", msg, withS(sig, scalar32(new(big.Int).Add(n, big.NewInt(1)))), crypto.ErrMalformedSignature},
		{"s = 2^256 - 1", msg, withS(sig, allOnes), crypto.ErrMalformedSignature},
		{"empty", msg, nil, crypto.ErrMalformedSignature},
		{"63 bytes", msg, sig[:63], crypto.ErrMalformedSignature},
		{"65 bytes", msg, append(append([]byte(nil), sig...), 0), crypto.ErrMalformedSignature},
		{"DER form", msg, append([]byte{0x30, 0x44, 0x02, 0x20}, sig...), crypto.ErrMalformedSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pub.Verify(tc.msg, tc.sig)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}

	t.Run("other key", func(t *testing.T) {
		err := testKey(t, "mallory").PublicKey().Verify(msg, sig)
		if !errors.Is(err, crypto.ErrBadSignature) {
			t.Fatalf("Verify under another key = %v, want ErrBadSignature", err)
		}
	})
}

func TestPrivateKeyParsing(t *testing.T) {
	n := secp256k1.Params().N
	tests := []struct {
		name string
		hex  string
		ok   bool
	}{
		{"one", "0000000000000000000000000000000000000000000000000000000000000001", true},
		{"N - 1", hex.EncodeToString(scalar32(new(big.Int).Sub(n, big.NewInt(1)))), true},
		{"zero", "0000000000000000000000000000000000000000000000000000000000000000", false},
		{"N", hex.EncodeToString(scalar32(n)), false},
		{"all ones", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", false},
		{"31 bytes", "00000000000000000000000000000000000000000000000000000000000001", false},
		{"33 bytes", "000000000000000000000000000000000000000000000000000000000000000001", false},
		{"not hex", "zz", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := crypto.PrivateKeyFromHex(tc.hex)
			if tc.ok {
				if err != nil {
					t.Fatalf("PrivateKeyFromHex = %v", err)
				}
				if got := hex.EncodeToString(k.Bytes()); got != tc.hex {
					t.Fatalf("Bytes = %s, want %s", got, tc.hex)
				}
				return
			}
			if !errors.Is(err, crypto.ErrMalformedPrivateKey) {
				t.Fatalf("PrivateKeyFromHex = %v, want ErrMalformedPrivateKey", err)
			}
		})
	}
}

func TestPublicKeyParsing(t *testing.T) {
	pub := testKey(t, "erin").PublicKey()
	compressed := pub.Bytes()
	if len(compressed) != crypto.PublicKeySize || (compressed[0] != 2 && compressed[0] != 3) {
		t.Fatalf("Bytes() = %x, want a 33-byte compressed point", compressed)
	}
	back, err := crypto.ParseCompressedPublicKey(compressed)
	if err != nil || !back.Equal(pub) {
		t.Fatalf("round trip: %v", err)
	}
	if pub.Equal(nil) || pub.Equal(testKey(t, "frank").PublicKey()) {
		t.Fatal("Equal says yes to a different key")
	}

	// The uncompressed form of the same point, for PublicKeyFromBytes.
	var pk *secp256k1.PublicKey
	if pk, err = secp256k1.ParsePubKey(compressed); err != nil {
		t.Fatal(err)
	}
	uncompressed := pk.SerializeUncompressed()
	if k, err := crypto.PublicKeyFromBytes(uncompressed); err != nil || !k.Equal(pub) {
		t.Fatalf("PublicKeyFromBytes(uncompressed) = %v", err)
	}

	notOnCurve := append([]byte{0x02}, bytes.Repeat([]byte{0}, 31)...)
	notOnCurve = append(notOnCurve, 5) // x = 5 has no y on secp256k1
	badPrefix := append([]byte{0x05}, compressed[1:]...)
	tests := []struct {
		name string
		b    []byte
	}{
		{"uncompressed form", uncompressed},
		{"empty", nil},
		{"32 bytes", compressed[1:]},
		{"bad prefix", badPrefix},
		{"x not on curve", notOnCurve},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := crypto.ParseCompressedPublicKey(tc.b); !errors.Is(err, crypto.ErrMalformedPublicKey) {
				t.Fatalf("ParseCompressedPublicKey = %v, want ErrMalformedPublicKey", err)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two generated keys are equal")
	}
	if err := a.PublicKey().Verify([]byte("m"), a.Sign([]byte("m"))); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkVerify(b *testing.B) {
	key := testKey(b, "bench")
	pub, msg := key.PublicKey(), []byte("benchmark message")
	sig := key.Sign(msg)
	for b.Loop() {
		if err := pub.Verify(msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// Example signs a message and checks the signature, then shows what the
// verifier says about the same signature over different bytes.
func Example() {
	key, err := crypto.PrivateKeyFromHex("0000000000000000000000000000000000000000000000000000000000000001")
	if err != nil {
		panic(err)
	}
	msg := []byte("Satoshi Nakamoto")
	sig := key.Sign(msg) // RFC 6979: the same key and message give the same bytes

	fmt.Println("public key:", hex.EncodeToString(key.PublicKey().Bytes()))
	fmt.Println("signature: ", hex.EncodeToString(sig[:8]), "...", len(sig), "bytes")
	fmt.Println("verify:    ", key.PublicKey().Verify(msg, sig))
	fmt.Println("tampered:  ", key.PublicKey().Verify([]byte("Satoshi Nakamoto!"), sig))
	// Output:
	// public key: 0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798
	// signature:  934b1ea10a4b3c17 ... 64 bytes
	// verify:     <nil>
	// tampered:   signature does not verify
}
