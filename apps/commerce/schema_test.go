package commerce_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/citychain/citychain/apps/commerce"
	"github.com/citychain/citychain/chain"
	"github.com/piprate/json-gold/ld"
)

// The order answers are JSON-LD. These tests expand them with a JSON-LD
// processor, offline, and check every type, property and enumeration
// value of the expansion against schema.org's vocabulary as kept in
// testdata/schemaorg (SOURCES says where it comes from).

const sdo = "http://schema.org/" // the namespace of the vocabulary file and of schema.org's context

// vocabulary is the part of schema.org that testdata/schemaorg/vocabulary.nq holds.
type vocabulary struct {
	types   map[string][]string // rdf:type of each term: rdfs:Class, rdf:Property, or the enumeration of a member
	super   map[string][]string // rdfs:subClassOf
	domains map[string][]string // schema:domainIncludes of each property
	ranges  map[string][]string // schema:rangeIncludes of each property
}

var loadVocabulary = sync.OnceValues(func() (*vocabulary, error) {
	f, err := os.Open("testdata/schemaorg/vocabulary.nq")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v := &vocabulary{types: map[string][]string{}, super: map[string][]string{}, domains: map[string][]string{}, ranges: map[string][]string{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		// <subject> <predicate> <object> <graph> . ; literal objects are skipped.
		parts := strings.SplitN(sc.Text(), " ", 4)
		if len(parts) < 4 || !strings.HasPrefix(parts[2], "<") {
			continue
		}
		s, p, o := strings.Trim(parts[0], "<>"), strings.Trim(parts[1], "<>"), strings.Trim(parts[2], "<>")
		switch p {
		case "http://www.w3.org/1999/02/22-rdf-syntax-ns#type":
			v.types[s] = append(v.types[s], o)
		case "http://www.w3.org/2000/01/rdf-schema#subClassOf":
			v.super[s] = append(v.super[s], o)
		case sdo + "domainIncludes":
			v.domains[s] = append(v.domains[s], o)
		case sdo + "rangeIncludes":
			v.ranges[s] = append(v.ranges[s], o)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(v.domains[sdo+"orderStatus"]) == 0 {
		return nil, fmt.Errorf("vocabulary.nq defines no orderStatus")
	}
	return v, nil
})

func (v *vocabulary) isClass(iri string) bool {
	return slices.Contains(v.types[iri], "http://www.w3.org/2000/01/rdf-schema#Class")
}

func (v *vocabulary) isProperty(iri string) bool {
	return slices.Contains(v.types[iri], "http://www.w3.org/1999/02/22-rdf-syntax-ns#Property")
}

// isA reports whether class is one of wants or a subclass of one.
func (v *vocabulary) isA(class string, wants []string) bool {
	if slices.Contains(wants, class) {
		return true
	}
	return slices.ContainsFunc(v.super[class], func(s string) bool { return v.isA(s, wants) })
}

// anyIsA reports whether one of classes isA one of wants.
func (v *vocabulary) anyIsA(classes, wants []string) bool {
	return slices.ContainsFunc(classes, func(c string) bool { return v.isA(c, wants) })
}

// sameTerm writes an https schema.org IRI in the http form of the
// vocabulary file: schema.org takes both for the same term.
func sameTerm(iri string) string {
	if rest, ok := strings.CutPrefix(iri, "https://schema.org/"); ok {
		return sdo + rest
	}
	return iri
}

// check returns what in the expanded JSON-LD node is not schema.org:
// a type that is not a class, a property that is not one or that
// schema.org does not define on the node's type, and a value outside
// the property's range. A node without a type is taken as a Thing; a
// value node without a type is not checked against the range, since
// it claims none.
func (v *vocabulary) check(node map[string]any, at string) []string {
	var bad []string
	var types []string
	for _, t := range asList(node["@type"]) {
		iri := sameTerm(fmt.Sprint(t))
		if !v.isClass(iri) {
			bad = append(bad, fmt.Sprintf("%s: type %s is not a schema.org class", at, iri))
		}
		types = append(types, iri)
	}
	if len(types) == 0 {
		types = []string{sdo + "Thing"}
	}
	var keys []string
	for k := range node {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, "@") {
			continue
		}
		p := sameTerm(k)
		where := at + " " + strings.TrimPrefix(p, sdo)
		if !v.isProperty(p) {
			bad = append(bad, fmt.Sprintf("%s: %s is not a schema.org property", where, p))
			continue
		}
		if !v.anyIsA(types, v.domains[p]) {
			bad = append(bad, fmt.Sprintf("%s: schema.org defines it on %v, not on %v", where, v.domains[p], types))
		}
		for _, val := range asList(node[k]) {
			bad = append(bad, v.checkValue(p, val, where)...)
		}
	}
	return bad
}

// checkValue checks one expanded value of property p against its range.
func (v *vocabulary) checkValue(p string, val any, at string) []string {
	m, ok := val.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: %v is not an expanded value", at, val)}
	}
	in := func(classes ...string) []string {
		if v.anyIsA(classes, v.ranges[p]) {
			return nil
		}
		return []string{fmt.Sprintf("%s: %v is not in its range %v", at, val, v.ranges[p])}
	}
	if lit, ok := m["@value"]; ok {
		if t, ok := m["@type"].(string); ok {
			if dt := sameTerm(t); !v.isA(dt, []string{sdo + "DataType"}) && !slices.Contains(v.types[dt], sdo+"DataType") {
				return []string{fmt.Sprintf("%s: %s is not a schema.org data type", at, dt)}
			}
			return in(sameTerm(t))
		}
		switch lit.(type) {
		case string:
			return in(sdo + "Text")
		case float64:
			return in(sdo + "Number")
		case bool:
			return in(sdo + "Boolean")
		}
		return []string{fmt.Sprintf("%s: literal %v of an unknown kind", at, lit)}
	}
	if id, ok := m["@id"].(string); ok && len(m) == 1 {
		// A reference: here always a member of an enumeration.
		iri := sameTerm(id)
		if len(v.types[iri]) == 0 || v.isClass(iri) || v.isProperty(iri) {
			return []string{fmt.Sprintf("%s: %s is not a schema.org enumeration member", at, id)}
		}
		return in(v.types[iri]...)
	}
	var bad []string
	if _, typed := m["@type"]; typed {
		var types []string
		for _, t := range asList(m["@type"]) {
			types = append(types, sameTerm(fmt.Sprint(t)))
		}
		bad = in(types...)
	}
	return append(bad, v.check(m, at)...)
}

func asList(x any) []any {
	switch x := x.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{x}
}

// offline is the JSON-LD processor's document loader: it answers
// schema.org's context from testdata and refuses everything else, so
// the tests never reach the network.
type offline struct{ context any }

func (l offline) LoadDocument(u string) (*ld.RemoteDocument, error) {
	switch strings.TrimSuffix(strings.Replace(u, "http://", "https://", 1), "/") {
	case "https://schema.org", "https://schema.org/docs/jsonldcontext.jsonld":
		return &ld.RemoteDocument{DocumentURL: u, Document: l.context}, nil
	}
	return nil, ld.NewJsonLdError(ld.LoadingDocumentFailed, "offline: no local copy of "+u)
}

var loadContext = sync.OnceValues(func() (any, error) {
	raw, err := os.ReadFile("testdata/schemaorg/context.jsonld")
	if err != nil {
		return nil, err
	}
	var doc any
	return doc, json.Unmarshal(raw, &doc)
})

// expand returns the JSON-LD expansion of what answer writes as JSON.
func expand(t *testing.T, answer any) []any {
	t.Helper()
	ctx, err := loadContext()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(answer)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = offline{ctx}
	out, err := ld.NewJsonLdProcessor().Expand(doc, opts)
	if err != nil {
		t.Fatalf("expand %s: %v", raw, err)
	}
	return out
}

func vocab(t *testing.T) *vocabulary {
	t.Helper()
	v, err := loadVocabulary()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// orderStory makes six orders from alice's offer 1, one in each status
// an order can rest in, and returns the schema.org status each must be
// answered with.
func orderStory(m *market) map[uint64]string {
	m.shop()
	steps := []struct {
		who, action string
		payload     any
	}{
		{"bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 2}},   // 1 stays OrderProcessing
		{"bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 1}},   // 2 will wait at a pickup point
		{"carol", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 1}}, // 3 delivered
		{"alice", commerce.ActionShip, commerce.Ship{Order: 3, Tracking: "PARCEL-3"}},
		{"carol", commerce.ActionConfirm, commerce.Confirm{Order: 3}},
		{"bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 1}}, // 4 refunded, nothing sent back
		{"alice", commerce.ActionShip, commerce.Ship{Order: 4, Tracking: "PARCEL-4"}},
		{"bob", commerce.ActionDispute, commerce.OpenDispute{Order: 4, Reason: "parcel arrived empty"}},
		{"judge", commerce.ActionSettle, commerce.Settle{Order: 4, Outcome: commerce.OutcomeRefund}},
		{"carol", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 3}}, // 5 cancelled before shipping
		{"carol", commerce.ActionCancel, commerce.Cancel{Order: 5}},
		{"bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 1}}, // 6 disputed
		{"alice", commerce.ActionShip, commerce.Ship{Order: 6, Tracking: "PARCEL-6"}},
		{"alice", commerce.ActionDispute, commerce.OpenDispute{Order: 6, Reason: "buyer not at home"}},
		// last, so that order 2's release timer has not run out
		{"alice", commerce.ActionShip, commerce.Ship{Order: 2, Tracking: "PARCEL-2"}},
		{"alice", commerce.ActionMarkPickup, commerce.MarkPickup{Order: 2, Location: "Kiosk"}},
	}
	for _, s := range steps {
		m.do(s.who, s.action, s.payload)
	}
	return map[uint64]string{1: "OrderProcessing", 2: "OrderPickupAvailable", 3: "OrderDelivered",
		4: "OrderCancelled", 5: "OrderCancelled", 6: "OrderProblem"}
}

// The order answer, expanded, is one schema.org Order whose every term
// is schema.org's; the module's own fields stay out of it; and what it
// says agrees with the plain record beside it.
func TestOrderAnswerIsSchemaOrgJSONLD(t *testing.T) {
	v := vocab(t)
	m := newMarket(t)
	want := orderStory(m)
	for id := uint64(1); id <= 6; id++ {
		t.Run(fmt.Sprint("order ", id), func(t *testing.T) {
			a := m.order(id)
			nodes := expand(t, a)
			if len(nodes) != 1 {
				t.Fatalf("expanded to %d nodes, want one Order: %v", len(nodes), nodes)
			}
			node := nodes[0].(map[string]any)
			for _, problem := range v.check(node, fmt.Sprint("order ", id)) {
				t.Error(problem)
			}
			if got := asList(node["@type"]); len(got) != 1 || got[0] != sdo+"Order" {
				t.Errorf("@type %v, want Order", got)
			}

			props := []string{"acceptedOffer", "customer", "orderDate", "orderNumber", "orderStatus", "orderedItem",
				"partOfInvoice", "seller"}
			if a.Order.Tracking != "" {
				props = append(props, "orderDelivery")
			}
			slices.Sort(props)
			var got []string
			for k := range node {
				if !strings.HasPrefix(k, "@") {
					got = append(got, strings.TrimPrefix(k, sdo))
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, props) {
				t.Errorf("expanded properties %v, want %v", got, props)
			}

			status := first(t, node, "orderStatus")["@id"]
			if wantIRI := "https://schema.org/" + want[id]; status != wantIRI {
				t.Errorf("orderStatus %v, want %s", status, wantIRI)
			}
			if n := first(t, node, "orderNumber")["@value"]; n != fmt.Sprint(id) {
				t.Errorf("orderNumber %v, want %d", n, id)
			}
			date := first(t, node, "orderDate")
			if date["@value"] != a.Order.History[0].Time || date["@type"] != sdo+"DateTime" {
				t.Errorf("orderDate %v, want the DateTime %s", date, a.Order.History[0].Time)
			}
			s := a.SchemaOrder
			if s.Customer.Identifier != a.Order.Buyer.String() || s.Seller.Identifier != a.Order.Seller.String() ||
				s.AcceptedOffer.Price != a.Order.Price || s.OrderedItem.OrderQuantity != a.Order.Quantity ||
				s.PartOfInvoice.TotalPaymentDue.Price != a.Order.Total || s.OrderedItem.OrderedItem.Name != a.Order.Item {
				t.Errorf("the schema.org view disagrees with the record:\n%+v\n%+v", s, a.Order)
			}
		})
	}
}

// first returns the first expanded value of a schema.org property.
func first(t *testing.T, node map[string]any, prop string) map[string]any {
	t.Helper()
	vals := asList(node[sdo+prop])
	if len(vals) == 0 {
		t.Fatalf("no %s in %v", prop, node)
	}
	return vals[0].(map[string]any)
}

// The orders list is a JSON-LD graph of the same Orders.
func TestOrdersAnswerIsSchemaOrgJSONLD(t *testing.T) {
	v := vocab(t)
	m := newMarket(t)
	want := orderStory(m)
	a, err := m.c.Query(commerce.Name, "orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	nodes := expand(t, a)
	got := map[string]string{}
	for i, n := range nodes {
		node := n.(map[string]any)
		for _, problem := range v.check(node, fmt.Sprint("node ", i)) {
			t.Error(problem)
		}
		got[fmt.Sprint(first(t, node, "orderNumber")["@value"])] = fmt.Sprint(first(t, node, "orderStatus")["@id"])
	}
	if len(got) != len(want) || len(a.(*commerce.OrdersAnswer).Orders) != len(want) {
		t.Fatalf("%d Orders in the graph, %d records, want %d", len(got), len(a.(*commerce.OrdersAnswer).Orders), len(want))
	}
	for id, name := range want {
		if got[fmt.Sprint(id)] != "https://schema.org/"+name {
			t.Errorf("order %d: orderStatus %s, want %s", id, got[fmt.Sprint(id)], name)
		}
	}
}

// The checker is what the tests above rely on, so it must catch what
// schema.org lacks: each document here breaks one rule and must be
// reported, naming the term. The first is the mapping this module once
// documented: total as totalPaymentDue, which is an Invoice's.
func TestCheckerCatchesWhatSchemaOrgLacks(t *testing.T) {
	v := vocab(t)
	cases := []struct {
		name, doc, want string
	}{
		{"an Invoice property on an Order", `{"@type":"Order","totalPaymentDue":{"@type":"PriceSpecification","price":24}}`, "totalPaymentDue"},
		{"a Reservation property on an Order", `{"@type":"Order","totalPrice":24}`, "totalPrice"},
		{"a term schema.org lacks", `{"@type":"Order","total":24}`, "total"},
		{"a type schema.org lacks", `{"@type":"Purchase","orderNumber":"1"}`, "Purchase"},
		{"a status schema.org lacks", `{"@type":"Order","orderStatus":"https://schema.org/OrderShipped"}`, "OrderShipped"},
		{"a member of another enumeration", `{"@type":"Order","orderStatus":"https://schema.org/PaymentComplete"}`, "PaymentComplete"},
		{"a text where a number belongs", `{"@type":"OrderItem","orderQuantity":"two"}`, "orderQuantity"},
		{"a node of the wrong type", `{"@type":"Order","acceptedOffer":{"@type":"Invoice"}}`, "acceptedOffer"},
		{"a nested mistake", `{"@type":"Order","acceptedOffer":{"@type":"Offer","orderNumber":"1"}}`, "orderNumber"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal([]byte(tc.doc), &doc); err != nil {
				t.Fatal(err)
			}
			doc["@context"] = commerce.Context
			nodes := expand(t, doc)
			if len(nodes) != 1 {
				t.Fatalf("expanded to %v", nodes)
			}
			problems := v.check(nodes[0].(map[string]any), "doc")
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("no problem names %s; problems: %q", tc.want, problems)
			}
		})
	}
}

// The module's eight OrderStatus names are the members of schema.org's
// OrderStatus, and every status is answered as one of them.
func TestOrderStatusesAreTheVocabularys(t *testing.T) {
	v := vocab(t)
	var members []string
	for term, types := range v.types {
		if slices.Contains(types, sdo+"OrderStatus") {
			members = append(members, strings.TrimPrefix(term, sdo))
		}
	}
	slices.Sort(members)
	names := slices.Sorted(slices.Values(commerce.OrderStatuses))
	if !slices.Equal(members, names) {
		t.Errorf("schema.org's OrderStatus members %v, the module's %v", members, names)
	}
	for _, s := range commerce.Statuses {
		if iri := sameTerm(s.IRI()); !slices.Contains(v.types[iri], sdo+"OrderStatus") {
			t.Errorf("%s is answered as %s, which is not an OrderStatus", s, s.IRI())
		}
	}
}

// A refund names the order OrderCancelled in every answer, while the
// state, the status index and the receipt keep the stored word, so that
// chains holding refunded orders replay to the same roots.
func TestRefundIsAnsweredCancelledAndStoredAsBefore(t *testing.T) {
	m := newMarket(t)
	m.shop()
	m.do("bob", commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 2})
	m.do("alice", commerce.ActionShip, commerce.Ship{Order: 1, Tracking: "T-1"})
	m.do("bob", commerce.ActionDispute, commerce.OpenDispute{Order: 1, Reason: "parcel arrived empty"})
	r := m.do("judge", commerce.ActionSettle, commerce.Settle{Order: 1, Outcome: commerce.OutcomeRefund})

	if o := storedOrders(t, m)[0]; string(o.Status) != "OrderReturned" || string(o.History[len(o.History)-1].To) != "OrderReturned" {
		t.Errorf("stored status %q, last history entry %q: want the stored word OrderReturned", o.Status, o.History[len(o.History)-1].To)
	}
	if s := statusIndex(t, m)[1]; string(s) != "OrderReturned" {
		t.Errorf("indexed under %q, want status/OrderReturned/", s)
	}
	if !slices.ContainsFunc(r.Events, func(e chain.Event) bool {
		return e.Type == "order" && slices.Contains(e.Attrs, chain.Attr{Key: "to", Value: "OrderReturned"})
	}) {
		t.Errorf("receipt events %+v lack to=OrderReturned", r.Events)
	}

	raw, err := json.Marshal(m.order(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"orderStatus":"https://schema.org/OrderCancelled"`, `"status":"OrderCancelled"`,
		`"step":"settle_refund","from":"OrderProblem","to":"OrderCancelled"`, `"outcome":"refund"`, `"state":"refunded"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("answer lacks %s:\n%s", want, raw)
		}
	}
	if strings.Contains(string(raw), "OrderReturned") {
		t.Errorf("answer says OrderReturned:\n%s", raw)
	}
}
