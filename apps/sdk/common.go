package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// What modules share besides their tables and storage: strict genesis
// decoding, flag-bound payloads for TxCmd, state keys, and the layout of
// times in records.

// DecodeGenesis decodes the module's section of the genesis file into g
// and refuses fields that g does not have, so a misspelt parameter is an
// error and not a silent default. An absent or null section leaves g as
// it was: the caller fills it with its defaults first. Errors begin with
// "{module} genesis:".
func DecodeGenesis(module string, raw json.RawMessage, g any) error {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(g); err != nil {
		return fmt.Errorf("%s genesis: %w", module, err)
	}
	return nil
}

// Required marks the flags names of f as required: cobra refuses to run
// the command without them.
func Required(f *pflag.FlagSet, names ...string) {
	for _, n := range names {
		_ = cobra.MarkFlagRequired(f, n)
	}
}

// FromFlags is the payload builder of a TxCmd whose payload fields are
// all flags, bound to m while declaring them: each run gets a copy of m,
// so Validate's rewriting of one run does not leak into the next.
func FromFlags[T any](m *T) func(args []string) (*T, error) {
	return func([]string) (*T, error) { c := *m; return &c, nil }
}

// BindFlags is the flags function of a TxCmd whose payload fields are
// all flags: set declares them on f, bound to the fields of m; the flags
// named in required must be given; and each run gets its own copy of
// the payload (FromFlags).
//
//	sdk.BindFlags(func(f *pflag.FlagSet, m *Confirm) {
//		f.Uint64Var(&m.Order, "order", 0, "the order's id")
//	}, "order")
func BindFlags[T any](set func(f *pflag.FlagSet, m *T), required ...string) func(f *pflag.FlagSet) func(args []string) (*T, error) {
	return func(f *pflag.FlagSet) func([]string) (*T, error) {
		m := new(T)
		set(f, m)
		Required(f, required...)
		return FromFlags(m)
	}
}

// Key joins the parts of a state key: a textual prefix such as "order/"
// and fixed-length parts (addresses, hashes, Uint64Bytes), which need no
// separator between them. The result is a new slice: a module may keep
// its prefixes as constants and never alias a shared one.
func Key[P string | []byte](prefix P, parts ...[]byte) []byte {
	n := len(prefix)
	for _, p := range parts {
		n += len(p)
	}
	out := append(make([]byte, 0, n), prefix...)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Present is the value of an index key that carries no data: the store
// keeps no empty values, so an index entry holds this one byte.
var Present = []byte{1}

// TimeLayout is how modules write times in their records and answers:
// UTC with milliseconds, the precision of block times.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime writes t in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }
