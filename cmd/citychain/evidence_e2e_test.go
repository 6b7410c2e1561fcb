package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/p2p"
)

// TestDevnetAddsThenRemovesByEvidence changes a devnet's validator set
// both ways a real network does: by vote and by proof of misbehaviour.
//
// Four validators vote a fifth in (three of them from the command line)
// and it signs commits. Then validator 3 equivocates: its process is
// stopped, and a peer that joined through node0 publishes two prevotes
// signed with its key for the height being decided, round 0, naming two
// different blocks. The validators see the pair, a block carries it as
// evidence, every node verifies it against the set of the offence's
// height, and poa removes validator 3 two heights after that block. The
// four that remain go on making the same blocks. Nobody is banned at any
// point: the equivocating votes are well-formed and correctly signed, so
// the peer that passed them on did nothing wrong.
func TestDevnetAddsThenRemovesByEvidence(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	// Beside TestDocsRun, whose devnets mostly wait.
	t.Parallel()
	d := startDevnet(t, 4)
	t.Cleanup(func() {
		if t.Failed() {
			for _, i := range []int{0, 1, 2, 4} {
				if i < len(d.net.Nodes) {
					t.Logf("node%d log (end):\n%s", i, logTail(d.net.Nodes[i].Home, 30))
				}
			}
		}
	})
	transfer(t, d.nodes[0], 0, 1, true)

	// A fifth validator, voted in.
	newcomer := voteInFifthValidator(t, d) // node index 4
	t.Logf("validator %s (node index 4) voted in and signing", newcomer)
	five := validatorsOf(t, d, 0)
	if len(five.Validators) != 5 {
		t.Fatalf("%d validators after the vote, want 5", len(five.Validators))
	}
	checkNoBans(t, d, "after the fifth validator joined", 0, 1, 2, 3, 4)

	// Validator 3 is the devnet's development key 3; its process stops.
	offenderKey := node.DevValidatorKey(3)
	offender := chain.AddressOf(offenderKey.PublicKey())
	if d.net.Nodes[3].Validator != offender.String() {
		t.Fatalf("node3's validator is %s, DevValidatorKey(3) is %s", d.net.Nodes[3].Validator, offender)
	}
	if out, ok := d.ctl(t, "stop", "node3"); !ok {
		t.Fatalf("stop node3: %s", out)
	}
	running := []int{0, 1, 2, 4}
	transfer(t, d.nodes[1], 1, 1, true) // four of five: still a quorum

	attacker := startAttacker(t, d.net.ChainID, d.net.Nodes[0].P2P)
	node0 := p2pID(t, d.net.Nodes[0].P2P)
	eventually(t, 20*time.Second, "the peer connected to node0", func() bool {
		listed, ok := lists(d, 0, attacker.ID())
		return hasPeer(attacker, node0) && listed && ok
	})

	// Equivocate for the height being decided, round 0, until a committed
	// block carries evidence of it. A pair can miss its height (decided
	// meanwhile): then it is ignored, and the next try uses a new height.
	pairs := map[uint64][2]chain.Vote{} // published pairs by height
	var rec evidenceRecord
	found := false
	for try := 0; try < 8 && !found; try++ {
		h := d.height(0) + 1
		pair := equivocate(t, attacker, d.net.ChainID, offenderKey, h)
		pairs[h] = pair
		deadline := time.Now().Add(15 * time.Second)
		for k := 0; time.Now().Before(deadline); k++ {
			transfer(t, d.nodes[running[k%3]], running[k%3], 1, true)
			if rec, found = evidenceAgainst(t, d, 0, offender); found {
				break
			}
		}
		checkNoBans(t, d, fmt.Sprintf("after equivocation try %d", try), running...)
	}
	if !found {
		t.Fatalf("no evidence against %s was committed after %d pairs of prevotes", offender, len(pairs))
	}
	t.Logf("evidence: %+v", rec)
	if _, ok := pairs[rec.Height]; !ok || rec.Round != 0 || rec.Type != uint64(chain.Prevote) || rec.Kind != chain.EvidenceDuplicateVote {
		t.Errorf("recorded offence at height %d round %d type %d kind %q; want one of the prevote pairs sent (heights %v), round 0",
			rec.Height, rec.Round, rec.Type, rec.Kind, mapsKeys(pairs))
	}
	if rec.Committed <= rec.Height || rec.RemovalAt != rec.Committed+2 || rec.NotRemoved != "" {
		t.Fatalf("offence at %d committed at %d, removal at %d (not removed: %q); want a removal 2 heights after the carrying block",
			rec.Height, rec.Committed, rec.RemovalAt, rec.NotRemoved)
	}

	// The carrying block commits to exactly the evidence poa recorded for
	// it: the block JSON has no evidence field, so its header is rebuilt
	// with the evidence hash of the recorded pairs, which must give the
	// block's hash (and without it, must not).
	var atBlock []evidenceRecord
	getJSONTest(t, fmt.Sprintf("%s/v1/apps/poa/evidence/%d", d.net.Nodes[0].API, rec.Committed), &atBlock)
	var evs []chain.Evidence
	for _, r := range atBlock {
		p, ok := pairs[r.Height]
		if r.Validator != offender.String() || !ok {
			t.Fatalf("block %d carries evidence this test did not cause: %+v", rec.Committed, r)
		}
		evs = append(evs, chain.NewDuplicateVote(p[0], p[1]))
	}
	slices.SortFunc(evs, func(a, b chain.Evidence) int { return a.Offence().Compare(b.Offence()) })
	carrier := blockAt(t, d, 0, rec.Committed)
	if got := headerOf(carrier, chain.ComputeEvidenceHash(evs)).Hash(); got != carrier.Hash {
		t.Errorf("block %d: header rebuilt with the evidence hash of %d recorded pairs hashes to %s, the block is %s",
			rec.Committed, len(evs), got, carrier.Hash)
	}
	if headerOf(carrier, chain.Hash{}).Hash() == carrier.Hash {
		t.Errorf("block %d's header commits to no evidence", rec.Committed)
	}
	if before := blockAt(t, d, 0, rec.Committed-1); headerOf(before, chain.Hash{}).Hash() != before.Hash {
		t.Errorf("block %d (no evidence) does not rebuild to its hash: the rebuilt header is wrong", rec.Committed-1)
	}
	if !removalDecided(t, d, offender, rec.Committed, rec.RemovalAt) {
		t.Errorf("poa proposals show no removal of %s decided at %d by evidence, effective at %d", offender, rec.Committed, rec.RemovalAt)
	}

	// Validator 3 leaves the set at the stated height: every view of the
	// set for a height below it holds five, from it on four.
	four := ""
	for k := 0; ; k++ {
		vs := validatorsOf(t, d, running[k%len(running)])
		has := slices.ContainsFunc(vs.Validators, func(v chain.Validator) bool { return v.Address == offender })
		switch {
		case vs.Height < rec.RemovalAt && (!has || len(vs.Validators) != 5):
			t.Fatalf("the set for height %d (before the removal at %d) has %d validators, offender in it: %v", vs.Height, rec.RemovalAt, len(vs.Validators), has)
		case vs.Height >= rec.RemovalAt && (has || len(vs.Validators) != 4 || vs.Quorum != 3):
			t.Fatalf("the set for height %d (from the removal at %d on) has %d validators and quorum %d, offender in it: %v",
				vs.Height, rec.RemovalAt, len(vs.Validators), vs.Quorum, has)
		}
		if vs.Height >= rec.RemovalAt+3 {
			four = setHash(vs.Validators)
			break
		}
		if k > 60 {
			t.Fatalf("the chain did not reach height %d", rec.RemovalAt+3)
		}
		transfer(t, d.nodes[running[k%3]], running[k%3], 1, true)
	}
	checkNoBans(t, d, "after the removal", running...)

	// Headers agree: the block before the removal height is signed by the
	// five, every block from it on by the four, and their commits hold at
	// least a quorum of the four and nothing of validator 3.
	if got := blockAt(t, d, 0, rec.RemovalAt-1).ValidatorsHash.String(); got != setHash(five.Validators) {
		t.Errorf("block %d was not signed by the five-validator set", rec.RemovalAt-1)
	}
	top := d.height(0)
	for h := rec.RemovalAt; h <= top; h++ {
		b := blockAt(t, d, 0, h)
		if b.ValidatorsHash.String() != four {
			t.Errorf("block %d's validators hash is not the four-validator set's", h)
		}
		if b.Commit == nil || len(b.Commit.Signatures) < 3 {
			t.Fatalf("block %d has no commit of a quorum of the four", h)
		}
		for _, s := range b.Commit.Signatures {
			if s.Validator == offender {
				t.Errorf("block %d's commit has a signature of the removed validator", h)
			}
		}
	}

	// Blocks keep coming with four validators, the same on every node.
	for k := 0; k < 3; k++ {
		transfer(t, d.nodes[running[k]], running[k], 1, true)
	}
	d.waitHeight(t, top+3, 30*time.Second, running...)
	d.checkSameChain(t, running...)
	checkNoBans(t, d, "at the end", running...)
	if listed, ok := lists(d, 0, attacker.ID()); !ok || !listed || !hasPeer(attacker, node0) {
		t.Errorf("the peer that relayed the equivocation is no longer connected to node0 (listed %v)", listed)
	}
}

