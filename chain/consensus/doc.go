// Package consensus is the Tendermint BFT state machine of CityChain: the
// rules by which validators agree on one block per height, written as a
// pure function from events to actions.
//
// It follows Algorithm 1 of Buchman, Kwon and Milosevic, "The latest gossip
// on BFT consensus" (arXiv:1807.04938). Each rule in rules.go carries the
// paper's line numbers, so a reader can hold the paper next to the code:
//
//	lines 11-21  StartRound                            startRound
//	lines 22-27  prevote on a fresh proposal            tryPrevote
//	lines 28-33  prevote on a re-proposal with a POL    tryPrevote
//	lines 34-35  +2/3 prevotes: start prevote timer     tryPrevoteTimer
//	lines 36-43  +2/3 prevotes for v: lock, precommit   tryPolka
//	lines 44-46  +2/3 prevotes for nil: precommit nil   tryPolkaNil
//	lines 47-48  +2/3 precommits: start precommit timer tryPrecommitTimer
//	lines 49-54  +2/3 precommits for v: decide          tryDecide
//	lines 55-56  f+1 messages of a later round: skip    trySkip
//	lines 57-67  the three timeouts                     onTimeoutPropose, ...
//
// POL (proof-of-lock) is the paper's "2f+1 PREVOTE for id(v)" in one round:
// a validator that saw one may lock on v, and a proposal that cites one may
// unlock others.
//
// # What the package owns
//
// The Machine holds one validator's view of one height: the round and step,
// the locked and valid values, the proposals and the votes it has seen. It
// never sees block bytes: a value is a block hash, and the driver (package
// node) says whether the block behind a proposal is valid by executing it.
// The Machine does no I/O, starts no goroutine, reads no clock and draws no
// random number. Time enters only as TimeoutFired events that the driver
// delivers after the durations the Machine asked for.
//
// The package also owns the DoubleSignGuard, the small record a validator
// persists before it signs anything, and the proposer rule (Proposer).
//
// # The driver's contract
//
// The driver calls Handle with one event at a time and carries out every
// returned action in order, also when Handle returns an error:
//
//   - NewHeight starts a height (the first one at boot, later ones after it
//     has stored the block of a Commit action or synced past a height).
//   - ProposeNew asks for a fresh block; ProposeValid asks to propose again
//     the block with a known hash. The driver records the Proposal in its
//     DoubleSignGuard, persists the guard, signs and broadcasts, and hands
//     the proposal back to its own Machine as ProposalReceived, like any
//     peer's.
//   - BroadcastVote carries an unsigned vote: DoubleSignGuard.Record the
//     action, persist the guard, then sign, broadcast, and hand the signed
//     vote back to the Machine as VoteReceived. If the guard refuses, drop
//     the vote.
//   - ScheduleTimeout: deliver TimeoutFired after Duration. Timers are never
//     cancelled; stale ones are ignored.
//   - Commit: store the block with the certificate (Commit.Certificate),
//     then send NewHeight for the next height.
//   - Evidence and StepChanged are for reporting and the explorer.
//
// Errors tell the driver what happened to an event: ErrFutureHeight means
// keep the message and hand it in again after the next NewHeight;
// ErrStaleHeight means the sender lags behind and may be sent the commit of
// that height. Votes must arrive with their signature already checked.
//
// The driver must also gossip: send its own proposals and votes of the
// current height again until the height is decided, relay the votes and
// proposals of others, and let lagging peers catch up (package node serves
// its blocks with their commit certificates by block sync). Tendermint is
// live only if every message of a correct validator eventually reaches
// every correct validator.
//
// The driver that ships is the engine of package node. The package's
// seeded simulation (node/sim_test.go) runs that engine, with its signer,
// block checks, mempool and block sync, for several validators in one
// process, in virtual time, under loss, partitions, crashes and Byzantine
// validators, and checks agreement, validity and liveness on every seed;
// this package's own tests drive the Machine event by event.
//
// After a crash, the driver persists nothing of the Machine: it loads its
// DoubleSignGuard, starts the height with Lock: guard.LockAt(height), and
// sends again guard.Votes(height) and the lock's POL votes, which it must
// still be able to sign or relay; it also keeps the locked block, which the
// Machine may ask it to propose again.
//
// # Invariants
//
//   - Purity: the state after Handle depends only on the state before and
//     the event, so a seeded simulation replays exactly.
//   - Each validator counts at most once per height, round and vote type
//     toward "+2/3 of anything", with its first vote, and at most once
//     toward each block hash. A different second vote is reported as
//     Evidence (once) and counted only for its own hash, as the paper counts
//     messages per value; an identical one is ignored.
//   - Quorum is ValidatorSet.Quorum(), the smallest power above 2/3 of the
//     total (the paper's 2f+1). The paper's f+1 is total - quorum + 1,
//     which equals ceil(total/3): the least power that must include one
//     correct validator when faulty power is at most f = total - quorum.
//   - Within one Machine, at most one vote per height, round and type is
//     ever asked for; across restarts the DoubleSignGuard keeps that true.
//   - The lock only moves together with a non-nil precommit (line 36), so
//     a restarted validator restores its lock, with the prevotes that
//     justified it, from its DoubleSignGuard.
//   - lockedRound <= validRound whenever both are set.
//   - A Commit action is emitted at most once per height and carries
//     precommits for its block from validators holding at least a quorum.
//
// # Where this departs from the paper, and why
//
//   - The paper moves to the next height by itself; here the Machine stops
//     in StepCommit until the driver has executed and stored the block and
//     knows the next validator set.
//   - The paper's processes never crash. Here a validator may restart with
//     only its DoubleSignGuard: it gets its lock back, and with the lock's
//     proof the lock's block as valid value, which it proposes in rounds
//     after the lock's round.
//   - The paper schedules the propose timeout only on non-proposers; here
//     the proposer schedules it too, so a driver that fails to build a
//     block cannot hold the step forever. The timeout does nothing once the
//     step has moved on.
//   - Line 55 counts, per validator, the highest round it has sent anything
//     for at this height: the Machine skips to the largest round r such that
//     validators whose highest round is at least r hold f+1 power. Whenever
//     the paper's rule fires for round r, this one fires for r or later, and
//     f+1 power still contains a correct validator that is at round r or
//     beyond. It costs one number per validator, so messages far ahead need
//     not be stored.
//   - Memory is bounded against faulty peers: proposals and votes more than
//     Config.MaxRoundsAhead rounds ahead are not stored (ErrRoundTooFar), a
//     round keeps at most four distinct proposals (ErrTooManyProposals), and
//     a validator is reported for equivocation once per round and type.
package consensus
