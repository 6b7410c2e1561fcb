// Package bank is the native token: balances, genesis allocations and
// transfers. It is the smallest complete module and the one to copy when
// writing a new one; each concern has its own file:
//
//	msgs.go    the actions (payloads) and their stateless checks
//	keeper.go  the state keys and the functions other modules call
//	app.go     Check, Deliver and InitGenesis: the chain.App contract
//	query.go   read-only queries served at /v1/apps/bank/...
//	cli.go     citychain tx bank ... and citychain query bank ...
//
// State (under the app's prefix "a/bank/"):
//
//	bal/{address 20 bytes}  balance, 8 bytes big-endian
//	supply                  total supply, 8 bytes big-endian
//
// Invariant: the sum of all balances equals the supply. Transfers move
// value and never create or destroy it; only genesis mints.
package bank
