package chain

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// The remembered forms are the computed ones, in both directions, across
// a cache that fills and is emptied, from several goroutines at once;
// failed parses are never remembered.
func TestAddressCachesGiveTheComputedForms(t *testing.T) {
	n := addrCacheSize + addrCacheSize/2 // every cache empties once at least
	addrs := make([]Address, n)
	for i := range addrs {
		h := sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(i >> 16), 7})
		copy(addrs[i][:], h[:])
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pass := range 2 {
				for i := g; i < n; i += 2 { // two goroutines share each address
					a := addrs[i]
					s := a.String()
					if want := a.format(); s != want {
						errs <- fmt.Sprintf("pass %d: String of %x = %s, want %s", pass, a[:], s, want)
						return
					}
					for _, text := range []string{s, strings.ToUpper(s)} {
						got, err := ParseAddress(text)
						if err != nil || got != a {
							errs <- fmt.Sprintf("pass %d: ParseAddress(%s) = %x, %v, want %x", pass, text, got[:], err, a[:])
							return
						}
					}
					// One character off: the checksum fails, cached or not.
					bad := []byte(s)
					bad[len(bad)-1] ^= 1
					if _, err := ParseAddress(string(bad)); err == nil {
						errs <- fmt.Sprintf("pass %d: %s parsed", pass, bad)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := addrText.n.Load(); got > addrCacheSize {
		t.Errorf("the text cache counts %d entries, bound %d", got, addrCacheSize)
	}
}

// BenchmarkAddressText formats and parses one of 400 addresses, as the
// events and payloads of a block of transfers from 400 senders do: the
// caches answer. BenchmarkAddressTextUncached computes each time.
func BenchmarkAddressText(b *testing.B) {
	benchAddressText(b, func(a Address) string { return a.String() }, ParseAddress)
}

func BenchmarkAddressTextUncached(b *testing.B) {
	benchAddressText(b, Address.format, parseAddress)
}

func benchAddressText(b *testing.B, format func(Address) string, parse func(string) (Address, error)) {
	addrs := make([]Address, 400)
	for i := range addrs {
		h := sha256.Sum256([]byte{byte(i), byte(i >> 8), 9})
		copy(addrs[i][:], h[:])
	}
	i := 0
	for b.Loop() {
		a := addrs[i%len(addrs)]
		if got, err := parse(format(a)); err != nil || got != a {
			b.Fatal(got, err)
		}
		i++
	}
}
