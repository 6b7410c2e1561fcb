package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// Invalid blocks, in the manner of dcrd's fullblocktests. From a valid
// candidate for the next height of a real chain (invalidblock_gen_test.go),
// each case makes a block that breaks exactly one rule: it changes one
// thing and mends every hash, root and signature the change would
// otherwise break. Each case names the error the rule must produce, both
// its kind (errors.Is) and a phrase only that rule's message has, so a
// case passes only if the intended rule fired, not some other one.
//
// Every case goes through both ways a block enters a node:
//
//   - the proposal path: the engine deciding the height receives the block
//     in a proposal signed by the round's proposer, and must judge it
//     invalid and prevote nil, never for the block;
//   - the sync path: applySynced receives the block with a commit that a
//     quorum really signed for it, so only the broken rule can stop it,
//     and the store must not move.
//
// The last case is the candidate itself, which must pass both paths: it
// proves that the harness can tell a good block from a bad one.

// blockCase is one row: a block that breaks one rule, and how it fails.
type blockCase struct {
	name string
	// mutate breaks the rule in a copy of the candidate and mends what
	// else the change would break. Nil leaves the candidate valid.
	mutate func(b *chain.Block)
	// kinds must all match the error with errors.Is; none for a valid block.
	kinds []error
	// msg is a phrase of the error that only the broken rule produces.
	msg string
	// proposalMsg, if set, replaces msg on the proposal path, where a check
	// of the proposal against its block names the same fault first.
	proposalMsg string
}

