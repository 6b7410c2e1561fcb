package poa_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/poa"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// newChain starts a chain run by the authorities A, B, C and D.
func newChain(t *testing.T) *chaintest.Chain {
	t.Helper()
	c, err := chaintest.NewWithValidators([]chain.App{poa.New()}, nil, "A", "B", "C", "D")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func addE() poa.Propose {
	pub := chaintest.Key("E").PublicKey()
	return poa.Propose{Op: poa.OpAdd, Address: chaintest.Addr("E").String(), PubKey: fmt.Sprintf("%x", pub.Bytes())}
}

func members(t *testing.T, c *chaintest.Chain) int {
	t.Helper()
	vs, err := c.Validators()
	if err != nil {
		t.Fatal(err)
	}
	return len(vs.Validators)
}

func TestThreeOfFourAddEAndItSignsTwoBlocksLater(t *testing.T) {
	c := newChain(t)
	for _, who := range []string{"A", "B"} {
		if _, err := c.Do(chaintest.Key(who), poa.Name, poa.ActionPropose, addE()); err != nil {
			t.Fatalf("%s votes: %v", who, err)
		}
	}
	if n := members(t, c); n != 4 {
		t.Fatalf("2 of 4 votes changed the set to %d members", n)
	}
	r, err := c.Do(chaintest.Key("C"), poa.Name, poa.ActionPropose, addE())
	if err != nil {
		t.Fatal(err)
	}
	decided := r.Height
	if len(r.Events) != 2 || r.Events[1].Type != "decided" {
		t.Fatalf("third vote events = %+v", r.Events)
	}
	// Block decided+1 is still signed by the old set; its end installs
	// the new set, which signs decided+2.
	if n := members(t, c); n != 4 {
		t.Fatalf("set changed in the deciding block: %d members", n)
	}
	if _, err := c.Block(); err != nil {
		t.Fatal(err)
	}
	if c.Height != decided+1 {
		t.Fatalf("height %d", c.Height)
	}
	vs, _ := c.Validators()
	if _, ok := vs.Find(chaintest.Addr("E")); !ok || len(vs.Validators) != 5 {
		t.Fatalf("after block %d the set for %d has %d members, E in it: %v", c.Height, c.Height+1, len(vs.Validators), ok)
	}
	// D's late vote is refused: the proposal is decided.
	if _, err := c.Do(chaintest.Key("D"), poa.Name, poa.ActionPropose, addE()); err == nil {
		t.Fatal("vote on a decided proposal succeeded")
	}
}

func TestRemoveNeedsAQuorumToo(t *testing.T) {
	c := newChain(t)
	remove := poa.Propose{Op: poa.OpRemove, Address: chaintest.Addr("D").String()}
	for _, who := range []string{"A", "B", "C"} {
		if _, err := c.Do(chaintest.Key(who), poa.Name, poa.ActionPropose, remove); err != nil {
			t.Fatal(err)
		}
	}
	c.Block()
	vs, _ := c.Validators()
	if _, ok := vs.Find(chaintest.Addr("D")); ok || len(vs.Validators) != 3 {
		t.Fatalf("D still in the set of %d", len(vs.Validators))
	}
}

func TestProposalsThatAreRefused(t *testing.T) {
	c := newChain(t)
	cases := []struct {
		name string
		who  string
		msg  poa.Propose
		want string
	}{
		{"a non-validator votes", "mallory", addE(), "not a validator"},
		{"add a member", "A", poa.Propose{Op: poa.OpAdd, Address: chaintest.Addr("B").String(),
			PubKey: fmt.Sprintf("%x", chaintest.Key("B").PublicKey().Bytes())}, "already a validator"},
		{"remove a stranger", "A", poa.Propose{Op: poa.OpRemove, Address: chaintest.Addr("E").String()}, "not a validator"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.Do(chaintest.Key(tc.who), poa.Name, poa.ActionPropose, tc.msg)
			if err == nil || !strings.Contains(r.Error, tc.want) {
				t.Fatalf("receipt %+v, err %v; want failure with %q", r, err, tc.want)
			}
		})
	}
	if _, err := c.Do(chaintest.Key("A"), poa.Name, poa.ActionPropose, addE()); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Do(chaintest.Key("A"), poa.Name, poa.ActionPropose, addE()); err == nil || !strings.Contains(r.Error, "already voted") {
		t.Fatalf("second vote by A: %+v %v", r, err)
	}
}

