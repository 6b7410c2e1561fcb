package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
)

// TestHeaderIsCheckedAgainstItsHash serves a block the way a node does
// and then with one header field changed: the client rebuilds the first
// header exactly and refuses the second, whose hash no longer matches.
func TestHeaderIsCheckedAgainstItsHash(t *testing.T) {
	want := chain.Header{ChainID: "citychain-dev", Height: 7, Time: 1_740_830_400_123, PrevHash: chain.Hash{1},
		StateRoot: chain.Hash{2}, Proposer: chain.Address{3}, ValidatorsHash: chain.Hash{4}}
	cases := []struct {
		name   string
		tamper func(v *node.BlockView)
		ok     bool
	}{
		{"as the node sends it", func(*node.BlockView) {}, true},
		{"another state root", func(v *node.BlockView) { v.StateRoot = chain.Hash{9} }, false},
		{"a readable time that is not time_ms", func(v *node.BlockView) { v.Time = v.Time.Add(time.Second) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := node.BlockView{HeaderJSON: chain.NewHeaderJSON(&want)}
			tc.tamper(&v)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v1/blocks/7" {
					http.NotFound(w, r)
					return
				}
				_ = json.NewEncoder(w).Encode(v)
			}))
			defer srv.Close()
			h, err := client.New(srv.URL).Header(context.Background(), "7")
			if !tc.ok {
				if err == nil {
					t.Fatalf("tampered header accepted: %+v", h)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *h != want {
				t.Errorf("header %+v, want %+v", h, want)
			}
		})
	}
}
