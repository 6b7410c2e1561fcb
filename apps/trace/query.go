package trace

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// Query answers, served at /v1/apps/trace/...:
//
//	epcs/{epc}/events       every event that names the EPC, in chain order
//	epcs/{epc}/provenance   where it came from and what it went into, as trees
//	epcs/{epc}/state        its current state, with a proof
//	events                  all events, filtered (chain order; event-time order when only from/to is given)
//	events/{seq}            one event
//	participants/{address}  a registered participant
//
// {epc} is an EPC URI or a GS1 Digital Link; a client escapes a Digital
// Link's slashes (%2F) or not, both work. The event lists take the
// filters biz_step, location, from, to, and the paging arguments limit
// and after (the "next" of the previous page).
func (*App) Query(q *chain.QueryContext, path []string, args map[string]string) (any, error) {
	switch {
	case len(path) >= 3 && path[0] == "epcs":
		id, err := queryEPC(path[1 : len(path)-1])
		if err != nil {
			return nil, err
		}
		switch path[len(path)-1] {
		case "events":
			return epcEvents(q, id, args)
		case "provenance":
			return provenance(q, id, args)
		case "state":
			return epcState(q, id, args)
		}
	case len(path) == 1 && path[0] == "events":
		return allEvents(q, args)
	case len(path) == 2 && path[0] == "events":
		return oneEvent(q, path[1])
	case len(path) == 2 && path[0] == "participants":
		return participant(q, path[1])
	}
	return nil, fmt.Errorf("%w: trace has queries epcs/{epc}/events, epcs/{epc}/provenance, epcs/{epc}/state, events, events/{seq} and participants/{address}", chain.ErrNotFound)
}

// queryEPC rebuilds an EPC from URL path segments: a Digital Link's own
// slashes split it, and a proxy may have merged "https://" into "https:/".
func queryEPC(segs []string) (ID, error) {
	s := strings.Join(segs, "/")
	for _, scheme := range []string{"https:/", "http:/"} {
		if strings.HasPrefix(s, scheme) && !strings.HasPrefix(s, scheme+"/") {
			s = scheme + "/" + s[len(scheme):]
		}
	}
	id, err := ParseEPC(s)
	if err != nil {
		return ID{}, fmt.Errorf("%w: epc: %w: %v", chain.ErrBadPayload, ErrBadIdentifier, err)
	}
	return id, nil
}

// EventsAnswer is the answer of the event lists.
type EventsAnswer struct {
	EPC    string      `json:"epc,omitempty"` // as asked
	Key    string      `json:"key,omitempty"` // its canonical key
	Height uint64      `json:"height"`        // the state the answer (and every proof) is from
	Time   time.Time   `json:"time"`
	Order  string      `json:"order"` // "chain" or "event_time"
	Events []EventView `json:"events"`
	Next   string      `json:"next,omitempty"` // more results: pass as after=
}

// Paging limits of the event lists.
const (
	DefaultLimit = 100
	MaxLimit     = 500
)

// filter is an event list's query arguments. The names follow the EPCIS
// 2.0 query parameters: biz_step is EQ_bizStep, location matches
// EQ_readPoint or EQ_bizLocation by GLN (any extension), from is
// GE_eventTime (inclusive) and to is LT_eventTime (exclusive).
type filter struct {
	bizStep        string
	gln            string
	from, to       int64
	hasFrom, hasTo bool
	after          []byte
	limit          int
}

func parseFilter(args map[string]string) (*filter, error) {
	f := &filter{limit: DefaultLimit}
	names := make([]string, 0, len(args))
	for k := range args {
		names = append(names, k)
	}
	sort.Strings(names)
	bad := func(name, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", chain.ErrBadPayload, name, fmt.Sprintf(format, a...))
	}
	for _, name := range names {
		v := args[name]
		var err error
		switch name {
		case "biz_step":
			if f.bizStep, err = BizSteps.Normalize(v); err != nil {
				return nil, bad(name, "%v", err)
			}
		case "location":
			l, err := ParseLocation(v)
			if err != nil {
				return nil, bad(name, "%v", err)
			}
			f.gln = l.GLN
		case "from", "to":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, bad(name, "%q is not an RFC 3339 time (2026-03-01T00:00:00Z)", v)
			}
			if name == "from" {
				f.from, f.hasFrom = t.UnixMilli(), true
			} else {
				f.to, f.hasTo = t.UnixMilli(), true
			}
		case "after":
			if f.after, err = hex.DecodeString(v); err != nil || len(f.after) == 0 {
				return nil, bad(name, "%q is not a cursor from a previous answer", v)
			}
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxLimit {
				return nil, bad(name, "must be 1 to %d", MaxLimit)
			}
			f.limit = n
		default:
			return nil, bad(name, "unknown argument (biz_step, location, from, to, after, limit)")
		}
	}
	return f, nil
}

func (f *filter) match(r *Record) bool {
	switch {
	case f.bizStep != "" && r.BizStep != f.bizStep:
	case f.gln != "" && !contains(r.GLNs, f.gln):
	case f.hasFrom && r.EventTime < f.from:
	case f.hasTo && r.EventTime >= f.to:
	default:
		return true
	}
	return false
}

