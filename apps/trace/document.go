package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strconv"

	"github.com/citychain/citychain/chain"
)

// Document is an EPCIS 2.0 JSON or JSON-LD document made ready for
// capture: its @context, kept as written and never fetched, and its
// events in payload form.
//
// Payload form is the event JSON with one change: a payload carries no
// floats, so every number that is not an integer (26.1, 200.5, 1e3) or
// that does not fit in 64 bits becomes a string holding the number's
// text exactly as the document wrote it. The module accepts a decimal
// as either an integer or such a string, so nothing is rounded and the
// chain stores what the document said.
type Document struct {
	Context any
	Events  []map[string]any
}

// ParseDocument reads an EPCISDocument (events under
// epcisBody.eventList), an EPCISQueryDocument (under
// epcisBody.queryResults.resultsBody.eventList) or a single event.
// It checks the document's shape, not the events: the module's Check
// does that (see App.Check).
func ParseDocument(data []byte) (*Document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the document")
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("an EPCIS document is a JSON object")
	}
	toPayloadValue(top)
	typ, _ := top["type"].(string)
	d := &Document{Context: top["@context"]}
	body, _ := top["epcisBody"].(map[string]any)
	var list any
	switch typ {
	case "EPCISDocument":
		list = body["eventList"]
	case "EPCISQueryDocument":
		results, _ := body["queryResults"].(map[string]any)
		resultsBody, _ := results["resultsBody"].(map[string]any)
		list = resultsBody["eventList"]
	default:
		if _, isEvent := typeFields[typ]; !isEvent {
			return nil, fmt.Errorf("type %q: want EPCISDocument, EPCISQueryDocument or an EPCIS event type", typ)
		}
		ev := maps.Clone(top)
		delete(ev, "@context")
		list = []any{ev}
	}
	events, ok := list.([]any)
	if !ok || len(events) == 0 {
		return nil, fmt.Errorf("%s has no eventList with events", typ)
	}
	for i, e := range events {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("eventList[%d] is not an object", i)
		}
		d.Events = append(d.Events, m)
	}
	return d, nil
}

// toPayloadValue turns every number that is not a 64-bit integer into
// its decimal string (a JSON-LD context may hold one too: "@version": 1.1).
func toPayloadValue(v any) any {
	switch t := v.(type) {
	case json.Number:
		_, ierr := strconv.ParseInt(t.String(), 10, 64)
		_, uerr := strconv.ParseUint(t.String(), 10, 64)
		if ierr != nil && uerr != nil {
			return t.String()
		}
	case []any:
		for i := range t {
			t[i] = toPayloadValue(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = toPayloadValue(t[k])
		}
	}
	return v
}

// MaxPayloadBytes is the largest capture payload Batches makes: the
// 64 KiB transaction limit less room for the rest of the transaction
// (chain id, names, nonce, key and signature).
const MaxPayloadBytes = chain.MaxTxSize - 2<<10

// Batches splits the document into capture payloads of at most MaxEvents
// events and limit bytes each (MaxPayloadBytes when limit is 0), in
// document order. Each batch repeats the @context. It fails if a single
// event is larger than a transaction can carry.
func (d *Document) Batches(limit int) ([]Capture, error) {
	if limit <= 0 {
		limit = MaxPayloadBytes
	}
	base, err := payloadSize(Capture{Context: d.Context, Events: []map[string]any{}})
	if err != nil {
		return nil, err
	}
	const slack = 4 // the events list's length header grows with its length
	var out []Capture
	cur, size := Capture{Context: d.Context}, base+slack
	for i, ev := range d.Events {
		n, err := payloadSize(map[string]any{"e": ev})
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		if base+slack+n > limit {
			return nil, fmt.Errorf("event %d is %d bytes in payload form; one transaction carries at most %d", i, n, limit-base-slack)
		}
		if len(cur.Events) == MaxEvents || size+n > limit {
			out = append(out, cur)
			cur, size = Capture{Context: d.Context}, base+slack
		}
		cur.Events = append(cur.Events, ev)
		size += n
	}
	return append(out, cur), nil
}

func payloadSize(v any) (int, error) {
	p, err := chain.EncodePayload(v)
	return len(p), err
}
