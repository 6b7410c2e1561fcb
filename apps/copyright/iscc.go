package copyright

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"
	"strings"

	"lukechampine.com/blake3"
)

// An ISCC unit (ISO 24138, International Standard Content Code) is a
// short header and a digest, written in base32 after "ISCC:". The header
// is four 4-bit values: main type, subtype, version and length (in
// 32-bit steps, 0 meaning 32 bits). The registry uses the Instance-Code,
// which identifies a work exactly, and the Data-Code (cdc.go, minhash.go),
// whose few differing bits say that two files are alike; README.md,
// "Fingerprints", tells the whole story. iscc_test.go checks both against
// every conformance vector of iscc-core, the reference implementation.

// MainType is the first header value of an ISCC unit.
type MainType uint8

// The main types of ISO 24138 whose length field counts 32-bit steps.
// Only Data and Instance are produced here; the others parse.
const (
	MainMeta     MainType = 0
	MainSemantic MainType = 1
	MainContent  MainType = 2
	MainData     MainType = 3
	MainInstance MainType = 4
)

var mainTypeNames = [...]string{"META", "SEMANTIC", "CONTENT", "DATA", "INSTANCE"}

func (m MainType) String() string {
	if int(m) < len(mainTypeNames) {
		return mainTypeNames[m]
	}
	return fmt.Sprintf("MainType(%d)", uint8(m))
}

