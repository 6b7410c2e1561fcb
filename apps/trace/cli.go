package trace

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TxCommands returns "citychain tx trace capture|register-participant".
func (*App) TxCommands(c sdk.Client) []*cobra.Command {
	capture := &cobra.Command{
		Use:   "capture FILE.json",
		Short: "Capture the events of an EPCIS 2.0 JSON/JSON-LD document (or of one event)",
		Long: `Capture reads an EPCISDocument (events under epcisBody.eventList), an
EPCISQueryDocument or a single event, and records its events on chain.
The @context is kept with the events and never fetched. Fractional
numbers (sensor values, quantities such as 200.5) travel as decimal
strings, since transactions carry no floats.

A transaction holds at most 64 KiB and ` + strconv.Itoa(MaxEvents) + ` events, so a larger
document is sent as several transactions, in document order. Every one
is checked before the first is signed. Each is atomic on its own; if one
fails, those before it stay committed. With --nonce N they are signed
with N, N+1, ...`,
		Example: `  citychain tx trace capture shipment.jsonld --from dev0 --wait`,
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return captureFile(cmd, c, args[0]) },
	}

	register := sdk.TxCmd(c, Name, ActionRegister, "register-participant ADDRESS --role ROLE --name NAME [--prefix P]... [--location SGLN]...",
		"Register or update a trace participant (admins only)", func(f *pflag.FlagSet) func([]string) (*Participant, error) {
			name := f.String("name", "", "the company's name")
			role := f.String("role", "", "admin, manufacturer, logistics or retailer")
			prefixes := f.StringArray("prefix", nil, "a GS1 company prefix it speaks for (repeat the flag; \"*\" for all)")
			locations := f.StringArray("location", nil, "an SGLN it speaks for (repeat the flag; \"*\" for all)")
			sdk.Required(f, "name", "role")
			return func(args []string) (*Participant, error) {
				addr, err := chain.ParseAddress(args[0])
				if err != nil {
					return nil, fmt.Errorf("ADDRESS: %w", err)
				}
				return &Participant{Address: addr, Name: *name, Role: *role, Prefixes: *prefixes, Locations: *locations}, nil
			}
		})
	register.Args = cobra.ExactArgs(1)
	register.Long = `Register a company as a trace participant, or replace its entry. Only a
participant with role admin may do this. Roles: admin, manufacturer,
logistics, retailer. The participant may capture events at its locations
and commission identifiers under its GS1 company prefixes; "*" means all.`
	register.Example = `  citychain tx trace register-participant city1... --role retailer --name "Corner Leaf Grocers" \
    --prefix 9523333 --location urn:epc:id:sgln:9523333.00001.0 --from dev0 --wait`
	return []*cobra.Command{capture, register}
}

// captureFile reads the document in file ("-" for standard input),
// splits it into batches and checks every one, then sends one
// transaction per batch. With --nonce N the batches are signed with
// consecutive nonces.
func captureFile(cmd *cobra.Command, c sdk.Client, file string) error {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 64<<20))
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return err
	}
	doc, err := ParseDocument(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	batches, err := doc.Batches(0)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	first := make([]int, len(batches)+1) // batch i holds eventList[first[i]:first[i+1]]
	for i := range batches {
		first[i+1] = first[i] + len(batches[i].Events)
		if err := batches[i].Validate(); err != nil {
			return fmt.Errorf("%s: eventList[%d:%d] (events[i] below is eventList[%d+i]): %w", file, first[i], first[i+1], first[i], err)
		}
	}
	nonceFlag := cmd.Flags().Lookup("nonce")
	var base int64
	if nonceFlag != nil && nonceFlag.Changed {
		base, _ = strconv.ParseInt(nonceFlag.Value.String(), 10, 64)
	}
	for i := range batches {
		if len(batches) > 1 {
			fmt.Fprintf(cmd.ErrOrStderr(), "transaction %d of %d: eventList[%d:%d]\n", i+1, len(batches), first[i], first[i+1])
		}
		if nonceFlag != nil && nonceFlag.Changed && i > 0 {
			if err := nonceFlag.Value.Set(strconv.FormatInt(base+int64(i), 10)); err != nil {
				return err
			}
		}
		if err := c.Submit(cmd, Name, ActionCapture, &batches[i]); err != nil {
			if i > 0 {
				return fmt.Errorf("transaction %d of %d: %w (the %d before it were sent)", i+1, len(batches), err, i)
			}
			return err
		}
	}
	return nil
}

