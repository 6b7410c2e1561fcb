package commerce

import "errors"

// Error kinds of the commerce module. Failed transactions also use the
// chain's kinds: chain.ErrBadPayload for malformed input (the message
// names the field), chain.ErrNotFound for unknown offers and orders,
// chain.ErrUnauthorized for a sender who may not act, and
// chain.ErrInsufficientFunds when a buyer cannot pay.
var (
	// ErrIllegalTransition means an order cannot take the requested step
	// from its current status, or not by this sender. The message names
	// the current and the requested status; when the step is legal but the
	// sender's role is not, the error is also chain.ErrUnauthorized.
	ErrIllegalTransition = errors.New("illegal status transition")
	// ErrOutOfStock means an order asks for more than the offer has left.
	ErrOutOfStock = errors.New("out of stock")
	// ErrNoArbiter means a dispute was opened on a chain whose genesis
	// names no arbiter, so nobody could ever settle it.
	ErrNoArbiter = errors.New("no arbiter")
)
