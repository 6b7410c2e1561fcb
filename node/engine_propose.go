package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
)

// maxBlocksPerHeight bounds the different blocks a node checks (executes)
// at one height: honest proposers make one per round, so only a faulty
// proposer runs into it.
const maxBlocksPerHeight = 32

// Proposals: making this node's proposal when the machine asks for one,
// and checking the proposals of others before the machine may vote.

func (e *engine) onProposal(ctx context.Context, sp *chain.SignedProposal) {
	p := sp.Proposal
	if err := e.vals.VerifyProposal(e.n.chainID, sp); err != nil {
		e.n.log.Debug("dropping proposal", "proposer", p.Proposer.String(), "err", err)
		return
	}
	if want := consensus.Proposer(e.vals, p.Height, p.Round); p.Proposer != want {
		e.n.log.Debug("dropping proposal from a validator who is not the round's proposer", "proposer", p.Proposer.String())
		return
	}
	e.noteProposal(sp)
	for _, v := range sp.POL {
		v := v
		if e.vals.VerifyVote(&v) == nil && v.Type == chain.Prevote && v.Height == p.Height {
			e.handle(ctx, consensus.VoteReceived{Vote: v})
		}
	}
	pb, seen := e.blocks[p.BlockHash]
	if !seen && len(e.blocks) >= maxBlocksPerHeight {
		e.n.log.Warn("too many different blocks proposed at this height; ignoring another", "height", p.Height, "proposer", p.Proposer.String())
		return
	}
	if !seen {
		start := e.sched.Now()
		pb = e.checkProposedBlock(sp)
		if errors.Is(pb.err, errClockAhead) {
			// The verdict is this node's clock's, not the block's: judge it
			// again on the next tick and on every later delivery.
			e.clockAhead[p.BlockHash] = sp
		} else {
			e.blocks[p.BlockHash] = pb
		}
		if d := e.sched.Now().Sub(start); d > 300*time.Millisecond {
			e.n.log.Info("slow proposal check", "height", p.Height, "took", d.String())
		}
	}
	if pb.err != nil {
		e.n.log.Warn("proposal refused", "height", p.Height, "round", p.Round, "proposer", p.Proposer.String(), "err", pb.err)
	}
	e.handle(ctx, consensus.ProposalReceived{Proposal: p, Valid: pb.err == nil})
}

// noteProposal remembers the first signed proposal of each round and
// reports a second one for another block as equivocation.
func (e *engine) noteProposal(sp *chain.SignedProposal) {
	first, ok := e.firstProposal[sp.Proposal.Round]
	if !ok {
		e.firstProposal[sp.Proposal.Round] = sp
		return
	}
	if first.Proposal.BlockHash != sp.Proposal.BlockHash {
		e.reportConflictingProposals(first, sp)
	}
}

// checkProposedBlock checks the block of a proposal for the current
// height: the proposal names it, it was made for this height, a fresh
// proposal's block names its signer as proposer, and the block passes
// checkBlock against the parent and the state.
func (e *engine) checkProposedBlock(sp *chain.SignedProposal) *pendingBlock {
	b, err := chain.DecodeBlock(sp.Block)
	if err != nil {
		return &pendingBlock{err: err}
	}
	if b.Hash() != sp.Proposal.BlockHash {
		return &pendingBlock{err: fmt.Errorf("%w: block hash %s, proposal names %s", chain.ErrInvalidBlock, b.Hash(), sp.Proposal.BlockHash)}
	}
	if b.Header.Height != e.height {
		return &pendingBlock{err: fmt.Errorf("%w: block for height %d at height %d", chain.ErrInvalidBlock, b.Header.Height, e.height)}
	}
	// A re-proposal (POLRound >= 0) carries a block an earlier round's
	// proposer made; a fresh one must be its signer's own.
	if sp.Proposal.POLRound < 0 && !sp.Proposal.Proposer.IsZero() && b.Header.Proposer != sp.Proposal.Proposer {
		return &pendingBlock{err: fmt.Errorf("%w: block names proposer %s, the proposal is signed by %s", chain.ErrInvalidBlock, b.Header.Proposer, sp.Proposal.Proposer)}
	}
	parent := e.n.store.Latest()
	parentVals, err := e.n.validatorsFor(parent.Height)
	if err != nil {
		return &pendingBlock{err: err}
	}
	res, err := e.n.checkBlock(b, parent, parentVals, e.vals, true)
	return &pendingBlock{block: b, res: res, err: err}
}

// proposeNew proposes a fresh block. A validator that restarted after
// signing a proposal for this very round proposes the same block again,
// from its vault: its guard would refuse any other.
func (e *engine) proposeNew(ctx context.Context, a consensus.ProposeNew) {
	parent := e.n.store.Latest()
	if parent.Height+1 != a.Height {
		return
	}
	if p, b, ok := e.signer.proposedBlock(a.Height, a.Round); ok {
		pb := e.checkProposedBlock(&chain.SignedProposal{Proposal: p, Block: b.Encode()})
		if pb.err == nil {
			e.blocks[p.BlockHash] = pb
			e.propose(ctx, p, b, nil)
			return
		}
		e.n.log.Warn("the block proposed before a restart no longer checks", "height", a.Height, "err", pb.err)
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
	e.blocks[b.Hash()] = &pendingBlock{block: b, res: res}
	e.propose(ctx, consensus.Proposal{Height: a.Height, Round: a.Round, BlockHash: b.Hash(), POLRound: -1, Proposer: e.n.valAddr}, b, nil)
}

func (e *engine) proposeValid(ctx context.Context, a consensus.ProposeValid) {
	pb := e.blocks[a.Proposal.BlockHash]
	if pb == nil || pb.block == nil || pb.err != nil {
		e.n.log.Warn("cannot propose the valid block again: this node does not hold it", "height", a.Proposal.Height)
		return
	}
	var pol []chain.Vote
	if a.Proposal.POLRound >= 0 {
		for _, v := range e.m.Votes(uint32(a.Proposal.POLRound), chain.Prevote) {
			if v.BlockHash == a.Proposal.BlockHash {
				pol = append(pol, v)
			}
		}
	}
	e.propose(ctx, a.Proposal, pb.block, pol)
}

func (e *engine) propose(ctx context.Context, p consensus.Proposal, b *chain.Block, pol []chain.Vote) {
	raw := b.Encode()
	sig, err := e.signer.signProposal(p, raw)
	if err != nil {
		e.n.log.Error("refused to sign a proposal", "height", p.Height, "round", p.Round, "err", err)
		return
	}
	sp := &chain.SignedProposal{Proposal: p, Signature: sig, Block: raw, POL: pol}
	e.proposal = sp
	e.firstProposal[p.Round] = sp
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
	sp := &chain.SignedProposal{Block: raw, Proposal: consensus.Proposal{BlockHash: h, POLRound: 0}}
	return e.checkProposedBlock(sp)
}
