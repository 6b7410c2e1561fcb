package copyright

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// conformance is the part of iscc-core's data.json that this module
// implements.
type conformance struct {
	Instance map[string]vector `json:"gen_instance_code_v0"`
	Data     map[string]vector `json:"gen_data_code_v0"`
}

type vector struct {
	Inputs  []json.RawMessage `json:"inputs"`
	Outputs struct {
		ISCC     string `json:"iscc"`
		DataHash string `json:"datahash"`
		FileSize *int64 `json:"filesize"`
	} `json:"outputs"`
}

// stream decodes a vector's first input, "stream:<hex>", and its bit
// length.
func (v vector) stream(t *testing.T) ([]byte, int) {
	t.Helper()
	if len(v.Inputs) != 2 {
		t.Fatalf("inputs = %s, want [stream, bits]", v.Inputs)
	}
	var s string
	var bits int
	if err := json.Unmarshal(v.Inputs[0], &s); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(v.Inputs[1], &bits); err != nil {
		t.Fatal(err)
	}
	hexData, ok := strings.CutPrefix(s, "stream:")
	if !ok {
		t.Fatalf("input %q is not a stream", s)
	}
	data, err := hex.DecodeString(hexData)
	if err != nil {
		t.Fatal(err)
	}
	return data, bits
}

// vectorFiles are the copies of the conformance data: the one kept with
// the module, and the shared one beside the repository when present.
func vectorFiles(t *testing.T) []string {
	files := []string{filepath.Join("testdata", "iscc_core_conformance_data.json")}
	extra := filepath.Join("..", "..", "..", "shared", "testdata", "iscc", "iscc_core_conformance_data.json")
	if _, err := os.Stat(extra); err == nil {
		files = append(files, extra)
	} else {
		t.Logf("no shared copy at %s; checking the module's copy only", extra)
	}
	return files
}

// copyName names a copy of the vectors in subtest names.
func copyName(path string) string {
	if strings.HasPrefix(path, "testdata") {
		return "module"
	}
	return "shared"
}

func loadConformance(t *testing.T, path string) conformance {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c conformance
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(c.Instance) == 0 || len(c.Data) == 0 {
		t.Fatalf("%s: no instance or data vectors", path)
	}
	return c
}

func TestInstanceCodeConformance(t *testing.T) {
	for _, file := range vectorFiles(t) {
		c := loadConformance(t, file)
		passed := 0
		for name, v := range c.Instance {
			t.Run(copyName(file)+"/"+name, func(t *testing.T) {
				data, bits := v.stream(t)
				_, digest, err := InstanceCode(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				code, err := NewCode(MainInstance, digest[:bits/8])
				if err != nil {
					t.Fatal(err)
				}
				if got := code.String(); got != v.Outputs.ISCC {
					t.Errorf("iscc = %s, want %s", got, v.Outputs.ISCC)
				}
				if got := DataHash(digest); got != v.Outputs.DataHash {
					t.Errorf("datahash = %s, want %s", got, v.Outputs.DataHash)
				}
				fp, err := Fingerprint(iotest.OneByteReader(bytes.NewReader(data)))
				if err != nil {
					t.Fatal(err)
				}
				if v.Outputs.FileSize == nil || fp.Size != uint64(*v.Outputs.FileSize) || fp.DataHash != v.Outputs.DataHash {
					t.Errorf("fingerprint size %d datahash %s, want %v %s", fp.Size, fp.DataHash, v.Outputs.FileSize, v.Outputs.DataHash)
				}
				if !t.Failed() {
					passed++
				}
			})
		}
		t.Logf("%s: %d of %d Instance-Code vectors pass", file, passed, len(c.Instance))
		if passed != len(c.Instance) {
			t.Errorf("%s: %d Instance-Code vectors failed", file, len(c.Instance)-passed)
		}
	}
}

func TestDataCodeConformance(t *testing.T) {
	for _, file := range vectorFiles(t) {
		c := loadConformance(t, file)
		passed := 0
		for name, v := range c.Data {
			t.Run(copyName(file)+"/"+name, func(t *testing.T) {
				data, bits := v.stream(t)
				got, digest, err := DataCode(bytes.NewReader(data), bits)
				if err != nil {
					t.Fatal(err)
				}
				if got != v.Outputs.ISCC {
					t.Errorf("iscc = %s, want %s", got, v.Outputs.ISCC)
				}
				if len(digest) != bits/8 {
					t.Errorf("digest has %d bytes, want %d", len(digest), bits/8)
				}
				// The same bytes in one-byte reads give the same code.
				again, _, err := DataCode(iotest.OneByteReader(bytes.NewReader(data)), bits)
				if err != nil || again != got {
					t.Errorf("one byte at a time: %s, %v; want %s", again, err, got)
				}
				if !t.Failed() {
					passed++
				}
			})
		}
		t.Logf("%s: %d of %d Data-Code vectors pass", file, passed, len(c.Data))
		if passed != len(c.Data) {
			t.Errorf("%s: %d Data-Code vectors failed", file, len(c.Data)-passed)
		}
	}
}

// pseudoFile returns n bytes that look random, the same on every run.
func pseudoFile(seed string, n int) []byte {
	out := make([]byte, 0, n+32)
	for i := 0; len(out) < n; i++ {
		h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(seed), uint64(i)))
		out = append(out, h[:]...)
	}
	return out[:n]
}

