package node

import (
	"container/list"
	"errors"
	"fmt"
	"sync"

	"github.com/citychain/citychain/chain"
)

// ErrMempoolFull means the pool is at its bound and refuses the
// transaction rather than accept it and drop it later. The API answers 503.
var ErrMempoolFull = errors.New("mempool is full")

// Mempool holds transactions that passed their checks and wait for a
// block. Its promises:
//
//   - every transaction in it had its signature verified exactly once, on
//     admission; the executor asks Verified instead of verifying again;
//   - per sender, the pooled transactions have consecutive nonces starting
//     at the sender's next committed nonce, so any prefix of the pool in
//     arrival order is a valid block;
//   - it is bounded in count and bytes, and refuses when full;
//   - a transaction leaves only when a committed block includes it, or
//     when a committed block made it stale (its nonce was used).
//
// Beside the pool it keeps a small bounded memory of transactions seen
// but not pooled (seen): gossiped ones it refused or holds back for their
// nonce, ones fetched for a proposal, those of the blocks in the vault
// after a restart. Proposals name their
// transactions by hash, and a node rebuilds a proposed block from what
// Lookup finds here before it asks peers for the rest; peers ask it in
// turn. Nothing in that memory is offered to blocks, and nothing in it
// counts as verified.
type Mempool struct {
	mu       sync.Mutex
	maxTxs   int
	maxBytes int
	bytes    int
	order    *list.List // of *poolTx, arrival order
	byHash   map[chain.Hash]*list.Element
	senders  map[chain.Address]*senderQueue
	ready    chan struct{}

	// future holds gossiped transactions whose nonce is ahead of the
	// sender's next one: gossip does not keep a sender's order, so nonce 8
	// can arrive before 7. They wait here, unchecked against state and
	// not offered to blocks, until the gap closes.
	future      map[chain.Address]map[uint64]*futureTx
	futureCount int
	blocks      uint64 // committed blocks seen by Update: the future queue's clock
	ticks       uint64 // calls of Lingering: its clock when blocks are slow

	seen *seenTxs // has its own lock
}

type futureTx struct {
	tx     *chain.Tx
	hash   chain.Hash
	raw    []byte
	heldAt uint64 // Mempool.blocks when it was held back
}

// Bounds of the future queue. A held-back transaction whose gap has not
// closed within maxFutureAge blocks is dropped: the transactions before
// it are not coming, and it would only take room from others.
const (
	maxFuturePerSender = 64
	maxFutureTotal     = 10_000
	maxFutureAge       = 50
)

type poolTx struct {
	hash   chain.Hash
	raw    []byte
	sender chain.Address
	nonce  uint64
	// offered is Mempool.blocks, and offeredTick Mempool.ticks, when the
	// transaction was admitted or last handed out by Lingering.
	offered, offeredTick uint64
}

// senderQueue tracks one sender's pooled transactions. next is the nonce
// the next admitted transaction must carry.
type senderQueue struct {
	next  uint64
	count int
}

// NewMempool returns an empty pool bounded by maxTxs and maxBytes.
func NewMempool(maxTxs, maxBytes int) *Mempool {
	return &Mempool{maxTxs: maxTxs, maxBytes: maxBytes, order: list.New(),
		byHash: map[chain.Hash]*list.Element{}, senders: map[chain.Address]*senderQueue{},
		ready: make(chan struct{}, 1), future: map[chain.Address]map[uint64]*futureTx{},
		seen: newSeenTxs(seenMaxTxs, seenMaxBytes)}
}

// Ready is signalled (without blocking) whenever a transaction is added.
func (m *Mempool) Ready() <-chan struct{} { return m.ready }

// AdmitFunc is called by Add with a transaction and the nonce it must
// carry, under the pool's lock, to run the stateful checks. It must be
// quick. It is called for held-back transactions too, when their turn
// comes.
type AdmitFunc func(tx *chain.Tx, nonce uint64) error

// Add admits a transaction whose signature the caller has verified.
// committedNonce reads the sender's next nonce from committed state; it
// is used when the pool holds nothing of the sender yet. check runs the
// stateful checks with the expected nonce. Add returns false with no error
// for an exact duplicate of a pooled transaction.
//
// With allowFuture (transactions from gossip), a transaction whose nonce
// is a little ahead of the sender's next one is held back instead of
// refused, and admitted once the transactions before it arrive.
func (m *Mempool) Add(tx *chain.Tx, hash chain.Hash, raw []byte, committedNonce func() (uint64, error), check AdmitFunc, allowFuture bool) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.byHash[hash]; dup {
		return false, nil
	}
	sender := tx.Sender()
	next, err := m.nextNonce(sender, committedNonce)
	if err != nil {
		return false, err
	}
	if allowFuture && tx.Nonce > next && tx.Nonce-next <= maxFuturePerSender {
		m.holdFuture(sender, &futureTx{tx: tx, hash: hash, raw: raw})
		return false, nil
	}
	if err := m.addLocked(tx, hash, raw, sender, next, check); err != nil {
		return false, err
	}
	// Admit held-back successors that are now in order.
	m.promote(sender, committedNonce, check)
	return true, nil
}