func TestPayloadChecks(t *testing.T) {
	app := poa.New()
	wrongKey := poa.Propose{Op: poa.OpAdd, Address: chaintest.Addr("E").String(),
		PubKey: fmt.Sprintf("%x", chaintest.Key("F").PublicKey().Bytes())}
	for name, m := range map[string]poa.Propose{
		"pubkey of another address": wrongKey,
		"unknown op":                {Op: "promote", Address: chaintest.Addr("E").String()},
		"bad address":               {Op: poa.OpRemove, Address: "city1zzz"},
	} {
		p, err := chain.EncodePayload(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := app.Check(poa.ActionPropose, p); !errors.Is(err, chain.ErrBadPayload) {
			t.Errorf("%s: Check = %v", name, err)
		}
	}
}

func vote(t *testing.T, who string, height uint64, block string) poa.VoteJSON {
	v := chain.Vote{ChainID: chaintest.ChainID, Type: chain.Precommit, Height: height, Round: 0,
		BlockHash: chain.Sum([]byte(block)), Validator: chaintest.Addr(who)}
	v.Sign(chaintest.Key(who))
	return poa.VoteToJSON(&v)
}

// TestTheEvidenceTransactionIsRefused: evidence travels in blocks now.
// The retired transaction fails Check, with an error that names the new
// path, so no mempool takes it and a block that carries it is invalid;
// Deliver refuses it too.
func TestTheEvidenceTransactionIsRefused(t *testing.T) {
	c := newChain(t)
	report := poa.VotePair{A: vote(t, "D", 7, "block x"), B: vote(t, "D", 7, "block y")}
	p, err := chain.EncodePayload(report)
	if err != nil {
		t.Fatal(err)
	}
	app := poa.New()
	err = app.Check(poa.ActionEvidence, p)
	if !errors.Is(err, poa.ErrEvidenceTx) || !errors.Is(err, chain.ErrUnknownAction) {
		t.Fatalf("Check(evidence) = %v, want ErrEvidenceTx", err)
	}
	for _, want := range []string{"travels in blocks", "offence's own height", "apps/poa/README.md"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %q", err, want)
		}
	}
	ctx := chain.NewContext(poa.Name, chain.NewOverlay(c.State()), chain.BlockInfo{ChainID: chaintest.ChainID, Height: c.Height + 1},
		chaintest.Addr("reporter"), chain.Hash{})
	if err := app.Deliver(ctx, poa.ActionEvidence, p); !errors.Is(err, poa.ErrEvidenceTx) {
		t.Fatalf("Deliver(evidence) = %v, want ErrEvidenceTx", err)
	}
	root := c.Root
	if _, err := c.Do(chaintest.Key("reporter"), poa.Name, poa.ActionEvidence, report); !errors.Is(err, chain.ErrInvalidBlock) {
		t.Fatalf("a block carrying the evidence transaction: %v, want an invalid block", err)
	}
	if c.Root != root || len(records(t, c, "evidence")) != 0 {
		t.Fatal("the refused transaction changed the state")
	}
}

func TestQueries(t *testing.T) {
	c := newChain(t)
	r, err := c.Do(chaintest.Key("A"), poa.Name, poa.ActionPropose, addE())
	if err != nil {
		t.Fatal(err)
	}
	id := r.Events[0].Attrs[0].Value
	got, err := c.Query(poa.Name, "proposal/"+id, nil)
	if p, ok := got.(*poa.Proposal); err != nil || !ok || p.ID != id || len(p.Votes) != 1 || p.DecidedAt != 0 {
		t.Fatalf("proposal/%s = %+v, %v", id, got, err)
	}
	cases := []struct {
		name, path string
		args       map[string]string
		want       error
	}{
		{"no such proposal", "proposal/0000000000000000", nil, chain.ErrNotFound},
		{"a height that is not a number", "evidence/ten", nil, chain.ErrBadPayload},
		{"an argument the query does not take", "proposals", map[string]string{"limit": "5"}, chain.ErrBadPayload},
		{"no such query", "validators", nil, chain.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Query(poa.Name, tc.path, tc.args); !errors.Is(err, tc.want) {
				t.Fatalf("%s: %v, want %v", tc.path, err, tc.want)
			}
		})
	}
}