// DataCodeBits is the length of the Data-Codes the registry stores and
// compares; InstanceCodeBits the length of the Instance-Codes that
// identify works (the whole BLAKE3 digest, so an ID never collides).
const (
	DataCodeBits     = 64
	InstanceCodeBits = 256
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Code is one decoded ISCC unit of version 0. Data- and Instance-Codes
// have subtype 0 only; Semantic- and Content-Codes name their kind of
// media in it (ContentSubtypes).
type Code struct {
	Type    MainType
	Subtype uint8
	Digest  []byte // 4 to 32 bytes, a multiple of 4
}

// ContentSubtypes names the subtypes of Semantic- and Content-Codes
// (ISO 24138): the kind of media the code was computed from.
var ContentSubtypes = [...]string{"TEXT", "IMAGE", "AUDIO", "VIDEO", "MIXED"}

// maxSubtype is the largest subtype a unit of each main type may have.
var maxSubtype = [...]byte{MainMeta: 0, MainSemantic: 4, MainContent: 4, MainData: 0, MainInstance: 0}

// NewCode returns the unit of type t over digest. It fails when the
// digest length is not 32 to 256 bits in 32-bit steps.
func NewCode(t MainType, digest []byte) (Code, error) {
	if len(digest) < 4 || len(digest) > 32 || len(digest)%4 != 0 {
		return Code{}, fmt.Errorf("%w: a %s-Code digest has 4 to 32 bytes in steps of 4, got %d", ErrBadCode, t, len(digest))
	}
	return Code{Type: t, Digest: append([]byte(nil), digest...)}, nil
}

// Kind names the unit's main type and, for Semantic- and Content-Codes,
// its subtype: "DATA", "CONTENT-IMAGE".
func (c Code) Kind() string {
	if (c.Type == MainSemantic || c.Type == MainContent) && int(c.Subtype) < len(ContentSubtypes) {
		return c.Type.String() + "-" + ContentSubtypes[c.Subtype]
	}
	return c.Type.String()
}

// Bits returns the digest length in bits.
func (c Code) Bits() int { return 8 * len(c.Digest) }

// String returns the canonical form "ISCC:" + upper-case base32.
func (c Code) String() string {
	// Each header value fits in one nibble (0xxx): main type, subtype 0,
	// version 0, and length in 32-bit steps minus one.
	header := []byte{byte(c.Type)<<4 | c.Subtype&0xf, byte(len(c.Digest)/4 - 1)}
	return "ISCC:" + b32.EncodeToString(append(header, c.Digest...))
}

// ParseCode decodes an ISCC unit. It accepts any letter case, with or
// without the "ISCC:" prefix, and fails with ErrBadCode on anything but
// the canonical encoding of a version-0 unit with one-nibble header
// values and a subtype its main type has.
func ParseCode(s string) (Code, error) {
	body := strings.ToUpper(strings.TrimSpace(s))
	body = strings.TrimPrefix(body, "ISCC:")
	raw, err := b32.DecodeString(body)
	if err != nil {
		return Code{}, fmt.Errorf("%w: %q is not base32: %v", ErrBadCode, s, err)
	}
	if len(raw) < 2 {
		return Code{}, fmt.Errorf("%w: %q is too short", ErrBadCode, s)
	}
	mt, st, ver, ln := raw[0]>>4, raw[0]&0xf, raw[1]>>4, raw[1]&0xf
	if mt > byte(MainInstance) || ln > 7 {
		return Code{}, fmt.Errorf("%w: %q has main type %d, length %d: not a Meta, Semantic, Content, Data or Instance unit", ErrBadCode, s, mt, ln)
	}
	if ver != 0 {
		return Code{}, fmt.Errorf("%w: %q has version %d; want 0", ErrBadCode, s, ver)
	}
	if st > maxSubtype[mt] {
		return Code{}, fmt.Errorf("%w: %q is a %s unit with subtype %d; it has subtypes 0 to %d", ErrBadCode, s, MainType(mt), st, maxSubtype[mt])
	}
	c := Code{Type: MainType(mt), Subtype: st, Digest: raw[2:]}
	if want := 4 * (int(ln) + 1); len(c.Digest) != want {
		return Code{}, fmt.Errorf("%w: %q says %d bits but holds %d", ErrBadCode, s, 8*want, c.Bits())
	}
	if c.String() != "ISCC:"+body {
		return Code{}, fmt.Errorf("%w: %q is not in canonical base32", ErrBadCode, s)
	}
	return c, nil
}

// InstanceCode reads r to the end and returns its 256-bit ISCC
// Instance-Code and the BLAKE3 digest (32 bytes). A shorter code of the
// same file is the same digest cut short: NewCode(MainInstance, d[:8]).
func InstanceCode(r io.Reader) (string, []byte, error) {
	h := blake3.New(32, nil)
	if _, err := io.Copy(h, r); err != nil {
		return "", nil, err
	}
	d := h.Sum(nil)
	return WorkID(d).String(), d, nil
}

// DataCode reads r to the end and returns its ISCC Data-Code of the given
// length (64, 128, 192 or 256 bits; any multiple of 32 up to 256) and
// the code's digest.
func DataCode(r io.Reader, bits int) (string, []byte, error) {
	if bits < 32 || bits > 256 || bits%32 != 0 {
		return "", nil, fmt.Errorf("%w: Data-Code length %d bits: want a multiple of 32 up to 256", ErrBadCode, bits)
	}
	h := &dataHasher{}
	if _, err := io.Copy(h, r); err != nil {
		return "", nil, err
	}
	d := h.Sum()[:bits/8]
	return Code{Type: MainData, Digest: d}.String(), d, nil
}

// Sum returns the 256-bit Data-Code digest. An empty stream counts as
// one empty chunk, as in the reference.
func (h *dataHasher) Sum() []byte {
	h.cut(0)
	if len(h.features) == 0 {
		h.features = append(h.features, xxh32(nil))
	}
	return compressMinhash(minhash(h.features), 4)
}

// DataHash returns the multihash form of a BLAKE3 digest ("1e20" + hex),
// the "datahash" field of ISCC metadata.
func DataHash(blake3Digest []byte) string { return "1e20" + hex.EncodeToString(blake3Digest) }

// Fingerprints are everything the registry needs to know about a file,
// computed on the client in one pass.
type Fingerprints struct {
	SHA256       string `json:"sha256"`
	InstanceCode string `json:"instance_code"` // 256 bits
	DataCode     string `json:"data_code"`     // 64 bits
	DataHash     string `json:"datahash"`
	Size         uint64 `json:"size"`
}

// Fingerprint reads r to the end and computes its SHA-256, Instance-Code
// and 64-bit Data-Code.
func Fingerprint(r io.Reader) (*Fingerprints, error) {
	s, b, d := sha256.New(), blake3.New(32, nil), &dataHasher{}
	n, err := io.Copy(io.MultiWriter(s, b, d), r)
	if err != nil {
		return nil, err
	}
	bd := b.Sum(nil)
	data := Code{Type: MainData, Digest: d.Sum()[:DataCodeBits/8]}
	return &Fingerprints{SHA256: hex.EncodeToString(s.Sum(nil)), InstanceCode: WorkID(bd).String(),
		DataCode: data.String(), DataHash: DataHash(bd), Size: uint64(n)}, nil
}

// Hamming returns the number of bits in which a and b differ.
func Hamming(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// dataBits returns a 64-bit Data-Code's digest as an integer, first byte
// most significant, so that bit i of the code is bit 63-i of the number.
func dataBits(c Code) uint64 { return binary.BigEndian.Uint64(c.Digest) }
