package trace

import (
	"errors"
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
// two paths, stops at a cycle, and stops at the depth or size limits,
// marking the node truncated so the client can ask again from there.
// The size limits bound the work of one answer, whatever the chain
// holds: at most MaxLinks links, and at most MaxProvenanceReads entries
// of the EPC index read to find them. An identifier named by more
// events than that is cut where the limit falls, and the answer says
// truncated.

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
	// MaxProvenanceReads is how many entries of the EPC index (one per
	// event naming an identifier) one answer reads at most.
	MaxProvenanceReads = 10 * MaxLinks
)

// Link is one edge of a provenance tree and the subtree beyond it.
type Link struct {
	EPC       string    `json:"epc"` // canonical key of the linked identifier
	Relation  string    `json:"relation"`
	Event     uint64    `json:"event"` // the event that makes the link (see Events in the answer)
	BizStep   string    `json:"biz_step,omitempty"`
	EventTime time.Time `json:"event_time"`
	Links     []*Link   `json:"links,omitempty"`
	Truncated bool      `json:"truncated,omitempty"` // it has, or may have, links the limits left out
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
	// Truncated says that the limits left links out: those of a node
	// marked truncated, or, when no node is, of the asked EPC itself.
	Truncated bool `json:"truncated,omitempty"`
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
	up, moreUp, err := w.links(id.Key, true, 1, root)
	if err != nil {
		return nil, err
	}
	down, moreDown, err := w.links(id.Key, false, 1, root)
	if err != nil {
		return nil, err
	}
	a.Upstream, a.Downstream = append(a.Upstream, up...), append(a.Downstream, down...)
	a.Truncated = moreUp || moreDown || w.truncated
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
	st        *chain.Store
	depth     int
	count     int                // links in the answer so far
	reads     int                // EPC index entries read so far
	truncated bool               // a node was cut
	records   map[uint64]*Record // events read so far
	cited     map[uint64]*Record // events the answer's links cite
}

// errEnough ends a walk of the EPC index that reached its limit.
var errEnough = errors.New("trace: provenance limit reached")

// direct returns the links of one identifier in one direction, without
// following them, in chain order and without repeats: at most limit of
// them, and more reports that it stopped with links left, or with index
// entries left when the answer's reads ran out.
func (w *walker) direct(key string, upstream bool, limit int) (out []*Link, more bool, err error) {
	seen := map[string]bool{}
	err = eachEvent(w.st, key, func(seq uint64, parts []string) error {
		if w.reads >= MaxProvenanceReads {
			more = true
			return errEnough
		}
		w.reads++
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
		add := func(rel string, keys ...string) error {
			for _, k := range keys {
				if k == key || seen[rel+" "+k] {
					continue
				}
				if len(out) >= limit {
					more = true
					return errEnough
				}
				seen[rel+" "+k] = true
				out = append(out, &Link{EPC: k, Relation: rel, Event: seq, BizStep: r.BizStep,
					EventTime: time.UnixMilli(r.EventTime).UTC()})
			}
			return nil
		}
		switch {
		case !upstream && r.Type == TransformationEvent && as(AsInput, AsInputQuantity):
			return add(WentInto, r.Outputs...)
		case !upstream:
		case r.Type == AggregationEvent && r.Action != ActionDelete && r.Parent != "" && as(AsChild, AsChildQuantity):
			return add(PackedIn, r.Parent)
		case r.Type == TransformationEvent && as(AsOutput, AsOutputQuantity):
			return add(MadeFrom, r.Inputs...)
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return out, more, err
}

// links returns the tree of links from key in one direction, and more
// when the limits left some of key's own links out. path holds the
// identifiers on the way from the root, to stop at cycles.
func (w *walker) links(key string, upstream bool, depth int, path map[string]bool) ([]*Link, bool, error) {
	out, more, err := w.direct(key, upstream, MaxLinks-w.count)
	if err != nil {
		return nil, false, err
	}
	w.count += len(out)
	for _, l := range out {
		w.cited[l.Event] = w.records[l.Event]
		if path[l.EPC] {
			continue
		}
		if depth >= w.depth || w.count >= MaxLinks {
			// Does it have links? The first one, or the end of the
			// reads, answers.
			if _, l.Truncated, err = w.direct(l.EPC, upstream, 0); err != nil {
				return nil, false, err
			}
			w.truncated = w.truncated || l.Truncated
			continue
		}
		path[l.EPC] = true
		if l.Links, l.Truncated, err = w.links(l.EPC, upstream, depth+1, path); err != nil {
			return nil, false, err
		}
		w.truncated = w.truncated || l.Truncated
		delete(path, l.EPC)
	}
	return out, more, nil
}
