package sdk_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

type note struct {
	Text string `cbor:"text"`
}

func TestEachRecordDecodesInKeyOrderAndNamesABadRecord(t *testing.T) {
	st := chain.NewContext("notes", chain.NewOverlay(chain.MemReader{}), chain.BlockInfo{Height: 1}, chain.Address{}, chain.Hash{}).Store()
	sdk.Save(st, []byte("n/2"), &note{Text: "two"})
	sdk.Save(st, []byte("n/1"), &note{Text: "one"})
	sdk.Save(st, []byte("n/3"), &note{Text: "three"})
	var got []string
	truncated, err := sdk.EachRecord(st, []byte("n/"), []byte("n/1"), 1, func(_ []byte, n *note) (bool, error) {
		got = append(got, n.Text)
		return true, nil
	})
	if err != nil || !truncated || len(got) != 1 || got[0] != "two" {
		t.Fatalf("after n/1, limit 1: %v, truncated %v, err %v; want [two], truncated", got, truncated, err)
	}

	st.Set([]byte("n/4"), []byte{0xff})
	_, err = sdk.EachRecord(st, []byte("n/"), nil, 0, func(_ []byte, n *note) (bool, error) { return true, nil })
	if err == nil || !strings.Contains(err.Error(), "record 6e2f34") {
		t.Fatalf("a value that does not decode: %v, want an error naming key n/4 (6e2f34)", err)
	}
}

func TestNextIDCountsFromOne(t *testing.T) {
	st := chain.NewContext("x", chain.NewOverlay(chain.MemReader{}), chain.BlockInfo{}, chain.Address{}, chain.Hash{}).Store()
	key := sdk.Key([]byte("next/"), sdk.Uint64Bytes(7))
	for want := uint64(1); want <= 3; want++ {
		if got, err := sdk.NextID(st, key); err != nil || got != want {
			t.Fatalf("NextID = %d, %v; want %d", got, err, want)
		}
	}
	st.Set(key, sdk.Uint64Bytes(math.MaxUint64))
	if _, err := sdk.NextID(st, key); !errors.Is(err, chain.ErrOverflow) {
		t.Errorf("past the last id: %v", err)
	}
	if string(key) != "next/\x00\x00\x00\x00\x00\x00\x00\x07" {
		t.Errorf("Key = %q", key)
	}
}

func TestMulDecodeGenesisFirstError(t *testing.T) {
	if p, err := sdk.Mul(1<<32, 1<<31); err != nil || p != 1<<63 {
		t.Errorf("Mul = %d, %v", p, err)
	}
	if _, err := sdk.Mul(1<<32, 1<<32); !errors.Is(err, chain.ErrOverflow) {
		t.Errorf("Mul overflow: %v", err)
	}
	type params struct {
		A int `json:"a"`
		B int `json:"b"`
	}
	g := params{A: 1, B: 2}
	for _, raw := range []string{"", "null", " null "} {
		if err := sdk.DecodeGenesis("x", json.RawMessage(raw), &g); err != nil || g != (params{1, 2}) {
			t.Errorf("%q: %+v %v, want the defaults kept", raw, g, err)
		}
	}
	if err := sdk.DecodeGenesis("x", json.RawMessage(`{"b":5}`), &g); err != nil || g != (params{1, 5}) {
		t.Errorf("partial: %+v %v", g, err)
	}
	if err := sdk.DecodeGenesis("x", json.RawMessage(`{"c":5}`), &g); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("unknown field: %v", err)
	}
	e1, e2 := errors.New("one"), errors.New("two")
	if sdk.FirstError(nil, e1, e2) != e1 || sdk.FirstError(nil, nil) != nil {
		t.Error("FirstError")
	}
}

