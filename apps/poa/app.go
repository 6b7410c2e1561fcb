package poa

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// App is the poa module.
type App struct{}

// New returns the poa app.
func New() *App { return &App{} }

// Name returns "poa".
func (*App) Name() string { return Name }

// ActivationDelay is how many heights after the deciding block a change
// takes effect.
const ActivationDelay = 2

// Proposal is an open or decided change, as stored and queried.
type Proposal struct {
	ID        string   `json:"id" cbor:"id"`
	Op        string   `json:"op" cbor:"op"`
	Address   string   `json:"address" cbor:"address"`
	PubKey    string   `json:"pubkey" cbor:"pubkey"`
	Power     uint64   `json:"power" cbor:"power"`
	Votes     []string `json:"votes" cbor:"votes"`
	Height    uint64   `json:"height" cbor:"height"`             // first proposed
	DecidedAt uint64   `json:"decided_at" cbor:"decided_at"`     // 0 while open
	Effective uint64   `json:"effective_at" cbor:"effective_at"` // first height the new set signs
	Skipped   string   `json:"skipped,omitempty" cbor:"skipped"` // why a due change was not applied
	// Cause is "evidence {hash}" for a removal that evidence decided
	// rather than votes; empty for a voted change.
	Cause string `json:"cause,omitempty" cbor:"cause,omitempty"`
}

// Check validates payloads without state. It refuses the retired
// "evidence" transaction (ErrEvidenceTx).
func (*App) Check(action string, payload []byte) error {
	switch action {
	case ActionPropose:
		var m Propose
		if err := chain.DecodePayload(payload, &m); err != nil {
			return err
		}
		_, _, err := m.validate()
		return err
	case ActionEvidence:
		return ErrEvidenceTx
	}
	return fmt.Errorf("%w: poa has no action %q (its one action is %s; evidence travels in blocks)",
		chain.ErrUnknownAction, action, ActionPropose)
}

// Deliver executes a proposal vote. Evidence is not a transaction: it
// travels in blocks and reaches the module through HandleEvidence, so
// the retired "evidence" action fails with ErrEvidenceTx here too.
func (*App) Deliver(ctx *chain.Context, action string, payload []byte) error {
	switch action {
	case ActionPropose:
		var m Propose
		if err := chain.DecodePayload(payload, &m); err != nil {
			return err
		}
		return propose(ctx, &m)
	case ActionEvidence:
		return ErrEvidenceTx
	}
	return fmt.Errorf("%w: %q", chain.ErrUnknownAction, action)
}

func propose(ctx *chain.Context, m *Propose) error {
	addr, pub, err := m.validate()
	if err != nil {
		return err
	}
	vs, err := ctx.Validators()
	if err != nil {
		return err
	}
	if _, ok := vs.Find(ctx.Sender); !ok {
		return fmt.Errorf("%w: %s is not a validator; only validators vote on the set", chain.ErrUnauthorized, ctx.Sender)
	}
	if err := possible(vs, m.Op, addr); err != nil {
		return err
	}
	st := ctx.Store()
	id := m.id()
	var p Proposal
	found, err := st.GetObject(propKey(id), &p)
	if err != nil {
		return err
	}
	if !found {
		power := m.Power
		if m.Op == OpAdd && power == 0 {
			power = 1
		}
		p = Proposal{ID: id, Op: m.Op, Address: addr.String(), PubKey: hex.EncodeToString(pub), Power: power,
			Votes: []string{}, Height: ctx.Height}
	}
	if p.DecidedAt != 0 {
		return fmt.Errorf("%w: proposal %s was decided at height %d", chain.ErrBadPayload, id, p.DecidedAt)
	}
	for _, v := range p.Votes {
		if v == ctx.Sender.String() {
			return fmt.Errorf("%w: %s already voted for proposal %s", chain.ErrBadPayload, ctx.Sender, id)
		}
	}
	p.Votes = append(p.Votes, ctx.Sender.String())
	sort.Strings(p.Votes)
	ctx.Emit("vote", chain.A("proposal", id), chain.A("op", p.Op), chain.A("address", p.Address), chain.A("voter", ctx.Sender))
	if votedPower(vs, p.Votes) >= vs.Quorum() {
		p.DecidedAt = ctx.Height
		p.Effective = ctx.Height + ActivationDelay
		st.Set(schedKey(p.Effective, id), []byte(id))
		ctx.Emit("decided", chain.A("proposal", id), chain.A("op", p.Op), chain.A("address", p.Address),
			chain.A("effective_at", p.Effective))
	}
	st.SetObject(propKey(id), &p)
	return nil
}

