package sdk_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

func memStore() *chain.Store {
	return chain.NewContext("x", chain.NewOverlay(chain.MemReader{}), chain.BlockInfo{}, chain.Address{}, chain.Hash{}).Store()
}

func TestListHandsOverTheKeyWithoutItsPrefixAndSkipsWhatItLeavesOut(t *testing.T) {
	st := memStore()
	for _, k := range []string{"by/a/1", "by/a/2", "by/a/3", "by/a/4", "by/a/5", "by/b/1"} {
		st.Set([]byte(k), []byte("v"+k[len(k)-1:]))
	}
	list, truncated, err := sdk.List(st, []byte("by/a/"), []byte("by/a/1"), 2, func(rest, v []byte) (*string, error) {
		if string(rest) == "3" {
			return nil, nil
		}
		s := string(rest) + "=" + string(v)
		return &s, nil
	})
	if err != nil || !truncated || strings.Join(list, ",") != "2=v2,4=v4" {
		t.Errorf("List = %v, truncated %v, err %v; want 2=v2,4=v4 (3 left out), truncated", list, truncated, err)
	}
	list, truncated, err = sdk.List(st, []byte("none/"), nil, 5, func(rest, _ []byte) (*string, error) { return new(string), nil })
	if js, _ := json.Marshal(list); err != nil || truncated || string(js) != "[]" {
		t.Errorf("empty List = %s, %v, %v; want [] in JSON", js, truncated, err)
	}
}

func TestRecordsKeepsAndCompletesRecords(t *testing.T) {
	st := memStore()
	for i, text := range []string{"one", "", "three", "four"} {
		sdk.Save(st, sdk.Key("n/", sdk.Uint64Bytes(uint64(i+1))), &note{Text: text})
	}
	list, truncated, err := sdk.Records(st, []byte("n/"), nil, 2, func(n *note) bool {
		if n.Text == "" {
			n.Text = "(blank)"
		}
		return n.Text != "three"
	})
	if err != nil || !truncated || len(list) != 2 || list[0].Text != "one" || list[1].Text != "(blank)" {
		t.Errorf("Records = %+v, truncated %v, err %v", list, truncated, err)
	}
	all, truncated, err := sdk.Records[note](st, []byte("n/"), nil, 0, nil)
	if err != nil || truncated || len(all) != 4 {
		t.Errorf("Records without keep = %+v, %v, %v; want all four", all, truncated, err)
	}
	st.Set([]byte("n/x"), []byte{0xff})
	if _, _, err := sdk.Records[note](st, []byte("n/"), nil, 0, nil); err == nil {
		t.Error("a record that does not decode was listed")
	}
}

func TestListedEndsTheAnswerInJSON(t *testing.T) {
	type answer struct {
		Items []int `json:"items"`
		sdk.Listed
	}
	js, _ := json.Marshal(answer{Items: []int{1}, Listed: sdk.Listed{QueryHeight: 7}})
	if string(js) != `{"items":[1],"query_height":7}` {
		t.Errorf("not truncated: %s", js)
	}
	js, _ = json.Marshal(answer{Items: []int{}, Listed: sdk.Listed{Truncated: true, QueryHeight: 7}})
	if string(js) != `{"items":[],"truncated":true,"query_height":7}` {
		t.Errorf("truncated: %s", js)
	}
}
