package bank

import (
	"fmt"
	"io"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TxCommands returns "citychain tx bank send".
func (*App) TxCommands(c sdk.Client) []*cobra.Command {
	send := sdk.TxCmd(c, Name, ActionSend, "send --to ADDRESS --amount N", "Send tokens from the --from key to another account",
		func(f *pflag.FlagSet) func([]string) (*Send, error) {
			to := f.String("to", "", "recipient address (city1...)")
			amount := f.Uint64("amount", 0, "amount to send, in whole tokens")
			memo := f.String("memo", "", "optional note stored with the transfer")
			sdk.Required(f, "to", "amount")
			return func([]string) (*Send, error) {
				addr, err := chain.ParseAddress(*to)
				if err != nil {
					return nil, fmt.Errorf("--to: %w", err)
				}
				return &Send{To: addr, Amount: *amount, Memo: *memo}, nil
			}
		})
	send.Example = `  citychain tx bank send --from dev0 --to city1... --amount 10 --wait`
	return []*cobra.Command{send}
}

// QueryCommands returns "citychain query bank balance|supply".
func (*App) QueryCommands(c sdk.Client) []*cobra.Command {
	return []*cobra.Command{
		sdk.QueryCmd(c, "balance ADDRESS", "Show the balance of an account", sdk.Path(Name+"/balance/%s"),
			func(w io.Writer, a *BalanceAnswer) { fmt.Fprintln(w, a.Balance) }),
		sdk.QueryCmd(c, "supply", "Show the total supply of the native token", sdk.Path(Name+"/supply"),
			func(w io.Writer, a *SupplyAnswer) { fmt.Fprintln(w, a.Supply) }),
	}
}
