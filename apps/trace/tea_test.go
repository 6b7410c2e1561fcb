package trace_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain/chaintest"
)

// Identifiers of the tea story (testdata/README.md).
const (
	sack1   = "urn:epc:id:sgtin:9521111.012345.S001"
	sack2   = "urn:epc:id:sgtin:9521111.012345.S002"
	leafLot = "urn:epc:class:lgtin:9521111.012345.LEAF2603A"
	packet1 = "urn:epc:id:sgtin:9521111.054321.P1001"
	packet2 = "urn:epc:id:sgtin:9521111.054321.P1002"
	box     = "urn:epc:id:sgtin:9521111.154321.C01"
	pallet  = "urn:epc:id:sscc:9521111.0000000017"
	logger  = "urn:epc:id:giai:9522222.LOG7"
	hamper  = "urn:epc:id:sgtin:9523333.077777.H01"
	// The hamper as the till names it: the same object as a Digital Link.
	hamperLink = "https://id.gs1.org/01/09523333777773/21/H01"
	honey      = "urn:epc:idpat:sgtin:9524444.011111.*"
	dcGLN      = "urn:epc:id:sgln:9523333.00001.0"
	depotGLN   = "urn:epc:id:sgln:9522222.00001.0"
)

// The files of the story and who captures each.
var season = []struct{ file, who string }{
	{"01_harvest.jsonld", coop},
	{"02_factory.jsonld", coop},
	{"03_transport.jsonld", freight},
	{"04_receiving.jsonld", grocer},
	{"05_inspection_p1002.jsonld", grocer},
	{"06_hamper.jsonld", grocer},
	{"07_correction.jsonld", grocer},
}

func key(t testing.TB, epc string) string {
	t.Helper()
	id, err := trace.ParseEPC(epc)
	if err != nil {
		t.Fatal(err)
	}
	return id.Key
}

func captureSeason(t testing.TB) *chaintest.Chain {
	c := newChain(t)
	for _, s := range season {
		captureFile(t, c, s.who, filepath.Join("testdata", s.file))
	}
	return c
}

func stateOf(t testing.TB, c *chaintest.Chain, epc string) *trace.State {
	t.Helper()
	a := query[*trace.StateAnswer](t, c, "epcs/"+epc+"/state", nil)
	if err := a.Proof.Verify(c.Root); err != nil {
		t.Errorf("state proof of %s: %v", epc, err)
	}
	return a.State
}

func TestTeaPacketHistoryInChainOrder(t *testing.T) {
	c := captureSeason(t)
	a := query[*trace.EventsAnswer](t, c, "epcs/"+packet1+"/events", nil)
	var got []string
	for _, e := range a.Events {
		got = append(got, e.Type+"/"+e.BizStep+"/"+strings.Join(e.Roles, ","))
	}
	want := []string{
		"TransformationEvent/commissioning/output", // made from the leaf sacks
		"AggregationEvent/packing/child",           // packed into the case
		"AggregationEvent/unpacking/child_implied", // the case emptied at the DC
		"ObjectEvent/inspecting/epc",               // inspected with sensor data
		"TransformationEvent/commissioning/input",  // turned into the hamper
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("history of P1001:\n got %v\nwant %v", got, want)
	}
	for i := 1; i < len(a.Events); i++ {
		if a.Events[i].Seq <= a.Events[i-1].Seq || a.Events[i].Height < a.Events[i-1].Height {
			t.Errorf("events out of chain order: %d after %d", a.Events[i].Seq, a.Events[i-1].Seq)
		}
	}
	verifyAll(t, c, a.Events)
	if a.Height != c.Height || a.Events[0].Time.IsZero() || a.Events[0].Proof.Height != c.Height {
		t.Errorf("answer lacks height/time: %+v", a)
	}
}

