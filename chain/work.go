package chain

import (
	"fmt"
	"math/bits"
)

// The work meter bounds what one transaction may ask of the state. Every
// call an app makes on its Store is counted (reads, writes, keys visited
// by Iterate, bytes read and written) and priced in work units with the
// fixed costs below. A transaction whose work passes the chain's limit
// (ExecParams.MaxTxWork) fails with ErrWorkLimit at the call that passed
// it: its writes are dropped, its nonce is used, and the block goes on.
//
// The counts depend only on what the app asks of the state, which
// depends only on the state and the transaction, so every node stops
// the same transaction at the same call with the same receipt. Time is
// not measured: it differs between machines.
//
// Only transactions are limited (in blocks and in CheckTx alike).
// InitGenesis and the block hooks (HandleEvidence, EndBlock,
// NextValidators) run with their work counted but not limited: they are
// the modules' own code, run by every block rather than sent by
// someone, and a limit there would not refuse one request but fail the
// same hook the same way at every height: the work due at a height (a
// release of escrow, a validator change) would be skipped for good.
//
// Costs, in work units. A write costs more than a read because it ends
// up in the Merkle tree and on every node's disk for good; a key visited
// by Iterate costs less than a read because the store is already
// positioned there.
const (
	// WorkPerRead is the cost of a Get, Has or GetObject, and of
	// starting an Iterate.
	WorkPerRead = 100
	// WorkPerStep is the cost of each key Iterate visits.
	WorkPerStep = 20
	// WorkPerWrite is the cost of a Set, SetObject or Delete.
	WorkPerWrite = 300
	// WorkPerByteRead is the cost of each byte of a value read, and of
	// each byte of a key and value visited by Iterate.
	WorkPerByteRead = 1
	// WorkPerByteWritten is the cost of each byte of a key and value
	// written (of the key alone for a Delete).
	WorkPerByteWritten = 10
)

// Work is what a transaction has asked of the state so far. Keys are
// counted as the app passes or sees them, without the app's prefix.
type Work struct {
	Reads        uint64 // Get, Has, GetObject, and each start of an Iterate
	Writes       uint64 // Set, SetObject, Delete
	Steps        uint64 // keys visited by Iterate
	BytesRead    uint64 // values read; keys and values visited
	BytesWritten uint64 // keys and values written
}

// Units prices the work with the fixed costs; it saturates at the
// largest uint64 instead of overflowing.
func (w Work) Units() uint64 {
	var total uint64
	for _, part := range [...][2]uint64{
		{w.Reads, WorkPerRead}, {w.Writes, WorkPerWrite}, {w.Steps, WorkPerStep},
		{w.BytesRead, WorkPerByteRead}, {w.BytesWritten, WorkPerByteWritten},
	} {
		hi, lo := bits.Mul64(part[0], part[1])
		sum, carry := bits.Add64(total, lo, 0)
		if hi != 0 || carry != 0 {
			return ^uint64(0)
		}
		total = sum
	}
	return total
}

// String lists the counts, for error texts.
func (w Work) String() string {
	return fmt.Sprintf("%d reads, %d writes, %d keys visited, %d bytes read, %d bytes written",
		w.Reads, w.Writes, w.Steps, w.BytesRead, w.BytesWritten)
}

// meter counts the work of one transaction. Every context derived from
// the transaction's context with Context.With shares it.
type meter struct {
	used  Work
	limit uint64 // 0: counted but not limited
	over  error  // the work-limit error, once the limit was passed
}

// charge adds the work of one store call and returns the work-limit
// error if the total passed the limit, now or earlier. Once over, the
// meter counts nothing more: the receipt tells the work at the call
// that passed the limit.
func (m *meter) charge(w Work) error {
	if m == nil || m.over != nil {
		return m.err()
	}
	m.used.Reads += w.Reads
	m.used.Writes += w.Writes
	m.used.Steps += w.Steps
	m.used.BytesRead += w.BytesRead
	m.used.BytesWritten += w.BytesWritten
	if m.limit > 0 {
		if units := m.used.Units(); units > m.limit {
			m.over = fmt.Errorf("%w: the transaction used %d work units, more than the limit of %d (%s)",
				ErrWorkLimit, units, m.limit, m.used)
		}
	}
	return m.over
}

func (m *meter) err() error {
	if m == nil {
		return nil
	}
	return m.over
}

// workLimitPanic carries the work-limit error out of a store call that
// has no error result (Get, Set, Delete) to the executor, which turns it
// back into the transaction's error.
type workLimitPanic struct{ err error }

// mustCharge is charge for store calls without an error result.
func (m *meter) mustCharge(w Work) {
	if err := m.charge(w); err != nil {
		panic(workLimitPanic{err})
	}
}
