package city

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// QueryCommands returns "citychain query city info|models|devices|device|history|bbox|district|ngsi|commands|command".
func (*App) QueryCommands(c sdk.Client) []*cobra.Command {
	info := sdk.QueryCmd(c, "info", "Show the chain id, the city operators and the history limit", sdk.Path(Name+"/info"),
		func(w io.Writer, a *InfoAnswer) {
			fmt.Fprintf(w, "chain %s at height %d, history limit %d readings per device\n", a.ChainID, a.Height, a.HistoryLimit)
			for _, op := range a.Operators {
				fmt.Fprintf(w, "operator %s\n", op)
			}
		})
	models := sdk.QueryCmd(c, "models", "List the device models: attributes, units, ranges and commands", sdk.Path(Name+"/models"),
		func(w io.Writer, _ *[]json.RawMessage) { printModels(w, Models()) })
	devices := sdk.QueryCmd(c, "devices [--prefix P]", "List devices, in id order",
		argFlags(Name+"/devices", "only ids that start with this", false, "prefix"),
		func(w io.Writer, ds *[]DeviceView) { printDevices(w, *ds) })
	device := sdk.QueryCmd(c, "device ID", "Show a device and its latest state", sdk.Path(Name+"/device/%s"), printDevice)
	history := sdk.QueryCmd(c, "history ID [--limit N]", "Show a device's stored readings, newest first",
		func(f *pflag.FlagSet) func([]string) (string, error) {
			limit := f.Int("limit", 20, "how many readings")
			return func(args []string) (string, error) {
				return fmt.Sprintf("%s/history/%s?limit=%d", Name, url.PathEscape(args[0]), *limit), nil
			}
		}, func(w io.Writer, h *HistoryAnswer) {
			sdk.PrintTable(w, "SEQ\tOBSERVED\tHEIGHT\tVALUES", h.Entries, func(tw io.Writer, e *HistoryEntry) {
				fmt.Fprintf(tw, "%d\t%s\t%d\t%s\n", e.Seq, e.ObservedAt, e.Height, joinSorted(e.Values, " ", kvText))
			})
		})
	bbox := sdk.QueryCmd(c, "bbox --min-lon X --min-lat Y --max-lon X --max-lat Y", "List the devices inside a bounding box",
		argFlags(Name+"/bbox", "decimal degrees", true, "min_lon", "min_lat", "max_lon", "max_lat"),
		func(w io.Writer, a *BBoxAnswer) { printDevices(w, a.Devices) })
	devices.Args, history.Args, bbox.Args = cobra.NoArgs, cobra.ExactArgs(1), cobra.NoArgs // flag values are not positionals
	bbox.Example = `  citychain query city bbox --min-lon -3.72 --min-lat 40.41 --max-lon -3.70 --max-lat 40.43`
	district := sdk.QueryCmd(c, "district NAME", "Show the current state of a district: a summary and its devices",
		sdk.Path(Name+"/district/%s"), func(w io.Writer, a *DistrictAnswer) {
			s := a.Summary
			fmt.Fprintf(w, "district %s at height %d: %d devices %s\n", a.District, a.Height, s.Devices, countText(s.ByType))
			fmt.Fprintf(w, "  streetlights lit %d, signals %s, traffic %s vehicles/period", s.StreetlightsLit, countText(s.Signals), s.TrafficIntensity)
			if s.MaxNO2 != "" {
				fmt.Fprintf(w, ", max NO2 %s µg/m³, max PM10 %s µg/m³", s.MaxNO2, s.MaxPM10)
			}
			fmt.Fprintln(w)
			printDevices(w, a.Devices)
		})
	ngsi := sdk.QueryCmd(c, "ngsi (ID | --district NAME [--type TYPE]) [--key-values]",
		"Export a device, or a district's devices, as NGSI-LD entities of the Smart Data Models",
		func(f *pflag.FlagSet) func([]string) (string, error) {
			district := f.String("district", "", "export every device of this district")
			typ := f.String("type", "", "with --district: only the devices of this type")
			keyValues := f.Bool("key-values", false, "the keyValues form: each attribute its bare value")
			return func(args []string) (string, error) {
				q := url.Values{}
				if *keyValues {
					q.Set("options", "keyValues")
				}
				switch {
				case len(args) == 1 && *district == "" && *typ == "":
					return sdk.WithQuery(Name+"/ngsi/"+url.PathEscape(args[0]), q), nil
				case len(args) == 0 && *district != "":
					q.Set("district", *district)
					if *typ != "" {
						q.Set("type", *typ)
					}
					return sdk.WithQuery(Name+"/ngsi", q), nil
				}
				return "", fmt.Errorf("give a device id or --district (with --type if you like), not both")
			}
		}, func(w io.Writer, out *json.RawMessage) {
			// The entities are the answer in either output format. Asked
			// as plain JSON, the node names their @context in a Link header.
			_ = sdk.PrintJSON(w, out)
		})
	commands := sdk.QueryCmd(c, "commands (ID | --pending)", "List a device's commands, or every command not yet acknowledged",
		func(f *pflag.FlagSet) func([]string) (string, error) {
			pending := f.Bool("pending", false, "only commands not yet acknowledged")
			return func(args []string) (string, error) {
				switch {
				case len(args) == 1 && *pending:
					return Name + "/commands/" + url.PathEscape(args[0]) + "?status=pending", nil
				case len(args) == 1:
					return Name + "/commands/" + url.PathEscape(args[0]), nil
				case *pending:
					return Name + "/commands?status=pending", nil
				}
				return "", fmt.Errorf("give a device id or --pending")
			}
		}, func(w io.Writer, rs *[]CommandRecord) {
			sdk.PrintTable(w, "N\tDEVICE\tACTION\tVALUE\tSTATUS\tHEIGHT", *rs, func(tw io.Writer, r *CommandRecord) {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\n", r.ID, r.Device, r.Action, r.Value, r.Status, r.Height)
			})
		})
	ngsi.Args, commands.Args = cobra.MaximumNArgs(1), cobra.MaximumNArgs(1)
	command := sdk.QueryCmd(c, "command N", "Show a command and the device's answer",
		sdk.PathOf(func(args []string) (string, error) {
			if _, err := strconv.ParseUint(args[0], 10, 64); err != nil {
				return "", fmt.Errorf("command number %q: %w", args[0], err)
			}
			return Name + "/command/" + args[0], nil
		}), func(w io.Writer, r *CommandRecord) {
			fmt.Fprintf(w, "command %d: %s %s %s, issued at height %d by %s: %s", r.ID, r.Device, r.Action, r.Value, r.Height, r.IssuedBy, r.Status)
			if r.AckedAt > 0 {
				fmt.Fprintf(w, " at height %d %s", r.AckedAt, r.Detail)
			}
			fmt.Fprintln(w)
		})
	return []*cobra.Command{info, models, devices, device, history, bbox, district, ngsi, commands, command}
}

