package trace

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// queries are the answers served at /v1/apps/trace/... {epc} is an EPC
// URI or a GS1 Digital Link; a client escapes a Digital Link's slashes
// (%2F) or not, both work (App.Query). The event lists take the filters
// biz_step, location, from, to, and the paging arguments limit and after
// (the "next" of the previous page).
var queries = []sdk.Route{
	sdk.Query("epcs/{epc}/events", "every event that names the EPC, in chain order", epcEvents, filterArgs...),
	sdk.Query("epcs/{epc}/provenance", "where it came from and what it went into, as trees", provenance, "depth"),
	sdk.Query("epcs/{epc}/state", "its current state, with a proof", epcState),
	sdk.Query("events", "all events, filtered (chain order; event-time order when only from/to is given)", allEvents, filterArgs...),
	sdk.Query("events/{seq}", "one event", sdk.ByNumber("seq", oneEvent)),
	sdk.Query("participants/{address}", "a registered participant", sdk.ByAddress("address", participant)),
}

// queryEPC reads the {epc} of a route. A proxy may have merged the
// "https://" of a Digital Link into "https:/".
func queryEPC(p sdk.Params) (ID, error) {
	s := p.Path("epc")
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
	// Next is set when more events may follow: pass it as after= for the
	// next page. A page that stopped at its reading limit (ScanFactor)
	// holds fewer than limit events, possibly none, and still has a Next.
	Next string `json:"next,omitempty"`
}

