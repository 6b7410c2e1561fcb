package node

import (
	"context"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/store"
)

// chainGen makes test blocks the way dcrd's fullblocktests does: a valid
// chain built by the real node code, then, for the next height, a valid
// candidate from which each test case derives a block that breaks one
// rule. It holds all four validator keys, so it can sign what a quorum
// would sign: commits and proposals for any block it likes.
//
// The node it builds on is validator 0 of a 4-validator chain, with a
// store in a temporary directory, an in-memory vault, a clock that only the generator moves, and
// no network: the node whose verdicts the tests check.
type chainGen struct {
	t       *testing.T
	n       *Node
	chainID string
	now     time.Time // the node's clock
	vals    *chain.ValidatorSet
	keys    map[chain.Address]*crypto.PrivateKey // validator keys by address
	nonces  map[int]uint64                       // next nonce of each dev account that sent

	height    uint64       // the height of the candidate
	tip       chain.Header // the stored block below it
	sibling   *chain.Block // another block at the tip's height, never stored
	candidate *chain.Block // a valid block for height, by its round-0 proposer
}

// genesisTime is where the generated chains begin; blocks follow the
// generator's clock, one second apart.
var genesisTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// newChainGen builds a chain of a few blocks with transfers in them, and
// a candidate with three transfers for the next height. The chain is at
// least three blocks long, and longer if need be so that the first
// proposer of the next height is not validator 0: a node's own proposal
// would be the one its machine takes in round 0, and the tests want it
// to judge another's.
func newChainGen(t *testing.T) *chainGen {
	t.Helper()
	return newChainGenWith(t, store.Config{})
}

// newChainGenWith is newChainGen with the store settings of cfg (its Dir
// is set here).
func newChainGenWith(t *testing.T, cfg store.Config) *chainGen {
	t.Helper()
	g := &chainGen{t: t, chainID: "invalid-blocks", now: genesisTime.Add(time.Minute),
		keys: map[chain.Address]*crypto.PrivateKey{}, nonces: map[int]uint64{}}
	var keys []*crypto.PrivateKey
	for i := 0; i < 4; i++ {
		k := DevValidatorKey(i)
		keys = append(keys, k)
		g.keys[chain.AddressOf(k.PublicKey())] = k
	}
	// On disk, not in memory: an in-memory Badger has no value log, so it
	// refuses any value over its 1 KiB threshold, a block of a few
	// transfers included.
	cfg.Dir = t.TempDir()
	st, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := &Node{cfg: DefaultConfig("v0", 0), log: discardLogger(), clock: func() time.Time { return g.now },
		bus: NewBus(), waiters: newWaiters(), quit: make(chan struct{}), network: true}
	if g.n, err = assemble(n, DevGenesis(g.chainID, keys, genesisTime), keys[0], st, newMemVault(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.n.Stop() })
	if g.vals, err = chain.LoadValidators(g.n.store); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3 || g.proposer(g.n.store.Latest().Height+1) == g.n.valAddr; i++ {
		g.transfer(1, 2, 100+uint64(i))
		g.extend()
	}
	g.tip = g.n.store.Latest()
	g.height = g.tip.Height + 1
	g.transfer(1, 3, 7)
	g.transfer(2, 1, 8)
	g.transfer(1, 2, 9)
	g.candidate, _ = g.build()
	if len(g.candidate.Txs) != 3 {
		t.Fatalf("the candidate holds %d transfers, want 3", len(g.candidate.Txs))
	}
	return g
}

// proposer returns the round-0 proposer of height h.
func (g *chainGen) proposer(h uint64) chain.Address { return consensus.Proposer(g.vals, h, 0) }

// build makes the next block from the mempool, as its round-0 proposer
// would, a second after the last one, and returns it executed.
func (g *chainGen) build() (*chain.Block, *chain.Result) {
	g.t.Helper()
	g.now = g.now.Add(time.Second)
	parent := g.n.store.Latest()
	var last *chain.Commit
	if parent.Height > 0 {
		var err error
		if last, err = g.n.store.Commit(parent.Height); err != nil {
			g.t.Fatal(err)
		}
	}
	b, res, err := g.n.buildBlock(parent, last, g.proposer(parent.Height+1), g.n.cfg.Block.MaxTxs)
	if err != nil {
		g.t.Fatal(err)
	}
	return b, res
}

// extend stores the next block with a quorum's commit, after making its
// sibling: a block for the same height, a second later, never stored.
func (g *chainGen) extend() {
	g.t.Helper()
	b, res := g.build()
	g.sibling, _ = g.build()
	if err := g.n.commitBlock(b, g.commit(b.Header.Height, b.Hash(), g.quorum()), res); err != nil {
		g.t.Fatal(err)
	}
}

// mutable returns a deep copy of the candidate.
func (g *chainGen) mutable() *chain.Block {
	b, err := chain.DecodeBlock(g.candidate.Encode())
	if err != nil {
		g.t.Fatal(err)
	}
	return b
}

// reseal makes the header agree with the body again (transaction root,
// last-commit hash, evidence hash), so that a change to the body breaks
// only the rule it is meant to break.
func reseal(b *chain.Block) {
	b.Header.TxRoot = chain.ComputeTxRoot(b.Txs)
	b.Header.LastCommitHash = b.LastCommit.Hash()
	b.Header.EvidenceHash = chain.ComputeEvidenceHash(b.Evidence)
}

