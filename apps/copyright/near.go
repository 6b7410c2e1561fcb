package copyright

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// The near-duplicate index. Cut the 64 bits of a Data-Code into d+1
// bands: two codes that differ in at most d bits are equal in at least one
// band (pigeonhole). Each work is filed in the bucket of each of its band
// values, a ring of the bucket's latest bucketSize works, and a new work
// compares its code only with the works in its own buckets. README.md,
// "State", explains the index, its cap, and the price of the ring.

// bucketSize is how many of its latest works a bucket keeps. A slot is
// one byte of the key, so it is at most 256.
const bucketSize = 64

// band returns band i of n over the code bits: the bits from position
// 64*i/n to 64*(i+1)/n, counting from the most significant.
func band(bits uint64, i, n int) uint64 {
	start, end := 64*i/n, 64*(i+1)/n
	return bits << start >> (64 - (end - start))
}

// bucket names the bucket of band i with value v.
func bucket(i int, v uint64) []byte { return append([]byte{byte(i)}, sdk.Uint64Bytes(v)...) }

func keyBucketN(b []byte) []byte           { return sdk.Key(prefixBucketN, b) }
func keySlot(b []byte, slot uint64) []byte { return sdk.Key(prefixBucket, b, []byte{byte(slot)}) }

type candidate struct {
	id       WorkID
	distance uint64
}

// fileNear compares the Data-Code bits of the new work id with the works
// in its buckets and then files it in each of them. It returns the works
// within maxDistance, closest first (then by ID), at most maxNearLinks.
func fileNear(st *chain.Store, id WorkID, bits, maxDistance uint64) ([]candidate, error) {
	n := int(maxDistance) + 1
	seen := map[WorkID]bool{} // membership only; the order comes from the sort
	var out []candidate
	for i := 0; i < n; i++ {
		b := bucket(i, band(bits, i, n))
		count, err := sdk.NextID(st, keyBucketN(b))
		if err != nil {
			return nil, err
		}
		filed := count - 1 // works in the bucket before this one
		for s := uint64(0); s < min(filed, bucketSize); s++ {
			v := st.Get(keySlot(b, s))
			var other WorkID
			if len(v) != len(other)+8 {
				return nil, fmt.Errorf("near-duplicate index: slot %x holds %d bytes, want %d", keySlot(b, s), len(v), len(other)+8)
			}
			copy(other[:], v)
			if d := uint64(Hamming(bits, binary.BigEndian.Uint64(v[len(other):]))); d <= maxDistance && !seen[other] {
				seen[other] = true
				out = append(out, candidate{id: other, distance: d})
			}
		}
		st.Set(keySlot(b, filed%bucketSize), append(id[:], sdk.Uint64Bytes(bits)...))
	}
	slices.SortFunc(out, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.distance, b.distance), bytes.Compare(a.id[:], b.id[:]))
	})
	return out[:min(len(out), maxNearLinks)], nil
}
