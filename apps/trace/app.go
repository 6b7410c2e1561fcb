package trace

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// App is the trace module. Its Name, Check and Deliver come from the
// action table of sdk.Module, its Query from the query table (query.go).
// Check parses every event of a capture and checks it against EPCIS 2.0
// and CBV 2.0, so a malformed event is refused before it reaches a block.
type App struct{ *sdk.Module }

// The optional behaviour the chain and the CLI look for.
var (
	_ chain.GenesisInitializer = (*App)(nil)
	_ sdk.CLI                  = (*App)(nil)
)

// New returns the trace app.
func New() *App {
	return &App{sdk.NewModule(Name, []sdk.Handler{
		sdk.Action(ActionCapture, "record EPCIS 2.0 events, all or none", capture),
		sdk.Action(ActionRegister, "register or update a participant (admins only)", register),
	}, queries)}
}

// Query answers from the query table. An EPC that is a Digital Link
// arrives split at its own slashes, so the segments between "epcs" and
// the last one are joined back into the {epc} of the route.
func (a *App) Query(q *chain.QueryContext, path []string, args map[string]string) (any, error) {
	if len(path) > 3 && path[0] == "epcs" {
		path = []string{path[0], strings.Join(path[1:len(path)-1], "/"), path[len(path)-1]}
	}
	return a.Module.Query(q, path, args)
}

// capture records the events of a capture in order. It is all or
// nothing: if one event is refused, none of the transaction's events is
// recorded.
func capture(ctx *chain.Context, c *Capture) error {
	p, err := sender(ctx)
	if err != nil {
		return err
	}
	for i, e := range c.events {
		path := fmt.Sprintf("events[%d]", i)
		if err := p.MayCapture(e, path); err != nil {
			return err
		}
		if err := record(ctx, p, e, c.context, path); err != nil {
			return err
		}
	}
	return nil
}

// register stores a participant; only an admin may.
func register(ctx *chain.Context, np *Participant) error {
	p, err := sender(ctx)
	if err != nil {
		return err
	}
	if !p.IsAdmin() {
		return fmt.Errorf("%w: only an admin participant may register participants; %s is a %s", chain.ErrUnauthorized, p.Address, p.Role)
	}
	saveParticipant(ctx.Store(), np)
	ctx.Emit("participant", chain.A("address", np.Address), chain.A("role", np.Role), chain.A("by", p.Address))
	return nil
}

// sender returns the registered participant that signed the transaction.
func sender(ctx *chain.Context) (*Participant, error) {
	p, err := LoadParticipant(ctx.Store(), ctx.Sender)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("%w: %w: %s (an admin registers participants with %s)", chain.ErrUnauthorized, ErrNotParticipant, ctx.Sender, ActionRegister)
	}
	return p, nil
}

// GenesisState is the trace module's part of the genesis file: the
// participants that exist from the first block. At least one of them
// should be an admin, or nobody can ever register anyone.
//
//	{"participants": [{"address": "city1...", "name": "Demo administrator",
//	  "role": "admin", "prefixes": ["*"], "locations": ["*"]}]}
type GenesisState struct {
	Participants []Participant `json:"participants"`
}

// DevGenesis returns the genesis state of `citychain dev` and `devnet`:
// admin (the dev0 key) is an admin participant that speaks for every
// company prefix and every location, so a demo can capture any event and
// register the other participants of its story.
func DevGenesis(admin chain.Address) GenesisState {
	return GenesisState{Participants: []Participant{{Address: admin, Name: "Demo administrator",
		Role: RoleAdmin, Prefixes: []string{Wildcard}, Locations: []string{Wildcard}}}}
}

// InitGenesis registers the genesis participants.
func (*App) InitGenesis(ctx *chain.Context, raw json.RawMessage) error {
	var g GenesisState
	if err := sdk.DecodeGenesis(Name, raw, &g); err != nil {
		return err
	}
	st := ctx.Store()
	for i := range g.Participants {
		p := &g.Participants[i]
		if err := p.Validate(); err != nil {
			return fmt.Errorf("trace genesis participants[%d]: %w", i, err)
		}
		if st.Has(keyParticipant(p.Address)) {
			return fmt.Errorf("trace genesis participants[%d]: %s is listed twice", i, p.Address)
		}
		saveParticipant(st, p)
	}
	return nil
}
