package node

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/poa"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// A new node catches up with a chain of transfers from peers A and B,
// four blocks at a time, the answers arriving block by block. Blocks are
// verified out of order (a block of many transfers takes longer than the
// empty one after it) but stored in order; every block is the one the
// peers served; every certificate and every signature was verified by
// the verify stage, ahead of the engine; and the pipeline never held
// more than its four blocks.
func TestSyncPipelineCatchesUpInOrder(t *testing.T) {
	g := newChainGen(t)
	growChain(g, 3, 40) // many transfers
	growChain(g, 3, 0)  // then empty blocks, verified at once
	growChain(g, 4, 5)
	blocks := servedChain(g)
	f := newFakePeers()
	f.add("A", blocks)
	f.add("B", blocks)
	f.gap = time.Millisecond
	j := newJoiner(t, g.n.genesis, f)
	j.e.sync.pipe.limitBlocks = 4
	f.beforeDeliver = func() {
		if held := j.e.sync.pipe.heldBlocks(); held >= 4 {
			t.Errorf("a block arrived while the pipeline held %d, its limit being 4", held)
		}
	}
	j.startEngine()
	j.startSync()
	j.waitHeight(uint64(len(blocks)), 30*time.Second)
	j.sameBlocks(blocks)

	st := &j.e.sync.pipe.stats
	if got, want := st.blocks.Load(), int64(len(blocks)); got != want || st.certsAhead.Load() != want {
		t.Errorf("%d blocks synced, %d certificates verified ahead; want %d of both", got, st.certsAhead.Load(), want)
	}
	if got, want := st.txs.Load(), int64(txsInChain(t, blocks)); got != want || st.sigsAhead.Load() != want {
		t.Errorf("%d transactions synced, %d signatures verified ahead; want %d of both", got, st.sigsAhead.Load(), want)
	}
	if strings.Contains(j.logs.String(), "store a synced block") {
		t.Errorf("the engine was handed a block out of order:\n%s", j.logs)
	}
	if j.e.n.keys.Len() == 0 {
		t.Error("the verify stage kept no sender's key in the node's key cache")
	}
	if asks := f.requests(); len(asks) < len(blocks)/4 {
		t.Errorf("%d requests for %d blocks, 4 at most each: %v", len(asks), len(blocks), asks)
	}
}

// forgeSignature returns a copy of blocks whose block at height h has the
// signature of its first transaction broken, the header resealed and a
// quorum's commit for the new hash: only the signature is wrong.
func forgeSignature(t *testing.T, g *chainGen, blocks [][2][]byte, h uint64) [][2][]byte {
	t.Helper()
	b, err := chain.DecodeBlock(blocks[h-1][0])
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Txs) == 0 {
		t.Fatalf("block %d has no transaction to forge", h)
	}
	b.Txs[0] = forgeTx(t, b.Txs[0])
	reseal(b)
	out := append([][2][]byte(nil), blocks...)
	out[h-1] = [2][]byte{b.Encode(), g.commit(h, b.Hash(), g.quorum()).Encode()}
	return out
}