// Paging limits of the event lists.
const (
	DefaultLimit = 100
	MaxLimit     = 500
	// ScanFactor bounds the work of one page: it reads at most
	// ScanFactor × limit entries of the index it walks, matching the
	// filters or not, and answers with a Next from where it stopped.
	ScanFactor = 10
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

// filterArgs are the arguments of the event lists, in the order
// parseFilter reads them.
var filterArgs = []string{"after", "biz_step", "from", "limit", "location", "to"}

func parseFilter(p sdk.Params) (*filter, error) {
	f := &filter{}
	for _, name := range filterArgs {
		v := p.Arg(name)
		var err error
		switch {
		case name == "limit":
			if f.limit, err = p.Limit(DefaultLimit, MaxLimit); err != nil {
				return nil, err
			}
		case !p.Has(name):
		case name == "biz_step":
			f.bizStep, err = BizSteps.Normalize(v)
		case name == "location":
			var l Location
			l, err = ParseLocation(v)
			f.gln = l.GLN
		case name == "from", name == "to":
			t, terr := time.Parse(time.RFC3339Nano, v)
			if terr != nil {
				err = fmt.Errorf("%q is not an RFC 3339 time (2026-03-01T00:00:00Z)", v)
			}
			if name == "from" {
				f.from, f.hasFrom = t.UnixMilli(), true
			} else {
				f.to, f.hasTo = t.UnixMilli(), true
			}
		case name == "after":
			if f.after, err = hex.DecodeString(v); err != nil || len(f.after) == 0 {
				err = fmt.Errorf("%q is not a cursor from a previous answer", v)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", chain.ErrBadPayload, name, err)
		}
	}
	return f, nil
}

func (f *filter) match(r *Record) bool {
	switch {
	case f.bizStep != "" && r.BizStep != f.bizStep:
	case f.gln != "" && !slices.Contains(r.GLNs, f.gln):
	case f.hasFrom && r.EventTime < f.from:
	case f.hasTo && r.EventTime >= f.to:
	default:
		return true
	}
	return false
}

// errScanned ends a page that read its share of the index.
var errScanned = errors.New("trace: the page read its share of the index")

// scan walks an index whose keys are base+suffix, the suffix ending in
// an 8-byte sequence number; prefix (base or longer) narrows the walk,
// which ends before the key end when end is set. It returns up to
// f.limit matching events, and a cursor when more match or when it
// stopped after reading ScanFactor × f.limit entries with more left, so
// that a filter that rarely matches costs each page a bounded walk.
// roles says that the index values are the parts an identifier plays
// (the EPC index), which the answer shows.
func (f *filter) scan(q *chain.QueryContext, base, prefix, end []byte, roles bool) (views []EventView, next string, err error) {
	var after, last, read []byte
	if f.after != nil {
		after = append(bytes.Clone(base), f.after...)
	}
	views, reads := []EventView{}, 0
	// One event more than the limit tells whether a next page has any.
	_, err = sdk.EachBefore(q.Store(), prefix, after, end, f.limit+1, func(k, v []byte) (bool, error) {
		if reads == ScanFactor*f.limit {
			next = hex.EncodeToString(read)
			return false, errScanned
		}
		reads++
		read = append(read[:0], k[len(base):]...)
		seq, err := sdk.IDAtEnd(k)
		if err != nil {
			return false, err
		}
		r, err := LoadRecord(q.Store(), seq)
		if err != nil || !f.match(r) {
			return false, err
		}
		if len(views) == f.limit {
			next = hex.EncodeToString(last)
			return true, nil
		}
		as := ""
		if roles {
			as = string(v)
		}
		ev, err := view(q, r, as)
		if err != nil {
			return false, err
		}
		views, last = append(views, ev), bytes.Clone(k[len(base):])
		return true, nil
	})
	if errors.Is(err, errScanned) {
		err = nil
	}
	return views, next, err
}

func epcEvents(q *chain.QueryContext, p sdk.Params) (any, error) {
	id, err := queryEPC(p)
	if err != nil {
		return nil, err
	}
	f, err := parseFilter(p)
	if err != nil {
		return nil, err
	}
	prefix := prefixEPC(id.Key)
	a := &EventsAnswer{EPC: id.URI, Key: id.Key, Height: q.Height, Time: q.Time.UTC(), Order: "chain"}
	a.Events, a.Next, err = f.scan(q, prefix, prefix, nil, true)
	return a, err
}

// allEvents serves the event list without an EPC from the most selective
// index: by bizStep, by location, by time, or all events in chain order.
func allEvents(q *chain.QueryContext, p sdk.Params) (any, error) {
	f, err := parseFilter(p)
	if err != nil {
		return nil, err
	}
	a := &EventsAnswer{Height: q.Height, Time: q.Time.UTC(), Order: "chain"}
	var base, prefix, end []byte
	switch {
	case f.bizStep != "":
		base = prefixStep(f.bizStep)
	case f.gln != "":
		base = prefixLocation(f.gln)
	case f.hasFrom || f.hasTo:
		a.Order, base = "event_time", prefixTime
		lo, hi := timeKey(f.from, 0), append(bytes.Clone(prefixTime), 0xff)
		if f.hasTo {
			hi = timeKey(f.to, 0)
			end = hi
		}
		if f.hasFrom {
			if from := lo[len(base) : len(lo)-1]; bytes.Compare(f.after, from) < 0 {
				f.after = from // every key at from sorts after this
			}
			prefix = commonPrefix(lo, hi)
		}
	default:
		base = []byte("ev/")
	}
	if prefix == nil {
		prefix = base
	}
	a.Events, a.Next, err = f.scan(q, base, prefix, end, false)
	return a, err
}

func commonPrefix(a, b []byte) []byte {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n]
}

func oneEvent(q *chain.QueryContext, seq uint64) (any, error) {
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

func epcState(q *chain.QueryContext, p sdk.Params) (any, error) {
	id, err := queryEPC(p)
	if err != nil {
		return nil, err
	}
	if id.Class {
		return nil, fmt.Errorf("%w: %s names a class; state is kept for single objects (ask for its events instead)", chain.ErrNotFound, id.URI)
	}
	s, proof, err := sdk.LoadProven[State](q, keyState(id.Key), "no event names "+id.URI)
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

func participant(q *chain.QueryContext, addr chain.Address) (any, error) {
	pt, err := LoadParticipant(q.Store(), addr)
	if err != nil {
		return nil, err
	}
	if pt == nil {
		return nil, fmt.Errorf("%w: %s is not a trace participant", chain.ErrNotFound, addr)
	}
	return &ParticipantAnswer{Participant: *pt, Height: q.Height}, nil
}

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
	EventHash   string    `json:"event_hash,omitempty"` // CBV 2.0 event hash, ni:///sha-256;...?ver=CBV2.0
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
	// Event is the EPCIS event as the standard writes it (AnswerEvent).
	Event json.RawMessage `json:"event"`
	Proof *sdk.Proven     `json:"proof"`
}

// AnswerEvent returns a stored event as answers give it. Events captured
// by this version are stored that way already: standard words bare,
// decimals as JSON numbers. Events an older version stored keep the
// spellings they were captured with and carry decimals as strings; they
// are read through ParseEvent again, which writes them in today's form
// (an event today's rules refuse is answered as stored). A client that
// checks a proof renders the proven record the same way (Verify).
func AnswerEvent(stored string) json.RawMessage {
	var m map[string]any
	if sdk.DecodeNumbers([]byte(stored), &m) != nil {
		return json.RawMessage(stored)
	}
	e, err := ParseEvent(m, "event")
	if err != nil {
		return json.RawMessage(stored)
	}
	return json.RawMessage(e.JSON)
}

// view builds the answer entry for a stored event, with its proof.
func view(q *chain.QueryContext, r *Record, roles string) (EventView, error) {
	proof, err := sdk.Prove(q, keyEvent(r.Seq))
	if err != nil {
		return EventView{}, err
	}
	v := EventView{Seq: r.Seq, Height: r.Height, Time: time.UnixMilli(r.Time).UTC(), TxHash: r.TxHash,
		CapturedBy: r.Sender, Type: r.Type, Action: r.Action, EventID: r.EventID, EventHash: r.Hash,
		EventTime: time.UnixMilli(r.EventTime).UTC(), BizStep: r.BizStep, Disposition: r.Disposition,
		ErrorDeclaration: r.Declaration, Event: AnswerEvent(r.Event), Proof: proof}
	if roles != "" {
		v.Roles = strings.Split(roles, ",")
	}
	if r.Context != "" {
		v.Context = json.RawMessage(r.Context)
	}
	if erroneous(q.Store(), r) {
		v.DeclaredErroneousBy, _ = sdk.BytesUint64(q.Store().Get(keyDeclared(r.identity())))
	}
	return v, nil
}

// Verify checks the view against stateRoot, the state root of a trusted
// header at v.Proof.Height: the proof must hold, the proven key must be
// this event's, and the proven record must say what the view says (its
// event as AnswerEvent writes it, its event hash). A
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
	same, err := sameJSON(v.Event, AnswerEvent(r.Event))
	if err != nil {
		return fmt.Errorf("event %d: %w", v.Seq, err)
	}
	if !same || r.Seq != v.Seq || r.Height != v.Height || r.Time != v.Time.UnixMilli() || r.Sender != v.CapturedBy ||
		r.TxHash != v.TxHash || r.Hash != v.EventHash {
		return fmt.Errorf("event %d: the answer differs from the proven record", v.Seq)
	}
	return nil
}

// sameJSON compares two JSON texts by value, since an answer may be
// indented or escaped differently from the stored bytes.
func sameJSON(a, b []byte) (bool, error) {
	var v [2]any
	for i, raw := range [][]byte{a, b} {
		if err := sdk.DecodeNumbers(raw, &v[i]); err != nil {
			return false, err
		}
	}
	return reflect.DeepEqual(v[0], v[1]), nil
}
