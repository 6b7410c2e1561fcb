package crypto_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/citychain/citychain/chain/crypto"
)

// notOnCurve returns a compressed key whose x has no point on the curve.
func notOnCurve(t testing.TB) []byte {
	t.Helper()
	for x := byte(1); ; x++ {
		b := append([]byte{0x02}, bytes.Repeat([]byte{0}, 31)...)
		b = append(b, x)
		if _, err := crypto.ParseCompressedPublicKey(b); err != nil {
			return b
		}
	}
}

// The cache answers exactly what parsing answers, for good and bad keys,
// and keeps only the good ones.
func TestKeyCacheAnswersAsParsing(t *testing.T) {
	good := testKey(t, "alice").PublicKey().Bytes()
	uncompressed := append([]byte{0x04}, bytes.Repeat([]byte{1}, 64)...)
	xTooBig := append([]byte{0x03}, bytes.Repeat([]byte{0xff}, 32)...)
	badPrefix := append([]byte{0x05}, good[1:]...)
	cases := []struct {
		name string
		key  []byte
		ok   bool
	}{
		{"a valid compressed key", good, true},
		{"empty", nil, false},
		{"one byte short", good[:32], false},
		{"uncompressed form", uncompressed, false},
		{"x not on the curve", notOnCurve(t), false},
		{"x above the field prime", xTooBig, false},
		{"unknown prefix", badPrefix, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cache := crypto.NewKeyCache(8)
			want, wantErr := crypto.ParseCompressedPublicKey(c.key)
			for round := range 2 { // a miss, then what a hit would be
				got, err := cache.ParseCompressed(c.key)
				if (err == nil) != c.ok || (wantErr == nil) != c.ok {
					t.Fatalf("round %d: cache error %v, parse error %v, want ok=%v", round, err, wantErr, c.ok)
				}
				if !c.ok {
					if !errors.Is(err, crypto.ErrMalformedPublicKey) {
						t.Fatalf("error %v is not ErrMalformedPublicKey", err)
					}
					continue
				}
				if !got.Equal(want) || !bytes.Equal(got.Bytes(), c.key) {
					t.Fatalf("round %d: the cache gave another key", round)
				}
			}
			wantLen := 0
			if c.ok {
				wantLen = 1
			}
			if cache.Len() != wantLen {
				t.Fatalf("cache holds %d keys, want %d", cache.Len(), wantLen)
			}
		})
	}
}

// A key seen before is not parsed again: the same parsed key comes back.
// When full, the key used least recently is the one forgotten.
func TestKeyCacheKeepsRecentKeys(t *testing.T) {
	cache := crypto.NewKeyCache(2)
	a, b, c := testKey(t, "a").PublicKey().Bytes(), testKey(t, "b").PublicKey().Bytes(), testKey(t, "c").PublicKey().Bytes()
	parse := func(k []byte) *crypto.PublicKey {
		t.Helper()
		p, err := cache.ParseCompressed(k)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pa, pb := parse(a), parse(b)
	if parse(a) != pa {
		t.Fatal("a known key was parsed again")
	}
	parse(c) // full: b, used least recently, goes
	if cache.Len() != 2 {
		t.Fatalf("cache of 2 holds %d", cache.Len())
	}
	if parse(a) != pa {
		t.Fatal("a was forgotten, though used more recently than b")
	}
	if parse(b) == pb {
		t.Fatal("b was kept beyond the bound")
	}
}

// The cache holds the bytes it was given, not a slice a caller may
// change afterwards.
func TestKeyCacheCopiesTheKeyBytes(t *testing.T) {
	cache := crypto.NewKeyCache(4)
	alice, bob := testKey(t, "alice").PublicKey(), testKey(t, "bob").PublicKey()
	buf := alice.Bytes()
	if _, err := cache.ParseCompressed(buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, bob.Bytes()) // the caller reuses its buffer
	got, err := cache.ParseCompressed(buf)
	if err != nil || !got.Equal(bob) {
		t.Fatalf("after the buffer changed to bob's key the cache answered another key (%v)", err)
	}
}

func TestKeyCacheNilAndDefaultSize(t *testing.T) {
	var none *crypto.KeyCache
	k := testKey(t, "alice").PublicKey()
	got, err := none.ParseCompressed(k.Bytes())
	if err != nil || !got.Equal(k) || none.Len() != 0 {
		t.Fatalf("a nil cache must parse: %v", err)
	}
	c := crypto.NewKeyCache(0)
	for i := range 3 {
		if _, err := c.ParseCompressed(testKey(t, fmt.Sprint(i)).PublicKey().Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 3 {
		t.Fatalf("default-size cache holds %d of 3", c.Len())
	}
}

// Many goroutines parse and verify through one small cache at once (run
// with -race): every good signature verifies and every forged one fails.
func TestKeyCacheConcurrentUse(t *testing.T) {
	cache := crypto.NewKeyCache(3) // smaller than the senders: keys come and go
	type signed struct{ pub, msg, sig []byte }
	var all []signed
	for i := range 6 {
		k := testKey(t, fmt.Sprint("sender", i))
		msg := []byte(fmt.Sprint("message", i))
		all = append(all, signed{k.PublicKey().Bytes(), msg, k.Sign(msg)})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				s := all[(g+i)%len(all)]
				pub, err := cache.ParseCompressed(s.pub)
				if err != nil {
					errs <- err
					return
				}
				if err := pub.Verify(s.msg, s.sig); err != nil {
					errs <- fmt.Errorf("good signature refused: %w", err)
					return
				}
				other := all[(g+i+1)%len(all)]
				if pub.Verify(other.msg, s.sig) == nil {
					errs <- errors.New("a signature verified over another message")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// BenchmarkVerifyKnownSender checks a signature of a sender seen before:
// "parse" parses the compressed key every time, as before the cache;
// "cached" takes the parsed key from the cache. Both verify in full.
func BenchmarkVerifyKnownSender(b *testing.B) {
	key := testKey(b, "known sender")
	pubBytes, msg := key.PublicKey().Bytes(), []byte("a transfer's sign bytes")
	sig := key.Sign(msg)
	b.Run("parse", func(b *testing.B) {
		reportCPU(b)
		for b.Loop() {
			pub, err := crypto.ParseCompressedPublicKey(pubBytes)
			if err != nil {
				b.Fatal(err)
			}
			if err := pub.Verify(msg, sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		cache := crypto.NewKeyCache(crypto.DefaultKeyCacheSize)
		reportCPU(b)
		for b.Loop() {
			pub, err := cache.ParseCompressed(pubBytes)
			if err != nil {
				b.Fatal(err)
			}
			if err := pub.Verify(msg, sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse only", func(b *testing.B) {
		reportCPU(b)
		for b.Loop() {
			if _, err := crypto.ParseCompressedPublicKey(pubBytes); err != nil {
				b.Fatal(err)
			}
		}
	})
}
