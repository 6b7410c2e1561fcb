package poa

import (
	"fmt"
	"io"
	"strings"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TxCommands returns "citychain tx poa propose".
func (*App) TxCommands(c sdk.Client) []*cobra.Command {
	cmd := sdk.TxCmd(c, Name, ActionPropose, "propose (--add ADDRESS --pubkey HEX | --remove ADDRESS)",
		"Vote to add or remove a validator (the --from key must be a validator)",
		func(f *pflag.FlagSet) func([]string) (*Propose, error) {
			add := f.String("add", "", "address of the validator to add")
			pubkey := f.String("pubkey", "", "compressed public key (hex) of the validator to add")
			power := f.Uint64("power", 1, "voting power of the validator to add")
			remove := f.String("remove", "", "address of the validator to remove")
			return func([]string) (*Propose, error) {
				switch {
				case *add != "" && *remove == "":
					return &Propose{Op: OpAdd, Address: *add, PubKey: strings.ToLower(*pubkey), Power: *power}, nil
				case *remove != "" && *add == "":
					return &Propose{Op: OpRemove, Address: *remove}, nil
				}
				return nil, fmt.Errorf("give exactly one of --add or --remove")
			}
		})
	cmd.Long = `Vote to change the validator set. Each validator that agrees sends the same
proposal; once validators with more than 2/3 of the voting power have voted,
the change is decided and takes effect two blocks later.`
	cmd.Example = `  citychain tx poa propose --from validator --add city1... --pubkey 02ab... --wait
  citychain tx poa propose --from validator --remove city1... --wait`
	return []*cobra.Command{cmd}
}

// QueryCommands returns "citychain query poa proposals|evidence".
func (*App) QueryCommands(c sdk.Client) []*cobra.Command {
	return []*cobra.Command{
		sdk.QueryCmd(c, "proposals", "List validator-set proposals, open and decided", sdk.Path(Name+"/proposals"),
			func(w io.Writer, ps *[]Proposal) { sdk.PrintList(w, "proposals", *ps, printProposal) }),
		sdk.QueryCmd(c, "evidence", "List validators caught signing conflicting votes or proposals", sdk.Path(Name+"/evidence"),
			func(w io.Writer, es *[]EvidenceRecord) { sdk.PrintList(w, "evidence", *es, printEvidence) }),
	}
}

func printProposal(w io.Writer, p *Proposal) {
	state := "open"
	if p.DecidedAt > 0 {
		state = fmt.Sprintf("decided at %d, effective at %d", p.DecidedAt, p.Effective)
	}
	fmt.Fprintf(w, "%s  %s %s  votes %d  %s\n", p.ID, p.Op, p.Address, len(p.Votes), state)
}

func printEvidence(w io.Writer, e *EvidenceRecord) {
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
