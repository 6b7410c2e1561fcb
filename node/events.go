package node

import (
	"encoding/json"
	"sync"
)

// Event is one message of the live stream at /v1/events: a committed
// block, a committed transaction, or a consensus step.
type Event struct {
	Type string          `json:"type"` // "block", "tx", "consensus"
	Data json.RawMessage `json:"data"`
}

// Bus fans events out to subscribers. A subscriber that does not keep up
// loses events rather than slowing the node: the stream is for watching,
// and the chain itself is the record.
type Bus struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[chan Event]struct{}{}} }

// Publish sends an event to every subscriber that has room for it.
func (b *Bus) Publish(typ string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	ev := Event{Type: typ, Data: data}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// Subscribe returns a channel of events and a function that ends the
// subscription and closes the channel.
func (b *Bus) Subscribe(buffer int) (<-chan Event, func()) {
	ch := make(chan Event, buffer)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
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