func (m *Mempool) nextNonce(sender chain.Address, committedNonce func() (uint64, error)) (uint64, error) {
	if q := m.senders[sender]; q != nil {
		return q.next, nil
	}
	return committedNonce()
}

func (m *Mempool) holdFuture(sender chain.Address, f *futureTx) {
	if m.futureCount >= maxFutureTotal {
		return
	}
	fq := m.future[sender]
	if fq == nil {
		fq = map[uint64]*futureTx{}
		m.future[sender] = fq
	}
	if _, ok := fq[f.tx.Nonce]; !ok && len(fq) < maxFuturePerSender {
		f.heldAt = m.blocks
		fq[f.tx.Nonce] = f
		m.futureCount++
		// A proposal may include it before its turn comes here.
		m.seen.add(f.hash, f.raw)
	}
}

// addLocked checks and pools one transaction with the expected nonce.
func (m *Mempool) addLocked(tx *chain.Tx, hash chain.Hash, raw []byte, sender chain.Address, next uint64, check AdmitFunc) error {
	if m.order.Len() >= m.maxTxs || m.bytes+len(raw) > m.maxBytes {
		return fmt.Errorf("%w: %d transactions, %d bytes pooled", ErrMempoolFull, m.order.Len(), m.bytes)
	}
	if err := check(tx, next); err != nil {
		return err
	}
	q := m.senders[sender]
	if q == nil {
		q = &senderQueue{}
		m.senders[sender] = q
	}
	q.next, q.count = next+1, q.count+1
	m.byHash[hash] = m.order.PushBack(&poolTx{hash: hash, raw: raw, sender: sender, nonce: tx.Nonce, offered: m.blocks, offeredTick: m.ticks})
	m.bytes += len(raw)
	select {
	case m.ready <- struct{}{}:
	default:
	}
	return nil
}

// Room returns ErrMempoolFull if the pool could not take a transaction
// of size bytes now, nil if it could.
func (m *Mempool) Room(size int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.order.Len() >= m.maxTxs || m.bytes+size > m.maxBytes {
		return fmt.Errorf("%w: %d transactions, %d bytes pooled", ErrMempoolFull, m.order.Len(), m.bytes)
	}
	return nil
}

// Has reports whether a transaction is pooled. Pooled transactions have
// verified signatures, so the executor uses Has as its Verified check.
func (m *Mempool) Has(hash chain.Hash) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.byHash[hash]
	return ok
}

// Lookup returns the canonical bytes of the transaction whose hash is h
// if the pool holds it or has seen it lately (Remember; a transaction
// held back for its nonce is remembered too); nil otherwise. Unlike Has,
// it does not say that the transaction's signature was verified.
func (m *Mempool) Lookup(h chain.Hash) []byte {
	var raw []byte
	m.mu.Lock()
	if e, ok := m.byHash[h]; ok {
		raw = e.Value.(*poolTx).raw
	}
	m.mu.Unlock()
	if raw != nil {
		return raw
	}
	return m.seen.get(h)
}

// Remember keeps transactions that are not pooled but that peers may
// ask for, or a proposal may name: each raw under its hash, the oldest
// forgotten first once the memory is full.
func (m *Mempool) Remember(txs ...[]byte) {
	for _, raw := range txs {
		m.seen.add(chain.Sum(raw), raw)
	}
}

// NextNonce returns the nonce a sender's next transaction must carry,
// if the pool holds any of the sender's transactions.
func (m *Mempool) NextNonce(a chain.Address) (uint64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if q := m.senders[a]; q != nil {
		return q.next, true
	}
	return 0, false
}

// Size returns the number of pooled transactions.
func (m *Mempool) Size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.order.Len()
}

// Reap returns up to maxTxs transactions, at most maxBytes in all, in
// arrival order. They stay pooled until Update removes them.
func (m *Mempool) Reap(maxTxs, maxBytes int) [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([][]byte, 0, min(maxTxs, m.order.Len()))
	size := 0
	for e := m.order.Front(); e != nil && len(out) < maxTxs; e = e.Next() {
		p := e.Value.(*poolTx)
		if size+len(p.raw) > maxBytes {
			break
		}
		size += len(p.raw)
		out = append(out, p.raw)
	}
	return out
}

