package city

import (
	"cmp"
	"fmt"
	"os"
	"strings"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TxCommands returns "citychain tx city register-device|report|command|ack|keygen";
// the queries are in cliquery.go.
func (*App) TxCommands(c sdk.Client) []*cobra.Command {
	return []*cobra.Command{registerCmd(c), reportCmd(c), commandCmd(c), ackCmd(c), keygenCmd()}
}

func registerCmd(c sdk.Client) *cobra.Command {
	var cmd *cobra.Command // the command being built, for its flags and output
	cmd = sdk.TxCmd(c, Name, ActionRegister,
		"register-device --id ID --type TYPE (--pubkey HEX | --key-file FILE) --owner ADDRESS --lon X --lat Y --district NAME",
		"Register a device with its own key (the --from key must be a city operator)",
		func(f *pflag.FlagSet) func([]string) (*Register, error) {
			var m Register
			f.StringVar(&m.ID, "id", "", "device id: letters, digits and . _ : - (it becomes urn:ngsi-ld:TYPE:ID)")
			f.StringVar(&m.Type, "type", "", "FIWARE type: Streetlight, TrafficFlowObserved, AirQualityObserved or Device")
			f.StringVar(&m.Category, "category", "", "for a Device: sensor, or actuator (a traffic light)")
			f.StringVar(&m.Name, "name", "", "a name for people")
			f.StringVar(&m.District, "district", "", "district name: letters, digits and . _ -")
			pubkey := f.String("pubkey", "", "the device's public key, hex (33-byte compressed)")
			keyFile := f.String("key-file", "", "read the device's public key from its key file (see keygen)")
			owner := f.String("owner", "", "the owner's address (city1...)")
			lon := f.String("lon", "", "longitude, decimal degrees (at most 6 decimal places)")
			lat := f.String("lat", "", "latitude, decimal degrees (at most 6 decimal places)")
			attrs := f.StringArray("attr", nil, "initial attribute NAME=VALUE (repeatable)")
			fiware := f.String("fiware", "", "read the device from a FIWARE entity file (JSON)")
			sdk.Required(f, "owner")
			return func([]string) (*Register, error) {
				msg := m
				msg.Attrs = map[string]string{}
				if *fiware != "" {
					im, err := readFIWARE(cmd, *fiware)
					if err != nil {
						return nil, err
					}
					fill := func(flag string, field *string, v string) { // flags given as well take precedence
						if !f.Changed(flag) {
							*field = v
						}
					}
					r := &im.Register
					fill("id", &msg.ID, r.ID)
					fill("type", &msg.Type, r.Type)
					fill("type", &msg.Category, r.Category)
					fill("name", &msg.Name, r.Name)
					fill("district", &msg.District, r.District)
					msg.Location, msg.Attrs = r.Location, r.Attrs
				}
				if *lon != "" || *lat != "" {
					msg.Location = NewPoint(*lon, *lat)
				}
				if err := parseKV("--attr", *attrs, msg.Attrs); err != nil {
					return nil, err
				}
				var err error
				if msg.PubKey, err = pubKeyFlag(*pubkey, *keyFile); err != nil {
					return nil, err
				}
				if msg.Owner, err = chain.ParseAddress(*owner); err != nil {
					return nil, fmt.Errorf("--owner: %w", err)
				}
				return &msg, nil
			}
		})
	cmd.Long = `Register a device: its id, FIWARE type, public key, owner, location and district.
--attr sets its initial state (an installation attribute such as lanternHeight);
a Device of category sensor must name what it senses, such as
--attr controlledProperty=temperature,humidity.
--fiware reads all of that but the key and owner from a FIWARE entity (NGSI-v2 or
NGSI-LD JSON); flags given as well take precedence. See the models and their
attributes with: citychain query city models`
	cmd.Example = `  citychain tx city keygen --out sl-001.key
  citychain tx city register-device --from dev0 --id centro-sl-001 --type Streetlight \
      --key-file sl-001.key --owner city1... --lon -3.7122 --lat 40.4238 --district Centro \
      --attr lanternHeight=8 --wait
  citychain tx city register-device --from dev0 --fiware streetlight.json --key-file sl.key --owner city1...`
	return cmd
}

func reportCmd(c sdk.Client) *cobra.Command {
	var cmd *cobra.Command
	cmd = sdk.TxCmd(c, Name, ActionReport, "report --device ID --key-file FILE --reading NAME=VALUE ...",
		"Send a reading signed with the device's key (any --from account carries it)",
		func(f *pflag.FlagSet) func([]string) (*Report, error) {
			var obs Observation
			f.StringVar(&obs.Device, "device", "", "the device's id")
			keyFile := f.String("key-file", "", "the device's key file (see keygen)")
			values := f.StringArray("reading", nil, "a value NAME=VALUE (repeatable)")
			f.Uint64Var(&obs.Seq, "seq", 0, "the reading's sequence number (default: the device's last + 1)")
			f.StringVar(&obs.ObservedAt, "observed-at", "", "when it was observed, RFC 3339 (default: the block time)")
			fiware := f.String("fiware", "", "take the values (and device id and time) from a FIWARE entity file")
			sdk.Required(f, "key-file")
			return func([]string) (*Report, error) {
				key, err := LoadKeyFile(*keyFile)
				if err != nil {
					return nil, err
				}
				o := obs
				o.Values = map[string]string{}
				if *fiware != "" {
					im, err := readFIWARE(cmd, *fiware)
					if err != nil {
						return nil, err
					}
					o.Device, o.ObservedAt = cmp.Or(o.Device, im.Register.ID), cmp.Or(o.ObservedAt, im.ObservedAt)
					o.Values = im.Values
				}
				if err := parseKV("--reading", *values, o.Values); err != nil {
					return nil, err
				}
				if err := checkID("--device", o.Device); err != nil {
					return nil, err
				}
				if o.Seq == 0 {
					var dv DeviceView
					if err := c.Query(cmd, Name+"/device/"+o.Device, &dv); err != nil {
						return nil, fmt.Errorf("find the device's last seq (or give --seq): %w", err)
					}
					o.Seq = dv.State.LastSeq + 1
				}
				chainID, err := chainIDFor(cmd, c)
				if err != nil {
					return nil, err
				}
				r, err := SignReading(key, chainID, o)
				return &Report{Readings: []Reading{r}}, err
			}
		})
	cmd.Long = `Sign one reading with the device's key and send it. The --from account only
carries the transaction, as a gateway would; the chain checks the device's
signature. --seq defaults to one above the device's last reading; without
--observed-at the reading counts as observed at its block's time. Decimals are
written as text with at most the model's decimal places (citychain query city models).`
	cmd.Example = `  citychain tx city report --from dev1 --device centro-sl-001 --key-file sl-001.key \
      --reading powerState=on --reading illuminanceLevel=0.8 --wait`
	return cmd
}

func commandCmd(c sdk.Client) *cobra.Command {
	cmd := sdk.TxCmd(c, Name, ActionCommand, "command --device ID --action ACTION [--value VALUE]",
		"Send a command to a device (the --from key must be a city operator)",
		sdk.BindFlags(func(f *pflag.FlagSet, m *Command) {
			f.StringVar(&m.Device, "device", "", "the device's id")
			f.StringVar(&m.Action, "action", "", "dim, switch, set-signal, set-plan or reboot")
			f.StringVar(&m.Value, "value", "", "the command's value")
		}, "device", "action"))
	cmd.Long = `Record a command for a device; the device answers with "tx city ack".
Streetlights take dim (0 to 1) and switch (on, off, low); traffic lights take
set-signal (red, amber, green, flashing, off) and set-plan (a plan name); every
device takes reboot.`
	cmd.Example = `  citychain tx city command --from dev0 --device centro-sl-001 --action dim --value 0.4 --wait
  citychain tx city command --from dev0 --device centro-tl-001 --action set-plan --value night --wait`
	return cmd
}

func ackCmd(c sdk.Client) *cobra.Command {
	var cmd *cobra.Command
	cmd = sdk.TxCmd(c, Name, ActionAck, "ack --command N --key-file FILE [--result done|failed] [--detail TEXT]",
		"Acknowledge a command, signed with the device's key",
		func(f *pflag.FlagSet) func([]string) (*Ack, error) {
			var b AckBody
			f.Uint64Var(&b.Command, "command", 0, "the command's number")
			keyFile := f.String("key-file", "", "the device's key file")
			f.StringVar(&b.Result, "result", ResultDone, "done or failed")
			f.StringVar(&b.Detail, "detail", "", "a note from the device")
			sdk.Required(f, "command", "key-file")
			return func([]string) (*Ack, error) {
				key, err := LoadKeyFile(*keyFile)
				if err != nil {
					return nil, err
				}
				body := b
				var rec CommandRecord
				if err := c.Query(cmd, fmt.Sprintf("%s/command/%d", Name, body.Command), &rec); err != nil {
					return nil, err
				}
				body.Device = rec.Device
				chainID, err := chainIDFor(cmd, c)
				if err != nil {
					return nil, err
				}
				a, err := SignAck(key, chainID, body)
				return &a, err
			}
		})
	cmd.Example = `  citychain tx city ack --from dev1 --command 3 --key-file sl-001.key --wait`
	return cmd
}

func keygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out FILE",
		Short: "Make a new device key and print its public key for register-device",
		Long: `Make a new secp256k1 key for a device and write it, unencrypted, to FILE
(readable by you only). Sends nothing. On real hardware the key would be made
inside the device and never leave it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := crypto.GenerateKey()
			if err != nil {
				return err
			}
			if err := WriteKeyFile(out, k); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pubkey %s\nkey written to %s\n", PubKeyHex(k), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the key to (must not exist)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// chainIDFor returns the chain id a device signs for: --chain-id when
// the tx command has it set, else the node's.
func chainIDFor(cmd *cobra.Command, c sdk.Client) (string, error) {
	if f := cmd.Flags().Lookup("chain-id"); f != nil && f.Value.String() != "" {
		return f.Value.String(), nil
	}
	var a InfoAnswer
	if err := c.Query(cmd, Name+"/info", &a); err != nil {
		return "", fmt.Errorf("ask the node for the chain id (or give --chain-id): %w", err)
	}
	return a.ChainID, nil
}

func pubKeyFlag(pubkey, keyFile string) (string, error) {
	switch {
	case pubkey != "" && keyFile == "":
		return strings.ToLower(pubkey), nil
	case keyFile != "" && pubkey == "":
		k, err := LoadKeyFile(keyFile)
		if err != nil {
			return "", err
		}
		return PubKeyHex(k), nil
	}
	return "", fmt.Errorf("give the device's key as --pubkey HEX or --key-file FILE")
}

func readFIWARE(cmd *cobra.Command, path string) (*Imported, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	im, err := ParseFIWARE(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(im.Skipped) > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: skipped attributes the %s model leaves out: %s\n", path, im.Register.Type, strings.Join(im.Skipped, ", "))
	}
	return im, nil
}

// parseKV adds NAME=VALUE pairs to into.
func parseKV(flag string, pairs []string, into map[string]string) error {
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return fmt.Errorf("%s %q: want NAME=VALUE", flag, p)
		}
		into[k] = v
	}
	return nil
}