// voteInFifthValidator follows TestDevnetAddsAValidator: a full node joins
// (as node index 4), validators 0, 1 and 2 vote it in with `citychain tx
// poa propose --add`, and it returns once the set has five validators and
// the newcomer signed a commit.
func voteInFifthValidator(t *testing.T, d *devnetProc) chain.Address {
	t.Helper()
	newcomer := joinFullNode(t, d)
	vk, err := node.LoadValidatorKey(filepath.Join(d.net.Nodes[4].Home, node.ValidatorKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	addr := chain.AddressOf(vk.PublicKey())
	pub := hex.EncodeToString(vk.PublicKey().Bytes())
	var out string
	for i := 0; i < 3; i++ {
		out = run(t, "tx", "poa", "propose", "--home", d.net.Nodes[i].Home, "--node", d.net.Nodes[i].API,
			"--from", "validator", "--add", addr.String(), "--pubkey", pub, "--wait")
	}
	if !strings.Contains(out, "ok") {
		t.Fatalf("the third vote: %s", out)
	}
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		vs := validatorsOf(t, d, 0)
		if len(vs.Validators) == 5 && signedBy(t, d, d.height(0)-1, addr) {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("within 60 s the newcomer %s did not sign a commit (%d validators)\n%s", addr, len(vs.Validators), newcomer.output())
		}
		transfer(t, d.nodes[i%3], i%3, 1, true)
	}
}

// equivocate publishes, from the attacker's host, two prevotes of key for
// height, round 0, naming two different blocks, and returns them.
func equivocate(t *testing.T, h *p2p.Host, chainID string, key *crypto.PrivateKey, height uint64) [2]chain.Vote {
	t.Helper()
	var pair [2]chain.Vote
	for i := range pair {
		v := chain.Vote{ChainID: chainID, Type: chain.Prevote, Height: height, Round: 0, BlockHash: randomHash(),
			Validator: chain.AddressOf(key.PublicKey())}
		v.Sign(key)
		pair[i] = v
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := h.PublishConsensus(ctx, chain.MustEncode(&chain.ConsensusMessage{Vote: &v}))
		cancel()
		if err != nil {
			t.Fatalf("publish prevote %d for height %d: %v", i, height, err)
		}
	}
	return pair
}

// evidenceRecord is one offence in GET /v1/apps/poa/evidence.
type evidenceRecord struct {
	Validator  string `json:"validator"`
	Height     uint64 `json:"height"`
	Round      uint64 `json:"round"`
	Type       uint64 `json:"type"`
	Kind       string `json:"kind"`
	Hash       string `json:"evidence_hash"`
	Committed  uint64 `json:"committed_at"`
	RemovalAt  uint64 `json:"removal_at"`
	NotRemoved string `json:"not_removed"`
}

// evidenceAgainst returns node i's first recorded offence of v, if any.
func evidenceAgainst(t *testing.T, d *devnetProc, i int, v chain.Address) (evidenceRecord, bool) {
	t.Helper()
	var recs []evidenceRecord
	getJSONTest(t, d.net.Nodes[i].API+"/v1/apps/poa/evidence", &recs)
	for _, r := range recs {
		if r.Validator == v.String() {
			return r, true
		}
	}
	return evidenceRecord{}, false
}

// removalDecided reports whether poa's proposals hold a removal of v
// decided at height by evidence and effective at effective.
func removalDecided(t *testing.T, d *devnetProc, v chain.Address, height, effective uint64) bool {
	t.Helper()
	var props []struct {
		Op        string `json:"op"`
		Address   string `json:"address"`
		DecidedAt uint64 `json:"decided_at"`
		Effective uint64 `json:"effective_at"`
		Cause     string `json:"cause"`
	}
	getJSONTest(t, d.net.Nodes[0].API+"/v1/apps/poa/proposals", &props)
	for _, p := range props {
		if p.Op == "remove" && p.Address == v.String() && p.DecidedAt == height && p.Effective == effective &&
			strings.HasPrefix(p.Cause, "evidence") {
			return true
		}
	}
	return false
}

func validatorsOf(t *testing.T, d *devnetProc, i int) node.ValidatorsView {
	t.Helper()
	var vs node.ValidatorsView
	getJSONTest(t, d.net.Nodes[i].API+"/v1/validators", &vs)
	return vs
}

// setHash is the validators hash a header carries for the set vals.
func setHash(vals []chain.Validator) string {
	return (&chain.ValidatorSet{Validators: vals}).Hash().String()
}

func blockAt(t *testing.T, d *devnetProc, i int, h uint64) *node.BlockView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := d.nodes[i].Block(ctx, fmt.Sprint(h))
	if err != nil {
		t.Fatalf("node%d block %d: %v", i, h, err)
	}
	return b
}

