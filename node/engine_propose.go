package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/libp2p/go-libp2p/core/peer"
)

// maxBlocksPerProposer bounds the different blocks a node checks
// (executes) from one proposer at one height. An honest proposer makes at
// most one fresh block per round it owns, and the round window
// (consensus.DefaultMaxRoundsAhead) bounds the rounds; a faulty one runs
// into this first, and only its own proposals are ignored.
const maxBlocksPerProposer = 4

// maxClockAhead bounds the proposals kept to be judged again because
// their time was ahead of this node's clock.
const maxClockAhead = 8

// maxPOLTaken bounds, per height, the re-proposals whose POL votes the
// engine records as taken: honest rounds make a handful.
const maxPOLTaken = 256

// Proposals: making this node's proposal when the machine asks for one,
// and checking the proposals of others before the machine may vote.

// onProposal judges a proposal, delivered by peer from if known, and
// tells the machine the verdict, if there is one yet.
func (e *engine) onProposal(ctx context.Context, sp *chain.SignedProposal, from peer.ID) {
	pb, ok := e.judgeProposal(ctx, sp, from)
	if !ok {
		return
	}
	p := sp.Proposal
	if pb.err != nil {
		e.n.log.Warn("proposal refused", "height", p.Height, "round", p.Round, "proposer", p.Proposer.String(), "err", pb.err)
	}
	e.handle(ctx, consensus.ProposalReceived{Proposal: p, Valid: pb.err == nil})
	snap := e.m.Snapshot()
	e.n.log.Debug("proposal taken", "round", p.Round, "pol", p.POLRound, "valid", pb.err == nil,
		"at_round", snap.Round, "step", snap.Step.String(), "locked_round", snap.LockedRound)
}

// judgeProposal gives the verdict on a proposal of the current height,
// and reports whether the machine should hear of it at all. Proposals
// that are provably not what their proposer signed, or that no honest
// proposer sends, are dropped without a verdict, so that no one can
// spoil the verdict on an honest proposal's block: a proposal's compact
// block and POL travel beside the signature, not under it.
//
// In order: the signed proposal and its compact block (checkSigned: the
// round's proposer signed it, the compact block is the one it names, the
// POL proves its POL round), the round window, the proposal's own rule (a
// fresh proposal's block names its signer; a verdict on the proposal, not
// on the block), and then the block's verdict, cached by block hash, at
// most maxBlocksPerProposer blocks per proposer. A block whose
// transactions are not all at hand gets no verdict yet: the proposal
// waits while they are fetched (awaitTxs), and is judged again when they
// come.
func (e *engine) judgeProposal(ctx context.Context, sp *chain.SignedProposal, from peer.ID) (*pendingBlock, bool) {
	p := sp.Proposal
	if uint64(p.Round) > uint64(e.m.Snapshot().Round)+consensus.DefaultMaxRoundsAhead {
		return nil, false // before any signature is checked
	}
	cb, err := checkSigned(e.n.chainID, e.vals, sp)
	if err != nil {
		e.n.log.Debug("dropping proposal", "proposer", p.Proposer.String(), "err", err)
		return nil, false
	}
	e.noteProposal(ctx, sp)
	if p.POLRound >= 0 {
		key := polKey{p.BlockHash, p.POLRound}
		// The machine keeps what it needs of the POL votes; the record
		// of those taken only spares taking them again, so a proposer
		// that signs endless re-proposals cannot make it grow past
		// maxPOLTaken.
		if !e.polTaken[key] && len(e.polTaken) < maxPOLTaken {
			e.polTaken[key] = true
			for _, v := range sp.POL { // verified by checkSigned
				e.handle(ctx, consensus.VoteReceived{Vote: v})
			}
		}
	}
	if p.POLRound < 0 && cb.Header.Proposer != p.Proposer {
		return &pendingBlock{err: fmt.Errorf("%w: block names proposer %s, the proposal is signed by %s",
			chain.ErrInvalidBlock, cb.Header.Proposer, p.Proposer)}, true
	}
	pb, seen := e.blocks[p.BlockHash]
	if seen {
		return pb, true
	}
	if e.joinCheck(sp) {
		return nil, false // judged when the check in flight ends
	}
	w := e.waits[p.BlockHash] // counted already if not nil
	if w == nil && e.checked[p.Proposer] >= maxBlocksPerProposer {
		e.n.log.Warn("too many different blocks from one proposer at this height; ignoring another", "height", p.Height, "proposer", p.Proposer.String())
		return nil, false
	}
	b, missing, err := e.rebuild(cb, p.BlockHash, w)
	if len(missing) > 0 {
		if e.awaitTxs(ctx, sp, from, missing) && w == nil {
			e.checked[p.Proposer]++
		}
		return nil, false
	}
	start := e.sched.Now()
	switch {
	case err != nil:
		pb = &pendingBlock{err: err} // the signed block itself breaks a rule
	case e.checker != nil:
		e.startCheck(sp, b, cb, w)
		return nil, false // judged when the check ends (onChecked)
	default:
		pb = e.checkBlockOf(b)
	}
	if err == nil && w != nil {
		e.keepFetched(cb.TxHashes, w)
	}
	e.settle(sp, w, pb, e.sched.Now().Sub(start), false)
	return pb, true
}