// Lingering returns up to max pooled transactions, oldest first, that
// have waited through at least age committed blocks, or ticks calls of
// Lingering, since they were admitted or last returned here, and
// restarts their wait. The node calls it on a timer and gossips them
// again: a transaction gossiped while this node was cut off, or before
// gossip had found its peers, reached no one, and gossip alone never
// sends it twice. The count of calls stands in for time on a chain that
// makes blocks slowly or not at all (a dev chain makes an empty block
// only every few seconds).
func (m *Mempool) Lingering(age, ticks uint64, max int) [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ticks++
	var out [][]byte
	for e := m.order.Front(); e != nil && len(out) < max; e = e.Next() {
		p := e.Value.(*poolTx)
		if m.blocks-p.offered >= age || m.ticks-p.offeredTick >= ticks {
			p.offered, p.offeredTick = m.blocks, m.ticks
			out = append(out, p.raw)
		}
	}
	return out
}

// Update removes the transactions of a committed block. nonceOf reads a
// sender's next nonce from the new committed state; any pooled
// transaction of an affected sender below it is stale and goes too.
//
// check, when not nil, admits held-back gossiped transactions whose turn
// has come because the block used the nonces before them.
func (m *Mempool) Update(txHashes []chain.Hash, senders []chain.Address, nonceOf func(chain.Address) (uint64, error), check AdmitFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blocks++
	if m.futureCount > 0 && m.blocks%10 == 0 {
		m.expireFuture()
	}
	for _, h := range txHashes {
		if e, ok := m.byHash[h]; ok {
			m.remove(e)
		}
	}
	for _, s := range senders {
		if fq := m.future[s]; fq != nil {
			if n, err := nonceOf(s); err == nil {
				for nonce := range fq {
					if nonce < n {
						delete(fq, nonce)
						m.futureCount--
					}
				}
			}
			if len(fq) == 0 {
				delete(m.future, s)
			}
		}
		q := m.senders[s]
		if q == nil {
			continue // nothing pooled for this sender
		}
		n, err := nonceOf(s)
		if err != nil {
			continue
		}
		// The pooled nonces are [q.next-q.count, q.next). In the common case
		// they start right at the committed nonce and nothing is stale.
		if q.next-uint64(q.count) == n {
			continue
		}
		// A block from elsewhere used some of these nonces: drop what is now
		// stale. If the rest no longer starts at the committed nonce it can
		// never form a consecutive run, so it goes too.
		var mine []*list.Element
		for e := m.order.Front(); e != nil; e = e.Next() {
			if e.Value.(*poolTx).sender == s {
				mine = append(mine, e)
			}
		}
		expect, keep := n, true
		for _, e := range mine {
			p := e.Value.(*poolTx)
			if p.nonce < n {
				m.remove(e)
				continue
			}
			if !keep || p.nonce != expect {
				keep = false
				m.remove(e)
				continue
			}
			expect++
		}
		if q := m.senders[s]; q != nil {
			q.next = expect
			continue
		}
		delete(m.senders, s)
	}
	if check != nil {
		for _, s := range senders {
			m.promote(s, func() (uint64, error) { return nonceOf(s) }, check)
		}
	}
}

// expireFuture drops held-back transactions older than maxFutureAge
// blocks.
func (m *Mempool) expireFuture() {
	for s, fq := range m.future {
		for nonce, f := range fq {
			if m.blocks-f.heldAt > maxFutureAge {
				delete(fq, nonce)
				m.futureCount--
			}
		}
		if len(fq) == 0 {
			delete(m.future, s)
		}
	}
}

// Held returns how many gossiped transactions wait for a nonce gap to close.
func (m *Mempool) Held() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.futureCount
}

// promote admits the sender's held-back transactions that now follow in
// nonce order.
func (m *Mempool) promote(sender chain.Address, committedNonce func() (uint64, error), check AdmitFunc) {
	fq := m.future[sender]
	if fq == nil {
		return
	}
	for {
		next, err := m.nextNonce(sender, committedNonce)
		if err != nil {
			break
		}
		f := fq[next]
		if f == nil {
			break
		}
		delete(fq, next)
		m.futureCount--
		if err := m.addLocked(f.tx, f.hash, f.raw, sender, next, check); err != nil {
			break
		}
	}
	if len(fq) == 0 {
		delete(m.future, sender)
	}
}

func (m *Mempool) remove(e *list.Element) {
	p := m.order.Remove(e).(*poolTx)
	delete(m.byHash, p.hash)
	m.bytes -= len(p.raw)
	if q := m.senders[p.sender]; q != nil {
		q.count--
		if q.count <= 0 {
			delete(m.senders, p.sender)
		}
	}
}
