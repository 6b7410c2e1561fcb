package chain

import "errors"

// Error kinds of package chain. Callers compare with errors.Is; the
// messages are wrapped with context where they arise.
var (
	// ErrDecode means bytes are not a valid encoding of the expected object.
	ErrDecode = errors.New("malformed encoding")
	// ErrNonCanonical means bytes decode but are not the canonical encoding.
	ErrNonCanonical = errors.New("non-canonical encoding")
	// ErrInvalidTx means a transaction fails its stateless checks.
	ErrInvalidTx = errors.New("invalid transaction")
	// ErrWrongChain means a transaction or vote names another chain id.
	ErrWrongChain = errors.New("wrong chain id")
	// ErrBadNonce means a transaction's nonce is not the sender's next one.
	ErrBadNonce = errors.New("bad nonce")
	// ErrUnknownApp means no registered app has the transaction's app name.
	ErrUnknownApp = errors.New("unknown app")
	// ErrUnknownAction means the app does not have the requested action.
	ErrUnknownAction = errors.New("unknown action")
	// ErrBadPayload means the payload does not decode or fails validation.
	ErrBadPayload = errors.New("bad payload")
	// ErrInsufficientFunds means an account cannot pay what a transaction asks.
	ErrInsufficientFunds = errors.New("insufficient funds")
	// ErrUnauthorized means the sender may not perform the action.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound means a queried object does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidBlock means a block fails validation against its parent,
	// the validator set or the state.
	ErrInvalidBlock = errors.New("invalid block")
	// ErrInvalidEvidence means evidence of misbehaviour is malformed, too
	// old, or does not verify against the validator set of its height.
	ErrInvalidEvidence = errors.New("invalid evidence")
	// ErrInvalidCommit means a commit certificate does not prove the block.
	ErrInvalidCommit = errors.New("invalid commit")
	// ErrRejected wraps an app's own reason for refusing a transaction in
	// CheckTx, so callers can tell it from a storage fault.
	ErrRejected = errors.New("refused by the app")
	// ErrOverflow means an integer operation would overflow.
	ErrOverflow = errors.New("integer overflow")
	// ErrWorkLimit means a transaction asked more of the state than the
	// chain's limit on the work of one transaction (ExecParams.MaxTxWork).
	ErrWorkLimit = errors.New("work limit exceeded")
)
