package crypto_test

// Conformance against Project Wycheproof (testdata/wycheproof, Apache-2.0,
// see NOTICE there). Wycheproof collects signatures that broke real ECDSA
// libraries: out-of-range r and s, BER tricks in the DER wrapper, points
// that hit special cases of the curve arithmetic, and so on. Each vector
// says whether a correct verifier must accept ("valid") or reject
// ("invalid") it.
//
// The chain's verifier, (*PublicKey).Verify, takes a 64-byte r||s
// signature and insists on low S, so the three files are used like this:
//
//   - the Bitcoin file requires low S exactly as we do: every vector must
//     get the result the file gives;
//   - the plain DER file and the P1363 (raw r||s) file accept both s and
//     N-s. Our verifier refuses the high one on purpose, so for those files
//     we check that everything we accept is valid, that every valid vector
//     with low S is accepted, and that every valid vector with high S is
//     refused with ErrHighS and accepted once s is replaced by N-s.
//
// DER signatures are turned into r||s by a strict DER parser written
// below; a parse failure counts as a rejection, the same as a verifier
// that takes DER would give.

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/citychain/citychain/chain/crypto"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// The numbers below come from the files' own headers (numberOfTests) and
// from counting results. They are asserted so that a truncated file, a
// schema change or a parsing bug cannot make the test pass on nothing.
var wycheproofFiles = []struct {
	name       string
	der        bool // signatures are DER; otherwise 64-byte r||s
	lowSOnly   bool // the file itself requires low S
	total      int
	valid      int
	invalid    int
	acceptable int
}{
	{"ecdsa_secp256k1_sha256_bitcoin_test.json", true, true, 463, 162, 301, 0},
	{"ecdsa_secp256k1_sha256_test.json", true, false, 476, 168, 308, 0},
	{"ecdsa_secp256k1_sha256_p1363_test.json", false, false, 252, 167, 85, 0},
}

type wpFile struct {
	Algorithm     string    `json:"algorithm"`
	NumberOfTests int       `json:"numberOfTests"`
	TestGroups    []wpGroup `json:"testGroups"`
}

type wpGroup struct {
	Type      string `json:"type"`
	Sha       string `json:"sha"`
	PublicKey struct {
		Curve        string  `json:"curve"`
		Uncompressed hexData `json:"uncompressed"`
	} `json:"publicKey"`
	Tests []wpTest `json:"tests"`
}

type wpTest struct {
	TcID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Flags   []string `json:"flags"`
	Msg     hexData  `json:"msg"`
	Sig     hexData  `json:"sig"`
	Result  string   `json:"result"`
}

type hexData []byte

func (h *hexData) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	if err != nil {
		return err
	}
	*h = d
	return nil
}

// verdict is what our code made of one vector.
type verdict struct {
	sig64    []byte // nil when the DER could not be turned into r||s
	parseErr error  // strict DER failure or an integer wider than 32 bytes
	err      error  // result of Verify when sig64 is set
}

func (v verdict) accepted() bool { return v.parseErr == nil && v.err == nil }

