package trace_test

// FuzzParseDocument feeds EPCIS documents, as `citychain tx trace
// capture FILE` reads them, through the whole path of a capture: the
// document's shape, its split into batches, and the module's stateless
// check of each. A file is input: none of it may panic.
//
//	go test ./apps/trace/ -run '^$' -fuzz FuzzParseDocument -fuzztime 30s

import (
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
		batches, err := doc.Batches(0)
		if err != nil {
			return
		}
		for i := range batches {
			p, err := chain.EncodePayload(&batches[i])
			if err != nil {
				continue
			}
			_ = app.Check(trace.ActionCapture, p)
		}
	})
}
