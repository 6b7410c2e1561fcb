package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// A full disk is a fault a node must survive without losing what it
// committed. Badger writes through memory-mapped files: when the disk
// runs out under them the process dies of SIGBUS in the middle of a
// write. So a node watches the space left on the disk of its data folder
// and stops cleanly while there is still room for everything Badger may
// have in flight (NeedFreeMB), and a node that starts on a disk with less
// waits for space before it opens its store.

// ErrDiskFull is why a node stopped itself: its disk is almost full.
var ErrDiskFull = errors.New("the disk of the data folder is almost full")

// diskCheckEvery is how often a running node looks at its free space.
const diskCheckEvery = 500 * time.Millisecond

// NeedFreeMB returns the space a node needs free on the disk of its data
// folder, in MiB: store.min_free_mb, or when that is 0 room for two
// memtables and two value-log files (each memory-mapped at up to twice its
// size) and a table flush.
func (c StoreConfig) NeedFreeMB() uint64 {
	if c.MinFreeMB > 0 {
		return uint64(c.MinFreeMB)
	}
	return uint64(4*c.MemtableMB + 4*c.ValueLogFileMB + 32)
}

// WaitForDisk returns once the filesystem holding dir has at least min
// MiB free, logging every 10 s while it waits; it returns ctx's error if
// ctx ends first. Where free space cannot be read it returns at once.
func WaitForDisk(ctx context.Context, dir string, min uint64, log *slog.Logger) error {
	var last time.Time
	for {
		free, err := FreeMB(dir)
		if err != nil || free >= min {
			return nil
		}
		if time.Since(last) >= 10*time.Second {
			log.Warn("waiting for disk space before opening the store", "dir", dir, "free_mb", free, "need_mb", min)
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %d MiB free in %s, %d needed: %w", ErrDiskFull, free, dir, min, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// watchDisk reports on n.failed once the disk of the data folder has less
// than the configured space free. It ends when the node stops or after
// reporting.
func (n *Node) watchDisk(dir string) {
	min := n.cfg.Store.NeedFreeMB()
	if _, err := FreeMB(dir); err != nil {
		n.log.Warn("cannot read the free space of the data folder's disk; not watching it", "err", err)
		return
	}
	t := time.NewTicker(diskCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-n.quit:
			return
		case <-t.C:
		}
		free, err := FreeMB(dir)
		if err != nil || free >= min {
			continue
		}
		err = fmt.Errorf("%w: %d MiB free in %s, the node stops below %d (store.min_free_mb); free some space and start it again", ErrDiskFull, free, dir, min)
		n.log.Error("stopping cleanly before the store runs out of space", "err", err)
		select {
		case n.failed <- err:
		default:
		}
		return
	}
}

// Failed delivers an error when the node has to stop on its own (its disk
// is almost full). Whoever runs the node then calls Stop.
func (n *Node) Failed() <-chan error { return n.failed }
