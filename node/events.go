package node

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/citychain/citychain/chain"
)

// The types of event on the live stream at /v1/events.
const (
	EventBlock     = "block"
	EventTx        = "tx"
	EventConsensus = "consensus"
)

// eventTypes are the types a subscriber may ask for, in the order the
// API lists them.
var eventTypes = []string{EventBlock, EventTx, EventConsensus}

// Event is one message of the live stream at /v1/events: a committed
// block, a committed transaction, or a consensus step.
type Event struct {
	Type string          `json:"type"` // "block", "tx", "consensus"
	Data json.RawMessage `json:"data"`
}

// Bus fans events out to subscribers. A subscriber that does not keep up
// loses events rather than slowing the node: the stream is for watching,
// and the chain itself is the record.
//
// An event costs nothing when no one takes its type: Publish encodes it
// only for a subscriber that wants it, and a publisher of many events
// (one per committed transaction) asks Wants before it builds them.
type Bus struct {
	mu   sync.Mutex
	subs map[chan Event][]string // the types each subscriber takes; nil: all
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[chan Event][]string{}} }

// wants reports whether a subscriber taking types takes typ.
func wants(types []string, typ string) bool { return types == nil || slices.Contains(types, typ) }

// Wants reports whether some subscriber takes events of typ.
func (b *Bus) Wants(typ string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, types := range b.subs {
		if wants(types, typ) {
			return true
		}
	}
	return false
}

// Publish sends an event to every subscriber that takes its type and has
// room for it. v is encoded to JSON once, and only if someone takes it.
func (b *Bus) Publish(typ string, v any) {
	if !b.Wants(typ) {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	ev := Event{Type: typ, Data: data}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch, types := range b.subs {
		if !wants(types, typ) {
			continue
		}
		select {
		case ch <- ev:
		default:
		}
	}
}

// Subscribe returns a channel of the events of the given types (every
// type when none is given) and a function that ends the subscription and
// closes the channel.
func (b *Bus) Subscribe(buffer int, types ...string) (<-chan Event, func()) {
	ch := make(chan Event, buffer)
	if len(types) == 0 {
		types = nil
	}
	b.mu.Lock()
	b.subs[ch] = types
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, ch)
			b.mu.Unlock()
			close(ch)
		})
	}
}

// parseEventTypes reads the ?types= of /v1/events: a comma-separated
// list of event types; empty means every type.
func parseEventTypes(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(eventTypes, t) {
			return nil, fmt.Errorf("types=%q: %q is not an event type; want a list of %s", s, t, strings.Join(eventTypes, ", "))
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// txEvent is a committed transaction as the stream announces it. Its
// fields are in the order a map of the same names would encode, so the
// JSON is what it always was.
type txEvent struct {
	Action string        `json:"action"`
	App    string        `json:"app"`
	Error  string        `json:"error"`
	Hash   chain.Hash    `json:"hash"`
	Height uint64        `json:"height"`
	Index  uint32        `json:"index"`
	Sender chain.Address `json:"sender"`
	Status string        `json:"status"`
}

// publishTxs announces the transactions of a committed block, one event
// each, if anyone takes tx events; else it builds nothing.
func (n *Node) publishTxs(height uint64, res *chain.Result) {
	if !n.bus.Wants(EventTx) {
		return
	}
	for i, r := range res.Receipts {
		tx := res.Txs[i]
		n.bus.Publish(EventTx, txEvent{Hash: r.TxHash, Height: height, Index: r.Index, Status: r.Status,
			Error: r.Error, App: tx.App, Action: tx.Action, Sender: tx.Sender()})
	}
}
