package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// proofTree builds a tree of n keys "key-0".."key-(n-1)" with value
// "value-i" and returns it with its root.
func proofTree(t testing.TB, n int) (*Tree, Hash) {
	t.Helper()
	s := newMemStore()
	tr := NewTree(Config{Store: s})
	var cs []Change
	for i := range n {
		cs = append(cs, Change{Key: fmt.Appendf(nil, "key-%d", i), Value: fmt.Appendf(nil, "value-%d", i)})
	}
	return tr, mustUpdate(t, tr, s, EmptyRoot, cs)
}

// TestProveAndVerify proves every key of a tree, and as many absent ones,
// and checks both kinds of absence (empty subtree, other leaf) occur.
func TestProveAndVerify(t *testing.T) {
	tr, root := proofTree(t, 300)
	for i := range 300 {
		key, value := fmt.Appendf(nil, "key-%d", i), fmt.Appendf(nil, "value-%d", i)
		p, err := tr.Prove(root, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyProof(root, key, value, p); err != nil {
			t.Fatalf("inclusion of %s: %v", key, err)
		}
		if err := VerifyProof(root, key, nil, p); !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("absence of present %s accepted: %v", key, err)
		}
	}
	var endsEmpty, endsLeaf int
	for i := range 300 {
		key := fmt.Appendf(nil, "absent-%d", i)
		p, err := tr.Prove(root, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyProof(root, key, nil, p); err != nil {
			t.Fatalf("absence of %s: %v", key, err)
		}
		if err := VerifyProof(root, key, []byte("x"), p); !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("inclusion of absent %s accepted: %v", key, err)
		}
		if p.Leaf == nil {
			endsEmpty++
		} else {
			endsLeaf++
		}
	}
	if endsEmpty == 0 || endsLeaf == 0 {
		t.Fatalf("absence proofs ending empty %d, at a leaf %d; want both", endsEmpty, endsLeaf)
	}
}

func TestProofSmallTrees(t *testing.T) {
	tests := []struct {
		name     string
		changes  []Change
		key      string
		value    string // "" proves absence
		siblings int
	}{
		{"empty tree, absence", nil, "a", "", 0},
		{"one key, inclusion", []Change{kv("a", "1")}, "a", "1", 0},
		{"one key, absence at its leaf", []Change{kv("a", "1")}, "b", "", 0},
		{"two keys, inclusion", []Change{kv("a", "1"), kv("b", "2")}, "b", "2", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newMemStore()
			tr := NewTree(Config{Store: s})
			root := mustUpdate(t, tr, s, EmptyRoot, tc.changes)
			p, err := tr.Prove(root, []byte(tc.key))
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Siblings) != tc.siblings {
				t.Errorf("%d siblings, want %d", len(p.Siblings), tc.siblings)
			}
			if err := VerifyProof(root, []byte(tc.key), []byte(tc.value), p); err != nil {
				t.Errorf("VerifyProof: %v", err)
			}
		})
	}
}

// TestTamperedProofs changes one thing about a valid proof or its claim
// at a time; every case must be rejected with ErrInvalidProof.
func TestTamperedProofs(t *testing.T) {
	tr, root := proofTree(t, 300)
	otherTr, otherRoot := proofTree(t, 301)
	key, value := []byte("key-17"), []byte("value-17")
	absent := []byte("absent-3")

	incl, err := tr.Prove(root, key)
	if err != nil {
		t.Fatal(err)
	}
	// An absence proof that ends at another key's leaf, for the cases
	// that tamper with that leaf.
	var absLeaf *Proof
	var absKey []byte
	for i := 0; absLeaf == nil; i++ {
		k := fmt.Appendf(nil, "absent-%d", i)
		p, err := tr.Prove(root, k)
		if err != nil {
			t.Fatal(err)
		}
		if p.Leaf != nil && len(p.Siblings) > 0 {
			absLeaf, absKey = p, k
		}
	}
	otherIncl, err := otherTr.Prove(otherRoot, key)
	if err != nil {
		t.Fatal(err)
	}

	clone := func(p *Proof) *Proof {
		c := &Proof{Siblings: append([]Hash(nil), p.Siblings...)}
		if p.Leaf != nil {
			l := *p.Leaf
			c.Leaf = &l
		}
		return c
	}
	tests := []struct {
		name  string
		root  Hash
		key   []byte
		value []byte
		proof *Proof
	}{
		{"flipped sibling byte", root, key, value, func() *Proof {
			p := clone(incl)
			p.Siblings[len(p.Siblings)/2][5] ^= 0x40
			return p
		}()},
		{"wrong value", root, key, []byte("value-18"), incl},
		{"wrong key", root, []byte("key-18"), value, incl},
		{"truncated siblings", root, key, value, func() *Proof {
			p := clone(incl)
			p.Siblings = p.Siblings[:len(p.Siblings)-1]
			return p
		}()},
		{"root sibling dropped", root, key, value, func() *Proof {
			p := clone(incl)
			p.Siblings = p.Siblings[1:]
			return p
		}()},
		{"extra sibling", root, key, value, func() *Proof {
			p := clone(incl)
			p.Siblings = append(p.Siblings, Hash{1})
			return p
		}()},
		{"proof for another root", root, key, value, otherIncl},
		{"right proof, other root", otherRoot, key, value, incl},
		{"empty root", EmptyRoot, key, value, incl},
		{"leaf value hash changed", root, key, value, func() *Proof {
			p := clone(incl)
			p.Leaf.ValueHash[0] ^= 1
			return p
		}()},
		{"inclusion without leaf", root, key, value, func() *Proof {
			p := clone(incl)
			p.Leaf = nil
			return p
		}()},
		{"absence: leaf removed", root, absKey, nil, func() *Proof {
			p := clone(absLeaf)
			p.Leaf = nil
			return p
		}()},
		{"absence: leaf path changed", root, absKey, nil, func() *Proof {
			p := clone(absLeaf)
			p.Leaf.Path[31] ^= 1
			return p
		}()},
		{"absence proof of another key", root, absent, nil, absLeaf},
		{"nil proof", root, key, value, nil},
		{"nil proof, absence", EmptyRoot, key, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyProof(tc.root, tc.key, tc.value, tc.proof)
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("err = %v, want ErrInvalidProof", err)
			}
		})
	}
	// Sanity: the untampered proofs pass.
	if err := VerifyProof(root, key, value, incl); err != nil {
		t.Fatal(err)
	}
	if err := VerifyProof(root, absKey, nil, absLeaf); err != nil {
		t.Fatal(err)
	}
}

