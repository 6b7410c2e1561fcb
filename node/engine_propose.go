package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

func (e *engine) onProposal(ctx context.Context, sp *SignedProposal) {
	p := sp.Proposal
	if err := verifyProposal(e.n.chainID, e.vals, sp); err != nil {
		e.n.log.Debug("dropping proposal", "proposer", p.Proposer.String(), "err", err)
		return
	}
	for _, v := range sp.POL {
		v := v
		if verifyVote(e.vals, &v) == nil && v.Type == chain.Prevote && v.Height == p.Height {
			e.handle(ctx, consensus.VoteReceived{Vote: v})
		}
	}
	if want := consensus.Proposer(e.vals, p.Height, p.Round); p.Proposer != want {
		e.n.log.Debug("dropping proposal from a validator who is not the round's proposer", "proposer", p.Proposer.String())
		return
	}
	pb, seen := e.blocks[p.BlockHash]
	if !seen && len(e.blocks) >= maxBlocksPerHeight {
		e.n.log.Warn("too many different blocks proposed at this height; ignoring another", "height", p.Height, "proposer", p.Proposer.String())
		return
	}
	if !seen {
		start := time.Now()
		pb = e.checkProposedBlock(sp)
		if !errors.Is(pb.err, errClockAhead) {
			e.blocks[p.BlockHash] = pb // the verdict is the block's own: remember it
		}
		if d := time.Since(start); d > 300*time.Millisecond {
			e.n.log.Info("slow proposal check", "height", p.Height, "took", d.String())
		}
	}
	if pb.err != nil {
		e.n.log.Warn("proposal refused", "height", p.Height, "round", p.Round, "proposer", p.Proposer.String(), "err", pb.err)
	}
	e.handle(ctx, consensus.ProposalReceived{Proposal: p, Valid: pb.err == nil})
}

func (e *engine) checkProposedBlock(sp *SignedProposal) *pendingBlock {
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
	parent := e.n.store.Latest()
	parentVals, err := e.n.validatorsFor(parent.Height)
	if err != nil {
		return &pendingBlock{err: err}
	}
	res, err := e.n.checkBlock(b, parent, parentVals, e.vals, true)
	return &pendingBlock{block: b, res: res, err: err}
}

func (e *engine) proposeNew(ctx context.Context, a consensus.ProposeNew) {
	parent := e.n.store.Latest()
	if parent.Height+1 != a.Height {
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
	sig, err := e.signer.signProposal(p)
	if err != nil {
		e.n.log.Error("refused to sign a proposal", "height", p.Height, "round", p.Round, "err", err)
		return
	}
	sp := &SignedProposal{Proposal: p, Signature: sig, Block: b.Encode(), POL: pol}
	e.proposal = sp
	e.broadcast(ctx, &Message{Proposal: sp})
	e.handle(ctx, consensus.ProposalReceived{Proposal: p, Valid: true})
}

// saveLockedBlock keeps the block this validator is locked on, so that
// after a restart it can propose it again (the guard keeps the lock).
func (e *engine) saveLockedBlock(h chain.Hash) {
	pb := e.blocks[h]
	if pb == nil || pb.block == nil {
		return
	}
	if err := writeFileSync(filepath.Join(e.n.home, LockedBlockFile), pb.block.Encode()); err != nil {
		e.n.log.Error("save locked block", "err", err)
	}
}

func (e *engine) loadLockedBlock(h chain.Hash) *pendingBlock {
	raw, err := os.ReadFile(filepath.Join(e.n.home, LockedBlockFile))
	if err != nil {
		return nil
	}
	b, err := chain.DecodeBlock(raw)
	if err != nil || b.Hash() != h {
		return nil
	}
	sp := &SignedProposal{Block: raw, Proposal: consensus.Proposal{BlockHash: h}}
	return e.checkProposedBlock(sp)
}