// QueryCommands returns "citychain query trace events|provenance|state|event|participant".
func (*App) QueryCommands(c sdk.Client) []*cobra.Command {
	events := sdk.QueryCmd(c, "events EPC [--biz-step STEP] [--location SGLN] [--from TIME] [--to TIME]",
		"List the events that name an EPC, in chain order", func(f *pflag.FlagSet) func([]string) (string, error) {
			args := map[string]*string{
				"biz_step": f.String("biz-step", "", "only events with this CBV business step"),
				"location": f.String("location", "", "only events at this location (SGLN; any extension)"),
				"from":     f.String("from", "", "only events at or after this time (RFC 3339 or YYYY-MM-DD)"),
				"to":       f.String("to", "", "only events before this time (RFC 3339 or YYYY-MM-DD)"),
				"after":    f.String("after", "", "the cursor printed by the previous page"),
			}
			limit := f.Int("limit", 0, fmt.Sprintf("most events to show (default %d, at most %d)", DefaultLimit, MaxLimit))
			return func(pos []string) (string, error) {
				v := url.Values{}
				for _, name := range filterArgs {
					val := args[name]
					switch {
					case name == "limit" && *limit > 0:
						v.Set(name, strconv.Itoa(*limit))
					case val == nil || *val == "":
					case name == "from", name == "to":
						t, err := cliTime(*val)
						if err != nil {
							return "", fmt.Errorf("--%s: %w", name, err)
						}
						v.Set(name, t)
					default:
						v.Set(name, *val)
					}
				}
				return epcPath(pos[0], "events") + "?" + v.Encode(), nil
			}
		}, printEvents)
	events.Example = `  citychain query trace events urn:epc:id:sgtin:9521111.054321.P1001
  citychain query trace events https://id.gs1.org/01/09521111543213/21/P1001 --biz-step shipping --from 2026-03-01`

	prov := sdk.QueryCmd(c, "provenance EPC", "Show what an EPC was packed in and made from, and what it went into",
		func(f *pflag.FlagSet) func([]string) (string, error) {
			depth := f.Int("depth", 0, fmt.Sprintf("how many links to follow (default %d, at most %d)", DefaultDepth, MaxDepth))
			return func(args []string) (string, error) {
				if *depth > 0 {
					return epcPath(args[0], "provenance") + "?depth=" + strconv.Itoa(*depth), nil
				}
				return epcPath(args[0], "provenance"), nil
			}
		}, printProvenance)
	return []*cobra.Command{events, prov,
		sdk.QueryCmd(c, "state EPC", "Show the current state of an EPC: disposition, location, container",
			sdk.Path(Name+"/epcs/%s/state"), printState),
		sdk.QueryCmd(c, "event SEQ", "Show one event by its sequence number, with its proof", sdk.Path(Name+"/events/%s"),
			func(w io.Writer, v *EventView) {
				printEvents(w, &EventsAnswer{Events: []EventView{*v}})
				fmt.Fprintf(w, "%s\n", v.Event)
			}),
		sdk.QueryCmd(c, "participant ADDRESS", "Show a registered trace participant", sdk.Path(Name+"/participants/%s"),
			func(w io.Writer, a *ParticipantAnswer) {
				fmt.Fprintf(w, "%s  %s (%s)\n  prefixes:  %s\n  locations: %s\n", a.Address, a.Name, a.Role,
					strings.Join(a.Prefixes, " "), strings.Join(a.Locations, " "))
			}),
	}
}

func epcPath(epc, what string) string { return Name + "/epcs/" + url.PathEscape(epc) + "/" + what }

// cliTime accepts an RFC 3339 time or a plain date (midnight UTC).
func cliTime(s string) (string, error) {
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return s, nil
	}
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return "", fmt.Errorf("%q is neither RFC 3339 (2026-03-01T08:00:00Z) nor a date (2026-03-01)", s)
	}
	return d.Format(time.RFC3339), nil
}

func printEvents(w io.Writer, a *EventsAnswer) {
	sdk.PrintList(w, "events", a.Events, func(w io.Writer, e *EventView) {
		what := strings.TrimSpace(e.Type + " " + e.Action)
		why := strings.TrimSpace(e.BizStep + " " + e.Disposition)
		line := fmt.Sprintf("#%-5d %s  %-26s %-28s block %d", e.Seq, e.EventTime.Format(time.RFC3339), what, why, e.Height)
		if len(e.Roles) > 0 {
			line += "  as " + strings.Join(e.Roles, ",")
		}
		if e.ErrorDeclaration {
			line += "  ERROR DECLARATION of " + e.EventID
		}
		if e.DeclaredErroneousBy != 0 {
			line += fmt.Sprintf("  ERRONEOUS (declared by #%d)", e.DeclaredErroneousBy)
		}
		fmt.Fprintln(w, line)
		if e.EventHash != "" {
			fmt.Fprintf(w, "       %s\n", e.EventHash)
		}
	})
	if a.Next != "" {
		fmt.Fprintf(w, "more: --after %s\n", a.Next)
	}
}

func printProvenance(w io.Writer, a *ProvenanceAnswer) {
	fmt.Fprintf(w, "%s\n", a.Key)
	var walk func(ls []*Link, indent string)
	walk = func(ls []*Link, indent string) {
		for _, l := range ls {
			more := ""
			if l.Truncated {
				more = "  (more: ask for its provenance)"
			}
			fmt.Fprintf(w, "%s%s %s  (event #%d %s)%s\n", indent, l.Relation, l.EPC, l.Event, l.BizStep, more)
			walk(l.Links, indent+"  ")
		}
	}
	fmt.Fprintln(w, "upstream:")
	walk(a.Upstream, "  ")
	fmt.Fprintln(w, "downstream:")
	walk(a.Downstream, "  ")
}

func printState(w io.Writer, a *StateAnswer) {
	s := a.State
	rows := [][2]string{{"epc", a.Key}, {"last event", fmt.Sprintf("#%d at %s", s.LastEvent, time.UnixMilli(s.EventTime).UTC().Format(time.RFC3339))},
		{"biz step", s.BizStep}, {"disposition", s.Disposition}, {"read point", s.ReadPoint},
		{"biz location", s.BizLocation}, {"container", s.Container}, {"attached to", s.AttachedTo}}
	if s.Decommissioned {
		rows = append(rows, [2]string{"decommissioned", "yes"})
	}
	if s.Erroneous > 0 {
		rows = append(rows, [2]string{"erroneous events", strconv.FormatUint(s.Erroneous, 10)})
	}
	for _, r := range rows {
		if r[1] != "" {
			fmt.Fprintf(w, "%-16s %s\n", r[0]+":", r[1])
		}
	}
	fmt.Fprintf(w, "(height %d, proof of %s)\n", a.Height, "state/"+a.Key)
}
