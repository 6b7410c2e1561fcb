package main

import (
	"testing"

	"github.com/citychain/citychain/apps"
	"github.com/citychain/citychain/apps/sdk"
	"github.com/spf13/cobra"
)

// TestModuleCommandsAreRegistered checks that the commands modules add
// through apps.All() are where users and scripts find them, with their
// flags: "citychain verify" (copyright), "citychain sim city" under the
// sim group's signing flags, and "citychain tx|query {module}" for every
// module with commands.
func TestModuleCommandsAreRegistered(t *testing.T) {
	root := newRootCmd()
	find := func(path ...string) *cobra.Command {
		t.Helper()
		c, rest, err := root.Find(path)
		if err != nil || len(rest) > 0 || c.Name() != path[len(path)-1] {
			t.Fatalf("citychain %v: found %q, %v", path, c.Name(), err)
		}
		return c
	}
	cases := []struct {
		path  []string
		flags []string
	}{
		{[]string{"verify"}, []string{"file", "validators-hash"}},
		{[]string{"sim", "city"}, []string{"devices", "rate", "duration", "count", "seed", "from", "passphrase-file", "chain-id"}},
		{[]string{"tx", "bank", "send"}, []string{"to", "amount", "memo", "from", "wait", "offline", "nonce"}},
		{[]string{"query", "bank", "balance"}, nil},
	}
	for _, tc := range cases {
		c := find(tc.path...)
		for _, f := range tc.flags {
			if c.Flag(f) == nil {
				t.Errorf("citychain %v has no --%s", tc.path, f)
			}
		}
	}
	for _, a := range apps.All() {
		if _, ok := a.(sdk.CLI); ok {
			find("tx", a.Name())
			find("query", a.Name())
		}
	}
}
