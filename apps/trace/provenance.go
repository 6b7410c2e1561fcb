package trace

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// Provenance follows the links that events make between identifiers:
//
//   - packed_in: an AggregationEvent (ADD or OBSERVE) put the object in a
//     container (its parentID);
//   - made_from: a TransformationEvent had the object among its outputs,
//     so it was made from each of the inputs;
//   - went_into: a TransformationEvent had the object among its inputs,
//     so it went into each of the outputs.
//
// Upstream follows packed_in and made_from from the asked identifier,
// and again from each identifier found, as a tree; downstream follows
// went_into the same way. Events declared erroneous, and the declarations
// themselves, make no links. A tree repeats an identifier reached along
// two paths, stops at a cycle, and stops at the depth or size limit,
// marking the node truncated so the client can ask again from there.

// Relations of a provenance link.
const (
	PackedIn = "packed_in"
	MadeFrom = "made_from"
	WentInto = "went_into"
)

// Limits of one provenance answer.
const (
	DefaultDepth = 8
	MaxDepth     = 16
	MaxLinks     = 500
)

// Link is one edge of a provenance tree and the subtree beyond it.
type Link struct {
	EPC       string    `json:"epc"` // canonical key of the linked identifier
	Relation  string    `json:"relation"`
	Event     uint64    `json:"event"` // the event that makes the link (see Events in the answer)
	BizStep   string    `json:"biz_step,omitempty"`
	EventTime time.Time `json:"event_time"`
	Links     []*Link   `json:"links,omitempty"`
	Truncated bool      `json:"truncated,omitempty"` // it has links the limits left out
}

// ProvenanceAnswer is the answer of epcs/{epc}/provenance.
type ProvenanceAnswer struct {
	EPC        string      `json:"epc"`
	Key        string      `json:"key"`
	Height     uint64      `json:"height"`
	Time       time.Time   `json:"time"`
	Upstream   []*Link     `json:"upstream"`   // what it was packed in and made from
	Downstream []*Link     `json:"downstream"` // what it went into
	Events     []EventView `json:"events"`     // every event a link cites, with its proof, in chain order
}

func provenance(q *chain.QueryContext, p sdk.Params) (any, error) {
	id, err := queryEPC(p)
	if err != nil {
		return nil, err
	}
	depth, err := p.Uint("depth", DefaultDepth)
	if err != nil || depth < 1 || depth > MaxDepth {
		return nil, fmt.Errorf("%w: provenance takes depth=1..%d only", chain.ErrBadPayload, MaxDepth)
	}
	w := &walker{st: q.Store(), depth: int(depth), records: map[uint64]*Record{}, cited: map[uint64]*Record{}}
	named, err := sdk.Any(w.st, prefixEPC(id.Key))
	if err != nil {
		return nil, err
	}
	if !named && !w.st.Has(keyState(id.Key)) {
		return nil, fmt.Errorf("%w: no event names %s", chain.ErrNotFound, id.URI)
	}
	a := &ProvenanceAnswer{EPC: id.URI, Key: id.Key, Height: q.Height, Time: q.Time.UTC(),
		Upstream: []*Link{}, Downstream: []*Link{}, Events: []EventView{}}
	root := map[string]bool{id.Key: true}
	up, err := w.links(id.Key, true, 1, root)
	if err != nil {
		return nil, err
	}
	down, err := w.links(id.Key, false, 1, root)
	if err != nil {
		return nil, err
	}
	a.Upstream, a.Downstream = append(a.Upstream, up...), append(a.Downstream, down...)
	for _, s := range slices.Sorted(maps.Keys(w.cited)) {
		v, err := view(q, w.cited[s], "")
		if err != nil {
			return nil, err
		}
		a.Events = append(a.Events, v)
	}
	return a, nil
}

type walker struct {
	st      *chain.Store
	depth   int
	count   int                // links in the answer so far
	records map[uint64]*Record // events read so far
	cited   map[uint64]*Record // events the answer's links cite
}

// direct returns the links of one identifier in one direction, without
// following them, in chain order and without repeats.
func (w *walker) direct(key string, upstream bool) ([]*Link, error) {
	var out []*Link
	seen := map[string]bool{}
	err := eachEvent(w.st, key, func(seq uint64, parts []string) error {
		r, ok := w.records[seq]
		if !ok {
			var err error
			if r, err = LoadRecord(w.st, seq); err != nil {
				return err
			}
			w.records[seq] = r
		}
		if r.Declaration || erroneous(w.st, r) {
			return nil
		}
		as := func(part, quantityPart string) bool {
			return slices.Contains(parts, part) || slices.Contains(parts, quantityPart)
		}
		add := func(rel string, keys ...string) {
			for _, k := range keys {
				if k == key || seen[rel+" "+k] {
					continue
				}
				seen[rel+" "+k] = true
				out = append(out, &Link{EPC: k, Relation: rel, Event: seq, BizStep: r.BizStep,
					EventTime: time.UnixMilli(r.EventTime).UTC()})
			}
		}
		switch {
		case !upstream && r.Type == TransformationEvent && as(AsInput, AsInputQuantity):
			add(WentInto, r.Outputs...)
		case !upstream:
		case r.Type == AggregationEvent && r.Action != ActionDelete && r.Parent != "" && as(AsChild, AsChildQuantity):
			add(PackedIn, r.Parent)
		case r.Type == TransformationEvent && as(AsOutput, AsOutputQuantity):
			add(MadeFrom, r.Inputs...)
		}
		return nil
	})
	return out, err
}

// links returns the tree of links from key in one direction. path holds
// the identifiers on the way from the root, to stop at cycles.
func (w *walker) links(key string, upstream bool, depth int, path map[string]bool) ([]*Link, error) {
	out, err := w.direct(key, upstream)
	if err != nil {
		return nil, err
	}
	w.count += len(out)
	for _, l := range out {
		w.cited[l.Event] = w.records[l.Event]
		if path[l.EPC] {
			continue
		}
		if depth >= w.depth || w.count >= MaxLinks {
			more, err := w.direct(l.EPC, upstream)
			if err != nil {
				return nil, err
			}
			l.Truncated = len(more) > 0
			continue
		}
		path[l.EPC] = true
		if l.Links, err = w.links(l.EPC, upstream, depth+1, path); err != nil {
			return nil, err
		}
		delete(path, l.EPC)
	}
	return out, nil
}
