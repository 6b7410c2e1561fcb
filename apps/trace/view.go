package trace

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// EventView is one event in a query answer: the EPCIS event as captured,
// where and when the chain committed it, and a proof of its stored
// record (key ev/{seq}) under the state root of the answer's height.
type EventView struct {
	Seq         uint64    `json:"seq"`
	Height      uint64    `json:"height"` // the block that committed the event
	Time        time.Time `json:"time"`   // that block's time
	TxHash      string    `json:"tx_hash"`
	CapturedBy  string    `json:"captured_by"`
	Type        string    `json:"type"`
	Action      string    `json:"action,omitempty"`
	EventID     string    `json:"event_id,omitempty"`
	EventTime   time.Time `json:"event_time"`
	BizStep     string    `json:"biz_step,omitempty"`
	Disposition string    `json:"disposition,omitempty"`
	// Roles says how the queried identifier appears in the event (epc,
	// parent, child, input, output, ...); only in answers about one EPC.
	Roles []string `json:"roles,omitempty"`
	// ErrorDeclaration is set when this event declares the event with the
	// same eventID erroneous.
	ErrorDeclaration bool `json:"error_declaration,omitempty"`
	// DeclaredErroneousBy is the sequence number of the errorDeclaration
	// that retracted this event; its state effects were undone.
	DeclaredErroneousBy uint64          `json:"declared_erroneous_by,omitempty"`
	Context             json.RawMessage `json:"@context,omitempty"`
	Event               json.RawMessage `json:"event"`
	Proof               *sdk.Proven     `json:"proof"`
}

// view builds the answer entry for a stored event, with its proof.
func view(q *chain.QueryContext, r *Record, roles string) (EventView, error) {
	proof, err := sdk.Prove(q, keyEvent(r.Seq))
	if err != nil {
		return EventView{}, err
	}
	v := EventView{Seq: r.Seq, Height: r.Height, Time: time.UnixMilli(r.Time).UTC(), TxHash: r.TxHash,
		CapturedBy: r.Sender, Type: r.Type, Action: r.Action, EventID: r.EventID,
		EventTime: time.UnixMilli(r.EventTime).UTC(), BizStep: r.BizStep, Disposition: r.Disposition, ErrorDeclaration: r.Declaration, Event: json.RawMessage(r.Event), Proof: proof}
	if roles != "" {
		v.Roles = strings.Split(roles, ",")
	}
	if r.Context != "" {
		v.Context = json.RawMessage(r.Context)
	}
	if erroneous(q.Store(), r) {
		v.DeclaredErroneousBy, _ = sdk.BytesUint64(q.Store().Get(keyDeclared(r.EventID)))
	}
	return v, nil
}

// Verify checks the view against stateRoot, the state root of a trusted
// header at v.Proof.Height: the proof must hold, the proven key must be
// this event's, and the proven record must say what the view says. A
// client that fetched the header from another node (or several) need not
// trust the node that answered the query.
func (v *EventView) Verify(stateRoot chain.Hash) error {
	if v.Proof == nil {
		return fmt.Errorf("event %d: no proof", v.Seq)
	}
	if err := v.Proof.Verify(stateRoot); err != nil {
		return fmt.Errorf("event %d: %w", v.Seq, err)
	}
	if want := hex.EncodeToString(chain.AppKey(Name, keyEvent(v.Seq))); v.Proof.Key != want {
		return fmt.Errorf("event %d: the proof is for key %s, not the event's key %s", v.Seq, v.Proof.Key, want)
	}
	val, err := v.Proof.ValueBytes()
	if err != nil {
		return err
	}
	var r Record
	if err := chain.Decode(val, &r); err != nil {
		return fmt.Errorf("event %d: proven value: %w", v.Seq, err)
	}
	same, err := sameJSON(v.Event, []byte(r.Event))
	if err != nil {
		return fmt.Errorf("event %d: %w", v.Seq, err)
	}
	if !same || r.Seq != v.Seq || r.Height != v.Height || r.Time != v.Time.UnixMilli() || r.Sender != v.CapturedBy || r.TxHash != v.TxHash {
		return fmt.Errorf("event %d: the answer differs from the proven record", v.Seq)
	}
	return nil
}

// sameJSON compares two JSON texts by value, since an answer may be
// indented or escaped differently from the stored bytes.
func sameJSON(a, b []byte) (bool, error) {
	var v [2]any
	for i, raw := range [][]byte{a, b} {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v[i]); err != nil {
			return false, err
		}
	}
	return reflect.DeepEqual(v[0], v[1]), nil
}
