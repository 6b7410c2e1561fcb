package trace_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/sdk/sdktest"
	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
	"github.com/spf13/cobra"
)

// TestQueryCommandsReadTheSeason runs "citychain query trace ..." against
// the tea story, as citychain does over HTTP: flags become query
// arguments, a Digital Link travels escaped, and the answers print as text.
func TestQueryCommandsReadTheSeason(t *testing.T) {
	c := captureSeason(t)
	// Commands keep their flags between runs, so each run gets new ones.
	cmds := func() []*cobra.Command {
		return trace.New().QueryCommands(sdktest.Client{Chain: c, Key: chaintest.Key(admin)})
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"events", hamperLink, "--biz-step", "retail_selling"}, []string{"ObjectEvent OBSERVE", "retail_selling retail_sold", "as epc", "ni:///sha-256;", "?ver=CBV2.0"}},
		{[]string{"events", packet1, "--limit", "1"}, []string{"TransformationEvent", "as output", "more: --after "}},
		{[]string{"events", packet1, "--from", "2030-01-01"}, []string{"no events"}},
		{[]string{"provenance", hamper, "--depth", "1"}, []string{"made_from " + key(t, packet1), "(more: ask for its provenance)"}},
		{[]string{"state", packet2}, []string{"biz step:        inspecting", "erroneous events: 1"}},
		{[]string{"event", "1"}, []string{"ObjectEvent ADD", `"eventID":"urn:uuid:`}},
		{[]string{"participant", chaintest.Addr(grocer).String()}, []string{"Corner Leaf Grocers (retailer)", "prefixes:  9523333"}},
	}
	for _, tc := range cases {
		out, err := sdktest.Run(t, cmds(), tc.args...)
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
	if _, err := sdktest.Run(t, cmds(), "event", "seven"); !errors.Is(err, chain.ErrBadPayload) {
		t.Errorf("event seven: %v", err)
	}
	if _, err := sdktest.Run(t, cmds(), "events", packet1, "--from", "yesterday"); err == nil || !strings.Contains(err.Error(), "--from") {
		t.Errorf("--from yesterday: %v", err)
	}
}

// TestRegisterCommand registers a participant with the tx command and
// reads it back; only an admin's registration is accepted.
func TestRegisterCommand(t *testing.T) {
	c := newChain(t)
	args := []string{"register-participant", chaintest.Addr("dave").String(), "--role", "retailer", "--name", "Dave's Teas",
		"--prefix", "9525555", "--location", "urn:epc:id:sgln:9525555.00001.0"}
	if _, err := sdktest.Run(t, trace.New().TxCommands(sdktest.Client{Chain: c, Key: chaintest.Key(grocer)}), args...); err == nil || !strings.Contains(err.Error(), chain.ErrUnauthorized.Error()) {
		t.Fatalf("a retailer registered a participant: %v", err)
	}
	if _, err := sdktest.Run(t, trace.New().TxCommands(sdktest.Client{Chain: c, Key: chaintest.Key(admin)}), args...); err != nil {
		t.Fatal(err)
	}
	p := query[*trace.ParticipantAnswer](t, c, "participants/"+chaintest.Addr("dave").String(), nil)
	if p.Name != "Dave's Teas" || p.Role != trace.RoleRetailer || strings.Join(p.Prefixes, ",") != "9525555" || len(p.Locations) != 1 {
		t.Errorf("registered %+v", p.Participant)
	}
	if _, err := sdktest.Run(t, trace.New().TxCommands(sdktest.Client{Chain: c, Key: chaintest.Key(admin)}),
		"register-participant", "city1bad", "--role", "retailer", "--name", "X"); err == nil {
		t.Errorf("a bad address was sent")
	}
}