func TestTeaProvenanceOfTheHamper(t *testing.T) {
	c := captureSeason(t)
	// Asked by its Digital Link, the hamper's tree reaches the tea
	// garden's sacks through the packet, and the pallet through the case.
	a := query[*trace.ProvenanceAnswer](t, c, "epcs/"+hamperLink+"/provenance", nil)
	want := []string{
		"made_from " + key(t, packet1),
		"  made_from " + key(t, sack1),
		"  made_from " + key(t, sack2),
		"  made_from " + key(t, leafLot),
		"  packed_in " + key(t, box),
		"    packed_in " + key(t, pallet),
		"made_from " + key(t, honey),
	}
	if got := flatten(a.Upstream, ""); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("upstream of the hamper:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(a.Downstream) != 0 {
		t.Errorf("the hamper went into %v", flatten(a.Downstream, ""))
	}
	if len(a.Events) != 4 { // the hamper, the packets, packing the case, packing the pallet
		t.Errorf("cited events: %d, want 4", len(a.Events))
	}
	verifyAll(t, c, a.Events)

	// Downstream from a sack of leaves: the four packets, and on to the hamper.
	d := query[*trace.ProvenanceAnswer](t, c, "epcs/"+sack1+"/provenance", nil)
	got := strings.Join(flatten(d.Downstream, ""), "\n")
	if !strings.Contains(got, "went_into "+key(t, packet1)+"\n  went_into "+key(t, hamper)) ||
		strings.Count(got, "went_into") != 5 {
		t.Errorf("downstream of a sack:\n%s", got)
	}
	// A depth limit cuts the tree and says so.
	short := query[*trace.ProvenanceAnswer](t, c, "epcs/"+sack1+"/provenance", map[string]string{"depth": "1"})
	if !short.Downstream[0].Truncated || len(short.Downstream[0].Links) != 0 {
		t.Errorf("depth 1: %+v", short.Downstream[0])
	}
}

func flatten(ls []*trace.Link, indent string) []string {
	var out []string
	for _, l := range ls {
		out = append(out, indent+l.Relation+" "+l.EPC)
		out = append(out, flatten(l.Links, indent+"  ")...)
	}
	return out
}

func TestTeaCurrentState(t *testing.T) {
	c := captureSeason(t)
	p := stateOf(t, c, packet1)
	if p.Container != "" || p.ConsumedBy == 0 || p.Disposition != "sellable_not_accessible" ||
		p.BizLocation != "https://id.gs1.org/414/9523333000024" {
		t.Errorf("P1001: %+v", p)
	}
	if b := stateOf(t, c, box); b.Container != "" || b.BizLocation != "https://id.gs1.org/414/9523333000017" {
		t.Errorf("the case: %+v", b)
	}
	if l := stateOf(t, c, logger); l.AttachedTo != key(t, pallet) {
		t.Errorf("the data logger: %+v", l)
	}
	pl := stateOf(t, c, pallet)
	if pl.BizStep != "unpacking" || pl.Disposition != "in_progress" || pl.BizLocation != "https://id.gs1.org/414/9523333000017" {
		t.Errorf("the pallet: %+v", pl)
	}
	// Sold at the till, named by its Digital Link; the URN sees it too.
	if h := stateOf(t, c, hamper); h.Disposition != "retail_sold" || h.BizStep != "retail_selling" {
		t.Errorf("the hamper: %+v", h)
	}
	if _, err := c.Query(trace.Name, "epcs/"+leafLot+"/state", nil); err == nil {
		t.Errorf("a lot (a class) has a state")
	}
}