func TestEachBeforeStopsAtTheBound(t *testing.T) {
	st := chain.NewContext("x", chain.NewOverlay(chain.MemReader{}), chain.BlockInfo{}, chain.Address{}, chain.Hash{}).Store()
	for _, k := range []string{"t/1", "t/2", "t/3", "t/4", "u/1"} {
		st.Set([]byte(k), []byte("v"))
	}
	var seen []string
	trunc, err := sdk.EachBefore(st, []byte("t/"), []byte("t/1"), []byte("t/4"), 0, func(k, _ []byte) (bool, error) {
		seen = append(seen, string(k))
		return true, nil
	})
	if err != nil || trunc || strings.Join(seen, ",") != "t/2,t/3" {
		t.Errorf("EachBefore = %v, %v, %v; want t/2,t/3 not truncated", seen, trunc, err)
	}
	seen = nil
	trunc, err = sdk.EachBefore(st, []byte("t/"), nil, nil, 2, func(k, _ []byte) (bool, error) {
		seen = append(seen, string(k))
		return true, nil
	})
	if err != nil || !trunc || len(seen) != 2 {
		t.Errorf("no bounds, limit 2: %v, %v, %v", seen, trunc, err)
	}
}

// TestIterateAfterVisitsWhatFollowsTheCursor compares IterateAfter with
// a filter over every key, for cursors near the start (the walk) and far
// in (the split), present or not, at the ends and outside the prefix,
// over keys of several lengths.
func TestIterateAfterVisitsWhatFollowsTheCursor(t *testing.T) {
	st := chain.NewContext("x", chain.NewOverlay(chain.MemReader{}), chain.BlockInfo{}, chain.Address{}, chain.Hash{}).Store()
	var keys []string
	for i := range 700 {
		k := "t/" + string(binary.BigEndian.AppendUint16(nil, uint16(i*37)))
		if i%5 == 0 {
			k += "/x" // a longer key between two shorter ones
		}
		keys = append(keys, k)
		st.Set([]byte(k), []byte("v"))
	}
	st.Set([]byte("s/0"), []byte("v"))
	st.Set([]byte("u/0"), []byte("v"))
	sort.Strings(keys)
	cursors := []string{"t/", "t/\x00", "t/\xff\xff\xff", "s/9", "u/", "t/\x00\x25/x\x00"}
	for _, i := range []int{0, 1, 10, 300, 500, 698, 699} {
		cursors = append(cursors, keys[i], keys[i]+"\x00", keys[i][:len(keys[i])-1])
	}
	for _, after := range cursors {
		var want, got []string
		for _, k := range keys {
			if k > after {
				want = append(want, k)
			}
		}
		err := sdk.IterateAfter(st, []byte("t/"), []byte(after), func(k, _ []byte) error {
			got = append(got, string(k))
			return nil
		})
		if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("after %q: %d keys (%v), want %d", after, len(got), err, len(want))
		}
	}
}

// TestIterateAfterSeeksPastTheKeysBefore: with 20,000 keys before the
// cursor, the walk reads a bounded number of them, not all.
func TestIterateAfterSeeksPastTheKeysBefore(t *testing.T) {
	ctx := chain.NewContext("x", chain.NewOverlay(chain.MemReader{}), chain.BlockInfo{}, chain.Address{}, chain.Hash{})
	st := ctx.Store()
	key := func(i int) []byte { return sdk.Key([]byte("n/"), sdk.Uint64Bytes(uint64(i))) }
	for i := range 20_010 {
		st.Set(key(i), []byte("v"))
	}
	before := ctx.Work().Steps
	var got []byte
	truncated, err := sdk.Each(st, []byte("n/"), key(20_000), 3, func(k, _ []byte) (bool, error) {
		got = append(got, k[len(k)-1])
		return true, nil
	})
	if err != nil || !truncated || len(got) != 3 || got[0] != byte(20_001%256) {
		t.Fatalf("after 20000: %v, truncated %v, %v", got, truncated, err)
	}
	if steps := ctx.Work().Steps - before; steps > 300 {
		t.Fatalf("reached the cursor after reading %d keys", steps)
	}
}
