package sdk

import (
	"encoding/json"
	"maps"
	"strings"
)

// The media types of query answers. Every answer is JSON; an answer in
// JSON-LD (documents whose "@context" maps their terms to IRIs) may be
// served as JSON-LD proper to a client that asks for it.
const (
	MediaJSON   = "application/json"
	MediaJSONLD = "application/ld+json"
)

// Negotiator is a query answer with more than one form on the wire. The
// node calls Negotiate with the request's Accept header and the URL the
// request reached the node at ("http://host:port"), and writes body as
// JSON with the header fields, Content-Type among them. An answer that
// is no Negotiator is written as application/json.
type Negotiator interface {
	Negotiate(accept, base string) (body any, header map[string]string)
}

// LinkedData is an answer in JSON-LD: one document, or a list of them,
// each a JSON object with its "@context": an IRI or a list of IRIs, where
// a path on the node ("/v1/apps/city/context/Device.jsonld") is made
// absolute against the node's URL by Negotiate.
//
// It is served the way the NGSI-LD API (ETSI GS CIM 009) serves
// entities: a client that accepts application/ld+json gets the documents
// whole; any other gets application/json without "@context", and a Link
// header to the context instead (JSON-LD 1.1, 6.1). The Link names the
// last context of the list: the ones before it are a base, such as the
// NGSI-LD core context, that such a client applies by itself. A list
// whose documents end in different contexts gets no Link header: it
// means something only as JSON-LD.
type LinkedData struct {
	docs []map[string]any
	list bool
}

// Document returns a LinkedData answer of one document.
func Document(doc map[string]any) *LinkedData {
	return &LinkedData{docs: []map[string]any{doc}}
}

// Documents returns a LinkedData answer that is a list of documents.
func Documents(docs []map[string]any) *LinkedData {
	return &LinkedData{docs: docs, list: true}
}

// MarshalJSON writes the JSON-LD form, with context paths as they are:
// the answer as in-process callers and tests see it.
func (d *LinkedData) MarshalJSON() ([]byte, error) { return json.Marshal(d.body(true, "")) }

// Negotiate returns the form the Accept header asks for (see LinkedData).
func (d *LinkedData) Negotiate(accept, base string) (any, map[string]string) {
	if Prefers(accept, MediaJSONLD) {
		return d.body(true, base), map[string]string{"Content-Type": MediaJSONLD, "Vary": "Accept"}
	}
	h := map[string]string{"Content-Type": MediaJSON, "Vary": "Accept"}
	if ctx := d.lastContext(base); ctx != "" {
		h["Link"] = "<" + ctx + `>; rel="http://www.w3.org/ns/json-ld#context"; type="` + MediaJSONLD + `"`
	}
	return d.body(false, ""), h
}

// body returns the documents with their contexts resolved against base,
// or without "@context".
func (d *LinkedData) body(withContext bool, base string) any {
	out := make([]map[string]any, len(d.docs))
	for i, doc := range d.docs {
		c := maps.Clone(doc)
		if withContext {
			c["@context"] = resolve(contexts(doc), base)
		} else {
			delete(c, "@context")
		}
		out[i] = c
	}
	if !d.list && len(out) == 1 {
		return out[0]
	}
	return out
}

// lastContext returns the last context the documents share, resolved
// against base; "" when they end in different ones or have none.
func (d *LinkedData) lastContext(base string) string {
	last := ""
	for i, doc := range d.docs {
		c := contexts(doc)
		if len(c) == 0 || i > 0 && c[len(c)-1] != last {
			return ""
		}
		last = c[len(c)-1]
	}
	return resolve([]string{last}, base)[0]
}

// contexts returns a document's "@context" as a list of references.
func contexts(doc map[string]any) []string {
	switch c := doc["@context"].(type) {
	case string:
		return []string{c}
	case []string:
		return c
	case []any:
		var out []string
		for _, v := range c {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// resolve makes the paths among refs absolute against base.
func resolve(refs []string, base string) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		if base != "" && strings.HasPrefix(r, "/") && !strings.HasPrefix(r, "//") {
			r = strings.TrimRight(base, "/") + r
		}
		out[i] = r
	}
	return out
}

// Typed is an answer served as Body under its own media type whatever
// the request accepts: a JSON-LD context is application/ld+json to
// every client.
type Typed struct {
	MediaType string
	Body      any
}

// MarshalJSON writes Body.
func (t Typed) MarshalJSON() ([]byte, error) { return json.Marshal(t.Body) }

// Negotiate returns Body and its media type.
func (t Typed) Negotiate(string, string) (any, map[string]string) {
	return t.Body, map[string]string{"Content-Type": t.MediaType}
}

// Prefers reports whether an Accept header (RFC 9110, 12.5.1) asks for
// the media type want at least as much as for application/json: want is
// listed by name with a quality above 0, and application/json, or the
// most specific range that covers it (application/*, */*), has no higher
// quality. A missing header prefers application/json.
func Prefers(accept, want string) bool {
	qWant, qJSON, jsonRank := 0, 0, 0
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(part, ";")
		q, rank := quality(params), 0
		switch strings.ToLower(strings.TrimSpace(name)) {
		case want:
			qWant = max(qWant, q)
			continue
		case MediaJSON:
			rank = 3
		case "application/*":
			rank = 2
		case "*/*":
			rank = 1
		default:
			continue
		}
		if rank > jsonRank {
			qJSON, jsonRank = q, rank
		}
	}
	return qWant > 0 && qWant >= qJSON
}

// quality reads the q parameter among a media range's parameters, in
// thousandths: "q=0.5" is 500; no q, or one that does not parse, is 1000.
func quality(params string) int {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if !strings.EqualFold(k, "q") {
			continue
		}
		whole, frac, _ := strings.Cut(strings.TrimSpace(v), ".")
		if (whole != "0" && whole != "1") || len(frac) > 3 || strings.Trim(frac, "0123456789") != "" {
			return 1000
		}
		n := 0
		for i := 0; i < 3; i++ {
			n *= 10
			if i < len(frac) {
				n += int(frac[i] - '0')
			}
		}
		if whole == "1" {
			return 1000
		}
		return n
	}
	return 1000
}