// TestTeaCorrection follows the standard's way of correcting: the wrong
// event stays on chain, an errorDeclaration retracts it, a corrective
// event replaces it, and the state is as if the mistake never happened.
func TestTeaCorrection(t *testing.T) {
	c := newChain(t)
	for _, s := range season[:5] {
		captureFile(t, c, s.who, filepath.Join("testdata", s.file))
	}
	if d := stateOf(t, c, packet2).Disposition; d != "damaged" {
		t.Fatalf("after the mistake P1002 is %q", d)
	}
	doc := loadDoc(t, "07_correction.jsonld")
	declaration := &trace.Document{Context: doc.Context, Events: doc.Events[:1]}
	corrective := &trace.Document{Context: doc.Context, Events: doc.Events[1:]}

	// Only the capturer (or an admin) may retract an event.
	if _, err := c.Do(chaintest.Key(coop), trace.Name, trace.ActionCapture, trace.Capture{Events: declaration.Events}); err == nil {
		t.Errorf("the cooperative retracted the grocer's event")
	}
	captureDoc(t, c, grocer, "declaration", declaration)
	if s := stateOf(t, c, packet2); s.Disposition != "sellable_not_accessible" || s.Erroneous != 1 {
		t.Errorf("after the declaration P1002 is %+v, want back to sellable_not_accessible", s)
	}
	captureDoc(t, c, grocer, "corrective", corrective)
	if d := stateOf(t, c, packet2).Disposition; d != "conformant" {
		t.Errorf("after the corrective event P1002 is %q", d)
	}
	if _, err := c.Do(chaintest.Key(grocer), trace.Name, trace.ActionCapture, trace.Capture{Events: declaration.Events}); err == nil {
		t.Errorf("an event was declared erroneous twice")
	}

	// Nothing was deleted: the history shows all three, flagged.
	a := query[*trace.EventsAnswer](t, c, "epcs/"+packet2+"/events", map[string]string{"biz_step": "inspecting"})
	if len(a.Events) != 4 {
		t.Fatalf("inspections of P1002: %d, want 4", len(a.Events))
	}
	wrong, decl := a.Events[1], a.Events[2]
	if wrong.DeclaredErroneousBy != decl.Seq || !decl.ErrorDeclaration || a.Events[3].DeclaredErroneousBy != 0 {
		t.Errorf("flags: wrong=%d decl=%v corrective=%d", wrong.DeclaredErroneousBy, decl.ErrorDeclaration, a.Events[3].DeclaredErroneousBy)
	}
	verifyAll(t, c, a.Events)
}