// invalidBlocks returns the rows for g's candidate, the valid one last:
// storing it moves the chain on, so it must run after the others.
func invalidBlocks(g *chainGen) []blockCase {
	t, h, tip, cand := g.t, g.height, g.tip, g.candidate
	invalid := []error{chain.ErrInvalidBlock}
	badTx := func(kind error) []error { return []error{chain.ErrInvalidBlock, kind} }
	q := g.quorum()

	outsider := chain.AddressOf(DevKey(0).PublicKey()) // a funded account, no validator
	shrunk, err := chain.NewValidatorSet(g.vals.Validators[1:])
	if err != nil {
		t.Fatal(err)
	}
	forged := forgeTx(t, cand.Txs[1])
	skipper := signedTransfer(t, g.chainID, 5, 1, 1, 10) // dev5 has sent nothing: its next nonce is 0
	stranger := signedTransfer(t, "another-chain", 5, 1, 0, 10)
	replayed, err := chain.DecodeTx(cand.Txs[0])
	if err != nil {
		t.Fatal(err)
	}
	var belowQuorum uint64
	for _, v := range g.vals.Validators[:q-1] {
		belowQuorum += v.Power
	}

	return []blockCase{
		{
			name:   "a block for another chain",
			mutate: func(b *chain.Block) { b.Header.ChainID = "another-chain" },
			kinds:  invalid, msg: `block is for "another-chain"`,
		},
		{
			// Its last commit is a quorum's commit of the tip at the height the
			// block implies, so only the link to the parent is wrong.
			name: "a block that skips a height",
			mutate: func(b *chain.Block) {
				b.Header.Height = h + 1
				b.LastCommit = g.commit(h, b.Header.PrevHash, q)
				g.reexecute(b)
			},
			kinds: invalid, msg: fmt.Sprintf("height %d after parent %d", h+1, h-1),
			proposalMsg: fmt.Sprintf("block for height %d at height %d", h+1, h),
		},
		{
			name: "a block on a sibling of the tip",
			mutate: func(b *chain.Block) {
				b.Header.PrevHash = g.sibling.Hash()
				b.LastCommit = g.commit(h-1, g.sibling.Hash(), q)
				reseal(b)
			},
			kinds: invalid, msg: fmt.Sprintf("prev hash %s, parent is %s", g.sibling.Hash(), tip.Hash()),
		},
		{
			name:   "a block no later than its parent",
			mutate: func(b *chain.Block) { b.Header.Time = tip.Time; g.reexecute(b) },
			kinds:  invalid, msg: fmt.Sprintf("time %d not after parent time %d", tip.Time, tip.Time),
		},
		{
			name:   "a block that names a validator set without one member",
			mutate: func(b *chain.Block) { b.Header.ValidatorsHash = shrunk.Hash() },
			kinds:  invalid, msg: fmt.Sprintf("validators hash does not match the set for height %d", h),
		},
		{
			name:   "a block that names an outsider as its proposer",
			mutate: func(b *chain.Block) { b.Header.Proposer = outsider },
			kinds:  invalid, msg: fmt.Sprintf("proposer %s is not a validator", outsider),
			proposalMsg: fmt.Sprintf("block names proposer %s, the proposal is signed by", outsider),
		},
		{
			name:   "a block without the commit of its parent",
			mutate: func(b *chain.Block) { b.LastCommit = nil; reseal(b) },
			kinds:  invalid, msg: "missing last commit",
		},
		{
			name: "a last commit signed by too few validators",
			mutate: func(b *chain.Block) {
				b.LastCommit.Signatures = b.LastCommit.Signatures[:q-1]
				reseal(b)
			},
			kinds: []error{chain.ErrInvalidBlock, chain.ErrInvalidCommit},
			msg:   fmt.Sprintf("last commit: invalid commit: power %d of %d, need %d", belowQuorum, g.vals.TotalPower(), g.vals.Quorum()),
		},
		{
			name:   "a last commit with a forged signature",
			mutate: func(b *chain.Block) { b.LastCommit.Signatures[0].Signature[5] ^= 1; reseal(b) },
			kinds:  []error{chain.ErrInvalidBlock, chain.ErrInvalidCommit, crypto.ErrBadSignature},
			msg:    fmt.Sprintf("last commit: invalid commit: signature of %s", g.vals.Validators[0].Address),
		},
		{
			name:   "a transaction root that leaves out the last transfer",
			mutate: func(b *chain.Block) { b.Header.TxRoot = chain.ComputeTxRoot(b.Txs[:len(b.Txs)-1]) },
			kinds:  invalid, msg: fmt.Sprintf("tx root %s, header says", cand.Header.TxRoot),
		},
		{
			name:   "a transfer with a forged signature",
			mutate: func(b *chain.Block) { b.Txs[1] = forged; reseal(b) },
			kinds:  []error{chain.ErrInvalidBlock, chain.ErrInvalidTx, crypto.ErrBadSignature},
			msg:    fmt.Sprintf("tx 1 (%s): invalid transaction: signature does not verify", chain.Sum(forged)),
		},
		{
			name:   "a transfer signed for another chain",
			mutate: func(b *chain.Block) { b.Txs = append(b.Txs, stranger); reseal(b) },
			kinds:  badTx(chain.ErrWrongChain), msg: fmt.Sprintf(`tx 3 (%s): wrong chain id: tx is for "another-chain"`, chain.Sum(stranger)),
		},
		{
			name:   "bytes that are not a transaction",
			mutate: func(b *chain.Block) { b.Txs = append(b.Txs, []byte{0xff}); reseal(b) },
			kinds:  badTx(chain.ErrDecode), msg: "tx 3 (" + chain.Sum([]byte{0xff}).String() + "): decode tx",
		},
		{
			name:   "a transfer whose nonce skips ahead",
			mutate: func(b *chain.Block) { b.Txs = append(b.Txs, skipper); reseal(b) },
			kinds:  badTx(chain.ErrBadNonce), msg: "nonce 1 skips ahead; the next nonce is 0",
		},
		{
			name:   "the same transfer twice",
			mutate: func(b *chain.Block) { b.Txs = append(b.Txs, b.Txs[0]); reseal(b) },
			kinds:  badTx(chain.ErrBadNonce),
			msg:    fmt.Sprintf("tx 3 (%s): bad nonce: nonce %d was already used (replay)", chain.Sum(cand.Txs[0]), replayed.Nonce),
		},
		{
			name:   "a state root of the parent's state",
			mutate: func(b *chain.Block) { b.Header.StateRoot = tip.StateRoot },
			kinds:  invalid, msg: fmt.Sprintf("state root after execution is %s, header says %s", cand.Header.StateRoot, tip.StateRoot),
		},
		{
			name:   "a receipts root of the parent's receipts",
			mutate: func(b *chain.Block) { b.Header.ReceiptsRoot = tip.ReceiptsRoot },
			kinds:  invalid, msg: fmt.Sprintf("receipts root after execution is %s, header says %s", cand.Header.ReceiptsRoot, tip.ReceiptsRoot),
		},
		{
			// No node can judge an offence at a height whose votes are still
			// being cast, so the block may not carry it.
			name: "evidence of an offence at the block's own height",
			mutate: func(b *chain.Block) {
				b.Evidence = []chain.Evidence{g.doubleVote(3, h, chain.Hash{0xb2})}
				reseal(b)
			},
			kinds: []error{chain.ErrInvalidBlock, chain.ErrInvalidEvidence},
			msg:   fmt.Sprintf("offence at height %d, not below the block's %d", h, h),
		},
		{
			name: "one offence proven twice",
			mutate: func(b *chain.Block) {
				b.Evidence = []chain.Evidence{g.doubleVote(3, h-1, chain.Hash{0xb2}), g.doubleVote(3, h-1, chain.Hash{0xb3})}
				reseal(b)
			},
			kinds: []error{chain.ErrInvalidBlock, chain.ErrInvalidEvidence}, msg: "shown twice",
		},
		{
			// Every transaction is a valid transfer: only the count is wrong.
			name: "one transaction more than a block may hold",
			mutate: func(b *chain.Block) {
				for nonce := uint64(0); len(b.Txs) <= chain.MaxBlockTxs; nonce++ {
					b.Txs = append(b.Txs, signedTransfer(t, g.chainID, 6, 1, nonce, 1))
				}
				g.reexecute(b)
			},
			kinds: invalid, msg: fmt.Sprintf("%d txs, limit %d", chain.MaxBlockTxs+1, chain.MaxBlockTxs),
		},
		{
			// The limit is on the bytes and is checked before they are
			// decoded, so the filler need not be transactions: no transfer
			// comes near the size of one.
			name: "a block over the size limit",
			mutate: func(b *chain.Block) {
				filler := bytes.Repeat([]byte{0x5a}, chain.MaxTxSize)
				for range chain.MaxBlockSize/chain.MaxTxSize + 1 {
					b.Txs = append(b.Txs, filler)
				}
				reseal(b)
			},
			kinds: invalid, msg: fmt.Sprintf("bytes, limit %d", chain.MaxBlockSize),
		},
		{
			// The executor cannot read old validator sets; the node checks
			// evidence against the set of the offence's height itself.
			name: "evidence with a forged signature",
			mutate: func(b *chain.Block) {
				ev := g.doubleVote(3, h-1, chain.Hash{0xb2})
				ev.DuplicateVote.B.Signature[7] ^= 1
				b.Evidence = []chain.Evidence{ev}
				g.reexecute(b)
			},
			kinds: []error{chain.ErrInvalidBlock, chain.ErrInvalidEvidence}, msg: "signature b of",
		},
		{
			name: "evidence against someone who was not a validator",
			mutate: func(b *chain.Block) {
				b.Evidence = []chain.Evidence{g.doubleVote(6, h-1, chain.Hash{0xb2})}
				g.reexecute(b)
			},
			kinds: []error{chain.ErrInvalidBlock, chain.ErrInvalidEvidence},
			msg:   fmt.Sprintf("was not a validator at height %d", h-1),
		},
		{
			// Valid evidence, verified against the set of its height and
			// executed by poa, leaves the block valid.
			name: "the block as its proposer built it, with evidence of an earlier double vote",
			mutate: func(b *chain.Block) {
				b.Evidence = []chain.Evidence{g.doubleVote(3, h-1, chain.Hash{0xb2})}
				g.reexecute(b)
			},
		},
	}
}