// Block 3 of what peer "bad" serves carries a transfer whose signature
// does not verify, under a commit a quorum signed. The new node stores
// blocks 1 and 2, refuses 3, bans "bad" and rests it as block sync always
// did, and stores nothing after 2 although it had fetched and verified
// further blocks ahead. When an honest peer comes, it catches up.
func TestSyncRefusesABadSignatureAndBansItsPeer(t *testing.T) {
	g := newChainGen(t)
	growChain(g, 5, 2)
	honest := servedChain(g)
	f := newFakePeers()
	f.add("bad", forgeSignature(t, g, honest, 3))
	j := newJoiner(t, g.n.genesis, f)
	j.startEngine()
	j.startSync()
	syncWait(t, 20*time.Second, "bad banned", func() bool { _, ok := f.bannedFor("bad"); return ok })
	if reason, _ := f.bannedFor("bad"); reason != "refused block" {
		t.Errorf("bad banned for %q, want %q", reason, "refused block")
	}
	// The ban comes with the verdict on block 3. Once the fetch stage has
	// planned again after it and the pipeline holds nothing, every block
	// fetched after 3 has been dropped or handed over: nothing more can
	// be stored.
	fetchStagePassed(t, j)
	syncWait(t, 10*time.Second, "the blocks held after block 3 released", func() bool { return j.e.sync.pipe.heldBlocks() == 0 })
	if h := j.height(); h != 2 {
		t.Fatalf("the node is at height %d, want 2: blocks 1 and 2 stored, 3 refused", h)
	}
	if f.servedBlocks() <= 3 {
		t.Errorf("only %d blocks fetched: the pipeline did not fetch ahead of block 3", f.servedBlocks())
	}
	if !j.e.sync.resting(time.Now(), "bad") {
		t.Error("bad is not resting")
	}
	f.mu.Lock()
	rest := f.avoided["bad"]
	f.mu.Unlock()
	if rest != syncRefusedRest {
		t.Errorf("bad avoided for %s, want %s", rest, syncRefusedRest)
	}
	logs := j.logs.String()
	if !strings.Contains(logs, "block 3:") || !strings.Contains(logs, crypto.ErrBadSignature.Error()) {
		t.Errorf("block 3 was not refused for its signature:\n%s", logs)
	}
	if strings.Contains(logs, "store a synced block") {
		t.Errorf("blocks fetched after the refused one reached the engine:\n%s", logs)
	}

	f.add("good", honest)
	j.waitHeight(uint64(len(honest)), 20*time.Second)
	j.sameBlocks(honest)
}

// Peer "liar" serves the real blocks, each with a certificate only two of
// the four validators signed: short of a quorum. The new node refuses
// the first and bans the liar, and its workers verified no transaction
// of any of them: transactions are checked ahead only for a block whose
// certificate holds.
func TestSyncChecksNoTransactionOfABlockNoQuorumSigned(t *testing.T) {
	g := newChainGen(t)
	growChain(g, 4, 30)
	blocks := servedChain(g)
	lies := make([][2][]byte, len(blocks))
	for i, e := range blocks {
		b, err := chain.DecodeBlock(e[0])
		if err != nil {
			t.Fatal(err)
		}
		lies[i] = [2][]byte{e[0], g.commit(uint64(i+1), b.Hash(), 2).Encode()}
	}
	f := newFakePeers()
	f.add("liar", lies)
	j := newJoiner(t, g.n.genesis, f)
	j.startEngine()
	j.startSync()
	syncWait(t, 20*time.Second, "the liar banned", func() bool { _, ok := f.bannedFor("liar"); return ok })
	if h := j.height(); h != 0 {
		t.Fatalf("stored %d blocks whose certificates lack a quorum", h)
	}
	if n := j.e.sync.pipe.stats.sigsChecked.Load(); n != 0 {
		t.Errorf("the workers checked %d signatures of blocks no quorum signed", n)
	}
	if !strings.Contains(j.logs.String(), chain.ErrInvalidCommit.Error()) {
		t.Errorf("block 1 was not refused for its certificate:\n%s", j.logs)
	}
}

// Peer "A" breaks off its answer after three blocks. Those three stay
// and are stored; A rests after its failure (and is not banned for one);
// the next request goes to B and starts at block 4, not 1.
func TestSyncKeepsTheBlocksOfABrokenAnswer(t *testing.T) {
	g := newChainGen(t)
	growChain(g, 6, 1)
	blocks := servedChain(g)
	f := newFakePeers()
	f.add("A", blocks)
	f.add("B", blocks)
	f.cutAt["A"] = 3
	j := newJoiner(t, g.n.genesis, f)
	j.startEngine()
	j.startSync()
	j.waitHeight(uint64(len(blocks)), 20*time.Second)
	j.sameBlocks(blocks)
	asks := f.requests()
	if len(asks) < 2 || asks[0].peer != "A" || asks[0].from != 1 || asks[1].peer != "B" || asks[1].from != 4 {
		t.Fatalf("requests %v; want A from 1, then B from 4", asks)
	}
	if !j.e.sync.resting(time.Now(), "A") {
		t.Error("A is not resting after a broken answer")
	}
	if _, banned := f.bannedFor("A"); banned {
		t.Error("A was banned for one broken answer")
	}
}

