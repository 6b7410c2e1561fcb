package trace

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// State keys; doc.go lists them with what each holds. {seq} is 8 bytes
// big-endian, so keys sort in chain order.
var keySeq = []byte("seq") // the last sequence number given out

func keyEvent(seq uint64) []byte { return append([]byte("ev/"), sdk.Uint64Bytes(seq)...) }

// keyEventID maps an eventID to the ordinary event that carries it.
func keyEventID(id string) []byte { return []byte("eid/" + id) }

// keyDeclared maps the identity of an event (Record.identity) to the
// errorDeclaration that retracts it.
func keyDeclared(id string) []byte { return []byte("decl/" + id) }

// keyHash maps a CBV 2.0 event hash to the ordinary event that has it.
func keyHash(hash string) []byte { return []byte("hash/" + hash) }

func prefixEPC(key string) []byte          { return []byte("epc/" + key + "\x00") }
func keyEPC(key string, seq uint64) []byte { return append(prefixEPC(key), sdk.Uint64Bytes(seq)...) }
func prefixStep(step string) []byte        { return []byte("step/" + step + "\x00") }
func prefixLocation(gln string) []byte     { return []byte("loc/" + gln + "/") }
func keyState(key string) []byte           { return []byte("state/" + key) }

var prefixTime = []byte("time/")

// timeKey orders events by eventTime (Unix ms, sign bit flipped so that
// times before 1970 sort first) and then by sequence number.
func timeKey(ms int64, seq uint64) []byte {
	k := binary.BigEndian.AppendUint64(append([]byte(nil), prefixTime...), uint64(ms)^(1<<63))
	return binary.BigEndian.AppendUint64(k, seq)
}

// prefixContents lists what a parent holds: "in/" for aggregation (packed
// in), "with/" for association (attached to).
func prefixContents(rel, parent string) []byte { return []byte(rel + parent + "\x00") }

const (
	relPacked   = "in/"
	relAttached = "with/"
)