// TestMalformedProofs feeds proofs no honest tree can produce; they must
// fail cleanly, never panic.
func TestMalformedProofs(t *testing.T) {
	key := []byte("k")
	path := PathOf(key)
	many := func(n int) []Hash { return make([]Hash, n) }
	// A leaf that agrees with path on its first bits only.
	offPath := path
	offPath[0] ^= 0x80

	tests := []struct {
		name  string
		value []byte
		proof *Proof
	}{
		{"257 siblings", nil, &Proof{Siblings: many(257)}},
		{"10000 siblings", []byte("v"), &Proof{Siblings: many(10000), Leaf: &ProofLeaf{Path: path}}},
		{"256 empty siblings", nil, &Proof{Siblings: many(256)}},
		{"256 siblings with leaf", []byte("v"), &Proof{Siblings: many(256), Leaf: &ProofLeaf{Path: path}}},
		{"absence leaf off the path", nil, &Proof{Siblings: []Hash{{1}}, Leaf: &ProofLeaf{Path: offPath}}},
		{"last sibling empty", nil, &Proof{Siblings: []Hash{{1}, {}}}},
		{"zero-value leaf", []byte("v"), &Proof{Leaf: &ProofLeaf{}}},
		{"empty proof for inclusion", []byte("v"), &Proof{}},
	}
	root := Hash{9}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := VerifyProof(root, key, tc.value, tc.proof); !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("err = %v, want ErrInvalidProof", err)
			}
		})
	}
}

// TestNonCanonicalProofs builds proofs whose hashes do chain up to the
// root they are checked against, but which describe a tree that Update
// never builds. Only the canonical checks in VerifyProof stop them.
func TestNonCanonicalProofs(t *testing.T) {
	key, value := []byte("k"), []byte("v")
	path := PathOf(key)
	offPath := path
	offPath[0] ^= 0x80 // differs from path at bit 0
	other := PathOf([]byte("some other key"))

	tests := []struct {
		name  string
		value []byte
		proof *Proof
	}{
		{"absence at a leaf off the path", nil,
			&Proof{Siblings: []Hash{{1}}, Leaf: &ProofLeaf{Path: offPath, ValueHash: Hash{2}}}},
		{"inclusion leaf beside an empty sibling", value,
			&Proof{Siblings: []Hash{{1}, EmptyRoot}, Leaf: &ProofLeaf{Path: path, ValueHash: PathOf(value)}}},
		{"absence at empty beside an empty sibling", nil,
			&Proof{Siblings: []Hash{{1}, EmptyRoot}}},
		{"absence at a leaf beside an empty sibling", nil,
			&Proof{Siblings: []Hash{EmptyRoot}, Leaf: &ProofLeaf{Path: withBit0(other, bit(&path, 0)), ValueHash: Hash{3}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := foldRoot(path, tc.proof)
			if err := VerifyProof(root, key, tc.value, tc.proof); !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("err = %v, want ErrInvalidProof", err)
			}
		})
	}
}

// withBit0 returns h with its first path bit set to b.
func withBit0(h Hash, b byte) Hash {
	h[0] = h[0]&0x7f | b<<7
	return h
}

