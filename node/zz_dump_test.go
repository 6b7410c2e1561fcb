package node

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/citychain/citychain/chain"
)

func TestZZDump(t *testing.T) {
	n, api := testNode(t)
	tx := sendTx(t, DevKey(0), n.ChainID(), 0, chain.AddressOf(DevKey(1).PublicKey()), 1)
	a := post(t, api+"/v1/txs?wait=commit", mustJSON(t, tx))
	fmt.Printf("POST wait: %d %s\n", a.status, a.body)
	a = post(t, api+"/v1/txs", mustJSON(t, tx))
	fmt.Printf("POST again: %d %s\n", a.status, a.body)
	fmt.Printf("TX: %s\n", mustJSON(t, tx))
	for _, p := range []string{"/v1/status", "/v1/blocks/latest", "/v1/blocks/0", "/v1/blocks/1/changes", "/v1/txs/" + tx.Hash().String(),
		"/v1/accounts/" + chain.AddressOf(DevKey(1).PublicKey()).String(), "/v1/validators", "/v1/peers", "/v1/apps", "/v1/apps/bank/", "/v1/apps/bank/supply",
		"/v1/apps/bank/balance/" + chain.AddressOf(DevKey(1).PublicKey()).String(), "/v1/apps/poa/", "/v1/apps/trace/", "/v1/apps/city/", "/v1/apps/commerce/", "/v1/apps/copyright/", "/v1/labs", "/v1/devnet", "/metrics", "/", "/explorer/qr.svg?text=hi", "/nope", "/v1/apps/nope/", "/v1/blocks/x", "/v1/apps/bank/nope"} {
		resp, err := http.Get(api + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) > 3000 {
			b = b[:3000]
		}
		fmt.Printf("==== %s %d %s\n%s\n", p, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
}