// Peer "A" sends three blocks and then nothing more. The new node stores
// the three while the request hangs, and when the node stops, every sync
// goroutine returns at once (the harness checks it) although a request
// is outstanding and the engine is gone.
func TestSyncStopsWhileARequestHangs(t *testing.T) {
	g := newChainGen(t)
	growChain(g, 4, 1)
	f := newFakePeers()
	f.add("A", servedChain(g))
	f.hangAt["A"] = 3
	j := newJoiner(t, g.n.genesis, f)
	j.startEngine()
	j.startSync()
	j.waitHeight(3, 10*time.Second)
	start := time.Now()
	j.stop()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("stopping took %s with a request outstanding", took)
	}
}

// Validators A, B and C vote validator E in; the change takes effect two
// heights later, inside the one range the new node fetches. It stores
// every block, E is in its set, and the certificates signed by the old
// set were all verified ahead (those after the change are verified by
// the engine unless the verify stage saw the new set in time).
func TestSyncAcrossAValidatorSetChange(t *testing.T) {
	g := newChainGen(t)
	e := DevValidatorKey(4)
	eAddr := chain.AddressOf(e.PublicKey())
	g.keys[eAddr] = e
	add := poa.Propose{Op: poa.OpAdd, Address: eAddr.String(), PubKey: fmt.Sprintf("%x", e.PublicKey().Bytes()), Power: 1}
	for i := range 3 {
		if _, err := g.n.Submit(poaVoteTx(t, g.chainID, DevValidatorKey(i), add)); err != nil {
			t.Fatal(err)
		}
	}
	growChain(g, 1, 1)
	decided := g.n.store.Latest().Height
	growChain(g, 6, 2)
	if _, ok := g.vals.Find(eAddr); !ok {
		t.Fatal("E did not join the generator's set")
	}
	blocks := servedChain(g)
	c, err := g.n.store.Commit(uint64(len(blocks)))
	if err != nil {
		t.Fatal(err)
	}
	if !signed(c, eAddr) {
		t.Fatal("E signed no commit: the change is not inside the chain")
	}

	f := newFakePeers()
	f.add("A", blocks)
	j := newJoiner(t, g.n.genesis, f)
	j.startEngine()
	j.startSync()
	j.waitHeight(uint64(len(blocks)), 20*time.Second)
	j.sameBlocks(blocks)
	vals, err := chain.LoadValidators(j.n.store)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := vals.Find(eAddr); !ok {
		t.Error("the new node synced past the change without E in its set")
	}
	if ahead := j.e.sync.pipe.stats.certsAhead.Load(); ahead < int64(decided+1) {
		t.Errorf("%d certificates verified ahead; want at least the %d the old set signed", ahead, decided+1)
	}
	if strings.Contains(j.logs.String(), "refused") {
		t.Errorf("a block was refused:\n%s", j.logs)
	}
}

func signed(c *chain.Commit, a chain.Address) bool {
	for _, s := range c.Signatures {
		if s.Validator == a {
			return true
		}
	}
	return false
}

// prepare runs the verify stage's checks on one served block, on this
// goroutine, as if the expected set were vals.
func prepare(t *testing.T, chainID string, h uint64, entry [2][]byte, vals *chain.ValidatorSet) *syncBlock {
	t.Helper()
	sb := &syncBlock{height: h, raw: entry, ready: make(chan struct{})}
	sb.decode()
	if sb.decodeErr != nil {
		t.Fatal(sb.decodeErr)
	}
	jobs := sb.check(chainID, vals, vals.Hash())
	sb.pending.Store(int32(len(jobs)))
	for _, j := range jobs {
		j.run(nil, nil)
	}
	return sb
}

