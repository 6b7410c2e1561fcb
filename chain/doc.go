// Package chain is the deterministic core of CityChain: transactions,
// blocks, headers, votes and commit certificates in one canonical byte
// encoding; the App contract that modules implement; and the Executor,
// the single entry point through which state changes.
//
// Determinism rule: the state after a block depends only on the state
// after its parent and on the block itself. Nothing in this package, its
// subpackages, or an app's Deliver may read the wall clock, the network,
// random numbers, floats, or Go map order; block time comes from the
// header. That is what lets every node replay a block and arrive at the
// same state root, and what the commit certificate of a block vouches for.
//
// Hashes are always over the exact bytes that were signed or stored:
// a transaction's hash is SHA-256 of its canonical encoding, a block's
// hash is SHA-256 of its canonical header. Decode accepts only canonical
// bytes, so each value has one encoding and therefore one hash.
//
// Validation comes in named stages: ValidateBasic (no state, used by the
// mempool and gossip), ValidateAgainstParent and VerifyCommit (against the
// previous header and the validator set), and Execute (against state).
//
// Each transaction's store calls are metered in work units (work.go),
// with fixed costs per read, write, key visited and byte, and a
// transaction whose work passes the limit set in the genesis file
// (ExecParams) fails like any other failed transaction; the count is
// deterministic, so every node fails it at the same call.
//
// Evidence of misbehaviour (two conflicting votes or proposals signed by
// one validator) travels in blocks. Its shape is checked with the block;
// its signatures need the validator set of the offence's own height, which
// the node holds and the executor does not, so the node verifies them
// before it votes. The executor hands the evidence to the apps that handle
// it (EvidenceHandler) before the block's transactions.
//
// Subpackages: crypto (keys and signatures), state (the sparse Merkle
// tree), store (Badger persistence).
package chain
