package store

// ForgetLatest empties the latest-state cache, so that the next Get of
// every key reads Badger and fills it again.
func (s *Store) ForgetLatest() { s.cache.reset() }

// LatestCacheBytes is latestCacheBytes, for tests.
const LatestCacheBytes = latestCacheBytes

// LatestCached counts the keys the latest-state cache holds and their
// bytes, as the bound counts them.
func (s *Store) LatestCached() (keys, size int) {
	s.cache.m.Range(func(k, v any) bool {
		keys++
		size += len(k.(string)) + len(v.([]byte)) + entryOverhead
		return true
	})
	return keys, size
}

// GetFromBadger reads a key of the latest state as Get does on a miss.
func (s *Store) GetFromBadger(key []byte) ([]byte, error) { return s.getUncached(key) }
