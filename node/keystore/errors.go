package keystore

import "errors"

// Error kinds returned by this package. Callers test them with errors.Is.
var (
	// ErrNotFound means no key file has the given name.
	ErrNotFound = errors.New("key not found")
	// ErrExists means a key with the given name is already stored.
	ErrExists = errors.New("key already exists")
	// ErrInvalidName means a name breaks the naming rule (see the package doc).
	ErrInvalidName = errors.New("invalid key name")
	// ErrWrongPassphrase means the secret could not be decrypted: the
	// passphrase is wrong or the encrypted part of the file was altered.
	ErrWrongPassphrase = errors.New("wrong passphrase or damaged key file")
	// ErrCorrupt means a key file cannot be read as one: bad JSON, missing
	// or malformed fields, out-of-range parameters, or clear fields that
	// contradict each other.
	ErrCorrupt = errors.New("corrupt key file")
	// ErrUnsupportedVersion means the file was written in a format version
	// this program does not know.
	ErrUnsupportedVersion = errors.New("unsupported key file version")
)
