package node

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node/labs"
)

// The labs read the chain in process through the same handlers as the
// API: the answers must be the API's, and a 404 must say not found.
func TestLabAPIAnswersAsTheAPI(t *testing.T) {
	n, base := testNode(t)
	key := DevKey(0)
	tx := sendTx(t, key, n.chainID, 0, chain.AddressOf(DevKey(1).PublicKey()), 5)
	raw, _ := json.Marshal(tx)
	if a := post(t, base+"/v1/txs?wait=commit", raw); a.status != http.StatusOK {
		t.Fatalf("submit: %d %s", a.status, a.body)
	}
	in := n.labAPI()
	ctx := context.Background()
	for _, path := range []string{"/v1/status", "/v1/blocks/1", "/v1/validators", "/v1/accounts/" + chain.AddressOf(key.PublicKey()).String()} {
		var viaHTTP, inProcess map[string]any
		if code := getJSON(t, base+path, &viaHTTP); code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
		if err := in.Get(ctx, path, &inProcess); err != nil {
			t.Fatalf("in process %s: %v", path, err)
		}
		// The status and the round in progress may move between the two.
		delete(viaHTTP, "consensus")
		delete(inProcess, "consensus")
		a, _ := json.Marshal(viaHTTP)
		b, _ := json.Marshal(inProcess)
		if path != "/v1/status" && string(a) != string(b) {
			t.Errorf("%s differs:\nAPI:        %s\nin process: %s", path, a, b)
		}
	}
	var b map[string]any
	if err := in.Get(ctx, "/v1/blocks/999999", &b); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("a block above the chain: %v, want labs.ErrNotFound", err)
	}
	if err := in.Get(ctx, "/v1/apps/nope/x", &b); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("an unknown module: %v, want labs.ErrNotFound", err)
	}
	var apps struct {
		Apps []struct{ Name string } `json:"apps"`
	}
	if err := in.Get(ctx, "/v1/apps", &apps); err != nil || len(apps.Apps) == 0 || apps.Apps[0].Name != "bank" {
		t.Errorf("the module list: %+v %v", apps, err)
	}
}

// GET /v1/labs answers every lab in both languages, from many clients at
// once, and the answer follows the chain's height.
func TestLabsRoute(t *testing.T) {
	n, base := testNode(t)
	var wg sync.WaitGroup
	views := make([]LabsView, 4)
	for i := range views {
		wg.Add(1)
		go func() { // exits when its request is answered
			defer wg.Done()
			resp, err := http.Get(base + "/v1/labs")
			if err != nil {
				t.Errorf("GET /v1/labs: %v", err)
				return
			}
			defer resp.Body.Close()
			if err := json.NewDecoder(resp.Body).Decode(&views[i]); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("GET /v1/labs: %s %v", resp.Status, err)
			}
		}()
	}
	wg.Wait()
	v := views[0]
	if len(v.Labs) != len(labs.All()) {
		t.Fatalf("GET /v1/labs: %d labs, want %d", len(v.Labs), len(labs.All()))
	}
	for _, l := range v.Labs {
		if l.Title.En == "" || l.Title.Zh == "" || len(l.Steps) == 0 {
			t.Errorf("lab %d: %+v", l.Number, l)
		}
	}
	// Lab 3 needs four validators; a dev node has one.
	if s := v.Labs[2].Steps[0]; s.State != labs.StateTodo || s.Hint == nil {
		t.Errorf("lab 3 on a dev node: %+v", s)
	}
	tx := sendTx(t, DevKey(0), n.chainID, 0, chain.AddressOf(DevKey(1).PublicKey()), 5)
	raw, _ := json.Marshal(tx)
	if a := post(t, base+"/v1/txs?wait=commit", raw); a.status != http.StatusOK {
		t.Fatalf("submit: %d %s", a.status, a.body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var later LabsView
		getJSON(t, base+"/v1/labs", &later)
		if later.Height > v.Height {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /v1/labs stayed at height %d after a new block", v.Height)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
