package store

import "github.com/dgraph-io/badger/v4"

// ForgetLatest empties the latest-state cache, so that the next Get of
// every key reads Badger and fills it again.
func (s *Store) ForgetLatest() { s.cache.reset() }

// LatestCacheSize is latestCacheSize, for tests.
const LatestCacheSize = latestCacheSize

// LatestCached counts the keys the latest-state cache holds.
func (s *Store) LatestCached() int {
	n := 0
	s.cache.m.Range(func(any, any) bool { n++; return true })
	return n
}

// GetFromBadger reads a key of the latest state as Get does on a miss.
func (s *Store) GetFromBadger(key []byte) ([]byte, error) {
	var v []byte
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		v, err = get(txn, append(append([]byte(nil), prefixState...), key...))
		return err
	})
	return v, err
}
