package node

import (
	"os"
	"syscall"
)

// FreeMB returns the MiB that an unprivileged writer may still use on the
// filesystem holding dir.
func FreeMB(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize) >> 20, nil
}

// syncData makes f's data durable with fdatasync: unlike fsync it does
// not wait for the journal when only the file's times changed.
func syncData(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
