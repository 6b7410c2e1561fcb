package poa_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/poa"
	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

func add(name string, power uint64) poa.Propose {
	pub := chaintest.Key(name).PublicKey()
	return poa.Propose{Op: poa.OpAdd, Address: chaintest.Addr(name).String(), PubKey: fmt.Sprintf("%x", pub.Bytes()), Power: power}
}

// TestAHugePowerIsRefusedWhenProposed: a power past MaxTotalPower is
// refused before any state, and one that fits alone but would take the
// set's total past it is refused against the current set.
func TestAHugePowerIsRefusedWhenProposed(t *testing.T) {
	for _, power := range []uint64{math.MaxUint64, poa.MaxTotalPower + 1} {
		p, err := chain.EncodePayload(add("E", power))
		if err != nil {
			t.Fatal(err)
		}
		err = poa.New().Check(poa.ActionPropose, p)
		if !errors.Is(err, chain.ErrBadPayload) || !strings.Contains(err.Error(), fmt.Sprintf("power %d", power)) {
			t.Errorf("power %d: Check = %v, want a bad payload naming the power", power, err)
		}
	}
	c := newChain(t)
	r, err := c.Do(chaintest.Key("A"), poa.Name, poa.ActionPropose, add("E", poa.MaxTotalPower))
	if err == nil || !strings.Contains(r.Error, "past the largest") || !strings.Contains(r.Error, "from 4") {
		t.Fatalf("a power that passes the bound with the set's 4: receipt %+v, err %v", r, err)
	}
	if _, err := c.Do(chaintest.Key("A"), poa.Name, poa.ActionPropose, add("E", poa.MaxTotalPower-4)); err != nil {
		t.Fatalf("a power that just fits: %v", err)
	}
}

// TestAChangeThatWouldPassTheBoundIsSkippedWhenDue: two additions that
// each fit when voted are decided together; when they come due the
// first applies and the second, which would take the total past
// MaxTotalPower, is skipped with its reason, and the chain goes on.
func TestAChangeThatWouldPassTheBoundIsSkippedWhenDue(t *testing.T) {
	c := newChain(t)
	half := poa.MaxTotalPower / 2
	e, f := add("E", half), add("F", half)
	for _, who := range []string{"A", "B"} {
		for _, m := range []poa.Propose{e, f} {
			if _, err := c.Do(chaintest.Key(who), poa.Name, poa.ActionPropose, m); err != nil {
				t.Fatalf("%s votes: %v", who, err)
			}
		}
	}
	var txs [][]byte
	for _, m := range []poa.Propose{e, f} {
		tx, err := c.Tx(chaintest.Key("C"), poa.Name, poa.ActionPropose, m)
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	rs, err := c.Block(txs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Status != chain.StatusOK || len(r.Events) != 2 || r.Events[1].Type != "decided" {
			t.Fatalf("C's votes: %+v", r)
		}
	}
	if _, err := c.Block(); err != nil {
		t.Fatalf("the block where the changes come due failed: %v", err)
	}
	var applied, skipped int
	for _, ev := range c.BlockEvents {
		switch ev.Type {
		case "applied":
			applied++
		case "skipped":
			skipped++
			if reason := ev.Attrs[1].Value; !strings.Contains(reason, "past the largest") {
				t.Errorf("skipped because %q", reason)
			}
		}
	}
	if applied != 1 || skipped != 1 {
		t.Fatalf("block events %+v, want one applied and one skipped", c.BlockEvents)
	}
	vs, err := c.Validators()
	if err != nil || len(vs.Validators) != 5 || vs.TotalPower() != 4+half {
		t.Fatalf("the set: %+v, %v", vs, err)
	}
	got, err := c.Query(poa.Name, "proposals", nil)
	if err != nil {
		t.Fatal(err)
	}
	var marked int
	for _, p := range got.([]poa.Proposal) {
		if strings.Contains(p.Skipped, "past the largest") {
			marked++
		}
	}
	if marked != 1 {
		t.Fatalf("%d proposals record the skip, want 1", marked)
	}
	if _, err := c.Block(); err != nil {
		t.Fatalf("the chain stopped: %v", err)
	}
}

// TestADueChangeThatWouldOverflowIsSkipped: a decided addition of power
// 2^64-1, as a version without the bound could have stored, comes due.
// NextValidators skips it with the reason instead of failing, so the
// block that installs the set still executes.
func TestADueChangeThatWouldOverflowIsSkipped(t *testing.T) {
	c := newChain(t)
	ctx := chain.NewContext(poa.Name, chain.NewOverlay(c.State()), chain.BlockInfo{ChainID: chaintest.ChainID, Height: c.Height + 1},
		chain.Address{}, chain.Hash{})
	huge := add("E", math.MaxUint64)
	const id = "00000000000000ee"
	st := ctx.Store()
	sdk.Save(st, []byte("prop/"+id), &poa.Proposal{ID: id, Op: huge.Op, Address: huge.Address, PubKey: huge.PubKey,
		Power: huge.Power, Votes: []string{}, Height: 1, DecidedAt: c.Height, Effective: c.Height + 2})
	st.Set(sdk.Key([]byte("sched/"), binary.BigEndian.AppendUint64(nil, c.Height+2), []byte("/"+id)), []byte(id))
	vs, err := poa.New().NextValidators(ctx)
	if err != nil || vs != nil {
		t.Fatalf("NextValidators = %+v, %v; want no change and no error", vs, err)
	}
	ev := ctx.Events()
	if len(ev) != 1 || ev[0].Type != "skipped" || !strings.Contains(ev[0].Attrs[1].Value, "power 18446744073709551615") {
		t.Fatalf("events %+v", ev)
	}
	p, err := sdk.Load[poa.Proposal](st, []byte("prop/"+id), "proposal")
	if err != nil || p.Skipped == "" {
		t.Fatalf("the proposal does not record the skip: %+v, %v", p, err)
	}
}
