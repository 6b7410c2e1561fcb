package state_test

import (
	"errors"
	"fmt"

	"github.com/citychain/citychain/chain/state"
)

// mapStore is the smallest Reader: a map. A node uses Badger instead.
type mapStore map[string][]byte

func (m mapStore) Get(key []byte) ([]byte, error) { return m[string(key)], nil }

func (m mapStore) save(ws []state.Write) {
	for _, w := range ws {
		m[string(w.Key)] = w.Value
	}
}

// Example shows the life of one block's state: apply changes, persist
// the writes, then prove a balance to a client that holds only the root.
func Example() {
	store := mapStore{}
	tree := state.NewTree(state.Config{Store: store})

	root, writes, err := tree.Update(state.EmptyRoot, []state.Change{
		{Key: []byte("balance/alice"), Value: []byte("100")},
		{Key: []byte("balance/bob"), Value: []byte("42")},
		{Key: []byte("balance/carol"), Value: []byte("7")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	store.save(writes) // in a node: the same batch as the block itself

	// The server proves alice's balance...
	proof, err := tree.Prove(root, []byte("balance/alice"))
	if err != nil {
		fmt.Println(err)
		return
	}
	// ...and the client checks it against the root from a block header.
	fmt.Println("alice has 100:", state.VerifyProof(root, []byte("balance/alice"), []byte("100"), proof))
	err = state.VerifyProof(root, []byte("balance/alice"), []byte("1000000"), proof)
	fmt.Println("alice has 1000000 rejected:", errors.Is(err, state.ErrInvalidProof))

	// Absence is proved the same way, with a nil value.
	proof, err = tree.Prove(root, []byte("balance/mallory"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("mallory has no balance:", state.VerifyProof(root, []byte("balance/mallory"), nil, proof))

	// Output:
	// alice has 100: <nil>
	// alice has 1000000 rejected: true
	// mallory has no balance: <nil>
}

// ExampleTree_Diff shows what one block changed: the keys whose values
// differ between the state roots before and after it.
func ExampleTree_Diff() {
	store := mapStore{}
	tree := state.NewTree(state.Config{Store: store})
	before, writes, _ := tree.Update(state.EmptyRoot, []state.Change{
		{Key: []byte("balance/alice"), Value: []byte("100")},
		{Key: []byte("balance/bob"), Value: []byte("42")},
	})
	store.save(writes)
	// The block: alice pays bob 10 and carol opens an account.
	after, writes, _ := tree.Update(before, []state.Change{
		{Key: []byte("balance/alice"), Value: []byte("90")},
		{Key: []byte("balance/bob"), Value: []byte("52")},
		{Key: []byte("balance/carol"), Value: []byte("0")},
	})
	store.save(writes)

	diffs, truncated, err := tree.Diff(before, after, 10)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range diffs {
		fmt.Printf("%s: %q -> %q\n", d.Key, d.Old, d.New)
	}
	fmt.Println("truncated:", truncated)

	// Output:
	// balance/alice: "100" -> "90"
	// balance/bob: "42" -> "52"
	// balance/carol: "" -> "0"
	// truncated: false
}
