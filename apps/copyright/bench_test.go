package copyright_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/copyright"
	"github.com/citychain/citychain/chain"
)

// sortedState is committed state that reads a prefix without visiting
// the keys around it, as the node's store does, and counts the entries it
// hands out: each Get and each entry of an Iterate is one read.
type sortedState struct {
	keys  []string // sorted
	vals  map[string][]byte
	reads int
}

func (s *sortedState) Get(k []byte) ([]byte, error) {
	s.reads++
	return s.vals[string(k)], nil
}

func (s *sortedState) Iterate(prefix []byte, fn func(k, v []byte) error) error {
	p := string(prefix)
	i, _ := slices.BinarySearch(s.keys, p)
	for ; i < len(s.keys) && strings.HasPrefix(s.keys[i], p); i++ {
		s.reads++
		if err := fn([]byte(s.keys[i]), s.vals[s.keys[i]]); err != nil {
			return err
		}
	}
	return nil
}

// commit merges the writes of ov into the state.
func (s *sortedState) commit(ov *chain.Overlay) {
	added := false
	for _, kv := range ov.Changes() {
		k := string(kv.Key)
		if _, ok := s.vals[k]; !ok && kv.Value != nil {
			s.keys, added = append(s.keys, k), true
		}
		if kv.Value == nil {
			delete(s.vals, k)
		} else {
			s.vals[k] = kv.Value
		}
	}
	if added {
		slices.Sort(s.keys)
	}
	s.keys = slices.DeleteFunc(s.keys, func(k string) bool { _, ok := s.vals[k]; return !ok })
}

// crowded returns the registration of work i of a crowd whose Data-Codes
// all begin with the same 16 bits, so they share the first band value
// under every max_distance (the first band is at most 16 bits wide), and
// differ from each other in about half of their other bits.
func crowded(i int) copyright.Register {
	seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("crowd"), uint64(i)))
	bits := uint64(0xC0DE)<<48 | binary.BigEndian.Uint64(seed[:8])>>16
	data, _ := copyright.NewCode(copyright.MainData, binary.BigEndian.AppendUint64(nil, bits))
	sum := sha256.Sum256(seed[:])
	id, _ := copyright.NewCode(copyright.MainInstance, seed[:])
	return copyright.Register{SHA256: hex.EncodeToString(sum[:]), InstanceCode: id.String(), DataCode: data.String(),
		Size: 1000, Title: fmt.Sprint("work ", i), Creator: "Crowd", MediaType: "image/png", License: "CC0-1.0"}
}

// deliverRegister runs one registration straight through Deliver on a
// fresh overlay over st and returns the overlay.
func deliverRegister(tb testing.TB, app *copyright.App, st chain.Reader, height uint64, m copyright.Register) *chain.Overlay {
	tb.Helper()
	p, err := chain.EncodePayload(m)
	if err != nil {
		tb.Fatal(err)
	}
	ov := chain.NewOverlay(st)
	info := chain.BlockInfo{ChainID: "bench", Height: height, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ctx := chain.NewContext(copyright.Name, ov, info, chain.Address{1}, chain.Sum(p))
	if err := app.Deliver(ctx, copyright.ActionRegister, p); err != nil {
		tb.Fatal(err)
	}
	return ov
}

// BenchmarkRegisterInACrowdedBucket registers one work whose Data-Code
// shares its first band value with 10,000 registered works: the bucket
// an attacker would fill to make every later registration in it
// expensive. reads/op counts the entries read from committed state.
func BenchmarkRegisterInACrowdedBucket(b *testing.B) {
	const crowd = 10_000
	app := copyright.New()
	st := &sortedState{vals: map[string][]byte{}}
	ov := chain.NewOverlay(st)
	if err := app.InitGenesis(chain.NewContext(copyright.Name, ov, chain.BlockInfo{}, chain.Address{}, chain.Hash{}), nil); err != nil {
		b.Fatal(err)
	}
	st.commit(ov)
	blk := chain.NewOverlay(st) // blocks of 500 registrations
	for i := 0; i < crowd; i++ {
		deliverRegister(b, app, blk, uint64(i/500+1), crowded(i)).Flush()
		if i%500 == 499 {
			st.commit(blk)
			blk = chain.NewOverlay(st)
		}
	}
	st.reads = 0
	i := crowd
	for b.Loop() {
		deliverRegister(b, app, st, crowd, crowded(i)) // the writes are dropped: the crowd stays at 10,000
		i++
	}
	b.ReportMetric(float64(st.reads)/float64(b.N), "reads/op")
}

// TestACrowdedBucketCostsABoundedRead fills one bucket with 300 works and
// checks that the next registration in it reads no more entries than the
// rings of its buckets hold, and fewer than the crowd: the cost does not
// grow with the bucket.
func TestACrowdedBucketCostsABoundedRead(t *testing.T) {
	const crowd, ring = 300, 64 // ring: the slots of a bucket (near.go)
	app := copyright.New()
	st := &sortedState{vals: map[string][]byte{}}
	blk := chain.NewOverlay(st)
	for i := 0; i < crowd; i++ {
		deliverRegister(t, app, blk, uint64(i+1), crowded(i)).Flush()
	}
	st.commit(blk)
	st.reads = 0
	deliverRegister(t, app, st, crowd+1, crowded(crowd))
	// params, the ID and SHA-256 look-ups and the trail's length, then a
	// count and at most ring slots for each of the 5 buckets.
	if limit := 4 + 5*(1+ring); st.reads > limit || st.reads >= crowd {
		t.Errorf("a registration in a bucket of %d works read %d entries; want at most %d", crowd, st.reads, limit)
	}
}
