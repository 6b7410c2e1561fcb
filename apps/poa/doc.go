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
// and step but for different blocks, or two proposals for the same height
// and round, prove that the validator misbehaved. Nodes put such evidence
// in blocks after checking it against the validator set of the offence's
// height (see chain.Evidence); the executor hands it to HandleEvidence,
// which records the offence once and removes the offender from the set
// ActivationDelay heights after the block that carried it, like a decided
// vote, except that the last validator is never removed. README.md states
// the rule in full. The retired "evidence" transaction, which could only
// be judged against the set of the height it landed in, is refused
// (ErrEvidenceTx); records it made on older chains still read, and block
// evidence of the same offence still charges them.
//
// State (under "a/poa/"):
//
//	prop/{id}                     an open proposal and the addresses that voted for it
//	sched/{height}/{id}           a decided change and the height it takes effect
//	ev/{validator}{h}{r}{type}    a recorded offence (type 0: a proposal)
//	removal/{validator}           the height a removal decided by evidence takes effect
//
// Heights and rounds are 8 bytes big-endian, the type 1 byte, addresses
// 20 raw bytes.
//
// Invariants: the set never becomes empty; a change that is no longer
// possible when it comes due (the validator was already removed) is
// skipped with an event, never half-applied; an offence is recorded and
// acted on at most once.
package poa
