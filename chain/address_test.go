package chain_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/citychain/citychain/chain"
)

// bech32Of encodes raw bytes under hrp with the bech32 (BIP-173) checksum,
// or with bech32m (BIP-350) when m is set.
func bech32Of(t *testing.T, hrp string, raw []byte, m bool) string {
	t.Helper()
	conv, err := bech32.ConvertBits(raw, 8, 5, true)
	if err != nil {
		t.Fatal(err)
	}
	enc := bech32.Encode
	if m {
		enc = bech32.EncodeM
	}
	s, err := enc(hrp, conv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAddressOf(t *testing.T) {
	pub := goldenKey(0).PublicKey()
	sum := sha256.Sum256(pub.Bytes())
	a := chain.AddressOf(pub)
	if !bytes.Equal(a[:], sum[:chain.AddressSize]) {
		t.Fatalf("AddressOf = %x, want the first 20 bytes of SHA-256(pubkey) %x", a, sum[:20])
	}
	if a != chain.AddressFromPubKeyBytes(pub.Bytes()) {
		t.Fatal("AddressOf and AddressFromPubKeyBytes disagree")
	}
	// Pinned, so a change of the address scheme cannot go unnoticed.
	if got, want := a.String(), "city18ytlpf5e2487cypdyhfvaa52am9uxv3cpv6sl5"; got != want {
		t.Fatalf("String = %s, want %s", got, want)
	}
}

func TestAddressRoundTrip(t *testing.T) {
	for i := range 8 {
		a := goldenAddr(i)
		s := a.String()
		if !strings.HasPrefix(s, chain.AddressPrefix+"1") {
			t.Fatalf("%s lacks the prefix %q", s, chain.AddressPrefix+"1")
		}
		back, err := chain.ParseAddress(s)
		if err != nil || back != a {
			t.Fatalf("ParseAddress(%s) = %x, %v; want %x", s, back, err, a)
		}
		// BIP-173 allows an all-uppercase form (handy in QR codes); it is
		// the same address.
		if up, err := chain.ParseAddress(strings.ToUpper(s)); err != nil || up != a {
			t.Fatalf("ParseAddress(upper) = %x, %v", up, err)
		}
	}
	var zero chain.Address
	if !zero.IsZero() || goldenAddr(0).IsZero() {
		t.Fatal("IsZero is wrong")
	}
	if back, err := chain.ParseAddress(zero.String()); err != nil || back != zero {
		t.Fatalf("zero address round trip: %v", err)
	}
}

func TestAddressJSON(t *testing.T) {
	in := struct {
		To chain.Address `json:"to"`
	}{goldenAddr(1)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"to":"` + goldenAddr(1).String() + `"}`; string(b) != want {
		t.Fatalf("JSON = %s, want %s", b, want)
	}
	out := in
	out.To = chain.Address{}
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("Unmarshal = %+v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"to":"city1nope"}`), &out); err == nil {
		t.Fatal("Unmarshal accepted a bad address")
	}
}

func TestParseAddressRejects(t *testing.T) {
	a := goldenAddr(2)
	good := a.String()
	flipLast := func(s string) string {
		b := []byte(s)
		if b[len(b)-1] == 'q' {
			b[len(b)-1] = 'p'
		} else {
			b[len(b)-1] = 'q'
		}
		return string(b)
	}
	flipData := func(s string) string {
		b := []byte(s)
		i := len(chain.AddressPrefix) + 3
		if b[i] == 'q' {
			b[i] = 'p'
		} else {
			b[i] = 'q'
		}
		return string(b)
	}
	tests := []struct {
		name string
		s    string
	}{
		{"empty", ""},
		{"bad checksum", flipLast(good)},
		{"changed data character", flipData(good)},
		{"wrong prefix", bech32Of(t, "cosmos", a[:], false)},
		{"bitcoin prefix", bech32Of(t, "bc", a[:], false)},
		{"prefix with a typo", bech32Of(t, "cty", a[:], false)},
		{"19 bytes", bech32Of(t, chain.AddressPrefix, a[:19], false)},
		{"21 bytes", bech32Of(t, chain.AddressPrefix, append(a[:], 0), false)},
		{"32 bytes", bech32Of(t, chain.AddressPrefix, make([]byte, 32), false)},
		{"bech32m checksum", bech32Of(t, chain.AddressPrefix, a[:], true)},
		{"mixed case", strings.ToUpper(good[:6]) + good[6:]},
		{"hex instead of bech32", "0x" + strings.Repeat("ab", 20)},
		{"no separator", strings.Replace(good, "1", "", 1)},
		{"space inside", good[:10] + " " + good[10:]},
		{"character outside the alphabet", good[:10] + "b" + good[11:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := chain.ParseAddress(tc.s); err == nil {
				t.Fatalf("ParseAddress(%q) = %x, want an error", tc.s, got)
			}
		})
	}
}