// settle records the verdict pb on the block of proposal sp, whose
// check took took; w is the fetch that completed the block, if any.
// counted says the block was counted against its proposer's bound when
// its check started (startCheck).
func (e *engine) settle(sp *chain.SignedProposal, w *txWait, pb *pendingBlock, took time.Duration, counted bool) {
	p := sp.Proposal
	if errors.Is(pb.err, errClockAhead) {
		// The verdict is this node's clock's, not the block's: judge it
		// again on the next tick and on every later delivery. A wait stays,
		// with what was fetched for the block.
		if len(e.clockAhead) < maxClockAhead {
			e.clockAhead[p.BlockHash] = sp
		}
		if counted {
			e.checked[p.Proposer]-- // counted again when judged again
		}
	} else {
		e.blocks[p.BlockHash] = pb
		e.writeAhead(pb)
		if w == nil && !counted {
			e.checked[p.Proposer]++
		}
		delete(e.waits, p.BlockHash)
	}
	if took > 300*time.Millisecond {
		e.n.log.Info("slow proposal check", "height", p.Height, "took", took.String())
	}
}

// polKey names the POL of a re-proposal: its block and POL round.
type polKey struct {
	block chain.Hash
	round int32
}

// checkSigned checks what a signed proposal proves by itself, against
// the validator set of its height: the round's proposer signed it, its
// compact block has the header it names and the body that header commits
// to (transaction hashes, last commit, evidence), and its POL is empty
// for a fresh proposal, or else prevotes of distinct members for that
// block in the POL round, each signature valid. It returns the compact
// block.
func checkSigned(chainID string, vals *chain.ValidatorSet, sp *chain.SignedProposal) (*chain.CompactBlock, error) {
	p := sp.Proposal
	if want := consensus.Proposer(vals, p.Height, p.Round); p.Proposer != want {
		return nil, fmt.Errorf("%w: %s is not the proposer of height %d round %d", chain.ErrUnauthorized, p.Proposer, p.Height, p.Round)
	}
	if err := vals.VerifyProposal(chainID, sp); err != nil {
		return nil, err
	}
	b := &sp.Block
	if b.Hash() != p.BlockHash {
		return nil, fmt.Errorf("%w: the proposal's block is %s, it names %s", chain.ErrInvalidBlock, b.Hash(), p.BlockHash)
	}
	if err := b.ValidateBasic(); err != nil {
		return nil, err
	}
	if p.POLRound < 0 {
		if len(sp.POL) > 0 {
			return nil, fmt.Errorf("%w: a fresh proposal carries %d POL votes", chain.ErrDecode, len(sp.POL))
		}
		return b, nil
	}
	if len(sp.POL) > len(vals.Validators) {
		return nil, fmt.Errorf("%w: %d POL votes for %d validators", chain.ErrDecode, len(sp.POL), len(vals.Validators))
	}
	seen := make(map[chain.Address]bool, len(sp.POL))
	for i := range sp.POL {
		v := &sp.POL[i]
		if v.Type != chain.Prevote || v.Height != p.Height || v.Round != uint32(p.POLRound) || v.BlockHash != p.BlockHash || seen[v.Validator] {
			return nil, fmt.Errorf("%w: POL vote %d is not a distinct prevote for the block in round %d", chain.ErrDecode, i, p.POLRound)
		}
		seen[v.Validator] = true
		if err := vals.VerifyVote(v); err != nil {
			return nil, fmt.Errorf("POL vote %d: %w", i, err)
		}
	}
	return b, nil
}

// noteProposal remembers the first signed proposal of each round (its
// signed fields only) and reports a second one for another block as
// equivocation.
func (e *engine) noteProposal(ctx context.Context, sp *chain.SignedProposal) {
	first, ok := e.firstProposal[sp.Proposal.Round]
	if !ok {
		e.firstProposal[sp.Proposal.Round] = chain.NewEvidenceProposal(sp.Proposal, sp.Signature)
		return
	}
	if first.BlockHash != sp.Proposal.BlockHash {
		e.reportConflictingProposals(ctx, first, chain.NewEvidenceProposal(sp.Proposal, sp.Signature))
	}
}

