package trace_test

// FuzzParseDocument feeds EPCIS documents, as `citychain tx trace
// capture FILE` reads them, through the whole path of a capture: the
// document's shape, its split into batches, and the module's stateless
// check of each. A file is input: none of it may panic. A split it makes
// carries every event of the document once, in order, in batches within
// the event and byte limits.
//
//	go test ./apps/trace/ -run '^$' -fuzz FuzzParseDocument -fuzztime 30s

import (
	"reflect"
	"testing"

	"github.com/citychain/citychain/apps/sdk/sdktest"
	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
)

func FuzzParseDocument(f *testing.F) {
	sdktest.AddFiles(f, "testdata/*.jsonld")
	f.Add([]byte(`{"type": "ObjectEvent"}`))
	f.Add([]byte(`{"type": "EPCISDocument", "epcisBody": {"eventList": [1]}}`))
	f.Add([]byte(`[]`))
	app := trace.New()
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := trace.ParseDocument(data)
		if err != nil {
			return
		}
		if doc == nil || len(doc.Events) == 0 {
			t.Fatal("a document parsed without error holds no event")
		}
		// The default limit, and a small one that makes several batches.
		for _, limit := range []int{0, 4 << 10} {
			batches, err := doc.Batches(limit)
			if err != nil {
				continue
			}
			bound := limit
			if bound == 0 {
				bound = trace.MaxPayloadBytes
			}
			var events []map[string]any
			for i := range batches {
				b := &batches[i]
				if len(b.Events) == 0 || len(b.Events) > trace.MaxEvents {
					t.Fatalf("limit %d: batch %d holds %d events, want 1 to %d", limit, i, len(b.Events), trace.MaxEvents)
				}
				events = append(events, b.Events...)
				p, err := chain.EncodePayload(b)
				if err != nil {
					t.Fatalf("limit %d: batch %d does not encode: %v", limit, i, err)
				}
				if len(p) > bound {
					t.Fatalf("limit %d: batch %d is %d bytes, over %d", limit, i, len(p), bound)
				}
				_ = app.Check(trace.ActionCapture, p)
			}
			if !reflect.DeepEqual(events, doc.Events) {
				t.Fatalf("limit %d: %d batches carry %d events of the document's %d, or not in order", limit, len(batches), len(events), len(doc.Events))
			}
		}
	})
}