func TestInvalidBlocks(t *testing.T) {
	g := newChainGen(t)
	cases := invalidBlocks(g)
	for i, c := range cases {
		if c.kinds == nil && i != len(cases)-1 {
			t.Fatalf("%s: the valid block must come last, since storing it moves the chain on", c.name)
		}
		if tip := g.n.store.Latest(); tip.Hash() != g.tip.Hash() {
			t.Fatalf("%s and the rest not run: an invalid block was stored at height %d", c.name, tip.Height)
		}
		b := g.mutable()
		if c.mutate != nil {
			c.mutate(b)
		}
		raw, hash := b.Encode(), b.Hash()
		t.Run(c.name+"/proposal", func(t *testing.T) {
			ctx := context.Background()
			e := g.engineAt(ctx)
			sp := g.proposal(b)
			msg := c.msg
			if c.proposalMsg != "" {
				msg = c.proposalMsg
			}
			// A compact block that is not the block the proposer signed
			// proves nothing about that block: the engine drops the
			// proposal without a verdict, and the machine never hears of it.
			if _, err := checkSigned(g.chainID, e.vals, sp); err != nil {
				c.check(t, err, msg)
				e.onProposal(ctx, sp, "")
				if len(e.m.Votes(0, chain.Prevote)) != 0 || len(e.blocks) != 0 {
					t.Error("a dropped proposal reached the machine or left a verdict")
				}
				return
			}
			e.onProposal(ctx, sp, "")
			pb, judged := e.judgeProposal(ctx, sp, "")
			if !judged {
				t.Fatal("the engine did not judge the block")
			}
			c.check(t, pb.err, msg)
			var prevote *chain.Vote
			for _, v := range e.m.Votes(0, chain.Prevote) {
				if v.Validator == g.n.valAddr {
					prevote = &v
				}
			}
			switch {
			case prevote == nil:
				t.Error("the node did not prevote on the proposal")
			case c.kinds == nil && prevote.BlockHash != hash:
				t.Errorf("the node prevoted %s for a valid block", prevote.BlockHash)
			case c.kinds != nil && !prevote.BlockHash.IsZero():
				t.Errorf("the node prevoted %s for an invalid block, want nil", prevote.BlockHash)
			}
		})
		t.Run(c.name+"/sync", func(t *testing.T) {
			before := g.n.store.Latest()
			err := g.n.applySynced(g.height, raw, g.commit(g.height, hash, g.quorum()).Encode())
			c.check(t, err, c.msg)
			after := g.n.store.Latest()
			switch {
			case c.kinds == nil && after.Hash() != hash:
				t.Errorf("the valid block was not stored: the tip is %d %s", after.Height, after.Hash())
			case c.kinds != nil && (after.Height != before.Height || after.StateRoot != before.StateRoot):
				t.Errorf("the store moved from height %d to %d (state root %s to %s)",
					before.Height, after.Height, before.StateRoot, after.StateRoot)
			}
		})
	}
}

