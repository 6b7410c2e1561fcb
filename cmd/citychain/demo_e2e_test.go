package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/commerce"
	"github.com/spf13/cobra"
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

// TestDemoFinishesWhenTheEscrowReleasedItself: a teacher who lingers
// between the order and the delivery lets the release timer run out, and
// the escrow pays the cooperative by itself. The story's last step must
// then say so rather than fail on a confirm that is no longer allowed.
func TestDemoFinishesWhenTheEscrowReleasedItself(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	port := freePort(t)
	startProc(t, port, "dev", "--home", t.TempDir(), "--base-port", fmt.Sprint(port), "--empty-every", "200ms")
	var out bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetOut(&out)
	d, err := newDemo(cmd, fmt.Sprintf("http://127.0.0.1:%d", port), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.commerceOrder(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var a commerce.OrderAnswer
		if err := d.get(fmt.Sprintf("/v1/apps/commerce/order/%d", d.order), &a); err != nil {
			t.Fatal(err)
		}
		if a.Order.Status == commerce.OrderDelivered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the escrow did not release itself within 60 s: %s", a.Order.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := d.commerceDelivered(); err != nil {
		t.Fatalf("the last step failed after the release: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "paid the cooperative by itself") {
		t.Errorf("the step did not explain the release:\n%s", out.String())
	}
}