// checkBlockOf checks a block for the current height against the parent
// and the state (checkBlock) and returns the verdict with the execution
// result.
func (e *engine) checkBlockOf(b *chain.Block) *pendingBlock {
	return e.prepareCheck(b)()
}

// errWrongHeight refuses a block proposed for another height.
func errWrongHeight(got, want uint64) error {
	return fmt.Errorf("%w: block for height %d at height %d", chain.ErrInvalidBlock, got, want)
}

// proposeNew proposes a fresh block.
func (e *engine) proposeNew(ctx context.Context, a consensus.ProposeNew) {
	parent := e.n.store.Latest()
	if parent.Height+1 != a.Height || e.proposeSaved(ctx, a.Height, a.Round) {
		return
	}
	var last *chain.Commit
	if parent.Height > 0 {
		c, err := e.n.store.Commit(parent.Height)
		if err != nil {
			e.n.log.Error("load last commit", "err", err)
			return
		}
		last = c
	}
	b, res, err := e.n.buildBlock(parent, last, e.n.valAddr, e.n.cfg.Block.MaxTxs)
	if err != nil {
		e.n.log.Error("build block", "height", a.Height, "err", err)
		return
	}
	pb := &pendingBlock{block: b, res: res}
	e.blocks[b.Hash()] = pb
	e.writeAhead(pb)
	e.propose(ctx, consensus.Proposal{Height: a.Height, Round: a.Round, BlockHash: b.Hash(), POLRound: -1, Proposer: e.n.valAddr}, b, nil)
}

func (e *engine) proposeValid(ctx context.Context, a consensus.ProposeValid) {
	if e.proposeSaved(ctx, a.Proposal.Height, a.Proposal.Round) {
		return
	}
	pb := e.blocks[a.Proposal.BlockHash]
	if pb == nil || pb.block == nil || pb.err != nil {
		e.n.log.Warn("cannot propose the valid block again: this node does not hold it", "height", a.Proposal.Height)
		return
	}
	e.propose(ctx, a.Proposal, pb.block, e.polFor(a.Proposal))
}

// proposeSaved proposes again the proposal this validator signed for
// height and round before a restart, from its vault: its guard refuses
// any other. It reports whether there was one.
func (e *engine) proposeSaved(ctx context.Context, height uint64, round uint32) bool {
	p, b, ok := e.signer.proposedBlock(height, round)
	if !ok {
		return false
	}
	pb := e.checkBlockOf(b)
	if pb.err != nil {
		e.n.log.Warn("the block proposed before a restart no longer checks", "height", height, "err", pb.err)
		return true
	}
	e.blocks[p.BlockHash] = pb
	e.propose(ctx, p, b, e.polFor(p))
	return true
}

// polFor returns the prevotes this node holds that justify re-proposing
// p's block: those for it in p's POL round.
func (e *engine) polFor(p consensus.Proposal) []chain.Vote {
	if p.POLRound < 0 {
		return nil
	}
	return e.m.VotesFor(uint32(p.POLRound), chain.Prevote, p.BlockHash)
}

// propose signs p and gossips it with b in compact form. Peers that miss
// some of b's transactions fetch them from this node's mempool; the vault
// keeps the whole block (signProposal), so that after a restart empties
// the mempool this node can still serve them (offerOwnBlocks).
func (e *engine) propose(ctx context.Context, p consensus.Proposal, b *chain.Block, pol []chain.Vote) {
	sig, err := e.signer.signProposal(p, b.Encode())
	if err != nil {
		e.n.log.Error("refused to sign a proposal", "height", p.Height, "round", p.Round, "err", err)
		return
	}
	sp := &chain.SignedProposal{Proposal: p, Signature: sig, Block: b.Compact(), POL: pol}
	e.proposal = sp
	// Another process with this validator's key (a copy of its home, say)
	// may have proposed in this round already: then this node holds the
	// evidence against its own key, and reports it like any other.
	e.noteProposal(ctx, sp)
	e.broadcast(ctx, &chain.ConsensusMessage{Proposal: sp})
	e.handle(ctx, consensus.ProposalReceived{Proposal: p, Valid: true})
}

// saveLockedBlock keeps the block this validator is about to lock on, so
// that after a restart it can propose it again (the guard keeps the lock).
func (e *engine) saveLockedBlock(h chain.Hash) error {
	pb := e.blocks[h]
	if pb == nil || pb.block == nil {
		return fmt.Errorf("block %s is not held", h)
	}
	return e.n.vault.Save(LockedBlockFile, pb.block.Encode())
}

func (e *engine) loadLockedBlock(h chain.Hash) *pendingBlock {
	raw, err := e.n.vault.Load(LockedBlockFile)
	if err != nil {
		return nil
	}
	b, err := chain.DecodeBlock(raw)
	if err != nil || b.Hash() != h {
		return nil
	}
	return e.checkBlockOf(b)
}