// foldRoot hashes a proof up to a root without any of VerifyProof's
// checks, to forge roots that match malformed proofs.
func foldRoot(path Hash, p *Proof) Hash {
	var h Hash
	if p.Leaf != nil {
		h = leafNode(p.Leaf.Path, p.Leaf.ValueHash).hash()
	}
	for d := len(p.Siblings) - 1; d >= 0; d-- {
		if bit(&path, d) == 0 {
			h = innerNode(h, p.Siblings[d]).hash()
		} else {
			h = innerNode(p.Siblings[d], h).hash()
		}
	}
	return h
}

// TestProofEncodings round-trips proofs through JSON and CBOR, and pins
// the JSON field names and hex form that clients rely on.
func TestProofEncodings(t *testing.T) {
	tr, root := proofTree(t, 50)
	for _, k := range []string{"key-3", "absent-1", "absent-2"} {
		p, err := tr.Prove(root, []byte(k))
		if err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var fromJSON Proof
		if err := json.Unmarshal(js, &fromJSON); err != nil {
			t.Fatalf("unmarshal %s: %v", js, err)
		}
		cb, err := cbor.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var fromCBOR Proof
		if err := cbor.Unmarshal(cb, &fromCBOR); err != nil {
			t.Fatal(err)
		}
		for name, got := range map[string]*Proof{"json": &fromJSON, "cbor": &fromCBOR} {
			if !proofsEqual(p, got) {
				t.Errorf("%s round trip of %s changed the proof", name, k)
			}
		}
	}

	p := &Proof{Siblings: []Hash{{0xab}}, Leaf: &ProofLeaf{Path: Hash{0x01}, ValueHash: Hash{0xff}}}
	js, _ := json.Marshal(p)
	z := "00000000000000000000000000000000000000000000000000000000000000"
	want := `{"siblings":["ab` + z + `"],"leaf":{"path":"01` + z + `","value_hash":"ff` + z + `"}}`
	if string(js) != want {
		t.Errorf("JSON\n got %s\nwant %s", js, want)
	}
	if js, _ := json.Marshal(&Proof{}); string(js) != `{"siblings":[]}` {
		t.Errorf("empty proof JSON = %s", js)
	}
	for _, bad := range []string{
		`{"siblings":["ab"]}`,
		`{"siblings":["` + z + `zz"]}`,
		`{"siblings":[],"leaf":{"path":"01"}}`,
		`{"siblings":3}`,
	} {
		var q Proof
		if err := json.Unmarshal([]byte(bad), &q); err == nil {
			t.Errorf("unmarshal %s: no error", bad)
		}
	}
}

func proofsEqual(a, b *Proof) bool {
	if len(a.Siblings) != len(b.Siblings) || (a.Leaf == nil) != (b.Leaf == nil) {
		return false
	}
	for i := range a.Siblings {
		if a.Siblings[i] != b.Siblings[i] {
			return false
		}
	}
	return a.Leaf == nil || *a.Leaf == *b.Leaf
}

// FuzzVerifyProof feeds arbitrary keys, values and JSON proofs to
// VerifyProof against a known tree. It must never panic, and it must be
// sound: whatever it accepts must agree with what the tree holds.
func FuzzVerifyProof(f *testing.F) {
	tr, root := proofTree(f, 40)
	for _, k := range []string{"key-1", "key-39", "absent-0", "absent-7"} {
		p, err := tr.Prove(root, []byte(k))
		if err != nil {
			f.Fatal(err)
		}
		js, _ := json.Marshal(p)
		v, _, _ := tr.Get(root, []byte(k))
		f.Add([]byte(k), v, js)
		f.Add([]byte(k), []byte("forged"), js)
	}
	f.Add([]byte("k"), []byte(nil), []byte(`{"siblings":[]}`))
	f.Add([]byte(""), []byte("v"), []byte(`{"siblings":[],"leaf":{"path":"`+fmt.Sprintf("%x", PathOf(nil))+`","value_hash":"`+fmt.Sprintf("%x", PathOf([]byte("v")))+`"}}`))
	f.Add([]byte("k"), []byte("v"), []byte(`{"siblings":null,"leaf":null}`))

	f.Fuzz(func(t *testing.T, key, value, proofJSON []byte) {
		var p Proof
		if err := json.Unmarshal(proofJSON, &p); err != nil {
			return
		}
		err := VerifyProof(root, key, value, &p)
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("error not ErrInvalidProof: %v", err)
			}
		} else {
			got, found, gerr := tr.Get(root, key)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if found != (len(value) > 0) || !bytes.Equal(got, value) && len(value) > 0 {
				t.Fatalf("accepted %q for %q, tree holds %q (found %v)", value, key, got, found)
			}
		}
		// Other roots, including the empty one, must not panic either.
		_ = VerifyProof(EmptyRoot, key, value, &p)
		_ = VerifyProof(PathOf(proofJSON), key, value, &p)
	})
}
