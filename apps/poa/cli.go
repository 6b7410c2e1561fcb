package poa

import (
	"fmt"
	"io"
	"strings"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/spf13/cobra"
)

// TxCommands returns "citychain tx poa propose".
func (*App) TxCommands(c sdk.Client) []*cobra.Command {
	var add, remove, pubkey string
	var power uint64
	cmd := &cobra.Command{
		Use:   "propose (--add ADDRESS --pubkey HEX | --remove ADDRESS)",
		Short: "Vote to add or remove a validator (the --from key must be a validator)",
		Long: `Vote to change the validator set. Each validator that agrees sends the same
proposal; once validators with more than 2/3 of the voting power have voted,
the change is decided and takes effect two blocks later.`,
		Example: `  citychain tx poa propose --from validator --add city1... --pubkey 02ab... --wait
  citychain tx poa propose --from validator --remove city1... --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var m Propose
			switch {
			case add != "" && remove == "":
				m = Propose{Op: OpAdd, Address: add, PubKey: strings.ToLower(pubkey), Power: power}
			case remove != "" && add == "":
				m = Propose{Op: OpRemove, Address: remove}
			default:
				return fmt.Errorf("give exactly one of --add or --remove")
			}
			if _, _, err := m.validate(); err != nil {
				return err
			}
			return c.Submit(cmd, Name, ActionPropose, &m)
		},
	}
	cmd.Flags().StringVar(&add, "add", "", "address of the validator to add")
	cmd.Flags().StringVar(&pubkey, "pubkey", "", "compressed public key (hex) of the validator to add")
	cmd.Flags().Uint64Var(&power, "power", 1, "voting power of the validator to add")
	cmd.Flags().StringVar(&remove, "remove", "", "address of the validator to remove")
	return []*cobra.Command{cmd}
}

// QueryCommands returns "citychain query poa proposals|evidence".
func (*App) QueryCommands(c sdk.Client) []*cobra.Command {
	proposals := &cobra.Command{
		Use:   "proposals",
		Short: "List validator-set proposals, open and decided",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ps []Proposal
			if err := c.Query(cmd, "poa/proposals", &ps); err != nil {
				return err
			}
			return c.Print(cmd, ps, func(w io.Writer) {
				if len(ps) == 0 {
					fmt.Fprintln(w, "no proposals")
				}
				for _, p := range ps {
					state := "open"
					if p.DecidedAt > 0 {
						state = fmt.Sprintf("decided at %d, effective at %d", p.DecidedAt, p.Effective)
					}
					fmt.Fprintf(w, "%s  %s %s  votes %d  %s\n", p.ID, p.Op, p.Address, len(p.Votes), state)
				}
			})
		},
	}
	evidence := &cobra.Command{
		Use:   "evidence",
		Short: "List validators caught signing conflicting votes or proposals",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var es []EvidenceRecord
			if err := c.Query(cmd, "poa/evidence", &es); err != nil {
				return err
			}
			return c.Print(cmd, es, func(w io.Writer) {
				if len(es) == 0 {
					fmt.Fprintln(w, "no evidence")
				}
				for _, e := range es {
					what := fmt.Sprintf("voted twice (step %d)", e.Type)
					if e.Kind == chain.EvidenceConflictingProposal {
						what = "proposed twice"
					}
					outcome := fmt.Sprintf("removed from height %d", e.RemovalAt)
					if e.RemovalAt == 0 {
						outcome = "not removed"
						if e.NotRemoved != "" {
							outcome += ": " + e.NotRemoved
						}
					}
					fmt.Fprintf(w, "%s %s at height %d round %d; recorded at %d, %s\n",
						e.Validator, what, e.Height, e.Round, e.Committed, outcome)
				}
			})
		},
	}
	return []*cobra.Command{proposals, evidence}
}
