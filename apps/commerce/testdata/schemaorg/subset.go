//go:build ignore

// Subset cuts from schema.org's vocabulary (N-Triples or N-Quads, one
// statement a line, as schema.org publishes schemaorg-current-http.nt)
// the part the order answers speak of, and writes it beside this file
// with a JSON-LD context for it:
//
//	go run subset.go path/to/schema.nq
//
// vocabulary.nq gets every line of the input whose subject is
//   - one of the classes named in seeds, or a superclass of one;
//   - a member of one of those classes (the OrderStatus and
//     PaymentStatusType values, the data types);
//   - a property whose domainIncludes names one of those classes.
//
// The lines are copied as they are, in the input's order.
//
// context.jsonld is made for those terms by the rules of schema.org's
// own context generator (software/util/sdojsonldcontext.py in the
// schemaorg repository): "type" and "id" alias @type and @id, @vocab is
// http://schema.org/, every term maps to schema:NAME, and a property
// whose range does not include Text is typed @id when its range
// includes URL, or Date when it includes Date. The generator also
// writes every namespace prefix of its source graph; only rdf, rdfs,
// xsd and schema are written here.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

const (
	schema     = "http://schema.org/"
	rdfType    = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
	rdfProp    = "http://www.w3.org/1999/02/22-rdf-syntax-ns#Property"
	subClassOf = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
	domain     = schema + "domainIncludes"
	rangeOf    = schema + "rangeIncludes"
)

// seeds are the types the order answers use, the enumerations their
// values come from, and the data types of their literals.
var seeds = []string{"Order", "OrderItem", "Offer", "Product", "Invoice", "PriceSpecification", "ParcelDelivery",
	"OrderStatus", "PaymentStatusType", "DataType"}

type statement struct {
	line    string
	s, p, o string // o is empty for a literal or a blank node
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run subset.go path/to/schema.nq")
		os.Exit(2)
	}
	stmts, err := read(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	super := map[string][]string{}
	typeOf := map[string][]string{}
	var props []statement
	for _, st := range stmts {
		switch {
		case st.p == subClassOf && st.o != "":
			super[st.s] = append(super[st.s], st.o)
		case st.p == rdfType && st.o != "":
			typeOf[st.s] = append(typeOf[st.s], st.o)
		case st.p == domain:
			props = append(props, st)
		}
	}

	keep := map[string]bool{}
	classes := map[string]bool{}
	var climb func(c string)
	climb = func(c string) {
		if classes[c] || !strings.HasPrefix(c, schema) {
			return
		}
		classes[c] = true
		for _, s := range super[c] {
			climb(s)
		}
	}
	for _, s := range seeds {
		climb(schema + s)
	}
	for c := range classes {
		keep[c] = true
	}
	for s, types := range typeOf {
		for _, t := range types {
			if classes[t] && strings.HasPrefix(s, schema) {
				keep[s] = true
			}
		}
	}
	for _, st := range props {
		if classes[st.o] && strings.HasPrefix(st.s, schema) {
			keep[st.s] = true
		}
	}

	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Dir(self)
	var out strings.Builder
	for _, st := range stmts {
		if keep[st.s] {
			out.WriteString(st.line + "\n")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "vocabulary.nq"), []byte(out.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	ctx, err := context(stmts, keep, typeOf)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join(dir, "context.jsonld"), ctx, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d terms, %d of %d lines\n", len(keep), strings.Count(out.String(), "\n"), len(stmts))
}

// context writes the JSON-LD context of the kept terms.
func context(stmts []statement, keep map[string]bool, typeOf map[string][]string) ([]byte, error) {
	ranges := map[string][]string{}
	for _, st := range stmts {
		if st.p == rangeOf && keep[st.s] {
			ranges[st.s] = append(ranges[st.s], strings.TrimPrefix(st.o, schema))
		}
	}
	var names []string
	for t := range keep {
		names = append(names, t)
	}
	slices.Sort(names)

	lines := []string{
		`"type": "@type"`, `"id": "@id"`, `"HTML": {"@id": "rdf:HTML"}`, `"@vocab": "http://schema.org/"`,
		`"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"`, `"rdfs": "http://www.w3.org/2000/01/rdf-schema#"`,
		`"xsd": "http://www.w3.org/2001/XMLSchema#"`, `"schema": "http://schema.org/"`,
	}
	for _, t := range names {
		name := strings.TrimPrefix(t, schema)
		def := map[string]string{"@id": "schema:" + name}
		if slices.Contains(typeOf[t], rdfProp) {
			var types []string
			r := ranges[t]
			if !slices.Contains(r, "Text") {
				if slices.Contains(r, "URL") {
					types = append(types, "@id")
				}
				if slices.Contains(r, "Date") {
					types = append(types, "Date")
				}
			}
			if len(types) > 1 {
				return nil, fmt.Errorf("%s: range %v gives more than one type", name, r)
			}
			if len(types) == 1 {
				def["@type"] = types[0]
			}
		}
		b, err := json.Marshal(def)
		if err != nil {
			return nil, err
		}
		lines = append(lines, fmt.Sprintf("%q: %s", name, b))
	}
	return []byte("{\n  \"@context\": {\n    " + strings.Join(lines, ",\n    ") + "\n  }\n}\n"), nil
}

// read parses the statements of an N-Triples or N-Quads file: subject,
// predicate, and the object when it is an IRI.
func read(path string) ([]statement, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []statement
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, rest, ok1 := iri(line)
		p, rest, ok2 := iri(strings.TrimLeft(rest, " "))
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s:%d: not a statement: %s", path, n, line)
		}
		o, _, isIRI := iri(strings.TrimLeft(rest, " "))
		if !isIRI {
			o = ""
		}
		out = append(out, statement{line: line, s: s, p: p, o: o})
	}
	return out, sc.Err()
}

// iri reads an <IRI> at the start of s.
func iri(s string) (string, string, bool) {
	if !strings.HasPrefix(s, "<") {
		return "", s, false
	}
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return "", s, false
	}
	return s[1:end], s[end+1:], true
}
