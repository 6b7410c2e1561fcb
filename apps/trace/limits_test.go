package trace_test

import (
	"fmt"
	"testing"

	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// The answers' limits: an identifier named by more events than a limit
// gets an answer that stops at the limit and says so.

const crowded = "urn:epc:id:sgtin:9521111.054321.C1"

// crowdChain is a chain whose admin may capture anything, without the
// schema check of every answer that newChain adds: the tests here
// capture thousands of events alike.
func crowdChain(t *testing.T) *chaintest.Chain {
	t.Helper()
	c, err := chaintest.New([]chain.App{trace.New()}, map[string]any{trace.Name: trace.DevGenesis(chaintest.Addr(admin))})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// captureAll captures events as the admin, up to MaxEvents a transaction.
func captureAll(t *testing.T, c *chaintest.Chain, events []map[string]any) {
	t.Helper()
	for len(events) > 0 {
		n := min(len(events), trace.MaxEvents)
		if err := capture(c, admin, events[:n]...); err != nil {
			t.Fatal(err)
		}
		events = events[n:]
	}
}

// packedInto is an aggregation that packs crowded into a pallet of its
// own: one more packed_in link of crowded.
func packedInto(pallet int) map[string]any {
	return event(trace.AggregationEvent, "ADD", map[string]any{
		"parentID": fmt.Sprintf("urn:epc:id:sscc:9521111.%010d", pallet), "childEPCs": list(crowded)})
}

// seen is an observation of crowded, which makes no link.
func seen(i int) map[string]any {
	return event(trace.ObjectEvent, "OBSERVE", map[string]any{"epcList": list(crowded),
		"eventTime": fmt.Sprintf("2026-03-10T09:%02d:%02d.%03d+01:00", i/60000%60, i/1000%60, i%1000)})
}

func countLinks(ls []*trace.Link) int {
	n := len(ls)
	for _, l := range ls {
		n += countLinks(l.Links)
	}
	return n
}

func TestProvenanceStopsAtMaxLinks(t *testing.T) {
	c := crowdChain(t)
	var events []map[string]any
	for i := range trace.MaxLinks + 100 {
		events = append(events, packedInto(i+1))
	}
	captureAll(t, c, events)
	a := query[*trace.ProvenanceAnswer](t, c, "epcs/"+crowded+"/provenance", nil)
	if n := countLinks(a.Upstream) + countLinks(a.Downstream); n != trace.MaxLinks || !a.Truncated {
		t.Fatalf("%d links, truncated %v; want %d and truncated", n, a.Truncated, trace.MaxLinks)
	}
	if len(a.Events) != trace.MaxLinks {
		t.Fatalf("%d events cited, want %d", len(a.Events), trace.MaxLinks)
	}
	// The first pallets come first, in chain order.
	if a.Upstream[0].EPC != key(t, "urn:epc:id:sscc:9521111.0000000001") {
		t.Fatalf("first link %+v", a.Upstream[0])
	}
}

func TestProvenanceStopsAtMaxReads(t *testing.T) {
	c := crowdChain(t)
	events := []map[string]any{packedInto(1)}
	for i := range trace.MaxProvenanceReads {
		events = append(events, seen(i))
	}
	events = append(events, packedInto(2))
	captureAll(t, c, events)
	a := query[*trace.ProvenanceAnswer](t, c, "epcs/"+crowded+"/provenance", nil)
	if len(a.Upstream) != 1 || a.Upstream[0].EPC != key(t, "urn:epc:id:sscc:9521111.0000000001") || !a.Truncated {
		t.Fatalf("upstream %v, truncated %v; want the first pallet only, truncated", a.Upstream, a.Truncated)
	}
}

func TestProvenanceWithinTheLimitsIsWhole(t *testing.T) {
	c := crowdChain(t)
	captureAll(t, c, []map[string]any{packedInto(1), seen(1), packedInto(2)})
	a := query[*trace.ProvenanceAnswer](t, c, "epcs/"+crowded+"/provenance", nil)
	if len(a.Upstream) != 2 || a.Truncated || a.Upstream[0].Truncated || a.Upstream[1].Truncated {
		t.Fatalf("upstream %+v, truncated %v", a.Upstream, a.Truncated)
	}
}

// TestAFilterThatRarelyMatchesPagesOn: 35 events name crowded and only
// the last was received. Each page of limit 1 reads at most ScanFactor
// entries of the index, so the first pages hold no event but a cursor,
// and paging on with it reaches the received one.
func TestAFilterThatRarelyMatchesPagesOn(t *testing.T) {
	c := crowdChain(t)
	var events []map[string]any
	for i := range 34 {
		e := seen(i)
		e["bizStep"] = "shipping"
		events = append(events, e)
	}
	last := seen(99)
	last["bizStep"] = "receiving"
	captureAll(t, c, append(events, last))
	for _, route := range []struct {
		path string
		args map[string]string
	}{
		{"epcs/" + crowded + "/events", map[string]string{"biz_step": "receiving"}},
		// The step index of shipping, filtered by a location no event has.
		{"events", map[string]string{"biz_step": "shipping", "location": "urn:epc:id:sgln:9521111.00099.0"}},
	} {
		args := map[string]string{"limit": "1"}
		for k, v := range route.args {
			args[k] = v
		}
		var found []trace.EventView
		pages := 0
		for {
			a := query[*trace.EventsAnswer](t, c, route.path, args)
			pages++
			found = append(found, a.Events...)
			if a.Next == "" {
				break
			}
			if pages > 10 {
				t.Fatalf("%s: still paging after %d pages", route.path, pages)
			}
			args["after"] = a.Next
		}
		want := 0
		if route.path != "events" {
			want = 1
		}
		if len(found) != want || pages != 4 {
			t.Fatalf("%s %v: %d events in %d pages, want %d in 4 (35 entries, %d a page)", route.path, route.args,
				len(found), pages, want, trace.ScanFactor)
		}
		if want == 1 && found[0].BizStep != "receiving" {
			t.Fatalf("found %+v", found[0])
		}
	}
}