// argFlags is a QueryCmd flags function whose flags are the query's
// arguments: each of args, written with '-' for '_', is a string flag
// (required if required is set), and the path is path?{arg}={value}&...
func argFlags(path, usage string, required bool, args ...string) func(f *pflag.FlagSet) func([]string) (string, error) {
	return func(f *pflag.FlagSet) func([]string) (string, error) {
		vals := make([]*string, len(args))
		for i, arg := range args {
			flag := strings.ReplaceAll(arg, "_", "-")
			vals[i] = f.String(flag, "", usage)
			if required {
				sdk.Required(f, flag)
			}
		}
		return func([]string) (string, error) {
			v := url.Values{}
			for i, arg := range args {
				v.Set(arg, *vals[i])
			}
			return path + "?" + v.Encode(), nil
		}
	}
}

// joinSorted joins the entries of m in key order, each written by item.
func joinSorted[V any](m map[string]V, sep string, item func(k string, v V) string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, item(k, m[k]))
	}
	return strings.Join(parts, sep)
}

func kvText(k, v string) string { return k + "=" + v }

func countText(m map[string]int) string {
	return "(" + joinSorted(m, ", ", func(k string, n int) string { return fmt.Sprintf("%s %d", k, n) }) + ")"
}

func printDevices(w io.Writer, ds []DeviceView) {
	if len(ds) == 0 {
		fmt.Fprintln(w, "no devices")
		return
	}
	sdk.PrintTable(w, "ID\tTYPE\tDISTRICT\tLON,LAT\tSEQ\tSTATE", ds, func(tw io.Writer, d *DeviceView) {
		typ := strings.TrimSuffix(d.Type+"/"+d.Category, "/") // Device/actuator
		vals := joinSorted(d.State.Attrs, " ", func(k string, v Value) string { return kvText(k, v.Value) })
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", d.ID, typ, d.District, strings.Join(d.Location.Coordinates, ","), d.State.LastSeq, vals)
	})
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
	sdk.PrintTable(w, "", slices.Sorted(maps.Keys(d.State.Attrs)), func(tw io.Writer, k *string) {
		v := d.State.Attrs[*k]
		unit := ""
		if model != nil {
			if a, ok := model.Attr(*k); ok {
				unit = a.Unit
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", *k, v.Value, unit, v.ObservedAt, v.Source)
	})
}

func printModels(w io.Writer, ms []Model) {
	for _, m := range ms {
		fmt.Fprintf(w, "%s: %s\n", modelName(&m), m.About)
		sdk.PrintTable(w, "", m.Attrs, func(tw io.Writer, a *Attr) {
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
			case KindList:
				rng = "one or more of " + strings.Join(a.Enum, "|")
			}
			about := a.About
			switch {
			case a.Required:
				about += " (a registration must give it)"
			case a.Default != "":
				about += " (registered as " + a.Default + " unless given)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Name, a.Unit, rng, about)
		})
		for _, cs := range m.Commands {
			fmt.Fprintf(w, "  command %s: %s\n", cs.Action, cs.About)
		}
	}
}