// After validator E joins, a quorum of the old set (A, B, C: 3 of 4)
// signs a block whose header names the old set. The verify stage, still
// expecting the old set, finds the certificate good; the engine, which
// knows the set of the height is now the new one (quorum 4 of 5), must
// not take that verdict: it verifies the certificate again and refuses
// it. The honest block at that height then passes whether the verify
// stage expected the old set (so left the certificate to the engine) or
// the new one.
func TestSyncRechecksACertificateVerifiedUnderAnOlderSet(t *testing.T) {
	g := newChainGen(t)
	old := g.vals
	e := DevValidatorKey(4)
	eAddr := chain.AddressOf(e.PublicKey())
	g.keys[eAddr] = e
	add := poa.Propose{Op: poa.OpAdd, Address: eAddr.String(), PubKey: fmt.Sprintf("%x", e.PublicKey().Bytes()), Power: 1}
	for i := range 3 {
		if _, err := g.n.Submit(poaVoteTx(t, g.chainID, DevValidatorKey(i), add)); err != nil {
			t.Fatal(err)
		}
	}
	growChain(g, 3, 1)
	if _, ok := g.vals.Find(eAddr); !ok {
		t.Fatal("E did not join the set of the next height")
	}
	h := g.n.store.Latest().Height + 1

	g.transfer(1, 2, 5)
	honest, _ := g.build()
	forged, err := chain.DecodeBlock(honest.Encode())
	if err != nil {
		t.Fatal(err)
	}
	forged.Header.ValidatorsHash = old.Hash()
	oldQuorum := &chainGen{t: t, chainID: g.chainID, vals: old, keys: g.keys}
	forgedEntry := [2][]byte{forged.Encode(), oldQuorum.commit(h, forged.Hash(), 3).Encode()}

	sb := prepare(t, g.chainID, h, forgedEntry, old)
	if sb.certSet != old.Hash() || sb.certErr != nil {
		t.Fatalf("ahead, under the old set, the forged certificate should pass: set %s, err %v", sb.certSet, sb.certErr)
	}
	err = g.n.applyPrepared(sb)
	if !errors.Is(err, chain.ErrInvalidCommit) || !strings.Contains(err.Error(), "need 4") {
		t.Fatalf("the forged block: %v; want %v for lack of a quorum of the new set", err, chain.ErrInvalidCommit)
	}
	if g.n.store.Latest().Height != h-1 {
		t.Fatal("the forged block was stored")
	}

	honestEntry := [2][]byte{honest.Encode(), g.commit(h, honest.Hash(), g.quorum()).Encode()}
	sb = prepare(t, g.chainID, h, honestEntry, old)
	if !sb.certSet.IsZero() {
		t.Fatal("the verify stage checked a certificate whose header names another set than it expected")
	}
	if err := g.n.applyPrepared(sb); err != nil || sb.certAhead {
		t.Fatalf("the honest block, its certificate left to the engine: %v (taken from ahead: %v)", err, sb.certAhead)
	}

	g.transfer(2, 1, 5)
	next, _ := g.build()
	sb = prepare(t, g.chainID, h+1, [2][]byte{next.Encode(), g.commit(h+1, next.Hash(), g.quorum()).Encode()}, g.vals)
	if err := g.n.applyPrepared(sb); err != nil || !sb.certAhead {
		t.Fatalf("the next honest block, checked ahead under the new set: %v (taken from ahead: %v)", err, sb.certAhead)
	}
	for i, ok := range sb.txOK {
		if !ok {
			t.Errorf("the signature of transaction %d was not verified ahead", i)
		}
	}
}

// fetchStagePassed returns once j's fetch stage has made a whole pass
// (every request it chose to make, or none) that began after the call.
// It wakes the stage twice through the pipeline's room channel and waits
// until each wake is taken: the stage takes one only between passes, so
// the second is taken after a pass that followed the first.
func fetchStagePassed(t *testing.T, j *joiner) {
	t.Helper()
	room := j.e.sync.pipe.room
	for i := range 2 {
		select {
		case room <- struct{}{}:
		case <-time.After(10 * time.Second):
			t.Fatalf("could not wake the fetch stage (wake %d) within 10 s", i+1)
		}
		syncWait(t, 10*time.Second, "the fetch stage to take its wake", func() bool { return len(room) == 0 })
	}
}

