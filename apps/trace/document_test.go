package trace_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
	"github.com/spf13/cobra"
)

func TestDecimalsTravelAsStrings(t *testing.T) {
	doc, err := trace.ParseDocument([]byte(`{"type":"ObjectEvent","@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
		"eventTime":"2026-03-10T09:00:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE",
		"epcList":["urn:epc:id:sgtin:9521111.054321.X1"],
		"sensorElementList":[{"sensorReport":[{"type":"Temperature","value":26.0,"minValue":-3.25,"maxValue":1e3,"percRank":50}]}],
		"x:big":18446744073709551616}`))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Context == nil || doc.Events[0]["@context"] != nil {
		t.Errorf("the single event's @context was not moved to the document: %v", doc.Events[0]["@context"])
	}
	p, err := chain.EncodePayload(trace.Capture{Context: doc.Context, Events: doc.Events})
	if err != nil {
		t.Fatalf("payload form still has floats: %v", err)
	}
	j, _ := chain.PayloadToJSON(p)
	for _, want := range []string{`"value":"26.0"`, `"minValue":"-3.25"`, `"maxValue":"1e3"`, `"percRank":50`, `"x:big":"18446744073709551616"`} {
		if !strings.Contains(string(j), want) {
			t.Errorf("payload lacks %s: %s", want, j)
		}
	}
	if err := trace.New().Check(trace.ActionCapture, p); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestDocumentShapes(t *testing.T) {
	query, err := trace.ParseDocument([]byte(`{"type":"EPCISQueryDocument","epcisBody":{"queryResults":{"resultsBody":{"eventList":[
		{"type":"ObjectEvent","eventTime":"2026-03-10T09:00:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":[]}]}}}}`))
	if err != nil || len(query.Events) != 1 {
		t.Errorf("query document: %v", err)
	}
	for _, bad := range []string{
		`not json`,
		`[]`,
		`{"type":"EPCISDocument","epcisBody":{"eventList":[]}}`,
		`{"type":"EPCISDocument"}`,
		`{"type":"Invoice"}`,
		`{"type":"EPCISDocument","epcisBody":{"eventList":[7]}}`,
		`{"type":"ObjectEvent"} {}`,
	} {
		if _, err := trace.ParseDocument([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// bigDocument makes n observation events, each padded with an extension
// field of pad bytes.
func bigDocument(n, pad int) *trace.Document {
	doc := &trace.Document{Context: []any{"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"}}
	for i := 0; i < n; i++ {
		doc.Events = append(doc.Events, event(trace.ObjectEvent, "OBSERVE", map[string]any{
			"epcList":   list(fmt.Sprintf("urn:epc:id:sgtin:9521111.054321.B%d", i)),
			"readPoint": at("urn:epc:id:sgln:9521111.00030.dock1"),
			"x:note":    strings.Repeat("n", pad),
		}))
	}
	return doc
}

// TestLargeDocumentsAreSplit: a document over 64 KiB or over MaxEvents
// events becomes several transactions, each within the limits, in order.
func TestLargeDocumentsAreSplit(t *testing.T) {
	c := newChain(t)
	for _, tc := range []struct {
		name       string
		n, pad     int
		minBatches int
	}{
		{"many small events", 250, 0, 3},
		{"a few large events", 30, 9000, 5},
	} {
		doc := bigDocument(tc.n, tc.pad)
		batches, err := doc.Batches(0)
		if err != nil {
			t.Fatal(err)
		}
		if len(batches) < tc.minBatches {
			t.Errorf("%s: %d batches, want at least %d", tc.name, len(batches), tc.minBatches)
		}
		next := 0
		for _, b := range batches {
			raw, err := c.Tx(chaintest.Key(coop), trace.Name, trace.ActionCapture, &b)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) > chain.MaxTxSize || len(b.Events) > trace.MaxEvents {
				t.Errorf("%s: a transaction of %d bytes, %d events", tc.name, len(raw), len(b.Events))
			}
			for _, e := range b.Events {
				if want := fmt.Sprintf("urn:epc:id:sgtin:9521111.054321.B%d", next); e["epcList"].([]any)[0] != want {
					t.Fatalf("%s: batches out of order at event %d", tc.name, next)
				}
				next++
			}
			if _, err := c.Block(raw); err != nil {
				t.Fatal(err)
			}
		}
		if next != tc.n {
			t.Errorf("%s: %d events in the batches, want %d", tc.name, next, tc.n)
		}
	}
	if _, err := bigDocument(1, 70_000).Batches(0); err == nil {
		t.Errorf("an event larger than a transaction was batched")
	}
}

// fakeClient records what the CLI would send.
type fakeClient struct {
	sent   []*trace.Capture
	nonces []string
}

func (f *fakeClient) Submit(cmd *cobra.Command, app, action string, payload any) error {
	if app != trace.Name || action != trace.ActionCapture {
		return fmt.Errorf("unexpected %s/%s", app, action)
	}
	f.sent = append(f.sent, payload.(*trace.Capture))
	f.nonces = append(f.nonces, cmd.Flag("nonce").Value.String())
	return nil
}
func (f *fakeClient) Query(*cobra.Command, string, any) error { return errors.New("offline") }
func (f *fakeClient) Block(*cobra.Command, uint64, any) error { return errors.New("offline") }
func (f *fakeClient) Validators(*cobra.Command, any) error    { return errors.New("offline") }
func (f *fakeClient) Print(*cobra.Command, any, func(io.Writer)) error {
	return nil
}

func runCapture(t *testing.T, doc *trace.Document, args ...string) (*fakeClient, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.jsonld")
	j, _ := json.Marshal(map[string]any{"@context": doc.Context, "type": "EPCISDocument",
		"epcisBody": map[string]any{"eventList": doc.Events}})
	if err := os.WriteFile(path, j, 0o600); err != nil {
		t.Fatal(err)
	}
	fc := &fakeClient{}
	cmd := trace.New().TxCommands(fc)[0]
	cmd.Flags().Int64("nonce", -1, "stands in for citychain tx's --nonce")
	cmd.SetArgs(append([]string{path}, args...))
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return fc, cmd.Execute()
}

func TestCaptureCommandSendsBatchesWithConsecutiveNonces(t *testing.T) {
	fc, err := runCapture(t, bigDocument(250, 0), "--nonce", "7")
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.sent) != 3 || strings.Join(fc.nonces, ",") != "7,8,9" {
		t.Errorf("sent %d transactions with nonces %v", len(fc.sent), fc.nonces)
	}
}

func TestCaptureCommandChecksEveryBatchFirst(t *testing.T) {
	doc := bigDocument(250, 0)
	doc.Events[230]["bizStep"] = "shiping"
	fc, err := runCapture(t, doc)
	if err == nil || len(fc.sent) != 0 {
		t.Fatalf("sent %d transactions for a document with a bad event (err %v)", len(fc.sent), err)
	}
	if !strings.Contains(err.Error(), "eventList[200:250]") || !strings.Contains(err.Error(), "events[30].bizStep") {
		t.Errorf("error does not locate the event: %v", err)
	}
}
