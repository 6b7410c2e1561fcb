package city

import "errors"

// Error kinds of the city module. Each failed transaction also carries
// one of the chain's kinds, so the node answers with the right status:
// chain.ErrBadPayload for malformed or out-of-model input (the message
// names the field, e.g. "readings[1].body.values.occupancy"),
// chain.ErrUnauthorized when the sender is not a city operator,
// chain.ErrNotFound for unknown devices and commands.
var (
	// ErrUnknownDevice means no device is registered under the id.
	ErrUnknownDevice = errors.New("unknown device")
	// ErrDuplicate means a device with the id is already registered.
	ErrDuplicate = errors.New("device already registered")
	// ErrBadSignature means a reading or acknowledgement is not signed by
	// the device's registered key.
	ErrBadSignature = errors.New("device signature does not verify")
	// ErrOutOfRange means a value is well-formed but outside the device
	// model: a number beyond its range, a word not in its enumeration.
	ErrOutOfRange = errors.New("value outside the model")
	// ErrStale means a reading's sequence number is not above the last
	// one accepted from the device: a replay, or a device reset.
	ErrStale = errors.New("stale reading")
	// ErrNotPending means a command was already acknowledged.
	ErrNotPending = errors.New("command not pending")
)