// While the engine does not apply anything, the pipeline fetches up to
// its limit of five blocks and then asks for no more; once the engine
// runs, it catches up.
func TestSyncLookAheadIsBounded(t *testing.T) {
	g := newChainGen(t)
	growChain(g, 12, 1)
	blocks := servedChain(g)
	f := newFakePeers()
	f.add("A", blocks)
	j := newJoiner(t, g.n.genesis, f)
	j.e.sync.pipe.limitBlocks = 5
	j.startSync()
	syncWait(t, 10*time.Second, "five blocks fetched", func() bool { return f.servedBlocks() >= 5 })
	syncWait(t, 10*time.Second, "five blocks held", func() bool { return j.e.sync.pipe.heldBlocks() >= 5 })
	// The pipeline is full: a pass of the fetch stage from now on must
	// ask for nothing.
	fetchStagePassed(t, j)
	if n := f.servedBlocks(); n != 5 {
		t.Fatalf("%d blocks fetched while the engine applied none, want the limit of 5", n)
	}
	if held := j.e.sync.pipe.heldBlocks(); held != 5 {
		t.Fatalf("the pipeline holds %d blocks, want 5", held)
	}
	j.startEngine()
	j.waitHeight(uint64(len(blocks)), 20*time.Second)
	j.sameBlocks(blocks)
	syncWait(t, 5*time.Second, "everything released", func() bool { return j.e.sync.pipe.heldBlocks() == 0 })
}

// With a byte limit below one block, the pipeline asks for one block at
// a time once it knows how large they are (the first answer, of three
// blocks here, may go above the limit), and only when it holds none.
func TestSyncLookAheadIsBoundedInBytes(t *testing.T) {
	g := newChainGen(t)
	growChain(g, 6, 3)
	blocks := servedChain(g)
	f := newFakePeers()
	f.add("A", blocks)
	j := newJoiner(t, g.n.genesis, f)
	j.e.sync.pipe.limitBlocks, j.e.sync.pipe.limitBytes = 3, 1
	f.beforeDeliver = func() {
		if held := j.e.sync.pipe.heldBlocks(); held > 0 && len(f.requests()) > 1 {
			t.Errorf("a block arrived while the pipeline held %d, above its byte limit", held)
		}
	}
	j.startEngine()
	j.startSync()
	j.waitHeight(uint64(len(blocks)), 20*time.Second)
	j.sameBlocks(blocks)
	asks := f.requests()
	if len(asks) < len(blocks)-3 {
		t.Errorf("%d requests for %d blocks: %v", len(asks), len(blocks), asks)
	}
	for i, a := range asks {
		if i > 0 && a.to != a.from {
			t.Errorf("request %d asked for %d to %d, want one block", i, a.from, a.to)
		}
	}
}

// The verify stage checks the signature of a synced transaction this
// node has not verified, and takes the word of its own records (pool,
// gossip) for one it has: a forged signature it knows of is passed, one
// it does not know is caught, and only the latter is counted.
func TestSyncVerifySkipsWhatTheNodeVerified(t *testing.T) {
	good := signedTransfer(t, "c", 0, 1, 1, 5)
	forged := signedTransfer(t, "c", 2, 1, 1, 5)
	forged[len(forged)-2] ^= 1 // inside the signature, the last field
	if tx, err := chain.DecodeTx(forged); err != nil || tx.VerifySignature() == nil {
		t.Fatalf("the forged transaction decodes (%v) and must not verify", err)
	}
	for _, c := range []struct {
		name     string
		known    chain.Hash
		verified int
		ok       []bool
	}{
		{"nothing known", chain.Hash{}, 2, []bool{true, false}},
		{"the good one known", chain.Sum(good), 1, []bool{true, false}},
		{"the forged one known", chain.Sum(forged), 1, []bool{true, true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := &syncBlock{block: &chain.Block{Txs: [][]byte{good, forged}}, ready: make(chan struct{}),
				txOK: make([]bool, 2), txHash: make([]chain.Hash, 2)}
			b.pending.Store(1)
			known := func(h chain.Hash) bool { return h == c.known }
			keys := crypto.NewKeyCache(0)
			if got := (verifyJob{b: b, lo: 0, hi: 2}).run(keys, known); got != c.verified {
				t.Fatalf("verified %d, want %d", got, c.verified)
			}
			if keys.Len() != c.verified { // the two come from different senders
				t.Fatalf("%d keys kept in the cache, want one for each of the %d checked", keys.Len(), c.verified)
			}
			if !slices.Equal(b.txOK, c.ok) {
				t.Fatalf("marked %v, want %v", b.txOK, c.ok)
			}
			select {
			case <-b.ready:
			default:
				t.Fatal("the block's last job did not mark it ready")
			}
		})
	}
}
