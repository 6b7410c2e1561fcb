// Package poa governs the validator set of a proof-of-authority chain and
// keeps the record of validators caught double-signing.
//
// Changing the set. A validator proposes to add or remove one validator
// (action "propose"), and every validator that agrees sends the same
// proposal: sending it is a vote. Once the voters hold more than 2/3 of
// the current power, the change is decided in that block, at height H,
// and block H+ActivationDelay is the first the new set signs, so every
// node has a full block to learn of the change before it must use it.
//
// Evidence. Two votes that one validator signed for the same height,
// round and step but for different blocks, or two proposals for the same
// height and round, prove that it misbehaved. Nodes put such evidence in
// blocks after checking it against the validator set of the offence's
// height (chain.Evidence); HandleEvidence records the offence once and
// removes the offender like a decided vote, except that the last
// validator is never removed. The retired "evidence" transaction is
// refused (ErrEvidenceTx). README.md states the rule in full ("Evidence")
// and lists the state keys under "a/poa/" ("State").
//
// Invariants: the set never becomes empty; an addition never takes its
// total power past MaxTotalPower; a change that is no longer possible
// when it comes due (the validator was already removed, or an addition
// would pass MaxTotalPower) is skipped with an event, never half-applied;
// an offence is recorded and acted on at most once.
package poa