// Record is one captured event as stored under ev/{seq}: the event's
// JSON exactly as captured, with the facts the chain adds (where and
// when it was committed, who signed) and the normalized fields the
// indexes and queries use. Its canonical encoding is the value a state
// proof proves.
type Record struct {
	Seq         uint64   `json:"seq"`
	Height      uint64   `json:"height"`
	Time        int64    `json:"time"` // block time, Unix ms
	TxHash      string   `json:"tx_hash"`
	Sender      string   `json:"sender"`
	Type        string   `json:"type"`
	Action      string   `json:"action,omitempty"`
	EventID     string   `json:"event_id,omitempty"`
	EventTime   int64    `json:"event_time"` // Unix ms
	BizStep     string   `json:"biz_step,omitempty"`
	Disposition string   `json:"disposition,omitempty"`
	ReadPoint   string   `json:"read_point,omitempty"`   // canonical key
	BizLocation string   `json:"biz_location,omitempty"` // canonical key
	GLNs        []string `json:"glns,omitempty"`
	Parent      string   `json:"parent,omitempty"`  // canonical key
	Inputs      []string `json:"inputs,omitempty"`  // canonical keys, objects then classes
	Outputs     []string `json:"outputs,omitempty"` // canonical keys, objects then classes
	Objects     []string `json:"objects,omitempty"` // canonical keys of the single objects whose state the event sets
	Declaration bool     `json:"declaration,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Corrective  []string `json:"corrective,omitempty"`
	Context     string   `json:"context,omitempty"`
	Event       string   `json:"event"`
	Hash        string   `json:"hash,omitempty"` // CBV 2.0 event hash; absent from records of older versions
}

// identity names the event for declarations: its eventID, else its
// event hash.
func (r *Record) identity() string {
	if r.EventID != "" {
		return r.EventID
	}
	return r.Hash
}

// LoadRecord returns the event with sequence number seq, or an error
// that wraps chain.ErrNotFound.
func LoadRecord(st *chain.Store, seq uint64) (*Record, error) {
	return sdk.Load[Record](st, keyEvent(seq), fmt.Sprintf("event %d", seq))
}

// erroneous reports whether an ordinary event was declared erroneous.
func erroneous(st *chain.Store, r *Record) bool {
	return !r.Declaration && r.identity() != "" && st.Has(keyDeclared(r.identity()))
}

// record stores one event that p may capture, with its indexes, and
// updates the state of the objects it names.
func record(ctx *chain.Context, p *Participant, e *Event, context, path string) error {
	st := ctx.Store()
	seq, err := sdk.NextID(st, keySeq)
	if err != nil {
		return err
	}
	retracted, err := checkEventID(st, p, e, path)
	if err != nil {
		return err
	}
	r := newRecord(ctx, seq, e, context)
	roles := map[string][]string{}
	var order []string
	note := func(key, as string) {
		if _, seen := roles[key]; !seen {
			order = append(order, key)
		}
		roles[key] = append(roles[key], as)
	}
	for _, n := range e.Named {
		note(n.ID.Key, n.As)
		if !n.ID.Class && !slices.Contains(r.Objects, n.ID.Key) {
			r.Objects = append(r.Objects, n.ID.Key)
		}
	}
	if (e.Type == AggregationEvent || e.Type == AssociationEvent) && e.Action == ActionDelete && len(e.Keys(AsChild)) == 0 {
		// "Unpack everything": the children are those the state holds.
		rel := relPacked
		if e.Type == AssociationEvent {
			rel = relAttached
		}
		prefix := prefixContents(rel, e.Parent.Key)
		if err := st.Iterate(prefix, func(k, _ []byte) error {
			child := string(bytes.TrimPrefix(k, prefix))
			note(child, AsChildImplied)
			r.Objects = append(r.Objects, child)
			return nil
		}); err != nil {
			return err
		}
	}
	sdk.Save(st, keyEvent(seq), r)
	if e.Declaration == nil {
		if e.EventID != "" {
			st.Set(keyEventID(e.EventID), sdk.Uint64Bytes(seq))
		}
		st.Set(keyHash(e.Hash), sdk.Uint64Bytes(seq))
	}
	for _, key := range order {
		st.Set(keyEPC(key, seq), []byte(strings.Join(roles[key], ",")))
	}
	if r.BizStep != "" {
		st.Set(append(prefixStep(r.BizStep), sdk.Uint64Bytes(seq)...), []byte(r.Type))
	}
	for _, gln := range r.GLNs {
		st.Set(append(prefixLocation(gln), sdk.Uint64Bytes(seq)...), []byte(r.Type))
	}
	st.Set(timeKey(r.EventTime, seq), []byte(r.Type))

	switch {
	case retracted != nil:
		// The retracted event's objects get their state recomputed
		// without it; nothing is deleted from the record of events.
		st.Set(keyDeclared(retracted.identity()), sdk.Uint64Bytes(seq))
		for _, key := range retracted.Objects {
			if err := replay(st, key); err != nil {
				return err
			}
		}
	case e.Declaration == nil:
		for _, key := range r.Objects {
			if err := applyTo(st, key, r, roles[key]); err != nil {
				return err
			}
		}
	}
	ctx.Emit("capture", chain.A("seq", seq), chain.A("type", r.Type), chain.A("event_id", r.EventID), chain.A("event_hash", r.Hash))
	return nil
}

// checkEventID enforces the identity rules. An ordinary event's eventID
// is unique, and so is its CBV 2.0 event hash: the same event captured
// twice (by anyone, in any spelling) is refused. An errorDeclaration
// names the event it retracts by its eventID, or by its event hash when
// it has none; when that event is on chain, only its capturer or an
// admin may declare it, and only once, and retracted is that event. A
// declaration of an event that is not on chain (it lives in another
// EPCIS repository) is recorded and retracts nothing here: if the
// original is captured later, it is an ordinary event, and its capturer
// declares it again. That way nobody can retract, in advance, an event
// they did not make.
func checkEventID(st *chain.Store, p *Participant, e *Event, path string) (retracted *Record, err error) {
	byID := uint64(0)
	if e.EventID != "" {
		if byID, err = sdk.BytesUint64(st.Get(keyEventID(e.EventID))); err != nil {
			return nil, err
		}
	}
	byHash, err := sdk.BytesUint64(st.Get(keyHash(e.Hash)))
	if err != nil {
		return nil, err
	}
	orig := byID
	if e.EventID == "" {
		orig = byHash
	}
	switch {
	case e.Declaration == nil && byID != 0:
		return nil, fmt.Errorf("%w: %s.eventID: %w: %q is event %d", chain.ErrBadPayload, path, ErrDuplicate, e.EventID, byID)
	case e.Declaration == nil && byHash != 0:
		return nil, fmt.Errorf("%w: %s: %w: the same event (CBV 2.0 event hash %s) is event %d", chain.ErrBadPayload, path, ErrDuplicate, e.Hash, byHash)
	case e.Declaration == nil || orig == 0:
		return nil, nil
	}
	r, err := LoadRecord(st, orig)
	if err != nil {
		return nil, err
	}
	if d, _ := sdk.BytesUint64(st.Get(keyDeclared(r.identity()))); d != 0 {
		return nil, fmt.Errorf("%w: %s.errorDeclaration: %w: event %d was declared erroneous by event %d", chain.ErrBadPayload, path, ErrDuplicate, orig, d)
	}
	if r.Sender != p.Address.String() && !p.IsAdmin() {
		return nil, denied(path+".errorDeclaration", "event %d was captured by %s; only it or an admin may declare it erroneous", orig, r.Sender)
	}
	return r, nil
}

func newRecord(ctx *chain.Context, seq uint64, e *Event, context string) *Record {
	r := &Record{Seq: seq, Height: ctx.Height, Time: ctx.Time.UnixMilli(), TxHash: ctx.TxHash.String(),
		Sender: ctx.Sender.String(), Type: e.Type, Action: e.Action, EventID: e.EventID,
		EventTime: e.Time.UnixMilli(), BizStep: e.BizStep, Disposition: e.Disposition,
		Context: context, Event: e.JSON, Hash: e.Hash}
	for _, l := range []*Location{e.ReadPoint, e.BizLocation} {
		if l != nil && l.GLN != "" && !slices.Contains(r.GLNs, l.GLN) {
			r.GLNs = append(r.GLNs, l.GLN)
		}
	}
	if e.ReadPoint != nil {
		r.ReadPoint = e.ReadPoint.Key()
	}
	if e.BizLocation != nil {
		r.BizLocation = e.BizLocation.Key()
	}
	if e.Parent != nil {
		r.Parent = e.Parent.Key
	}
	r.Inputs, r.Outputs = e.Keys(AsInput, AsInputQuantity), e.Keys(AsOutput, AsOutputQuantity)
	if d := e.Declaration; d != nil {
		r.Declaration, r.Reason, r.Corrective = true, d.Reason, d.Corrective
	}
	return r
}

// eachEvent calls fn, in chain order, with every event that names the
// identifier with canonical key key and the parts it plays there.
func eachEvent(st *chain.Store, key string, fn func(seq uint64, as []string) error) error {
	prefix := prefixEPC(key)
	return st.Iterate(prefix, func(k, v []byte) error {
		seq, err := sdk.BytesUint64(k[len(prefix):])
		if err != nil {
			return err
		}
		return fn(seq, strings.Split(string(v), ","))
	})
}

// State is what the chain knows now about one object (a single
// identifier, not a class), kept under state/{key}. It is the sum of the
// object's events that were not declared erroneous, the latest eventTime
// winning: an event captured late but dated earlier does not overwrite
// newer news. Ties go to the later capture.
type State struct {
	EPC            string `json:"epc"`                        // canonical key
	LastEvent      uint64 `json:"last_event"`                 // sequence number of the event that set it
	EventTime      int64  `json:"event_time"`                 // that event's time, Unix ms
	BizStep        string `json:"biz_step,omitempty"`         // the last business step
	Disposition    string `json:"disposition,omitempty"`      // the last disposition given (kept until another is)
	ReadPoint      string `json:"read_point,omitempty"`       // where it was last seen
	BizLocation    string `json:"biz_location,omitempty"`     // where it is, per the last event; "" = unknown, e.g. in transit
	Container      string `json:"container,omitempty"`        // what it is packed in (AggregationEvent), "" when loose
	AttachedTo     string `json:"attached_to,omitempty"`      // what it is associated with (AssociationEvent)
	ConsumedBy     uint64 `json:"consumed_by,omitempty"`      // the TransformationEvent that used it as an input
	Decommissioned bool   `json:"decommissioned,omitempty"`   // an ObjectEvent DELETE ended it
	Erroneous      uint64 `json:"erroneous_events,omitempty"` // events about it declared erroneous (not applied)
}

// LoadState returns the state of the object with canonical key key, or
// nil when no event has named it.
func LoadState(st *chain.Store, key string) (*State, error) {
	return sdk.Find[State](st, keyState(key))
}

// applyTo applies event r, in which the object plays the parts as, to
// the object's stored state.
func applyTo(st *chain.Store, key string, r *Record, as []string) error {
	old, err := LoadState(st, key)
	if err != nil {
		return err
	}
	next := State{EPC: key}
	if old != nil {
		if r.EventTime < old.EventTime {
			return nil
		}
		next = *old
	}
	next.apply(r, as)
	save(st, old, &next)
	return nil
}

// apply folds one event into the state. A TransformationEvent's
// disposition describes its outputs, so an input keeps its own and
// records what consumed it.
func (s *State) apply(r *Record, as []string) {
	s.LastEvent, s.EventTime = r.Seq, r.EventTime
	input := r.Type == TransformationEvent && slices.Contains(as, AsInput) && !slices.Contains(as, AsOutput)
	if r.BizStep != "" {
		s.BizStep = r.BizStep
	}
	if r.Disposition != "" && !input {
		s.Disposition = r.Disposition
	}
	if input {
		s.ConsumedBy = r.Seq
	}
	if r.ReadPoint != "" {
		s.ReadPoint = r.ReadPoint
	}
	s.BizLocation = r.BizLocation
	for _, part := range as {
		switch {
		case part == AsEPC && r.Type == ObjectEvent:
			s.Decommissioned = r.Action == ActionDelete
		case (part == AsChild || part == AsChildImplied) && r.Type == AggregationEvent:
			s.Container = joinOrLeave(s.Container, r)
		case (part == AsChild || part == AsChildImplied) && r.Type == AssociationEvent:
			s.AttachedTo = joinOrLeave(s.AttachedTo, r)
		}
	}
}

// joinOrLeave returns the parent a child has after an aggregation or
// association event: ADD and OBSERVE put it in r.Parent, DELETE takes it
// out if that is where it was.
func joinOrLeave(current string, r *Record) string {
	switch {
	case r.Parent == "": // an OBSERVE that names no parent says nothing about it
		return current
	case r.Action != ActionDelete:
		return r.Parent
	case current == r.Parent:
		return ""
	}
	return current
}

// save writes the new state over old (nil when there was none) and keeps
// the containment indexes (in/{parent}, with/{parent}) in step with it.
func save(st *chain.Store, old, next *State) {
	if old == nil {
		old = &State{}
	}
	moveChild(st, relPacked, old.Container, next.Container, next.EPC)
	moveChild(st, relAttached, old.AttachedTo, next.AttachedTo, next.EPC)
	sdk.Save(st, keyState(next.EPC), next)
}

func moveChild(st *chain.Store, rel, from, to, child string) {
	if from == to {
		return
	}
	if from != "" {
		st.Delete(append(prefixContents(rel, from), child...))
	}
	if to != "" {
		st.Set(append(prefixContents(rel, to), child...), []byte{1})
	}
}

// replay recomputes an object's state from its events in chain order,
// leaving out errorDeclarations and the events they retract. It runs
// when a declaration arrives for an event already applied; nothing is
// deleted from the record of events.
func replay(st *chain.Store, key string) error {
	old, err := LoadState(st, key)
	if err != nil {
		return err
	}
	next := State{EPC: key}
	err = eachEvent(st, key, func(seq uint64, as []string) error {
		r, err := LoadRecord(st, seq)
		switch {
		case err != nil:
			return err
		case r.Declaration || !slices.Contains(r.Objects, key):
		case erroneous(st, r):
			next.Erroneous++
		case next.LastEvent == 0 || r.EventTime >= next.EventTime:
			next.apply(r, as)
		}
		return nil
	})
	if err != nil {
		return err
	}
	save(st, old, &next)
	return nil
}
