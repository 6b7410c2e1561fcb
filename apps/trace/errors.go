package trace

import (
	"errors"
	"fmt"

	"github.com/citychain/citychain/chain"
)

// Error kinds of the trace module. Every error a payload causes also wraps
// chain.ErrBadPayload (refused at the door with a 400) and every refused
// permission wraps chain.ErrUnauthorized, so callers can test either the
// chain-wide kind or the precise one with errors.Is.
var (
	// ErrBadIdentifier means a value is not a well-formed EPC URI, GS1
	// Digital Link URI or SGLN.
	ErrBadIdentifier = errors.New("malformed identifier")
	// ErrUnknownWord means a bare word is not in the CBV 2.0 vocabulary
	// of its field.
	ErrUnknownWord = errors.New("unknown vocabulary word")
	// ErrMissingField means a field the standard requires is absent.
	ErrMissingField = errors.New("missing required field")
	// ErrBadValue means a field is present but its value has the wrong
	// type or shape (a number that is not a decimal, a malformed time).
	ErrBadValue = errors.New("bad value")
	// ErrNotParticipant means the sender is not a registered participant.
	ErrNotParticipant = errors.New("not a trace participant")
	// ErrDuplicate means an eventID or an event hash is already on chain,
	// or an event was already declared erroneous.
	ErrDuplicate = errors.New("already recorded")
	// ErrUnsupported means a value the standards allow that this module
	// does not take; the error names the feature and the standard's
	// section that defines it.
	ErrUnsupported = errors.New("not supported by this module")
)

// unsupported is an error of kind ErrUnsupported whose text is only its
// explanation, so that fieldError can put the kind in front of it.
type unsupported string

func (u unsupported) Error() string        { return string(u) }
func (u unsupported) Is(target error) bool { return target == ErrUnsupported }

// kindOf is the error kind a parse error of an identifier or location
// reports: ErrUnsupported when it says so, else ErrBadIdentifier.
func kindOf(err error) error {
	if errors.Is(err, ErrUnsupported) {
		return ErrUnsupported
	}
	return ErrBadIdentifier
}

// fieldError reports a bad payload at a field path such as
// "events[2].epcList[0]". kind is one of the errors above.
func fieldError(path string, kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %w: %s", chain.ErrBadPayload, path, kind, fmt.Sprintf(format, args...))
}

// denied reports a permission the sender lacks, at a field path.
func denied(path string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", chain.ErrUnauthorized, path, fmt.Sprintf(format, args...))
}
