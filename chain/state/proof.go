package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Proof shows that a key has a given value, or no value, under a root.
//
// The walk from the root towards the key's path stops at the first
// subtree that is empty or a single leaf. Siblings lists, root first, the
// hash of the other child at each internal node passed, so
// len(Siblings) is the depth where the walk stopped. Leaf is the leaf it
// stopped at, or nil if it stopped at an empty subtree. A verifier
// rebuilds the root from the bottom: it hashes the terminal node, then
// joins it with each sibling on the side that the path bit chooses.
//
// The JSON form uses snake_case names and lowercase hex for every hash;
// the CBOR form uses the same names and byte strings.
type Proof struct {
	Siblings []Hash     `json:"siblings" cbor:"siblings"`
	Leaf     *ProofLeaf `json:"leaf,omitempty" cbor:"leaf,omitempty"`
}

// ProofLeaf is the leaf a proof's walk ended at. For an inclusion proof
// it is the key's own leaf; for an absence proof it is the one other key
// that lives in the subtree where the key would be.
type ProofLeaf struct {
	Path      Hash `json:"path" cbor:"path"`
	ValueHash Hash `json:"value_hash" cbor:"value_hash"`
}

// Prove returns a proof of the value of key, or of its absence, in the
// tree with the given root. It fails with ErrMissingNode or ErrCorruptNode
// like Get. The value itself is not in the proof: the verifier must hold
// it (from Get or from whoever claims it) and passes it to VerifyProof.
func (t *Tree) Prove(root Hash, key []byte) (*Proof, error) {
	path := PathOf(key)
	p := &Proof{Siblings: []Hash{}}
	h := root
	for depth := 0; h != EmptyRoot; depth++ {
		n, err := t.load(h)
		if err != nil {
			return nil, fmt.Errorf("prove %x at depth %d: %w", key, depth, err)
		}
		if n.leaf {
			p.Leaf = &ProofLeaf{Path: n.a, ValueHash: n.b}
			return p, nil
		}
		if depth >= Depth {
			return nil, fmt.Errorf("prove %x: internal node %x below depth %d: %w", key, h, Depth, ErrCorruptNode)
		}
		side := bit(&path, depth)
		p.Siblings = append(p.Siblings, n.child(1-side))
		h = n.child(side)
	}
	return p, nil
}

// VerifyProof returns nil if and only if p shows that, in the tree with
// the given root, key holds value; or, when value is nil or empty, that
// key is absent. Otherwise it returns an error wrapping ErrInvalidProof.
// It needs no store and never panics, whatever p holds.
//
// Besides rebuilding the root, it checks what an honest tree guarantees,
// so that each (root, key) has exactly one valid proof:
//
//   - an inclusion proof ends at the key's own leaf with the value's hash;
//   - an absence proof ends at an empty subtree, or at a leaf of another
//     key whose path agrees with the key's path on every bit above the
//     leaf, since only such a key can occupy that subtree;
//   - the last sibling is not empty, because a leaf or empty subtree next
//     to an empty sibling would have been lifted into its parent.
func VerifyProof(root Hash, key, value []byte, p *Proof) error {
	if p == nil {
		return fmt.Errorf("%w: no proof", ErrInvalidProof)
	}
	depth := len(p.Siblings)
	if depth > Depth {
		return fmt.Errorf("%w: %d siblings, at most %d", ErrInvalidProof, depth, Depth)
	}
	path := PathOf(key)
	var h Hash // the terminal subtree; EmptyRoot unless a leaf
	switch {
	case len(value) > 0:
		if p.Leaf == nil {
			return fmt.Errorf("%w: inclusion proof ends at an empty subtree", ErrInvalidProof)
		}
		if p.Leaf.Path != path {
			return fmt.Errorf("%w: proof ends at the leaf of another key", ErrInvalidProof)
		}
		if p.Leaf.ValueHash != sha256.Sum256(value) {
			return fmt.Errorf("%w: value hash differs", ErrInvalidProof)
		}
		h = leafNode(p.Leaf.Path, p.Leaf.ValueHash).hash()
	case p.Leaf != nil:
		if p.Leaf.Path == path {
			return fmt.Errorf("%w: absence proof ends at the key's own leaf", ErrInvalidProof)
		}
		if !samePrefix(&p.Leaf.Path, &path, depth) {
			return fmt.Errorf("%w: leaf path leaves the key's path above depth %d", ErrInvalidProof, depth)
		}
		h = leafNode(p.Leaf.Path, p.Leaf.ValueHash).hash()
	}
	if depth > 0 && p.Siblings[depth-1] == EmptyRoot {
		return fmt.Errorf("%w: last sibling is empty, tree not canonical", ErrInvalidProof)
	}
	for d := depth - 1; d >= 0; d-- {
		if bit(&path, d) == 0 {
			h = innerNode(h, p.Siblings[d]).hash()
		} else {
			h = innerNode(p.Siblings[d], h).hash()
		}
	}
	if h != root {
		return fmt.Errorf("%w: rebuilt root %x, want %x", ErrInvalidProof, h, root)
	}
	return nil
}

// hexHash is the JSON form of a Hash: 64 lowercase hex characters.
type hexHash Hash

func (h hexHash) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(h[:])), nil
}

func (h *hexHash) UnmarshalText(b []byte) error {
	if len(b) != 2*len(h) {
		return fmt.Errorf("hash must be %d hex characters, got %d", 2*len(h), len(b))
	}
	if _, err := hex.Decode(h[:], b); err != nil {
		return fmt.Errorf("hash is not hex: %w", err)
	}
	return nil
}

// proofJSON and leafJSON mirror Proof and ProofLeaf with hex hashes.
type proofJSON struct {
	Siblings []hexHash  `json:"siblings"`
	Leaf     *ProofLeaf `json:"leaf,omitempty"`
}

type leafJSON struct {
	Path      hexHash `json:"path"`
	ValueHash hexHash `json:"value_hash"`
}

// MarshalJSON encodes p with every hash as hex; siblings is never null.
func (p Proof) MarshalJSON() ([]byte, error) {
	w := proofJSON{Siblings: make([]hexHash, len(p.Siblings)), Leaf: p.Leaf}
	for i, s := range p.Siblings {
		w.Siblings[i] = hexHash(s)
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes the form MarshalJSON writes. It checks only the
// shape (hex of the right length); VerifyProof judges the content.
func (p *Proof) UnmarshalJSON(b []byte) error {
	var w proofJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode proof: %w", err)
	}
	p.Siblings = make([]Hash, len(w.Siblings))
	for i, s := range w.Siblings {
		p.Siblings[i] = Hash(s)
	}
	p.Leaf = w.Leaf
	return nil
}

// MarshalJSON encodes l with both hashes as hex.
func (l ProofLeaf) MarshalJSON() ([]byte, error) {
	return json.Marshal(leafJSON{Path: hexHash(l.Path), ValueHash: hexHash(l.ValueHash)})
}

// UnmarshalJSON decodes the form MarshalJSON writes.
func (l *ProofLeaf) UnmarshalJSON(b []byte) error {
	var w leafJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode proof leaf: %w", err)
	}
	l.Path, l.ValueHash = Hash(w.Path), Hash(w.ValueHash)
	return nil
}
