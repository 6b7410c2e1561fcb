package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestDemoRunsAgainstDev runs the workshop story to the end against a
// `citychain dev` node, twice: a teacher runs it again in the next class
// on the same chain.
func TestDemoRunsAgainstDev(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	port := freePort(t)
	p := startDev(t, t.TempDir(), port)
	api := fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; i < 2; i++ {
		out := run(t, "demo", "--node", api)
		checkDemoOutput(t, out)
	}
	p.stop(t)
}

// TestDemoRunsAgainstDevnet runs the story against node1 of a 4-node
// devnet: every transaction goes through BFT consensus.
func TestDemoRunsAgainstDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	d := startDevnet(t, 4)
	out := run(t, "demo", "--node", d.net.Nodes[1].API)
	checkDemoOutput(t, out)
	d.checkSameChain(t, 0, 1, 2, 3)
}

func checkDemoOutput(t *testing.T, out string) {
	t.Helper()
	for _, want := range []string{"trace.capture by dev0 committed", "copyright.register by dev1 committed",
		"commerce.place_order by dev2 committed", "city.report by dev3 committed", "city.ack by dev3 committed", "OrderDelivered", "The end.", "/v1/apps/commerce/order/",
		"In the explorer:", "/#/trace/urn:epc:", "/#/order/", "/#/device/SL-", "/#/network", "citychain-design-"} {
		if !strings.Contains(out, want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out)
		}
	}
}
