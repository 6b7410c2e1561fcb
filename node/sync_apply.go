package node

import (
	"fmt"

	"github.com/citychain/citychain/chain"
)

// applyPrepared checks and stores one block fetched by block sync, using
// what the verify stage found ahead where it still holds (see
// sync_pipe.go). The checks, in order:
//
//   - the block follows the store (else errLocal: not the peer's fault);
//   - it decoded;
//   - its commit is a quorum's precommits for it under the validator set
//     of its height, the one stored after its parent. The verdict of the
//     verify stage stands only if it was reached under that very set;
//     otherwise the commit is verified here;
//   - checkBlock: the block against its parent, the parent's set and its
//     own set, and its execution, which must give the roots in its
//     header. Transactions whose signatures verified ahead are marked in
//     the node's verified set so that they are not verified again.
//
// The engine calls it, on its own goroutine.
func (n *Node) applyPrepared(sb *syncBlock) error {
	parent := n.store.Latest()
	if sb.height != parent.Height+1 {
		return fmt.Errorf("%w: synced block %d does not follow %d", errLocal, sb.height, parent.Height)
	}
	if sb.decodeErr != nil {
		return sb.decodeErr
	}
	vals, err := chain.LoadValidators(n.store)
	if err != nil {
		return fmt.Errorf("%w: %w", errLocal, err)
	}
	if err := n.checkSyncedCommit(sb, vals); err != nil {
		return err
	}
	parentVals, err := n.validatorsFor(parent.Height)
	if err != nil {
		return fmt.Errorf("%w: %w", errLocal, err)
	}
	var marked []chain.Hash
	for i, ok := range sb.txOK {
		if ok {
			n.sigs.add(sb.txHash[i])
			marked = append(marked, sb.txHash[i])
		}
	}
	res, err := n.checkBlock(sb.block, parent, parentVals, vals, false)
	if err != nil {
		n.sigs.drop(marked)
		return err
	}
	if err := n.commitBlock(sb.block, sb.commit, res); err != nil {
		n.sigs.drop(marked)
		return fmt.Errorf("%w: %w", errLocal, err)
	}
	return nil
}

// checkSyncedCommit verifies a synced block's commit against vals, the
// set of its height, unless the verify stage already did so under the
// same set.
func (n *Node) checkSyncedCommit(sb *syncBlock, vals *chain.ValidatorSet) error {
	if !sb.certSet.IsZero() && sb.certSet == vals.Hash() {
		sb.certAhead = true
		return sb.certErr
	}
	return vals.VerifyCommit(n.chainID, sb.height, sb.hash, sb.commit)
}
