package copyright

import (
	"encoding/json"
	"fmt"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// App is the copyright registry. Its Name, Check, Deliver and Query
// come from the action and query tables of sdk.Module. Deliver never
// sees a file: it checks the shape of the fingerprints, their
// uniqueness, and the distance between stored Data-Codes.
type App struct{ *sdk.Module }

// New returns the copyright app.
func New() *App {
	return &App{sdk.NewModule(Name,
		[]sdk.Handler{
			sdk.Action(ActionRegister, "file a work by the fingerprints of its file", register),
			sdk.Action(ActionTransfer, "hand a work to another holder (the holder only)", transfer),
			sdk.Action(ActionGrant, "license a work to someone (the holder only)", grant),
			sdk.Action(ActionRevoke, "end a grant (the work's holder only)", revoke),
			sdk.Action(ActionAnnotate, "add a note to a work's trail (anyone)", annotate),
		}, routes)}
}

// GenesisState is the module's part of the genesis file: its Params.
type GenesisState = Params

// DefaultGenesis returns {"max_distance": 4}: two 64-bit Data-Codes that
// differ in 4 bits or fewer come from files that share most of their
// chunks.
func DefaultGenesis() GenesisState { return GenesisState{MaxDistance: 4} }

// InitGenesis stores the parameters; a missing section or field takes
// the default.
func (*App) InitGenesis(ctx *chain.Context, raw json.RawMessage) error {
	g := DefaultGenesis()
	if err := sdk.DecodeGenesis(Name, raw, &g); err != nil {
		return err
	}
	if g.MaxDistance > MaxDistanceLimit {
		return fmt.Errorf("copyright genesis: max_distance %d, limit %d (the band index is exact only up to it)", g.MaxDistance, MaxDistanceLimit)
	}
	sdk.Save(ctx.Store(), []byte(keyParams), g)
	return nil
}
