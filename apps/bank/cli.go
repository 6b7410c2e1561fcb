package bank

import (
	"fmt"
	"io"
	"strconv"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/spf13/cobra"
)

// TxCommands returns "citychain tx bank send".
func (*App) TxCommands(c sdk.Client) []*cobra.Command {
	var to, memo string
	var amount uint64
	send := &cobra.Command{
		Use:     "send --to ADDRESS --amount N",
		Short:   "Send tokens from the --from key to another account",
		Example: `  citychain tx bank send --from dev0 --to city1... --amount 10 --wait`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, err := chain.ParseAddress(to)
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			m := Send{To: addr, Amount: amount, Memo: memo}
			if err := m.Validate(); err != nil {
				return err
			}
			return c.Submit(cmd, Name, ActionSend, &m)
		},
	}
	send.Flags().StringVar(&to, "to", "", "recipient address (city1...)")
	send.Flags().Uint64Var(&amount, "amount", 0, "amount to send, in whole tokens")
	send.Flags().StringVar(&memo, "memo", "", "optional note stored with the transfer")
	_ = send.MarkFlagRequired("to")
	_ = send.MarkFlagRequired("amount")
	return []*cobra.Command{send}
}

// QueryCommands returns "citychain query bank balance|supply".
func (*App) QueryCommands(c sdk.Client) []*cobra.Command {
	balance := &cobra.Command{
		Use:   "balance ADDRESS",
		Short: "Show the balance of an account",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := chain.ParseAddress(args[0]); err != nil {
				return err
			}
			var a BalanceAnswer
			if err := c.Query(cmd, "bank/balance/"+args[0], &a); err != nil {
				return err
			}
			return c.Print(cmd, a, func(w io.Writer) {
				fmt.Fprintln(w, strconv.FormatUint(a.Balance, 10))
			})
		},
	}
	supply := &cobra.Command{
		Use:   "supply",
		Short: "Show the total supply of the native token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var a SupplyAnswer
			if err := c.Query(cmd, "bank/supply", &a); err != nil {
				return err
			}
			return c.Print(cmd, a, func(w io.Writer) { fmt.Fprintln(w, a.Supply) })
		},
	}
	return []*cobra.Command{balance, supply}
}
