package sdk_test

import (
	"errors"
	"math"
	"testing"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

func TestAddUintCountsFromZeroAndRefusesOverflow(t *testing.T) {
	st := memStore()
	key := []byte("supply")
	if n, err := sdk.GetUint(st, key); n != 0 || err != nil {
		t.Fatalf("absent = %d, %v; want 0", n, err)
	}
	for _, want := range []uint64{5, 12} {
		if got, err := sdk.AddUint(st, key, want-mustUint(t, st, key)); err != nil || got != want {
			t.Fatalf("AddUint = %d, %v; want %d", got, err, want)
		}
	}
	if _, err := sdk.AddUint(st, key, math.MaxUint64); !errors.Is(err, chain.ErrOverflow) {
		t.Errorf("overflow: %v", err)
	}
	if n := mustUint(t, st, key); n != 12 {
		t.Errorf("after a refused add: %d, want 12", n)
	}
	st.Set(key, []byte{1, 2})
	if _, err := sdk.AddUint(st, key, 1); err == nil {
		t.Error("a stored value of 2 bytes was read as a number")
	}
}

func mustUint(t *testing.T, st *chain.Store, key []byte) uint64 {
	t.Helper()
	n, err := sdk.GetUint(st, key)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
