package chain_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
)

func TestHeaderJSONRoundTripsAndChecksItself(t *testing.T) {
	h := &chain.Header{ChainID: "city", Height: 7, Time: 1_700_000_000_123, PrevHash: chain.Hash{1},
		TxRoot: chain.Hash{2}, StateRoot: chain.Hash{3}, ReceiptsRoot: chain.Hash{4}, ValidatorsHash: chain.Hash{5},
		LastCommitHash: chain.Hash{6}, Proposer: chain.Address{7}}
	for _, ev := range []chain.Hash{{}, {8}} {
		h.EvidenceHash = ev
		raw, err := json.Marshal(chain.NewHeaderJSON(h))
		if err != nil {
			t.Fatal(err)
		}
		var j chain.HeaderJSON
		if err := json.Unmarshal(raw, &j); err != nil {
			t.Fatal(err)
		}
		back, err := j.Header()
		if err != nil || back.Hash() != h.Hash() {
			t.Fatalf("evidence %s: round trip %v, hash %s want %s", ev, err, back.Hash(), h.Hash())
		}
		if !strings.Contains(string(raw), `"time":"2023-11-14T22:13:20.123Z"`) || !strings.Contains(string(raw), `"time_ms":1700000000123`) {
			t.Errorf("times in %s", raw)
		}
	}
	j := chain.NewHeaderJSON(h)
	j.StateRoot = chain.Hash{9}
	if _, err := j.Header(); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("a changed field under the old hash: %v", err)
	}
	j = chain.NewHeaderJSON(h)
	j.TimeMillis++
	if _, err := j.Header(); err == nil || !strings.Contains(err.Error(), "time") {
		t.Errorf("time_ms that disagrees with time: %v", err)
	}
	j = chain.NewHeaderJSON(h)
	j.Hash = chain.Hash{}
	if got, err := j.Header(); err != nil || got.Hash() != h.Hash() {
		t.Errorf("without a hash: %v", err)
	}
}
