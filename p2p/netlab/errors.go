package netlab

import "errors"

// Error kinds of package netlab. Callers compare with errors.Is.
var (
	// ErrUnavailable means this machine or user cannot make a Lab: not
	// Linux, no `ip` binary, no /dev/net/tun, or no permission to make
	// network namespaces. Check wraps it with the reason; tests skip on it.
	ErrUnavailable = errors.New("network namespaces unavailable")
	// ErrClosed means the switch or lab has been closed.
	ErrClosed = errors.New("netlab closed")
	// ErrNotInLab means an address belongs to no host of the lab.
	ErrNotInLab = errors.New("address is not a lab host")
)
