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
	if err := possible(vs, m.Op, addr); err != nil {
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
// height, in proposal-id order.
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
	vals := append([]chain.Validator(nil), vs.Validators...)
	changed := false
	for _, id := range ids {
		p, err := sdk.Load[Proposal](st, propKey(id), "proposal "+id)
		if err != nil {
			return nil, err
		}
		addr, err := chain.ParseAddress(p.Address)
		if err != nil {
			return nil, err
		}
		if err := possible(&chain.ValidatorSet{Validators: vals}, p.Op, addr); err != nil {
			p.Skipped = err.Error()
			sdk.Save(st, propKey(id), p)
			ctx.Emit("skipped", chain.A("proposal", id), chain.A("reason", p.Skipped))
			continue
		}
		if p.Op == OpAdd {
			pub, _ := hex.DecodeString(p.PubKey)
			vals = append(vals, chain.Validator{Address: addr, PubKey: pub, Power: p.Power})
		} else {
			vals = slices.DeleteFunc(vals, func(v chain.Validator) bool { return v.Address == addr })
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

func schedPrefix(h uint64) []byte         { return sdk.Key("sched/", sdk.Uint64Bytes(h), []byte("/")) }
func schedKey(h uint64, id string) []byte { return sdk.Key(schedPrefix(h), []byte(id)) }
