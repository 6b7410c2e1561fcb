package city

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/spf13/cobra"
)

// QueryCommands returns "citychain query city info|models|devices|device|history|bbox|district|ngsi|commands|command".
func (*App) QueryCommands(c sdk.Client) []*cobra.Command {
	info := &cobra.Command{
		Use:   "info",
		Short: "Show the chain id, the city operators and the history limit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var a InfoAnswer
			if err := c.Query(cmd, Name+"/info", &a); err != nil {
				return err
			}
			return c.Print(cmd, a, func(w io.Writer) {
				fmt.Fprintf(w, "chain %s at height %d, history limit %d readings per device\n", a.ChainID, a.Height, a.HistoryLimit)
				for _, op := range a.Operators {
					fmt.Fprintf(w, "operator %s\n", op)
				}
			})
		},
	}
	modelsCmd := &cobra.Command{
		Use:   "models",
		Short: "List the device models: attributes, units, ranges and commands",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ms []json.RawMessage
			if err := c.Query(cmd, Name+"/models", &ms); err != nil {
				return err
			}
			return c.Print(cmd, ms, func(w io.Writer) { printModels(w, Models()) })
		},
	}
	var prefix string
	devices := &cobra.Command{
		Use:   "devices [--prefix P]",
		Short: "List devices, in id order",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ds []DeviceView
			if err := c.Query(cmd, Name+"/devices?"+url.Values{"prefix": {prefix}}.Encode(), &ds); err != nil {
				return err
			}
			return c.Print(cmd, ds, func(w io.Writer) { printDevices(w, ds) })
		},
	}
	devices.Flags().StringVar(&prefix, "prefix", "", "only ids that start with this")
	device := &cobra.Command{
		Use:   "device ID",
		Short: "Show a device and its latest state",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var dv DeviceView
			if err := c.Query(cmd, Name+"/device/"+url.PathEscape(args[0]), &dv); err != nil {
				return err
			}
			return c.Print(cmd, dv, func(w io.Writer) { printDevice(w, &dv) })
		},
	}
	var limit int
	history := &cobra.Command{
		Use:   "history ID [--limit N]",
		Short: "Show a device's stored readings, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var h HistoryAnswer
			q := fmt.Sprintf("%s/history/%s?limit=%d", Name, url.PathEscape(args[0]), limit)
			if err := c.Query(cmd, q, &h); err != nil {
				return err
			}
			return c.Print(cmd, h, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
				fmt.Fprintln(tw, "SEQ\tOBSERVED\tHEIGHT\tVALUES")
				for _, e := range h.Entries {
					fmt.Fprintf(tw, "%d\t%s\t%d\t%s\n", e.Seq, e.ObservedAt, e.Height, kvText(e.Values))
				}
				tw.Flush()
			})
		},
	}
	history.Flags().IntVar(&limit, "limit", 20, "how many readings")
	var minLon, minLat, maxLon, maxLat string
	bbox := &cobra.Command{
		Use:     "bbox --min-lon X --min-lat Y --max-lon X --max-lat Y",
		Short:   "List the devices inside a bounding box",
		Example: `  citychain query city bbox --min-lon -3.72 --min-lat 40.41 --max-lon -3.70 --max-lat 40.43`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := url.Values{"min_lon": {minLon}, "min_lat": {minLat}, "max_lon": {maxLon}, "max_lat": {maxLat}}
			var a BBoxAnswer
			if err := c.Query(cmd, Name+"/bbox?"+v.Encode(), &a); err != nil {
				return err
			}
			return c.Print(cmd, a, func(w io.Writer) { printDevices(w, a.Devices) })
		},
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"min-lon", &minLon}, {"min-lat", &minLat}, {"max-lon", &maxLon}, {"max-lat", &maxLat}} {
		bbox.Flags().StringVar(f.v, f.name, "", "decimal degrees")
		_ = bbox.MarkFlagRequired(f.name)
	}
	district := &cobra.Command{
		Use:   "district NAME",
		Short: "Show the current state of a district: a summary and its devices",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var a DistrictAnswer
			if err := c.Query(cmd, Name+"/district/"+url.PathEscape(args[0]), &a); err != nil {
				return err
			}
			return c.Print(cmd, a, func(w io.Writer) {
				s := a.Summary
				fmt.Fprintf(w, "district %s at height %d: %d devices %s\n", a.District, a.Height, s.Devices, countText(s.ByType))
				fmt.Fprintf(w, "  streetlights lit %d, signals %s, traffic %s vehicles/period", s.StreetlightsLit, countText(s.Signals), s.TrafficIntensity)
				if s.MaxNO2 != "" {
					fmt.Fprintf(w, ", max NO2 %s µg/m³, max PM10 %s µg/m³", s.MaxNO2, s.MaxPM10)
				}
				fmt.Fprintln(w)
				printDevices(w, a.Devices)
			})
		},
	}
	var ngsiDistrict string
	ngsi := &cobra.Command{
		Use:   "ngsi (ID | --district NAME)",
		Short: "Export a device, or a district's devices, as NGSI-LD entities (JSON-LD)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out json.RawMessage
			var path string
			switch {
			case len(args) == 1 && ngsiDistrict == "":
				path = Name + "/ngsi/" + url.PathEscape(args[0])
			case len(args) == 0 && ngsiDistrict != "":
				path = Name + "/ngsi?" + url.Values{"district": {ngsiDistrict}}.Encode()
			default:
				return fmt.Errorf("give a device id or --district, not both")
			}
			if err := c.Query(cmd, path, &out); err != nil {
				return err
			}
			// JSON-LD is the answer in either output format.
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	ngsi.Flags().StringVar(&ngsiDistrict, "district", "", "export every device of this district")
	var pending bool
	commandsCmd := &cobra.Command{
		Use:   "commands (ID | --pending)",
		Short: "List a device's commands, or every command not yet acknowledged",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var path string
			switch {
			case len(args) == 1:
				path = Name + "/commands/" + url.PathEscape(args[0])
				if pending {
					path += "?status=pending"
				}
			case pending:
				path = Name + "/commands?status=pending"
			default:
				return fmt.Errorf("give a device id or --pending")
			}
			var rs []CommandRecord
			if err := c.Query(cmd, path, &rs); err != nil {
				return err
			}
			return c.Print(cmd, rs, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
				fmt.Fprintln(tw, "N\tDEVICE\tACTION\tVALUE\tSTATUS\tHEIGHT")
				for _, r := range rs {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\n", r.ID, r.Device, r.Action, r.Value, r.Status, r.Height)
				}
				tw.Flush()
			})
		},
	}
	commandsCmd.Flags().BoolVar(&pending, "pending", false, "only commands not yet acknowledged")
	command := &cobra.Command{
		Use:   "command N",
		Short: "Show a command and the device's answer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := strconv.ParseUint(args[0], 10, 64); err != nil {
				return fmt.Errorf("command number %q: %w", args[0], err)
			}
			var r CommandRecord
			if err := c.Query(cmd, Name+"/command/"+args[0], &r); err != nil {
				return err
			}
			return c.Print(cmd, r, func(w io.Writer) {
				fmt.Fprintf(w, "command %d: %s %s %s, issued at height %d by %s: %s", r.ID, r.Device, r.Action, r.Value, r.Height, r.IssuedBy, r.Status)
				if r.AckedAt > 0 {
					fmt.Fprintf(w, " at height %d %s", r.AckedAt, r.Detail)
				}
				fmt.Fprintln(w)
			})
		},
	}
	return []*cobra.Command{info, modelsCmd, devices, device, history, bbox, district, ngsi, commandsCmd, command}
}