// reexecute reseals b and sets the state and receipts roots that
// executing it on the tip gives, for a change that execution sees (the
// block's height, time or transactions).
func (g *chainGen) reexecute(b *chain.Block) {
	g.t.Helper()
	reseal(b)
	snap := g.n.store.Snapshot()
	defer snap.Discard()
	res, err := g.n.exec.Execute(snap, g.tip.StateRoot, chain.BlockInfo{ChainID: g.chainID,
		Height: b.Header.Height, Time: b.Header.BlockTime(), Evidence: b.Evidence}, b.Txs)
	if err != nil {
		g.t.Fatalf("execute the changed block: %v", err)
	}
	b.Header.StateRoot, b.Header.ReceiptsRoot = res.StateRoot, res.ReceiptsRoot
}

// quorum returns how many validators, taken in set order, hold a quorum.
func (g *chainGen) quorum() int {
	var power uint64
	for i, v := range g.vals.Validators {
		if power += v.Power; power >= g.vals.Quorum() {
			return i + 1
		}
	}
	g.t.Fatal("the whole set holds no quorum")
	return 0
}

// commit returns the certificate that the first signers validators, in
// set order, precommitted block at height in round 0: a valid commit
// whenever they hold a quorum, whatever the block.
func (g *chainGen) commit(height uint64, block chain.Hash, signers int) *chain.Commit {
	c := &chain.Commit{Height: height, BlockHash: block}
	for _, v := range g.vals.Validators[:signers] {
		pc := chain.Vote{ChainID: g.chainID, Type: chain.Precommit, Height: height, BlockHash: block, Validator: v.Address}
		pc.Sign(g.keys[v.Address])
		c.Signatures = append(c.Signatures, chain.CommitSig{Validator: v.Address, Signature: pc.Signature})
	}
	return c
}

// proposal returns the round-0 proposal of the candidate's height for
// block b, in compact form, signed by that round's proposer. The node
// remembers b's transactions, as if gossip had brought them, so that it
// can rebuild the block and judge it by the rules under test.
func (g *chainGen) proposal(b *chain.Block) *chain.SignedProposal {
	g.n.pool.Remember(b.Txs...)
	p := chain.Proposal{Height: g.height, Round: 0, BlockHash: b.Hash(), POLRound: -1, Proposer: g.proposer(g.height)}
	sp := &chain.SignedProposal{Proposal: p, Block: b.Compact()}
	sp.Sign(g.chainID, g.keys[p.Proposer])
	return sp
}

// signedTransfer returns a transfer of amount from dev account from to
// dev account to, with the given nonce, signed for chainID.
func signedTransfer(t *testing.T, chainID string, from, to int, nonce, amount uint64) []byte {
	t.Helper()
	return signedTransferTo(t, chainID, from, chain.AddressOf(DevKey(to).PublicKey()), nonce, amount).Encode()
}

// signedTransferTo is a transfer of dev account from to any address.
func signedTransferTo(t *testing.T, chainID string, from int, to chain.Address, nonce, amount uint64) *chain.Tx {
	t.Helper()
	p, err := chain.EncodePayload(bank.Send{To: to, Amount: amount})
	if err != nil {
		t.Fatal(err)
	}
	tx := &chain.Tx{ChainID: chainID, App: bank.Name, Action: bank.ActionSend, Payload: p, Nonce: nonce}
	tx.Sign(DevKey(from))
	return tx
}

// transfer submits the next transfer of dev account from to dev account
// to.
func (g *chainGen) transfer(from, to int, amount uint64) {
	g.t.Helper()
	g.transferTo(from, chain.AddressOf(DevKey(to).PublicKey()), amount)
}

// transferTo submits the next transfer of dev account from to an address.
func (g *chainGen) transferTo(from int, to chain.Address, amount uint64) {
	g.t.Helper()
	if _, err := g.n.Submit(signedTransferTo(g.t, g.chainID, from, to, g.nonces[from], amount)); err != nil {
		g.t.Fatalf("submit a transfer of dev%d: %v", from, err)
	}
	g.nonces[from]++
}

// doubleVote returns evidence that validator i prevoted for two blocks,
// 0xa1... and other, at height in round 0.
func (g *chainGen) doubleVote(i int, height uint64, other chain.Hash) chain.Evidence {
	key := DevValidatorKey(i)
	a := chain.Vote{ChainID: g.chainID, Type: chain.Prevote, Height: height, BlockHash: chain.Hash{0xa1},
		Validator: chain.AddressOf(key.PublicKey())}
	b := a
	b.BlockHash = other
	a.Sign(key)
	b.Sign(key)
	return chain.NewDuplicateVote(a, b)
}

// engineAt returns a new engine of the node, deciding the candidate's
// height and waiting for its proposal. Its signer starts from an empty
// guard, so that the vote one test case made cannot stop the next case
// from voting.
func (g *chainGen) engineAt(ctx context.Context) *engine {
	g.t.Helper()
	e, err := newEngine(g.n, nil, stillTime{g.n.clock})
	if err != nil {
		g.t.Fatal(err)
	}
	if e.signer, err = loadSigner(newMemVault(), g.chainID, g.n.key); err != nil {
		g.t.Fatal(err)
	}
	e.startHeight(ctx, g.height)
	return e
}

// stillTime is a scheduler whose timers never fire: the tests hand the
// engine every event themselves.
type stillTime struct{ now func() time.Time }

func (s stillTime) Now() time.Time         { return s.now() }
func (stillTime) After(time.Duration, any) {}
