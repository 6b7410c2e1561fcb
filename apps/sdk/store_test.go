package sdk_test

import (
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
