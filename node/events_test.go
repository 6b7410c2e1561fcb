package node

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

// A subscriber gets the types it asked for and no others; with no one
// taking a type, Wants says so and Publish sends nothing.
func TestBusDeliversOnlyTheTypesASubscriberTakes(t *testing.T) {
	bus := NewBus()
	if bus.Wants(EventTx) {
		t.Fatal("an empty bus wants tx events")
	}
	blocks, stopBlocks := bus.Subscribe(8, EventBlock)
	defer stopBlocks()
	if bus.Wants(EventTx) || !bus.Wants(EventBlock) {
		t.Fatal("a block subscriber must want blocks and only blocks")
	}
	all, stopAll := bus.Subscribe(8)
	defer stopAll()
	if !bus.Wants(EventTx) || !bus.Wants(EventConsensus) {
		t.Fatal("a subscriber of every type wants them all")
	}
	bus.Publish(EventTx, map[string]int{"n": 1})
	bus.Publish(EventBlock, map[string]int{"n": 2})
	if ev := <-blocks; ev.Type != EventBlock || string(ev.Data) != `{"n":2}` {
		t.Fatalf("block subscriber got %s %s", ev.Type, ev.Data)
	}
	if got := []string{(<-all).Type, (<-all).Type}; got[0] != EventTx || got[1] != EventBlock {
		t.Fatalf("subscriber of every type got %v", got)
	}
	select {
	case ev := <-blocks:
		t.Fatalf("block subscriber got a second event: %s", ev.Type)
	default:
	}
}

func TestParseEventTypes(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
		bad      bool
	}{
		{"empty is every type", "", nil, false},
		{"one", "block", []string{"block"}, false},
		{"several with spaces and a repeat", "block, consensus,block", []string{"block", "consensus"}, false},
		{"unknown", "blocks", nil, true},
		{"an empty name", "block,", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseEventTypes(c.in)
			if (err != nil) != c.bad || strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("parseEventTypes(%q) = %v, %v", c.in, got, err)
			}
		})
	}
}

// The tx event of a committed transfer carries what it always did:
// hash, height, index, status, error, app, action and the sender's
// address, and ?types=tx leaves the block events out.
func TestEventStreamOfTxsOnly(t *testing.T) {
	n, api := testNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+"/v1/events?types=tx", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	tx := sendTx(t, DevKey(5), n.ChainID(), 0, DevAccounts()[1].Address, 1)
	if a := post(t, api+"/v1/txs", mustJSON(t, tx)); a.status != http.StatusAccepted {
		t.Fatalf("submit: %d %s", a.status, a.body)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "event: ") && line != "event: tx" {
			t.Fatalf("asked for tx events, got %q", line)
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"hash": tx.Hash().String(), "index": 0.0, "status": chain.StatusOK, "error": "",
			"app": "bank", "action": "send", "sender": DevAccounts()[5].Address.String()}
		for k, v := range want {
			if ev[k] != v {
				t.Errorf("tx event %s = %v, want %v (%s)", k, ev[k], v, data)
			}
		}
		if h, _ := ev["height"].(float64); h < 1 || len(ev) != 8 {
			t.Errorf("tx event %s", data)
		}
		return
	}
	t.Fatalf("the stream ended without a tx event: %v", sc.Err())
}

func TestEventStreamRefusesUnknownTypes(t *testing.T) {
	_, api := testNode(t)
	resp, err := http.Get(api + "/v1/events?types=blocks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e APIError
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != http.StatusBadRequest || e.Error.Code != "bad_types" {
		t.Fatalf("status %d, %+v, %v", resp.StatusCode, e, err)
	}
}
