//go:build !linux

package node

import (
	"errors"
	"os"
)

// FreeMB is not implemented here: a node does not watch its disk.
func FreeMB(string) (uint64, error) {
	return 0, errors.New("free disk space is read on Linux only")
}

// syncData makes f's data durable (fsync: fdatasync is Linux's).
func syncData(f *os.File) error { return f.Sync() }
