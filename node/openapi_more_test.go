package node

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/citychain/citychain/chain"
)

// TestOpenAPIAnswersOfOtherNodes checks, against docs/openapi.yaml, the
// answers that the network node of TestOpenAPIAnswersMatchTheSchemas
// does not give: those of a `citychain dev` node (no consensus view, its
// own consensus events, a pending transaction, a full mempool, no
// profiles, no supervisor) and a block that carries evidence.
func TestOpenAPIAnswersOfOtherNodes(t *testing.T) {
	t.Run("dev node", func(t *testing.T) {
		n := idleDevNode(t, 1) // no producer: blocks come when the test makes them
		srv := httptest.NewServer(n.routes())
		defer srv.Close()
		l := newLiveAPI(t, srv.URL)
		to := chain.AddressOf(DevKey(1).PublicKey())
		tx := sendTx(t, DevKey(0), n.ChainID(), 0, to, 1)

		l.do(apiCall{op: "POST /v1/txs", path: "/v1/txs", body: mustJSON(t, tx), status: 202})
		l.do(apiCall{op: "POST /v1/txs", path: "/v1/txs", body: mustJSON(t, sendTx(t, DevKey(2), n.ChainID(), 0, to, 1)), status: 503})
		l.do(apiCall{op: "GET /v1/txs/{hash}", path: "/v1/txs/" + tx.Hash().String(), status: 200})
		l.do(apiCall{op: "GET /v1/accounts/{address}", path: "/v1/accounts/" + chain.AddressOf(DevKey(0).PublicKey()).String(), status: 200})
		l.do(apiCall{op: "GET /v1/blocks/{height}", path: "/v1/blocks/latest", status: 200})
		l.events(func() {
			if _, err := n.makeBlock(false); err != nil {
				t.Error(err)
			}
			l.do(apiCall{op: "POST /v1/txs", path: "/v1/txs", body: mustJSON(t, sendTx(t, DevKey(0), n.ChainID(), 1, to, 1)), status: 202})
			if _, err := n.makeBlock(false); err != nil {
				t.Error(err)
			}
		})
		for _, c := range []apiCall{
			{op: "GET /v1/status", path: "/v1/status", status: 200},
			{op: "GET /v1/validators", path: "/v1/validators", status: 200},
			{op: "GET /v1/peers", path: "/v1/peers", status: 200},
			{op: "GET /v1/blocks/{height}", path: "/v1/blocks/2", status: 200},
			{op: "GET /v1/devnet", path: "/v1/devnet", status: 404},
			{op: "POST /v1/devnet/links", path: "/v1/devnet/links", body: []byte(`{"cut": true}`), status: 404},
			{op: "GET /debug/pprof/", path: "/debug/pprof/", status: 404},
			{op: "GET /debug/pprof/{profile}", path: "/debug/pprof/heap", status: 404},
			{op: "GET /debug/pprof/profile", path: "/debug/pprof/profile", status: 404},
		} {
			l.do(c)
		}
	})

	t.Run("evidence", func(t *testing.T) {
		g := newChainGen(t)
		offence := g.tip.Height
		vote := g.doubleVote(3, offence, chain.Hash{0xb2})
		prop := func(block byte) chain.EvidenceProposal {
			p := chain.EvidenceProposal{Height: offence - 1, Round: 1, BlockHash: chain.Hash{block}, POLRound: -1, Proposer: devAddr(2)}
			p.Sign(g.chainID, DevValidatorKey(2))
			return p
		}
		for _, ev := range []chain.Evidence{vote, chain.NewConflictingProposal(prop(0xc2), prop(0xc1))} {
			if err := g.n.evpool.add(ev, g.n.validatorsFor, g.chainID); err != nil {
				t.Fatal(err)
			}
		}
		g.extend()
		srv := httptest.NewServer(g.n.routes())
		defer srv.Close()
		l := newLiveAPI(t, srv.URL)
		h := fmt.Sprint(g.n.store.Latest().Height)
		body := l.do(apiCall{op: "GET /v1/blocks/{height}", path: "/v1/blocks/" + h, status: 200})
		if n := len(mustBlock(t, body).Evidence); n != 2 {
			t.Fatalf("block %s shows %d pieces of evidence, want 2", h, n)
		}
		l.do(apiCall{op: "GET /v1/blocks/{height}/changes", path: "/v1/blocks/" + h + "/changes", status: 200})
		l.do(apiCall{op: "GET /v1/apps/{app}/{path}", path: "/v1/apps/poa/evidence/" + h, status: 200})
		l.do(apiCall{op: "GET /v1/apps/{app}/{path}", path: "/v1/apps/poa/evidence/high", status: 400})
		l.do(apiCall{op: "GET /v1/validators", path: "/v1/validators", status: 200})
	})
}

func mustBlock(t *testing.T, body []byte) BlockView {
	t.Helper()
	var b BlockView
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	return b
}