func loadDoc(t testing.TB, name string) *trace.Document {
	t.Helper()
	data := readFile(t, filepath.Join("testdata", name))
	doc, err := trace.ParseDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestTeaQueryFilters(t *testing.T) {
	c := captureSeason(t)
	count := func(path string, args map[string]string) int {
		return len(query[*trace.EventsAnswer](t, c, path, args).Events)
	}
	cases := []struct {
		name string
		path string
		args map[string]string
		want int
	}{
		{"pallet: all", "epcs/" + pallet + "/events", nil, 8},
		{"pallet: shipping", "epcs/" + pallet + "/events", map[string]string{"biz_step": "shipping"}, 1},
		{"pallet: shipping by URN", "epcs/" + pallet + "/events", map[string]string{"biz_step": "urn:epcglobal:cbv:bizstep:shipping"}, 1},
		{"pallet: at the depot", "epcs/" + pallet + "/events", map[string]string{"location": depotGLN}, 2},
		{"pallet: at the depot, any extension", "epcs/" + pallet + "/events", map[string]string{"location": "urn:epc:id:sgln:9522222.00001.gate2"}, 2},
		{"pallet: on 9 March", "epcs/" + pallet + "/events", map[string]string{"from": "2026-03-09T00:00:00+01:00", "to": "2026-03-10T00:00:00+01:00"}, 1},
		{"hamper by URN finds the sale by Digital Link", "epcs/" + hamper + "/events", nil, 2},
		{"hamper by Digital Link", "epcs/" + hamperLink + "/events", nil, 2},
		{"all inspections", "events", map[string]string{"biz_step": "inspecting"}, 4},
		{"everything at the DC", "events", map[string]string{"location": dcGLN}, 7},
		{"everything on 12 March", "events", map[string]string{"from": "2026-03-12T00:00:00+01:00", "to": "2026-03-13T00:00:00+01:00"}, 7},
		{"everything since 13 March", "events", map[string]string{"from": "2026-03-13T00:00:00+01:00"}, 2},
		{"everything before 3 March", "events", map[string]string{"to": "2026-03-03T00:00:00Z"}, 1},
		{"all", "events", nil, 18},
	}
	for _, tc := range cases {
		if got := count(tc.path, tc.args); got != tc.want {
			t.Errorf("%s: %d events, want %d", tc.name, got, tc.want)
		}
	}
}

func TestTeaPaging(t *testing.T) {
	c := captureSeason(t)
	var seqs []uint64
	after := ""
	for page := 0; ; page++ {
		args := map[string]string{"limit": "4"}
		if after != "" {
			args["after"] = after
		}
		a := query[*trace.EventsAnswer](t, c, "events", args)
		for _, e := range a.Events {
			seqs = append(seqs, e.Seq)
		}
		if a.Next == "" {
			break
		}
		after = a.Next
		if page > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seqs) != 18 || seqs[0] != 1 || seqs[17] != 18 {
		t.Errorf("pages gave %v", seqs)
	}
	// A page that holds the last match says there is no next page, even
	// when the index goes on past the time window or the filter.
	for _, tc := range []struct {
		path string
		args map[string]string
	}{
		{"events", map[string]string{"from": "2026-03-12T00:00:00+01:00", "to": "2026-03-13T00:00:00+01:00", "limit": "7"}},
		{"events", map[string]string{"to": "2026-03-03T00:00:00Z", "limit": "1"}},
		{"epcs/" + pallet + "/events", map[string]string{"biz_step": "shipping", "limit": "1"}},
	} {
		if a := query[*trace.EventsAnswer](t, c, tc.path, tc.args); a.Next != "" || len(a.Events) == 0 {
			t.Errorf("%s %v: %d events, next %q", tc.path, tc.args, len(a.Events), a.Next)
		}
	}
	// A window of seven read two at a time: four pages.
	window := map[string]string{"from": "2026-03-12T00:00:00+01:00", "to": "2026-03-13T00:00:00+01:00", "limit": "2"}
	got := 0
	for page := 1; ; page++ {
		a := query[*trace.EventsAnswer](t, c, "events", window)
		got += len(a.Events)
		if a.Next == "" {
			if got != 7 || page != 4 {
				t.Errorf("the 12 March window gave %d events in %d pages, want 7 in 4", got, page)
			}
			break
		}
		window["after"] = a.Next
		if page > 10 {
			t.Fatal("paging does not end")
		}
	}
	// By event time, the harvest comes first although paging by time.
	a := query[*trace.EventsAnswer](t, c, "events", map[string]string{"from": "2026-01-01T00:00:00Z", "limit": "2"})
	if a.Order != "event_time" || a.Events[0].BizStep != "commissioning" || a.Next == "" {
		t.Errorf("time order: %+v", a)
	}
}

func TestTeaTamperedAnswersFailVerification(t *testing.T) {
	c := captureSeason(t)
	a := query[*trace.EventsAnswer](t, c, "epcs/"+packet2+"/events", nil)
	e := a.Events[0]
	e.Event = []byte(strings.Replace(string(e.Event), "P1002", "P1009", 1))
	if err := e.Verify(c.Root); err == nil {
		t.Errorf("a changed event verified")
	}
	e = a.Events[0]
	if err := e.Verify(c.Root); err != nil {
		t.Fatal(err)
	}
	other := a.Events[1]
	e.Proof = other.Proof
	if err := e.Verify(c.Root); err == nil {
		t.Errorf("an event verified with another event's proof")
	}
	if err := a.Events[0].Verify(chaintestRoot(1)); err == nil {
		t.Errorf("verified against a wrong root")
	}
}

// TestDeclarationBeforeTheOriginal: a declaration of an event that is
// not on chain (it lives in another repository) is recorded but retracts
// nothing here, so nobody can retract someone else's event in advance.
// If the original is captured later, its capturer declares it again.
func TestDeclarationBeforeTheOriginal(t *testing.T) {
	c := newChain(t)
	doc := loadDoc(t, "07_correction.jsonld")
	declaration := &trace.Document{Context: doc.Context, Events: doc.Events[:1]}
	captureDoc(t, c, grocer, "early declaration", declaration)
	captureFile(t, c, grocer, filepath.Join("testdata", "05_inspection_p1002.jsonld"))
	if s := stateOf(t, c, packet2); s.Disposition != "damaged" {
		t.Errorf("P1002 after the original: %+v", s)
	}
	captureDoc(t, c, grocer, "declaration", declaration)
	s := stateOf(t, c, packet2)
	if s.Disposition == "damaged" || s.Erroneous != 1 || s.LastEvent != 0 {
		t.Errorf("P1002 after the declaration: %+v", s)
	}
	a := query[*trace.EventsAnswer](t, c, "epcs/"+packet2+"/events", nil)
	if len(a.Events) != 3 || a.Events[1].DeclaredErroneousBy != a.Events[2].Seq || !a.Events[0].ErrorDeclaration {
		t.Errorf("events: %+v", a.Events)
	}
}
