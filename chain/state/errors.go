package state

import "errors"

// Error kinds of package state. Callers compare with errors.Is; the
// messages are wrapped with the context in which they arise.
var (
	// ErrMissingNode means a node or value that the tree references is not
	// in the store: the root is unknown, or the store lost data, or an
	// Update's writes were never persisted.
	ErrMissingNode = errors.New("missing tree node")
	// ErrCorruptNode means the store returned bytes that are not a valid
	// node or value for the hash they were stored under.
	ErrCorruptNode = errors.New("corrupt tree node")
	// ErrDuplicateKey means one Update batch names the same key twice.
	ErrDuplicateKey = errors.New("duplicate key in batch")
	// ErrInvalidProof means a proof does not show the claimed key and value
	// (or absence) under the given root, or is malformed.
	ErrInvalidProof = errors.New("invalid proof")
)
