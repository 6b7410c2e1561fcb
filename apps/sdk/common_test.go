package sdk_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestDecodeGenesis(t *testing.T) {
	type params struct {
		Max uint64 `json:"max"`
	}
	cases := []struct {
		name, raw string
		want      uint64
		err       string
	}{
		{"absent keeps the default", "", 4, ""},
		{"null keeps the default", " null ", 4, ""},
		{"a value", `{"max": 7}`, 7, ""},
		{"a misspelt field", `{"maks": 7}`, 4, "parking genesis: "},
		{"not JSON", `{`, 4, "parking genesis: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := params{Max: 4}
			err := sdk.DecodeGenesis("parking", json.RawMessage(tc.raw), &g)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if tc.err == "" && g.Max != tc.want {
				t.Errorf("max = %d, want %d", g.Max, tc.want)
			}
		})
	}
}

func TestKeyJoinsWithoutAliasing(t *testing.T) {
	const prefix = "order/"
	a := sdk.Key(prefix, sdk.Uint64Bytes(1))
	b := sdk.Key(prefix, sdk.Uint64Bytes(2), []byte{9})
	if string(a) != "order/\x00\x00\x00\x00\x00\x00\x00\x01" || string(b) != "order/\x00\x00\x00\x00\x00\x00\x00\x02\x09" {
		t.Fatalf("keys %q %q", a, b)
	}
	a[0] = 'X'
	if string(sdk.Key(prefix)) != prefix {
		t.Error("a key shares its bytes with another")
	}
}

func TestFromFlagsGivesEachRunItsOwnCopy(t *testing.T) {
	type msg struct{ Note string }
	f := pflag.NewFlagSet("x", pflag.ContinueOnError)
	var m msg
	f.StringVar(&m.Note, "note", "", "")
	build := sdk.FromFlags(&m)
	if err := f.Parse([]string{"--note", "first"}); err != nil {
		t.Fatal(err)
	}
	got, _ := build(nil)
	got.Note = "rewritten by Validate"
	again, _ := build(nil)
	if again.Note != "first" {
		t.Errorf("second run sees %q", again.Note)
	}
}

func TestFormatTimeIsUTCWithMilliseconds(t *testing.T) {
	at := time.Date(2026, 1, 1, 9, 0, 1, 0, time.FixedZone("CET", 3600))
	if got := sdk.FormatTime(at); got != "2026-01-01T08:00:01.000Z" {
		t.Errorf("FormatTime = %s", got)
	}
}

func TestKeyNeverAliasesItsPrefix(t *testing.T) {
	prefix := make([]byte, 3, 16)
	copy(prefix, "ab/")
	k := sdk.Key(prefix)
	k[0] = 'X'
	k2 := sdk.Key(prefix, []byte("1"))
	k3 := sdk.Key(prefix, []byte("2"))
	if string(prefix) != "ab/" || string(k2) != "ab/1" || string(k3) != "ab/2" {
		t.Errorf("prefix %q, keys %q %q: a key shares the prefix's array", prefix, k2, k3)
	}
}

func TestBindFlagsDeclaresRequiresAndCopies(t *testing.T) {
	type msg struct {
		Order uint64
		Note  string
	}
	cmd := &cobra.Command{Use: "x"}
	build := sdk.BindFlags(func(f *pflag.FlagSet, m *msg) {
		f.Uint64Var(&m.Order, "order", 0, "")
		f.StringVar(&m.Note, "note", "", "")
	}, "order")(cmd.Flags())
	if f := cmd.Flags().Lookup("order"); f == nil || f.Annotations[cobra.BashCompOneRequiredFlag] == nil {
		t.Fatal("--order is not declared as required")
	}
	if f := cmd.Flags().Lookup("note"); f == nil || f.Annotations[cobra.BashCompOneRequiredFlag] != nil {
		t.Fatal("--note is missing or required")
	}
	if err := cmd.Flags().Parse([]string{"--order", "7", "--note", "first"}); err != nil {
		t.Fatal(err)
	}
	got, _ := build(nil)
	if got.Order != 7 || got.Note != "first" {
		t.Fatalf("payload %+v, want the flags' values", got)
	}
	got.Note = "rewritten by Validate"
	if again, _ := build(nil); again.Note != "first" {
		t.Errorf("second run sees %q", again.Note)
	}
}

func TestIDAtEndReadsTheLastEightBytes(t *testing.T) {
	key := sdk.Key("status/OrderProcessing/", sdk.Uint64Bytes(42))
	if n, err := sdk.IDAtEnd(key); n != 42 || err != nil {
		t.Errorf("IDAtEnd = %d, %v; want 42", n, err)
	}
	if n, err := sdk.IDAtEnd(sdk.Uint64Bytes(7)); n != 7 || err != nil {
		t.Errorf("IDAtEnd of the bare id = %d, %v; want 7", n, err)
	}
	if _, err := sdk.IDAtEnd([]byte("short")); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("a key shorter than an id: err = %v", err)
	}
}