func TestWycheproof(t *testing.T) {
	for _, f := range wycheproofFiles {
		t.Run(f.name, func(t *testing.T) {
			file := loadWycheproof(t, f.name)
			if file.NumberOfTests != f.total {
				t.Fatalf("numberOfTests = %d, want %d", file.NumberOfTests, f.total)
			}
			var total, valid, invalid, acceptable, passed int
			var acceptedValid, highSValid, acceptedAcceptable int
			tabledChecks := 0
			for _, g := range file.TestGroups {
				if g.Sha != "SHA-256" || g.PublicKey.Curve != "secp256k1" {
					t.Fatalf("group uses %s over %s, want SHA-256 over secp256k1", g.Sha, g.PublicKey.Curve)
				}
				pub, err := crypto.PublicKeyFromBytes(g.PublicKey.Uncompressed)
				if err != nil {
					t.Fatalf("group public key: %v", err)
				}
				tabled, err := crypto.PublicKeyFromBytes(g.PublicKey.Uncompressed)
				if err != nil {
					t.Fatalf("group public key: %v", err)
				}
				crypto.WithTable(tabled)
				for _, tc := range g.Tests {
					total++
					// A key verifies through the library until it is used
					// again and then through its table (keytable.go): a
					// fresh key per vector takes the library's way, and
					// the group's tabled key must give the same verdict.
					fresh, err := crypto.PublicKeyFromBytes(g.PublicKey.Uncompressed)
					if err != nil {
						t.Fatalf("group public key: %v", err)
					}
					v := judge(fresh, tc.Msg, tc.Sig, f.der)
					if vt := judge(tabled, tc.Msg, tc.Sig, f.der); vt.accepted() != v.accepted() || !sameErr(vt.err, v.err) {
						t.Errorf("tcId %d: with the key's table verify says %v, without %v", tc.TcID, vt.err, v.err)
					}
					tabledChecks++
					if f.der {
						crossCheckDecred(t, pub, tc, v)
					}
					name := fmt.Sprintf("tcId %d (%s, %v)", tc.TcID, tc.Comment, tc.Flags)
					ok := true
					switch tc.Result {
					case "valid":
						valid++
						switch {
						case v.accepted():
							acceptedValid++
						case f.lowSOnly:
							ok = false
							t.Errorf("%s: valid vector rejected: parse %v, verify %v", name, v.parseErr, v.err)
						case errors.Is(v.err, crypto.ErrHighS):
							// The file allows both s and N-s; we allow only
							// the low one. Show that this is the only reason.
							highSValid++
							if err := pub.Verify(tc.Msg, negateS(v.sig64)); err != nil {
								ok = false
								t.Errorf("%s: high-S vector still fails after s -> N-s: %v", name, err)
							}
						default:
							ok = false
							t.Errorf("%s: valid vector with low S rejected: parse %v, verify %v", name, v.parseErr, v.err)
						}
					case "invalid":
						invalid++
						if v.accepted() {
							ok = false
							t.Errorf("%s: invalid vector accepted", name)
						}
					case "acceptable":
						// "acceptable" marks inputs a careful library may take
						// or refuse, such as legacy encodings or weak keys. For
						// a chain, refusing is the safe side: every node must
						// agree on validity, so we allow either outcome here but
						// count it, and expect the current files to hold none.
						acceptable++
						if v.accepted() {
							acceptedAcceptable++
						}
					default:
						t.Fatalf("%s: unknown result %q", name, tc.Result)
					}
					if ok {
						passed++
					}
				}
			}
			if total != f.total || valid != f.valid || invalid != f.invalid || acceptable != f.acceptable {
				t.Errorf("counted %d vectors (%d valid, %d invalid, %d acceptable), want %d (%d, %d, %d)",
					total, valid, invalid, acceptable, f.total, f.valid, f.invalid, f.acceptable)
			}
			if tabledChecks != total {
				t.Errorf("%d of %d vectors checked with the key's table", tabledChecks, total)
			}
			if passed != total {
				t.Errorf("%d of %d vectors passed", passed, total)
			}
			if acceptedValid+highSValid != valid {
				t.Errorf("accepted %d valid + %d high-S valid, want %d", acceptedValid, highSValid, valid)
			}
			if f.lowSOnly && highSValid != 0 {
				t.Errorf("%d high-S vectors marked valid in a low-S file", highSValid)
			}
			t.Logf("%d vectors: %d valid (%d accepted, %d refused only for high S), %d invalid, %d acceptable (%d accepted); %d passed",
				total, valid, acceptedValid, highSValid, invalid, acceptable, acceptedAcceptable, passed)
		})
	}
}

func loadWycheproof(t *testing.T, name string) *wpFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "wycheproof", name))
	if err != nil {
		t.Fatal(err)
	}
	var f wpFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if f.Algorithm != "ECDSA" {
		t.Fatalf("%s: algorithm %q", name, f.Algorithm)
	}
	return &f
}

// judge runs one vector through the project's verifier.
func judge(pub *crypto.PublicKey, msg, sig []byte, der bool) verdict {
	if !der {
		return verdict{sig64: sig, err: pub.Verify(msg, sig)}
	}
	r, s, err := parseStrictDER(sig)
	if err != nil {
		return verdict{parseErr: err}
	}
	sig64, err := toRS(r, s)
	if err != nil {
		return verdict{parseErr: err}
	}
	return verdict{sig64: sig64, err: pub.Verify(msg, sig64)}
}

// crossCheckDecred compares our strict DER parser with decred's
// ParseDERSignature. Decred also refuses r or s of zero or not below N,
// which our parser leaves to Verify; apart from that the two must agree
// on which byte strings are DER and on the numbers inside.
func crossCheckDecred(t *testing.T, pub *crypto.PublicKey, tc wpTest, v verdict) {
	t.Helper()
	dsig, derr := ecdsa.ParseDERSignature(tc.Sig)
	switch {
	case derr == nil && v.sig64 == nil:
		t.Errorf("tcId %d: decred parses the DER, we refuse it: %v", tc.TcID, v.parseErr)
	case derr == nil:
		var want [64]byte
		r, s := dsig.R(), dsig.S()
		r.PutBytesUnchecked(want[:32])
		s.PutBytesUnchecked(want[32:])
		if string(want[:]) != string(v.sig64) {
			t.Errorf("tcId %d: decred reads r||s %x, we read %x", tc.TcID, want, v.sig64)
		}
	case v.sig64 != nil && !errors.Is(v.err, crypto.ErrMalformedSignature):
		t.Errorf("tcId %d: decred refuses the DER (%v), we parse it and Verify says %v", tc.TcID, derr, v.err)
	}
}

// sameErr reports whether two results of Verify are the same: both nil,
// or the same sentinel error.
func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	for _, e := range []error{crypto.ErrMalformedSignature, crypto.ErrHighS, crypto.ErrBadSignature} {
		if errors.Is(a, e) != errors.Is(b, e) {
			return false
		}
	}
	return true
}