// wholeBufferChunks cuts data the simple way, all of it in memory; the
// streaming chunker must cut at the same places however it is fed.
func wholeBufferChunks(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := cutPoint(data)
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

func TestChunkerCutsTheSameHoweverFed(t *testing.T) {
	data := pseudoFile("chunks", 200_000)
	want := wholeBufferChunks(data)
	for _, piece := range []int{1, 7, 1000, 8192, 8193, 65536, len(data)} {
		var h dataHasher
		for rest := data; len(rest) > 0; {
			n := min(piece, len(rest))
			h.Write(rest[:n])
			rest = rest[n:]
		}
		h.cut(0)
		if len(h.features) != len(want) {
			t.Fatalf("pieces of %d: %d chunks, want %d", piece, len(h.features), len(want))
		}
		for i, f := range h.features {
			if f != xxh32(want[i]) {
				t.Fatalf("pieces of %d: chunk %d differs", piece, i)
			}
		}
	}
	for i, ch := range want[:len(want)-1] {
		if len(ch) < cdcMinSize || len(ch) > cdcMaxSize {
			t.Errorf("chunk %d has %d bytes, outside [%d, %d]", i, len(ch), cdcMinSize, cdcMaxSize)
		}
	}
	if avg := len(data) / len(want); avg < 600 || avg > 2000 {
		t.Errorf("average chunk %d bytes, expected near 1024", avg)
	}
}

func TestDataCodeSeesNearDuplicates(t *testing.T) {
	original := pseudoFile("novel", 100_000)
	edited := append(append([]byte("A new preface. "), original[:50_000]...), original[50_100:]...)
	other := pseudoFile("another novel", 100_000)
	code := func(b []byte) uint64 {
		_, d, err := DataCode(bytes.NewReader(b), 64)
		if err != nil {
			t.Fatal(err)
		}
		return binary.BigEndian.Uint64(d)
	}
	near, far := Hamming(code(original), code(edited)), Hamming(code(original), code(other))
	if near > 8 || far < 16 {
		t.Errorf("distance to an edited copy %d, to another file %d: want small and large", near, far)
	}
}

func TestXXH32(t *testing.T) {
	// The first four are the values published with xxHash and its Python
	// binding; the rest were computed with the reference C library
	// (libxxhash 0.8.1, XXH32 with seed 0) over the bytes 0, 1, 2, ...
	cases := []struct {
		in   string
		want uint32
	}{
		{"", 0x02cc5d05},
		{"a", 0x550d7456},
		{"abc", 0x32d153ff},
		{"Nobody inspects the spammish repetition", 0xe2293b2f},
	}
	for _, tc := range cases {
		if got := xxh32([]byte(tc.in)); got != tc.want {
			t.Errorf("xxh32(%q) = %#08x, want %#08x", tc.in, got, tc.want)
		}
	}
	seq := make([]byte, 256)
	for i := range seq {
		seq[i] = byte(i)
	}
	prefixes := []struct {
		n    int
		want uint32
	}{
		{1, 0xcf65b03e}, {3, 0x663e9a55}, {4, 0x80691e66}, {15, 0x57c01ece}, {16, 0xb72837f4},
		{17, 0x7c77adc2}, {31, 0xef24f709}, {32, 0x830741c1}, {63, 0x4c80747b}, {64, 0x31120435},
		{100, 0x7f89ba44}, {255, 0xb4d58730}, {256, 0x59441253},
	}
	for _, tc := range prefixes {
		if got := xxh32(seq[:tc.n]); got != tc.want {
			t.Errorf("xxh32(0..%d) = %#08x, want %#08x", tc.n-1, got, tc.want)
		}
	}
}

func TestParseCode(t *testing.T) {
	good := []string{"ISCC:IAA26E2JXH27TING", "iscc:iaa26e2jxh27ting", "GAAXL2XYM5BQIAZ3",
		"ISCC:IAD66JNRTSKU5FLU2L7POWZNQTYKDOYQRGQJLJ24E5DWM7MPWYAPH7Q"}
	for _, s := range good {
		c, err := ParseCode(s)
		if err != nil {
			t.Errorf("ParseCode(%q): %v", s, err)
			continue
		}
		if again, err := ParseCode(c.String()); err != nil || again.String() != c.String() {
			t.Errorf("round trip of %q: %v", s, err)
		}
	}
	bad := map[string]string{
		"empty":              "",
		"not base32":         "ISCC:IAA26E2JXH27TIN1",
		"header only":        "ISCC:IAAA",
		"length mismatch":    "ISCC:IAB26E2JXH27TING",
		"Instance subtype 1": "ISCC:IEA26E2JXH27TING",
		"Content subtype 5":  "ISCC:EUA26E2JXH27TING",
		"version 2":          "ISCC:IAQ26E2JXH27TING",
		"composite ISCC":     "ISCC:KACYPXW445FTYNJ3CYSXHAFJMA2HUWULUNRFE3BLHRSCXYH2M5AEGQY",
		"non-canonical end":  "ISCC:IABS2OW637YRWYPRJSEG4NNPUA3HH",
	}
	for name, s := range bad {
		if _, err := ParseCode(s); !errors.Is(err, ErrBadCode) {
			t.Errorf("%s: ParseCode(%q) = %v, want ErrBadCode", name, s, err)
		}
	}
}

// A Content-Code of an image (subtype 1) is a valid unit: a work ID
// given as one is refused as "not an Instance-Code", with its kind, not
// as malformed.
func TestAContentCodeWithASubtypeIsValidButNotAWorkID(t *testing.T) {
	digest := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	want := Code{Type: MainContent, Subtype: 1, Digest: digest}
	c, err := ParseCode(want.String())
	if err != nil || c.Subtype != 1 || c.Kind() != "CONTENT-IMAGE" || c.String() != want.String() {
		t.Fatalf("ParseCode(%s) = %+v, %v", want, c, err)
	}
	if !strings.HasPrefix(want.String(), "ISCC:EE") {
		t.Errorf("header of a 64-bit image Content-Code: %s, want ISCC:EE...", want)
	}
	_, err = ParseWorkID(want.String())
	if err == nil || !strings.Contains(err.Error(), "64-bit CONTENT-IMAGE code; a work is named by its 256-bit Instance-Code") {
		t.Errorf("ParseWorkID of a Content-Code: %v", err)
	}
}

func TestFingerprintAgreesWithTheSeparateFunctions(t *testing.T) {
	data := pseudoFile("fp", 30_000)
	fp, err := Fingerprint(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	inst, _, _ := InstanceCode(bytes.NewReader(data))
	dc, _, _ := DataCode(bytes.NewReader(data), 64)
	sum := sha256.Sum256(data)
	if fp.InstanceCode != inst || fp.DataCode != dc || fp.SHA256 != hex.EncodeToString(sum[:]) || fp.Size != 30_000 {
		t.Errorf("fingerprint %+v, want %s %s", fp, inst, dc)
	}
	if _, _, err := DataCode(iotest.ErrReader(io.ErrUnexpectedEOF), 64); err == nil {
		t.Error("a read error was swallowed")
	}
}

// TestConstantTablesAreIntact pins the copied constants. The conformance
// vectors catch most copying errors but not all: a changed low bit in a
// gear entry rarely moves a cut. The gear digest was computed from the
// table of ronomon/deduplication (binding.cc), which iscc-core's
// cdc_gear reproduces, independently of this file; the minhash digest
// only guards against later edits.
func TestConstantTablesAreIntact(t *testing.T) {
	g := sha256.New()
	for _, v := range cdcGear {
		g.Write(binary.BigEndian.AppendUint32(nil, v))
	}
	if got := hex.EncodeToString(g.Sum(nil)); got != "29edae1cd4b21f672fb717bfaa130531b3e1bd869dd5c38da33c27c760e3c9de" {
		t.Errorf("gear table digest %s", got)
	}
	m := sha256.New()
	for i := range minhashA {
		m.Write(binary.BigEndian.AppendUint64(nil, minhashA[i]))
		m.Write(binary.BigEndian.AppendUint64(nil, minhashB[i]))
	}
	if got := hex.EncodeToString(m.Sum(nil)); got != "4356b217c47d03ef29f724ae74b108cf259cfe48d88ac2713e0d22ff7175f7ae" {
		t.Errorf("minhash constants digest %s", got)
	}
}