func kvText(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, " ")
}

func countText(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func printDevices(w io.Writer, ds []DeviceView) {
	if len(ds) == 0 {
		fmt.Fprintln(w, "no devices")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tDISTRICT\tLON,LAT\tSEQ\tSTATE")
	for _, d := range ds {
		typ := d.Type
		if d.Category != "" {
			typ += "/" + d.Category
		}
		vals := make(map[string]string, len(d.State.Attrs))
		for k, v := range d.State.Attrs {
			vals[k] = v.Value
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", d.ID, typ, d.District, strings.Join(d.Location.Coordinates, ","), d.State.LastSeq, kvText(vals))
	}
	tw.Flush()
}

func printDevice(w io.Writer, d *DeviceView) {
	fmt.Fprintf(w, "%s  %s", d.ID, d.Type)
	if d.Category != "" {
		fmt.Fprintf(w, " (%s)", d.Category)
	}
	fmt.Fprintf(w, "  district %s  at %s\n", d.District, strings.Join(d.Location.Coordinates, ","))
	if d.Name != "" {
		fmt.Fprintf(w, "  name       %s\n", d.Name)
	}
	fmt.Fprintf(w, "  owner      %s\n  pubkey     %s\n  registered at height %d (%s) by %s\n", d.Owner, d.PubKey, d.Height, d.Time, d.RegisteredBy)
	fmt.Fprintf(w, "  readings   %d, last seq %d", d.State.Readings, d.State.LastSeq)
	if d.State.ObservedAt != "" {
		fmt.Fprintf(w, ", last observed %s", d.State.ObservedAt)
	}
	fmt.Fprintln(w)
	model, _ := ModelFor(d.Type, d.Category)
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	for _, k := range sortedKeys(d.State.Attrs) {
		v := d.State.Attrs[k]
		unit := ""
		if model != nil {
			if a, ok := model.Attr(k); ok {
				unit = a.Unit
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", k, v.Value, unit, v.ObservedAt, v.Source)
	}
	tw.Flush()
}

func printModels(w io.Writer, ms []Model) {
	for _, m := range ms {
		fmt.Fprintf(w, "%s: %s\n", modelName(&m), m.About)
		tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		for _, a := range m.Attrs {
			rng := ""
			switch a.Kind {
			case KindNumber:
				rng = fmt.Sprintf("%s..%s, %d decimals", formatFixed(a.Min, a.Scale), formatFixed(a.Max, a.Scale), a.Scale)
			case KindEnum:
				rng = strings.Join(a.Enum, "|")
			case KindText:
				rng = fmt.Sprintf("up to %d bytes", a.MaxLen)
			case KindBool:
				rng = "true|false"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Name, a.Unit, rng, a.About)
		}
		tw.Flush()
		for _, cs := range m.Commands {
			fmt.Fprintf(w, "  command %s: %s\n", cs.Action, cs.About)
		}
	}
}
