package node

import (
	"sync"

	"github.com/citychain/citychain/chain"
)

// waiters lets API requests with ?wait=commit sleep until their
// transaction's receipt exists.
type waiters struct {
	mu     sync.Mutex
	m      map[chain.Hash][]chan chain.Receipt
	closed bool // the node is stopping: new waits end at once
}

func newWaiters() *waiters { return &waiters{m: map[chain.Hash][]chan chain.Receipt{}} }

// add registers interest in a transaction; the channel receives its
// receipt once, or is closed when the node stops.
func (w *waiters) add(h chain.Hash) chan chain.Receipt {
	ch := make(chan chain.Receipt, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		close(ch)
		return ch
	}
	w.m[h] = append(w.m[h], ch)
	return ch
}

// remove forgets a channel that timed out.
func (w *waiters) remove(h chain.Hash, ch chan chain.Receipt) {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.m[h]
	for i, c := range list {
		if c == ch {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(w.m, h)
	} else {
		w.m[h] = list
	}
}

func (w *waiters) notify(rs []chain.Receipt) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.m) == 0 {
		return
	}
	for _, r := range rs {
		for _, ch := range w.m[r.TxHash] {
			ch <- r
		}
		delete(w.m, r.TxHash)
	}
}

func (w *waiters) closeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for h, list := range w.m {
		for _, ch := range list {
			close(ch)
		}
		delete(w.m, h)
	}
}
