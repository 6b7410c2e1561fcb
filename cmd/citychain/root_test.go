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

// TestNodeFromEnvironment checks that CITYCHAIN_NODE changes the node
// that client commands talk to when --node is not given, as the docs
// test uses it to point the documents' commands at its own devnet.
func TestNodeFromEnvironment(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"", "http://127.0.0.1:8700"},
		{"http://127.0.0.1:18700", "http://127.0.0.1:18700"},
	} {
		t.Setenv("CITYCHAIN_NODE", tc.env)
		if got := newRootCmd().PersistentFlags().Lookup("node").DefValue; got != tc.want {
			t.Errorf("CITYCHAIN_NODE=%q: --node defaults to %q, want %q", tc.env, got, tc.want)
		}
	}
}