// check says whether err is the refusal the case expects, or no error
// for a valid block.
func (c blockCase) check(t *testing.T, err error, msg string) {
	t.Helper()
	if c.kinds == nil {
		if err != nil {
			t.Fatalf("a valid block was refused: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("the block was accepted; want an error saying %q", msg)
	}
	for _, k := range c.kinds {
		if !errors.Is(err, k) {
			t.Errorf("error %q is not %q", err, k)
		}
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not say %q: another rule fired", err, msg)
	}
}

// A synced block is taken on the word of its commit: the commit must be a
// quorum's precommits for exactly that block. Each case is the valid
// candidate with a commit that is wrong in one way; the last is a good
// commit, which proves the others failed for their commit alone.
func TestInvalidSyncCommits(t *testing.T) {
	g := newChainGen(t)
	h, hash, q := g.height, g.candidate.Hash(), g.quorum()
	outsider := DevKey(0)
	cases := []struct {
		name   string
		commit func() *chain.Commit
		msg    string // empty for the good commit
	}{
		{"a commit signed by too few validators", func() *chain.Commit { return g.commit(h, hash, q-1) },
			fmt.Sprintf("need %d", g.vals.Quorum())},
		{"a commit with a forged signature", func() *chain.Commit {
			c := g.commit(h, hash, q)
			c.Signatures[1].Signature[5] ^= 1
			return c
		}, fmt.Sprintf("signature of %s", g.vals.Validators[1].Address)},
		{"a commit with one validator signing twice", func() *chain.Commit {
			c := g.commit(h, hash, q)
			c.Signatures[1] = c.Signatures[0]
			return c
		}, fmt.Sprintf("%s signed twice", g.vals.Validators[0].Address)},
		{"a commit with an outsider's signature", func() *chain.Commit {
			c := g.commit(h, hash, q)
			v := chain.Vote{ChainID: g.chainID, Type: chain.Precommit, Height: h, BlockHash: hash,
				Validator: chain.AddressOf(outsider.PublicKey())}
			v.Sign(outsider)
			c.Signatures = append(c.Signatures, chain.CommitSig{Validator: v.Validator, Signature: v.Signature})
			return c
		}, fmt.Sprintf("%s is not a validator", chain.AddressOf(outsider.PublicKey()))},
		{"a commit of the tip's sibling", func() *chain.Commit { return g.commit(h, g.sibling.Hash(), q) },
			fmt.Sprintf("block %s, want height %d block %s", g.sibling.Hash(), h, hash)},
		{"a commit of the block at the next height", func() *chain.Commit { return g.commit(h+1, hash, q) },
			fmt.Sprintf("for height %d block %s, want height %d", h+1, hash, h)},
		{"a quorum's commit of the block", func() *chain.Commit { return g.commit(h, hash, q) }, ""},
	}
	raw := g.candidate.Encode()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := g.n.store.Latest()
			err := g.n.applySynced(h, raw, c.commit().Encode())
			if c.msg == "" {
				if err != nil {
					t.Fatalf("a good commit was refused: %v", err)
				}
				if tip := g.n.store.Latest(); tip.Hash() != hash {
					t.Fatal("the block was not stored")
				}
				return
			}
			if !errors.Is(err, chain.ErrInvalidCommit) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want %v saying %q", err, chain.ErrInvalidCommit, c.msg)
			}
			if after := g.n.store.Latest(); after.Height != before.Height || after.StateRoot != before.StateRoot {
				t.Errorf("the store moved from height %d to %d", before.Height, after.Height)
			}
		})
	}
}

// forgeTx returns raw with one byte of its signature flipped: a
// well-formed transaction whose signature does not verify.
func forgeTx(t *testing.T, raw []byte) []byte {
	t.Helper()
	tx, err := chain.DecodeTx(raw)
	if err != nil {
		t.Fatal(err)
	}
	tx.Signature[5] ^= 1
	return tx.Encode()
}