// headerOf rebuilds the header of a block from its JSON, with the given
// evidence hash, which the JSON does not show.
func headerOf(b *node.BlockView, evidenceHash chain.Hash) *chain.Header {
	return &chain.Header{ChainID: b.ChainID, Height: b.Height, Time: b.Time.UnixMilli(), PrevHash: b.PrevHash,
		TxRoot: b.TxRoot, StateRoot: b.StateRoot, ReceiptsRoot: b.ReceiptsRoot, Proposer: b.Proposer,
		ValidatorsHash: b.ValidatorsHash, LastCommitHash: b.LastCommitHash, EvidenceHash: evidenceHash}
}

// signedBy reports whether block h's commit holds a signature of v.
func signedBy(t *testing.T, d *devnetProc, h uint64, v chain.Address) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := d.nodes[0].Block(ctx, fmt.Sprint(h))
	if err != nil || b.Commit == nil {
		return false
	}
	return slices.ContainsFunc(b.Commit.Signatures, func(s node.CommitSigV) bool { return s.Validator == v })
}

// checkNoBans fails the test if any listed node has banned a peer.
func checkNoBans(t *testing.T, d *devnetProc, when string, nodes ...int) {
	t.Helper()
	for _, i := range nodes {
		var out struct {
			Banned []string `json:"banned"`
		}
		getJSONTest(t, d.net.Nodes[i].API+"/v1/peers", &out)
		if len(out.Banned) > 0 {
			t.Errorf("%s: node%d has banned %v\n%s", when, i, out.Banned, grepLog(d.net.Nodes[i].Home, "bann", 10))
		}
	}
}

func mapsKeys[V any](m map[uint64]V) []uint64 {
	var out []uint64
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
