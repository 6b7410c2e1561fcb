package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/citychain/citychain/chain/state"
	badger "github.com/dgraph-io/badger/v4"
)

// State pruning. By default a store keeps the state tree of every height,
// so any old state can be read and proven. PruneState forgets the trees of
// all but the last heights: it marks what their roots reach and deletes
// the other tree entries (see package state, "Pruning"). Blocks, commits
// and receipts are kept; only old states go.
//
// The sweep must not delete an entry that a block committed meanwhile
// wrote again (entries are content-addressed: a balance that returns to
// an old value brings back the old leaf). So it marks the roots of the
// blocks committed during the sweep too, and deletes while holding
// commitMu, which every commit holds from its first write to its last.

// keyPruned holds the lowest height whose state is still kept.
var keyPruned = []byte("m/pruned")

// ErrPruned means the state of a height was pruned away.
var ErrPruned = errors.New("state pruned")

// PruneResult says what PruneState did.
type PruneResult struct {
	// From is the lowest height whose state is kept.
	From uint64 `json:"from"`
	// Live is the number of tree nodes the kept roots reach.
	Live int `json:"live"`
	// Deleted is the number of tree entries (nodes, values, keys) deleted.
	Deleted int `json:"deleted"`
}

// PruneState keeps the states of the last keep heights (keep >= 1) and
// deletes every tree entry no root among them reaches. It runs beside
// commits and holds them up only for its last step, the deletes.
func (s *Store) PruneState(keep uint64) (PruneResult, error) {
	if keep < 1 {
		return PruneResult{}, fmt.Errorf("%w: keep at least the latest state", ErrConfig)
	}
	top := s.Latest().Height
	if top < keep {
		return PruneResult{From: s.prunedFrom()}, nil
	}
	from := top - keep + 1
	live := state.Live{}
	visited := 0
	mark := func(lo, hi uint64) error {
		for h := lo; h <= hi; h++ {
			b, err := s.Block(h)
			if err != nil {
				return fmt.Errorf("prune: block %d: %w", h, err)
			}
			n, err := s.tree.Mark(state.Hash(b.Header.StateRoot), live)
			if err != nil {
				return fmt.Errorf("prune: state of height %d: %w", h, err)
			}
			visited += n
		}
		return nil
	}
	if err := mark(from, top); err != nil {
		return PruneResult{}, err
	}
	// The candidates: every tree entry stored now that no kept root reaches.
	var dead [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		for _, prefix := range []string{state.NodePrefix, state.ValuePrefix} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
			for it.Rewind(); it.Valid(); it.Next() {
				k := it.Item().KeyCopy(nil)
				h, ok := state.NodeHash(k)
				if !ok {
					h, ok = state.ValueHash(k)
				}
				if ok && !live.Has(h) {
					dead = append(dead, k)
				}
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		return PruneResult{}, err
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.sweeps++ // tree nodes written ahead before now may be deleted below
	if now := s.Latest().Height; now > top {
		if err := mark(top+1, now); err != nil {
			return PruneResult{}, err
		}
	}
	wb := s.db.NewWriteBatch()
	deleted := 0
	for _, k := range dead {
		h, ok := state.NodeHash(k)
		if !ok {
			h, _ = state.ValueHash(k)
		}
		if live.Has(h) {
			continue // written again by a block committed meanwhile
		}
		if err := wb.Delete(k); err != nil {
			wb.Cancel()
			return PruneResult{}, err
		}
		deleted++
	}
	if err := wb.Set(keyPruned, binary.BigEndian.AppendUint64(nil, from)); err != nil {
		wb.Cancel()
		return PruneResult{}, err
	}
	if err := wb.Flush(); err != nil {
		return PruneResult{}, fmt.Errorf("prune: %w", err)
	}
	s.mu.Lock()
	s.pruned = from
	s.mu.Unlock()
	return PruneResult{From: from, Live: visited, Deleted: deleted}, nil
}

// prunedFrom returns the lowest height whose state is kept (0: all).
func (s *Store) prunedFrom() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pruned
}

// loadPruned reads m/pruned at open.
func (s *Store) loadPruned() error {
	return s.db.View(func(txn *badger.Txn) error {
		v, err := get(txn, keyPruned)
		if err != nil || v == nil {
			return err
		}
		if len(v) != 8 {
			return fmt.Errorf("store: m/pruned: %d bytes, want 8", len(v))
		}
		s.pruned = binary.BigEndian.Uint64(v)
		return nil
	})
}

// checkKept fails with ErrPruned for a height whose state is gone.
func (s *Store) checkKept(height uint64) error {
	if from := s.prunedFrom(); height < from {
		return fmt.Errorf("%w: the state after block %d is gone; this node keeps states from height %d on (store.keep_states)", ErrPruned, height, from)
	}
	return nil
}

// Compact merges the store's tables into one level, so that the space of
// deleted entries (a prune's) is given back now rather than by later
// compactions. It holds up commits while it runs; the node does not call
// it, a measurement may.
func (s *Store) Compact() error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	return s.db.Flatten(1)
}
