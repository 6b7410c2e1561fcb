package main

import (
	"context"
	"sync"
)

// benchTurns holds the senders waiting for their turn, one queue per
// node. A sender is either here or with the one worker sending its
// transaction, so it never has two in flight and its nonces reach its
// node in order. A worker takes the senders at the front of one node's
// queue, up to a batch of them, and puts each back at the end once its
// transaction is answered; so all senders advance evenly, and the nodes
// take turns at being served.
type benchTurns struct {
	mu     sync.Mutex
	cond   *sync.Cond
	queues [][]*benchSender // by target node, oldest first
	next   int              // the node whose queue is looked at first
}

// newBenchTurns queues the senders for nodes nodes, in the order given.
func newBenchTurns(senders []*benchSender, nodes int) *benchTurns {
	t := &benchTurns{queues: make([][]*benchSender, nodes)}
	t.cond = sync.NewCond(&t.mu)
	for _, s := range senders {
		t.queues[s.target] = append(t.queues[s.target], s)
	}
	return t
}

// take waits until some node has a sender waiting and returns up to max
// senders of that node, oldest first. It returns nil once ctx ends.
func (t *benchTurns) take(ctx context.Context, max int) []*benchSender {
	// Wake the waiters when ctx ends. The wake-up takes the lock, so it
	// cannot slip in between the check of ctx below and the Wait.
	stop := context.AfterFunc(ctx, func() {
		t.mu.Lock()
		t.cond.Broadcast()
		t.mu.Unlock()
	})
	defer stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		if ctx.Err() != nil {
			return nil
		}
		for i := range t.queues {
			k := (t.next + i) % len(t.queues)
			q := t.queues[k]
			if len(q) == 0 {
				continue
			}
			n := min(max, len(q))
			out := append([]*benchSender(nil), q[:n]...)
			t.queues[k] = q[n:]
			t.next = (k + 1) % len(t.queues)
			return out
		}
		t.cond.Wait()
	}
}

// put queues senders at the end of their nodes' queues: their turn is
// over.
func (t *benchTurns) put(senders ...*benchSender) {
	t.mu.Lock()
	for _, s := range senders {
		t.queues[s.target] = append(t.queues[s.target], s)
	}
	t.mu.Unlock()
	t.cond.Broadcast()
}

// giveBack queues senders at the front of their nodes' queues, in the
// order given: they were taken but not sent, so their turn comes first.
func (t *benchTurns) giveBack(senders []*benchSender) {
	if len(senders) == 0 {
		return
	}
	t.mu.Lock()
	for i := len(senders) - 1; i >= 0; i-- {
		s := senders[i]
		t.queues[s.target] = append([]*benchSender{s}, t.queues[s.target]...)
	}
	t.mu.Unlock()
	t.cond.Broadcast()
}