// possible reports whether op on addr can apply to vs.
func possible(vs *chain.ValidatorSet, op string, addr chain.Address) error {
	_, member := vs.Find(addr)
	switch {
	case op == OpAdd && member:
		return fmt.Errorf("%w: %s is already a validator", chain.ErrBadPayload, addr)
	case op == OpRemove && !member:
		return fmt.Errorf("%w: %s is not a validator", chain.ErrBadPayload, addr)
	case op == OpRemove && len(vs.Validators) == 1:
		return fmt.Errorf("%w: cannot remove the last validator", chain.ErrBadPayload)
	}
	return nil
}

func votedPower(vs *chain.ValidatorSet, votes []string) uint64 {
	var p uint64
	for _, v := range votes {
		a, err := chain.ParseAddress(v)
		if err != nil {
			continue
		}
		if val, ok := vs.Find(a); ok {
			p += val.Power
		}
	}
	return p
}

// NextValidators applies the changes that take effect at the next
// height, in proposal-id order.
func (*App) NextValidators(ctx *chain.Context) (*chain.ValidatorSet, error) {
	st := ctx.Store()
	prefix := schedPrefix(ctx.Height + 1)
	var ids []string
	if err := st.Iterate(prefix, func(k, v []byte) error {
		ids = append(ids, string(v))
		return nil
	}); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	vs, err := ctx.Validators()
	if err != nil {
		return nil, err
	}
	vals := append([]chain.Validator(nil), vs.Validators...)
	changed := false
	for _, id := range ids {
		var p Proposal
		if _, err := st.GetObject(propKey(id), &p); err != nil {
			return nil, err
		}
		addr, err := chain.ParseAddress(p.Address)
		if err != nil {
			return nil, err
		}
		cur := &chain.ValidatorSet{Validators: vals}
		if err := possible(cur, p.Op, addr); err != nil {
			p.Skipped = err.Error()
			st.SetObject(propKey(id), &p)
			ctx.Emit("skipped", chain.A("proposal", id), chain.A("reason", p.Skipped))
			continue
		}
		if p.Op == OpAdd {
			pub, _ := hex.DecodeString(p.PubKey)
			vals = append(vals, chain.Validator{Address: addr, PubKey: pub, Power: p.Power})
		} else {
			for i, v := range vals {
				if v.Address == addr {
					vals = append(vals[:i:i], vals[i+1:]...)
					break
				}
			}
		}
		changed = true
		ctx.Emit("applied", chain.A("proposal", id), chain.A("op", p.Op), chain.A("address", p.Address))
	}
	if !changed {
		return nil, nil
	}
	return chain.NewValidatorSet(vals)
}

func propKey(id string) []byte { return []byte("prop/" + id) }

func schedPrefix(h uint64) []byte {
	return append(append([]byte("sched/"), sdk.Uint64Bytes(h)...), '/')
}

func schedKey(h uint64, id string) []byte { return append(schedPrefix(h), id...) }

// Query serves proposals, proposal/{id}, evidence (every recorded
// offence) and evidence/{height} (the offences recorded by the block at
// that height).
func (*App) Query(q *chain.QueryContext, path []string, _ map[string]string) (any, error) {
	st := q.Store()
	switch {
	case len(path) == 1 && path[0] == "proposals":
		out := []Proposal{}
		err := st.Iterate([]byte("prop/"), func(_, v []byte) error {
			var p Proposal
			if err := chain.Decode(v, &p); err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
		return out, err
	case len(path) == 2 && path[0] == "proposal":
		var p Proposal
		found, err := st.GetObject(propKey(path[1]), &p)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("%w: proposal %s", chain.ErrNotFound, path[1])
		}
		return p, nil
	case len(path) == 1 && path[0] == "evidence":
		return queryEvidence(st, "")
	case len(path) == 2 && path[0] == "evidence":
		return queryEvidence(st, path[1])
	}
	return nil, fmt.Errorf("%w: poa has queries %s", chain.ErrNotFound,
		strings.Join([]string{"proposals", "proposal/{id}", "evidence", "evidence/{height}"}, ", "))
}
