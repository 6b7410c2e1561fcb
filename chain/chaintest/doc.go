// Package chaintest runs apps on an in-memory chain, for module tests and
// benchmarks. It uses the real Executor and state tree, so a test sees
// exactly what a node would: receipts, events, failed transactions that
// revert, nonces and state roots. Only the storage is a Go map.
package chaintest
