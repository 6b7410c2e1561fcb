package poa

import (
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// App is the poa module: sdk.Module's tables give it Name, Query, Check
// and Deliver, but for the retired evidence transaction.
type App struct{ *sdk.Module }

// New returns the poa app.
func New() *App {
	return &App{sdk.NewModule(Name,
		[]sdk.Handler{sdk.Action(ActionPropose, "vote to add or remove a validator (validators only)", propose)},
		[]sdk.Route{
			sdk.Query("proposals", "every proposal, open and decided", func(q *chain.QueryContext, _ sdk.Params) (any, error) {
				out, _, err := sdk.Records[Proposal](q.Store(), []byte("prop/"), nil, 0, nil)
				return out, err
			}),
			sdk.Query("proposal/{id}", "one proposal", func(q *chain.QueryContext, p sdk.Params) (any, error) {
				return sdk.Load[Proposal](q.Store(), propKey(p.Path("id")), "proposal "+p.Path("id"))
			}),
			sdk.Query("evidence", "every recorded offence, by validator then height", queryEvidence),
			sdk.Query("evidence/{height}", "the offences recorded by the block at that height", queryEvidence),
		})}
}

// Check validates a payload without state; it refuses evidence (ErrEvidenceTx).
func (a *App) Check(action string, payload []byte) error {
	if action == ActionEvidence {
		return ErrEvidenceTx
	}
	return a.Module.Check(action, payload)
}

// Deliver executes a proposal vote and refuses evidence like Check.
func (a *App) Deliver(ctx *chain.Context, action string, payload []byte) error {
	if action == ActionEvidence {
		return ErrEvidenceTx
	}
	return a.Module.Deliver(ctx, action, payload)
}

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

// propose counts the sender's vote and decides the change once the
// voters hold a quorum of the current set's power.
func propose(ctx *chain.Context, m *Propose) error {
	addr, pub, err := m.parse()
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
	if err := possible(vs, m.Op, addr, m.power()); err != nil {
		return err
	}
	st := ctx.Store()
	id := m.id()
	p, err := sdk.Find[Proposal](st, propKey(id))
	if err != nil {
		return err
	}
	if p == nil {
		p = &Proposal{ID: id, Op: m.Op, Address: addr.String(), PubKey: hex.EncodeToString(pub), Power: m.power(),
			Votes: []string{}, Height: ctx.Height}
	}
	if p.DecidedAt != 0 {
		return fmt.Errorf("%w: proposal %s was decided at height %d", chain.ErrBadPayload, id, p.DecidedAt)
	}
	if slices.Contains(p.Votes, ctx.Sender.String()) {
		return fmt.Errorf("%w: %s already voted for proposal %s", chain.ErrBadPayload, ctx.Sender, id)
	}
	p.Votes = append(p.Votes, ctx.Sender.String())
	slices.Sort(p.Votes)
	ctx.Emit("vote", chain.A("proposal", id), chain.A("op", p.Op), chain.A("address", p.Address), chain.A("voter", ctx.Sender))
	if votedPower(vs, p.Votes) >= vs.Quorum() {
		p.DecidedAt, p.Effective = ctx.Height, ctx.Height+ActivationDelay
		st.Set(schedKey(p.Effective, id), []byte(id))
		ctx.Emit("decided", chain.A("proposal", id), chain.A("op", p.Op), chain.A("address", p.Address),
			chain.A("effective_at", p.Effective))
	}
	sdk.Save(st, propKey(id), p)
	return nil
}

// possible reports whether op on addr, with power for an add, can apply
// to vs.
func possible(vs *chain.ValidatorSet, op string, addr chain.Address, power uint64) error {
	_, member := vs.Find(addr)
	switch {
	case op == OpAdd && member:
		return fmt.Errorf("%w: %s is already a validator", chain.ErrBadPayload, addr)
	case op == OpAdd:
		return roomFor(vs, power)
	case op == OpRemove && !member:
		return fmt.Errorf("%w: %s is not a validator", chain.ErrBadPayload, addr)
	case op == OpRemove && len(vs.Validators) == 1:
		return fmt.Errorf("%w: cannot remove the last validator", chain.ErrBadPayload)
	}
	return nil
}

// roomFor reports an error when adding a validator of power to vs would
// take the set's total power past MaxTotalPower. The sum is taken with an
// overflow check, so that a set read from state that is already near the
// uint64 limit is refused rather than wrapped around.
func roomFor(vs *chain.ValidatorSet, power uint64) error {
	var total uint64
	for _, v := range vs.Validators {
		if total+v.Power < total {
			return fmt.Errorf("%w: the set's total power already overflows", chain.ErrOverflow)
		}
		total += v.Power
	}
	if total > MaxTotalPower || power > MaxTotalPower-total {
		return fmt.Errorf("%w: power %d would take the set's total power from %d past the largest, %d",
			chain.ErrBadPayload, power, total, MaxTotalPower)
	}
	return nil
}

// votedPower is the power in vs of the validators among votes.
func votedPower(vs *chain.ValidatorSet, votes []string) uint64 {
	var p uint64
	for _, v := range vs.Validators {
		if slices.Contains(votes, v.Address.String()) {
			p += v.Power
		}
	}
	return p
}

// NextValidators applies the changes that take effect at the next
// height, in proposal-id order. A change that cannot apply to the set as
// the earlier ones left it (the validator was removed meanwhile, it would
// remove the last one, or it would make the set invalid, such as a total
// power past MaxTotalPower) is skipped: the proposal records why and a
// "skipped" event says so. So a change never fails the block, and the set
// handed back is always one the chain accepts.
func (*App) NextValidators(ctx *chain.Context) (*chain.ValidatorSet, error) {
	st := ctx.Store()
	ids, _, err := sdk.List(st, schedPrefix(ctx.Height+1), nil, 0, func(_, v []byte) (*string, error) {
		id := string(v)
		return &id, nil
	})
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	vs, err := ctx.Validators()
	if err != nil {
		return nil, err
	}
	changed := false
	for _, id := range ids {
		p, err := sdk.Load[Proposal](st, propKey(id), "proposal "+id)
		if err != nil {
			return nil, err
		}
		next, err := apply(vs, p)
		if err != nil {
			p.Skipped = err.Error()
			sdk.Save(st, propKey(id), p)
			ctx.Emit("skipped", chain.A("proposal", id), chain.A("reason", p.Skipped))
			continue
		}
		vs, changed = next, true
		ctx.Emit("applied", chain.A("proposal", id), chain.A("op", p.Op), chain.A("address", p.Address))
	}
	if !changed {
		return nil, nil
	}
	return vs, nil
}

// apply returns vs with the change p made, checked as the chain checks a
// set (chain.NewValidatorSet), or an error saying why it cannot apply.
func apply(vs *chain.ValidatorSet, p *Proposal) (*chain.ValidatorSet, error) {
	addr, err := chain.ParseAddress(p.Address)
	if err != nil {
		return nil, fmt.Errorf("%w: address: %w", chain.ErrBadPayload, err)
	}
	if err := possible(vs, p.Op, addr, p.Power); err != nil {
		return nil, err
	}
	vals := slices.Clone(vs.Validators)
	switch p.Op {
	case OpAdd:
		pub, err := hex.DecodeString(p.PubKey)
		if err != nil {
			return nil, fmt.Errorf("%w: pubkey: not hex: %v", chain.ErrBadPayload, err)
		}
		vals = append(vals, chain.Validator{Address: addr, PubKey: pub, Power: p.Power})
	case OpRemove:
		vals = slices.DeleteFunc(vals, func(v chain.Validator) bool { return v.Address == addr })
	default:
		return nil, fmt.Errorf("%w: op: %q is neither %q nor %q", chain.ErrBadPayload, p.Op, OpAdd, OpRemove)
	}
	return chain.NewValidatorSet(vals)
}

func propKey(id string) []byte { return []byte("prop/" + id) }

func schedPrefix(h uint64) []byte         { return sdk.Key("sched/", sdk.Uint64Bytes(h), []byte("/")) }
func schedKey(h uint64, id string) []byte { return sdk.Key(schedPrefix(h), []byte(id)) }