// negateS returns a copy of sig with s replaced by N-s.
func negateS(sig []byte) []byte {
	out := append([]byte(nil), sig...)
	var s secp256k1.ModNScalar
	s.SetByteSlice(out[32:])
	s.Negate()
	s.PutBytesUnchecked(out[32:])
	return out
}

// parseStrictDER reads SEQUENCE { INTEGER r, INTEGER s } under the
// distinguished encoding rules and returns the integers' content bytes.
// DER leaves exactly one way to write each value, so this refuses what
// BER would let through: long-form or padded lengths, indefinite length,
// negative integers, superfluous leading zero bytes, and any byte after
// the structure. Those are exactly the tricks Wycheproof tries.
func parseStrictDER(der []byte) (r, s []byte, err error) {
	seq, rest, err := readTLV(der, 0x30)
	if err != nil {
		return nil, nil, fmt.Errorf("sequence: %w", err)
	}
	if len(rest) != 0 {
		return nil, nil, errors.New("trailing bytes after the sequence")
	}
	if r, seq, err = readInteger(seq); err != nil {
		return nil, nil, fmt.Errorf("r: %w", err)
	}
	if s, seq, err = readInteger(seq); err != nil {
		return nil, nil, fmt.Errorf("s: %w", err)
	}
	if len(seq) != 0 {
		return nil, nil, errors.New("extra bytes inside the sequence")
	}
	return r, s, nil
}

// readTLV reads one tag-length-value item with the given tag.
func readTLV(b []byte, tag byte) (content, rest []byte, err error) {
	if len(b) < 2 {
		return nil, nil, errors.New("truncated header")
	}
	if b[0] != tag {
		return nil, nil, fmt.Errorf("tag %#x, want %#x", b[0], tag)
	}
	n, b := int(b[1]), b[2:]
	if n >= 0x80 {
		// Long form: the low bits give how many length bytes follow. DER
		// allows it only when the short form cannot hold the length.
		k := n & 0x7f
		if k == 0 {
			return nil, nil, errors.New("indefinite length")
		}
		if k > 2 || k > len(b) {
			return nil, nil, errors.New("length of length out of range")
		}
		if b[0] == 0 {
			return nil, nil, errors.New("length has a leading zero byte")
		}
		n = 0
		for _, c := range b[:k] {
			n = n<<8 | int(c)
		}
		if n < 0x80 {
			return nil, nil, errors.New("long-form length for a short value")
		}
		b = b[k:]
	}
	if n > len(b) {
		return nil, nil, errors.New("length runs past the end")
	}
	return b[:n], b[n:], nil
}

// readInteger reads a DER INTEGER that must be non-negative.
func readInteger(b []byte) (v, rest []byte, err error) {
	v, rest, err = readTLV(b, 0x02)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case len(v) == 0:
		return nil, nil, errors.New("empty integer")
	case v[0]&0x80 != 0:
		return nil, nil, errors.New("negative integer")
	case len(v) > 1 && v[0] == 0 && v[1]&0x80 == 0:
		return nil, nil, errors.New("integer has a superfluous leading zero")
	}
	return v, rest, nil
}

// toRS packs two DER integers into the 64-byte r||s form. A value wider
// than 32 bytes is at least 2^256, above N, and has no r||s form at all.
func toRS(r, s []byte) ([]byte, error) {
	out := make([]byte, crypto.SignatureSize)
	for i, v := range [][]byte{r, s} {
		if len(v) > 1 && v[0] == 0 {
			v = v[1:] // the sign byte DER adds before a high bit
		}
		if len(v) > 32 {
			return nil, fmt.Errorf("integer of %d bytes does not fit in 32", len(v))
		}
		copy(out[32*i+32-len(v):32*i+32], v)
	}
	return out, nil
}

// TestStrictDER pins the parser on hand-made cases, so the conformance
// result above does not rest on an untested helper.
func TestStrictDER(t *testing.T) {
	tests := []struct {
		name string
		der  string
		ok   bool
	}{
		{"minimal", "3006020101020102", true},
		{"high bit needs zero byte", "30080202008002020080", true},
		{"zero value", "3006020100020100", true},
		{"missing zero byte", "3006020180020101", false},
		{"superfluous zero byte", "300802020001020101", false},
		{"long-form sequence length", "308106020101020101", false},
		{"long-form integer length", "30070281010102010102", false},
		{"indefinite length", "3080020101020101 0000", false},
		{"trailing byte", "300602010102010100", false},
		{"extra integer", "3009020101020101020101", false},
		{"wrong outer tag", "3106020101020101", false},
		{"wrong inner tag", "3006030101020101", false},
		{"empty integer", "30050200020101", false},
		{"length past end", "3007020101020101", false},
		{"truncated", "30", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			der := mustHex(t, tc.der)
			_, _, err := parseStrictDER(der)
			if (err == nil) != tc.ok {
				t.Fatalf("parseStrictDER(%s) error = %v, want ok=%v", tc.der, err, tc.ok)
			}
		})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			clean = append(clean, s[i])
		}
	}
	b, err := hex.DecodeString(string(clean))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
