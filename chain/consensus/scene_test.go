package consensus_test

import (
	"crypto/sha256"
	"errors"
	"slices"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/crypto"
)

// A scene is a validator set of named validators ("A", "B", ...) with
// real keys, for tests written as scenarios. Blocks are named too: the
// block "X" has hash SHA-256("X").
type scene struct {
	t    *testing.T
	vals *chain.ValidatorSet
	keys map[string]*crypto.PrivateKey
	addr map[string]chain.Address
	name map[chain.Address]string
}

const sceneChain = "scenario"

func newScene(t *testing.T, names ...string) *scene {
	t.Helper()
	sc := &scene{t: t, keys: map[string]*crypto.PrivateKey{}, addr: map[string]chain.Address{},
		name: map[chain.Address]string{}}
	var vals []chain.Validator
	for _, n := range names {
		key := sceneKey(t, n)
		a := chain.AddressOf(key.PublicKey())
		sc.keys[n], sc.addr[n], sc.name[a] = key, a, n
		vals = append(vals, chain.Validator{Address: a, PubKey: key.PublicKey().Bytes(), Power: 1})
	}
	vs, err := chain.NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	sc.vals = vs
	return sc
}

func sceneKey(t *testing.T, name string) *crypto.PrivateKey {
	seed := sha256.Sum256([]byte("citychain scenario validator " + name))
	key, err := crypto.PrivateKeyFromBytes(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// block returns the hash of the block named label; "" is nil.
func block(label string) chain.Hash {
	if label == "" {
		return chain.Hash{}
	}
	return sha256.Sum256([]byte(label))
}

// machine returns name's Machine started at height 1, and its first actions.
func (sc *scene) machine(name string) (*consensus.Machine, []consensus.Action) {
	sc.t.Helper()
	m, err := consensus.New(consensus.Config{ChainID: sceneChain, Self: sc.addr[name], Timeouts: consensus.DefaultTimeouts()})
	if err != nil {
		sc.t.Fatal(err)
	}
	acts, err := m.Handle(consensus.NewHeight{Height: 1, Validators: sc.vals})
	if err != nil {
		sc.t.Fatal(err)
	}
	return m, acts
}

// proposer returns the name of the proposer of (height, round).
func (sc *scene) proposer(height uint64, round uint32) string {
	return sc.name[consensus.Proposer(sc.vals, height, round)]
}

// bystander returns a validator that proposes in none of the given rounds
// of height 1.
func (sc *scene) bystander(rounds ...uint32) string {
	for _, v := range sc.vals.Validators {
		n := sc.name[v.Address]
		if !slices.ContainsFunc(rounds, func(r uint32) bool { return sc.proposer(1, r) == n }) {
			return n
		}
	}
	sc.t.Fatal("every validator proposes in those rounds")
	return ""
}

// others returns the validators other than the named ones, in set order.
func (sc *scene) others(not ...string) []string {
	var out []string
	for _, v := range sc.vals.Validators {
		if n := sc.name[v.Address]; !slices.Contains(not, n) {
			out = append(out, n)
		}
	}
	return out
}

// proposal is the proposer's valid proposal of block label in round at
// height 1, with the given POL round.
func (sc *scene) proposal(round uint32, label string, polRound int32) consensus.ProposalReceived {
	return consensus.ProposalReceived{Valid: true, Proposal: consensus.Proposal{
		Height: 1, Round: round, BlockHash: block(label), POLRound: polRound,
		Proposer: consensus.Proposer(sc.vals, 1, round),
	}}
}

// vote is name's signed vote of type t for block label ("" for nil) in
// round at height 1.
func (sc *scene) vote(name string, t chain.VoteType, round uint32, label string) consensus.VoteReceived {
	v := chain.Vote{ChainID: sceneChain, Type: t, Height: 1, Round: round, BlockHash: block(label), Validator: sc.addr[name]}
	v.Sign(sc.keys[name])
	return consensus.VoteReceived{Vote: v}
}

// votes is vote for each of names.
func (sc *scene) votes(t chain.VoteType, round uint32, label string, names ...string) []consensus.Event {
	var out []consensus.Event
	for _, n := range names {
		out = append(out, sc.vote(n, t, round, label))
	}
	return out
}

// feed hands events to m and returns all the actions; any error fails the
// test.
func (sc *scene) feed(m *consensus.Machine, events ...consensus.Event) []consensus.Action {
	sc.t.Helper()
	var all []consensus.Action
	for _, ev := range events {
		acts, err := m.Handle(ev)
		if err != nil {
			sc.t.Fatalf("%T: %v", ev, err)
		}
		all = append(all, acts...)
	}
	return all
}

// fire delivers the timeout of step that m scheduled last.
func (sc *scene) fire(m *consensus.Machine, acts []consensus.Action, step consensus.Step) []consensus.Action {
	sc.t.Helper()
	for i := len(acts) - 1; i >= 0; i-- {
		if st, ok := acts[i].(consensus.ScheduleTimeout); ok && st.Step == step {
			return sc.feed(m, consensus.TimeoutFired{Height: st.Height, Round: st.Round, Step: st.Step})
		}
	}
	sc.t.Fatalf("no %s timeout scheduled in %v", step, acts)
	return nil
}

// cast returns the votes m asks to broadcast in acts.
func cast(acts []consensus.Action) []chain.Vote {
	var out []chain.Vote
	for _, a := range acts {
		if b, ok := a.(consensus.BroadcastVote); ok {
			out = append(out, b.Vote)
		}
	}
	return out
}

// only returns the actions of type T in acts.
func only[T consensus.Action](acts []consensus.Action) []T {
	var out []T
	for _, a := range acts {
		if x, ok := a.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

// wantVote checks that acts cast exactly one vote, of type t for label.
func (sc *scene) wantVote(acts []consensus.Action, t chain.VoteType, label string) {
	sc.t.Helper()
	vs := cast(acts)
	if len(vs) != 1 || vs[0].Type != t || vs[0].BlockHash != block(label) {
		sc.t.Fatalf("want one %v vote for %q, got %+v", t, label, vs)
	}
}

// bus connects the Machines of a scene synchronously: every message
// reaches every running node in order, nothing is lost, and timeouts fire
// only when the test says so.
type bus struct {
	sc       *scene
	machines map[string]*consensus.Machine
	down     map[string]bool
	queue    []busMsg
	timers   map[string][]consensus.ScheduleTimeout
	commits  map[string]consensus.Commit
	steps    []consensus.StepChanged
}

type busMsg struct {
	to string
	ev consensus.Event
}

func newBus(sc *scene, down ...string) *bus {
	b := &bus{sc: sc, machines: map[string]*consensus.Machine{}, down: map[string]bool{},
		timers: map[string][]consensus.ScheduleTimeout{}, commits: map[string]consensus.Commit{}}
	for _, n := range down {
		b.down[n] = true
	}
	for _, v := range sc.vals.Validators {
		n := sc.name[v.Address]
		if b.down[n] {
			continue
		}
		m, acts := sc.machine(n)
		b.machines[n] = m
		b.act(n, acts)
	}
	return b
}

// run delivers messages until none is left.
func (b *bus) run() {
	for len(b.queue) > 0 {
		msg := b.queue[0]
		b.queue = b.queue[1:]
		acts, err := b.machines[msg.to].Handle(msg.ev)
		if err != nil && !errors.Is(err, consensus.ErrStaleHeight) {
			b.sc.t.Fatalf("%s: %v", msg.to, err)
		}
		b.act(msg.to, acts)
	}
}

// fire delivers every pending timeout of step, then runs.
func (b *bus) fire(step consensus.Step) {
	for _, v := range b.sc.vals.Validators {
		n := b.sc.name[v.Address]
		if b.down[n] {
			continue
		}
		pending := b.timers[n]
		b.timers[n] = nil
		for _, st := range pending {
			if st.Step != step {
				b.timers[n] = append(b.timers[n], st)
				continue
			}
			acts, err := b.machines[n].Handle(consensus.TimeoutFired{Height: st.Height, Round: st.Round, Step: st.Step})
			if err != nil {
				b.sc.t.Fatalf("%s: %v", n, err)
			}
			b.act(n, acts)
		}
	}
	b.run()
}

func (b *bus) broadcast(ev consensus.Event) {
	for _, v := range b.sc.vals.Validators {
		if n := b.sc.name[v.Address]; !b.down[n] {
			b.queue = append(b.queue, busMsg{n, ev})
		}
	}
}

// act carries out name's actions as a driver would.
func (b *bus) act(name string, acts []consensus.Action) {
	for _, a := range acts {
		switch a := a.(type) {
		case consensus.ProposeNew:
			label := name + "'s block"
			b.broadcast(consensus.ProposalReceived{Valid: true, Proposal: consensus.Proposal{
				Height: a.Height, Round: a.Round, BlockHash: block(label), POLRound: -1, Proposer: b.sc.addr[name]}})
		case consensus.ProposeValid:
			b.broadcast(consensus.ProposalReceived{Valid: true, Proposal: a.Proposal})
		case consensus.BroadcastVote:
			v := a.Vote
			v.Sign(b.sc.keys[name])
			b.broadcast(consensus.VoteReceived{Vote: v})
		case consensus.ScheduleTimeout:
			b.timers[name] = append(b.timers[name], a)
		case consensus.Commit:
			b.commits[name] = a
		case consensus.StepChanged:
			b.steps = append(b.steps, a)
		}
	}
}

// reasons returns the distinct reasons of the step changes seen, in order.
func (b *bus) reasons() []consensus.Reason {
	var out []consensus.Reason
	for _, s := range b.steps {
		if !slices.Contains(out, s.Reason) {
			out = append(out, s.Reason)
		}
	}
	return out
}
