package chain

import "fmt"

// DefaultMaxTxWork is the work limit of one transaction on a chain whose
// genesis file sets none. The heaviest transactions of the demo modules
// use far less: an EPCIS capture of 55 KB that stores 36 keys about
// 612,000 units, a batch of city readings about 106,000, a copyright
// registration about 44,000, a bank transfer 1,456. So the default leaves
// every honest transaction more than ten times its need, and stops one
// that walks some hundred thousand keys or writes some ten thousand.
const DefaultMaxTxWork = 10_000_000

// keyParams holds the ExecParams of a chain whose genesis file sets them.
var keyParams = []byte("c/params")

// ExecParams are the rules of execution that a genesis file may set,
// under "params". InitChain stores them in state only when the file has
// them, so a chain without them keeps the state (and state root) it
// always had, and the executor falls back to the defaults.
type ExecParams struct {
	// MaxTxWork is the most work units (see Work) one transaction may
	// use; a transaction that needs more fails with ErrWorkLimit.
	MaxTxWork uint64 `cbor:"max_tx_work" json:"max_tx_work"`
}

// DefaultExecParams returns the rules of a chain whose genesis file sets
// none.
func DefaultExecParams() ExecParams { return ExecParams{MaxTxWork: DefaultMaxTxWork} }

// Validate checks the parameters, naming the field at fault.
func (p ExecParams) Validate() error {
	if p.MaxTxWork == 0 {
		return fmt.Errorf("params.max_tx_work must be at least 1 (leave params out for the default of %d)", DefaultMaxTxWork)
	}
	return nil
}

// LoadExecParams returns the rules stored in state, or the defaults when
// there are none.
func LoadExecParams(r Reader) (ExecParams, error) {
	b, err := r.Get(keyParams)
	if err != nil {
		return ExecParams{}, fmt.Errorf("read params: %w", err)
	}
	if b == nil {
		return DefaultExecParams(), nil
	}
	var p ExecParams
	if err := Decode(b, &p); err != nil {
		return ExecParams{}, fmt.Errorf("decode params: %w", err)
	}
	if err := p.Validate(); err != nil {
		return ExecParams{}, fmt.Errorf("stored params: %w", err)
	}
	return p, nil
}