// scan walks an index whose keys are base+suffix, the suffix ending in
// an 8-byte sequence number; prefix (base or longer) narrows the walk.
// It returns up to f.limit matching events with the index values, and a
// cursor when there are more.
func (f *filter) scan(st *chain.Store, base, prefix []byte, stop []byte) (recs []*Record, vals []string, next string, err error) {
	var last []byte
	err = st.Iterate(prefix, func(k, v []byte) error {
		suffix := k[len(base):]
		if f.after != nil && bytes.Compare(suffix, f.after) <= 0 {
			return nil
		}
		if stop != nil && bytes.Compare(suffix, stop) >= 0 {
			return errStop
		}
		seq, err := sdk.BytesUint64(suffix[len(suffix)-8:])
		if err != nil {
			return err
		}
		r, err := LoadRecord(st, seq)
		if err != nil {
			return err
		}
		if !f.match(r) {
			return nil
		}
		if len(recs) == f.limit {
			next = hex.EncodeToString(last)
			return errStop
		}
		recs, vals, last = append(recs, r), append(vals, string(v)), append([]byte(nil), suffix...)
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return recs, vals, next, err
}

func epcEvents(q *chain.QueryContext, id ID, args map[string]string) (*EventsAnswer, error) {
	f, err := parseFilter(args)
	if err != nil {
		return nil, err
	}
	prefix := prefixEPC(id.Key)
	recs, roles, next, err := f.scan(q.Store(), prefix, prefix, nil)
	if err != nil {
		return nil, err
	}
	a := &EventsAnswer{EPC: id.URI, Key: id.Key, Height: q.Height, Time: q.Time.UTC(), Order: "chain", Next: next}
	return a, a.fill(q, recs, roles)
}

// allEvents serves the event list without an EPC from the most selective
// index: by bizStep, by location, by time, or all events in chain order.
func allEvents(q *chain.QueryContext, args map[string]string) (*EventsAnswer, error) {
	f, err := parseFilter(args)
	if err != nil {
		return nil, err
	}
	a := &EventsAnswer{Height: q.Height, Time: q.Time.UTC(), Order: "chain"}
	var base, prefix, stop []byte
	switch {
	case f.bizStep != "":
		base = prefixStep(f.bizStep)
	case f.gln != "":
		base = prefixLocation(f.gln)
	case f.hasFrom || f.hasTo:
		a.Order, base = "event_time", prefixTime
		lo, hi := timeKey(f.from, 0)[len(prefixTime):], []byte{0xff}
		if f.hasTo {
			hi = timeKey(f.to, 0)[len(prefixTime):]
			stop = hi
		}
		if f.hasFrom && (f.after == nil || bytes.Compare(f.after, lo) < 0) {
			f.after = lo[:len(lo)-1] // every key at from sorts after this
		}
		prefix = append(append([]byte(nil), base...), commonPrefix(lo, hi)...)
		if !f.hasFrom {
			prefix = base
		}
	default:
		base = []byte("ev/")
	}
	if prefix == nil {
		prefix = base
	}
	recs, _, next, err := f.scan(q.Store(), base, prefix, stop)
	if err != nil {
		return nil, err
	}
	a.Next = next
	return a, a.fill(q, recs, make([]string, len(recs)))
}

func commonPrefix(a, b []byte) []byte {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n]
}

func (a *EventsAnswer) fill(q *chain.QueryContext, recs []*Record, roles []string) error {
	a.Events = make([]EventView, 0, len(recs))
	for i, r := range recs {
		v, err := view(q, r, roles[i])
		if err != nil {
			return err
		}
		a.Events = append(a.Events, v)
	}
	return nil
}

func oneEvent(q *chain.QueryContext, s string) (*EventView, error) {
	seq, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: seq: %q is not a sequence number", chain.ErrBadPayload, s)
	}
	r, err := LoadRecord(q.Store(), seq)
	if err != nil {
		return nil, err
	}
	v, err := view(q, r, "")
	return &v, err
}

// StateAnswer is the answer of epcs/{epc}/state: the stored state and a
// proof of it (key state/{key}).
type StateAnswer struct {
	EPC    string      `json:"epc"`
	Key    string      `json:"key"`
	Height uint64      `json:"height"`
	Time   time.Time   `json:"time"`
	State  *State      `json:"state"`
	Proof  *sdk.Proven `json:"proof"`
}

func epcState(q *chain.QueryContext, id ID, args map[string]string) (*StateAnswer, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("%w: state takes no arguments", chain.ErrBadPayload)
	}
	if id.Class {
		return nil, fmt.Errorf("%w: %s names a class; state is kept for single objects (ask for its events instead)", chain.ErrNotFound, id.URI)
	}
	s, found, err := LoadState(q.Store(), id.Key)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: no event names %s", chain.ErrNotFound, id.URI)
	}
	proof, err := sdk.Prove(q, keyState(id.Key))
	if err != nil {
		return nil, err
	}
	return &StateAnswer{EPC: id.URI, Key: id.Key, Height: q.Height, Time: q.Time.UTC(), State: s, Proof: proof}, nil
}

// ParticipantAnswer is the answer of participants/{address}.
type ParticipantAnswer struct {
	Participant
	Height uint64 `json:"height"`
}

func participant(q *chain.QueryContext, s string) (*ParticipantAnswer, error) {
	addr, err := chain.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", chain.ErrBadPayload, err)
	}
	p, err := LoadParticipant(q.Store(), addr)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("%w: %s is not a trace participant", chain.ErrNotFound, addr)
	}
	return &ParticipantAnswer{Participant: *p, Height: q.Height}, nil
}
