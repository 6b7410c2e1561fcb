package trace

import (
	"slices"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

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
