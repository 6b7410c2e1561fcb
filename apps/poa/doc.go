// Package poa governs the validator set of a proof-of-authority chain and
// keeps the record of validators caught double-signing.
//
// Changing the set. A validator proposes to add or remove one validator
// (action "propose"); every other validator that agrees sends the same
// proposal. Sending it counts as a vote. Once validators holding more than
// 2/3 of the current voting power have voted, the change is decided in
// that block, at height H, and takes effect two heights later: block H+2
// is the first one the new set signs. The delay gives every node a full
// block to learn of the change before it must use it.
//
// Evidence. Two votes signed by one validator for the same height, round
// and step but for different blocks prove that the validator equivocated.
// Anyone may submit the pair (action "evidence"); the app checks both
// signatures against the validator's key and records the evidence once.
// Nodes that see conflicting votes submit it by themselves. The record is
// what the authorities act on, by voting the validator out.
//
// State (under "a/poa/"):
//
//	prop/{id}              an open proposal and the addresses that voted for it
//	sched/{height}/{id}    a decided change and the height it takes effect
//	ev/{validator}/{h}/{r}/{type}  recorded evidence
//
// Invariants: the set never becomes empty; a change that is no longer
// possible when it comes due (the validator was already removed) is
// skipped with an event, never half-applied.
package poa
