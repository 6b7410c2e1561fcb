package node

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/citychain/citychain/chain"
)

// Evidence pool scenarios with the development validators 0..3. Validator
// 3 was voted out at height 6: the set of heights 1..6 is {0,1,2,3}, from
// height 7 on it is {0,1,2}.

const evChain = "citychain-evidence-test"

func devSet(t testing.TB, ids ...int) *chain.ValidatorSet {
	t.Helper()
	var vals []chain.Validator
	for _, i := range ids {
		pub := DevValidatorKey(i).PublicKey()
		vals = append(vals, chain.Validator{Address: chain.AddressOf(pub), PubKey: pub.Bytes(), Power: 1})
	}
	vs, err := chain.NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// history is valsAt for the scenario, counting its calls.
type history struct {
	before, after *chain.ValidatorSet
	calls         int
}

func newHistory(t testing.TB) *history {
	return &history{before: devSet(t, 0, 1, 2, 3), after: devSet(t, 0, 1, 2)}
}

func (h *history) valsAt(height uint64) (*chain.ValidatorSet, error) {
	h.calls++
	if height <= 6 {
		return h.before, nil
	}
	return h.after, nil
}

func devAddr(i int) chain.Address { return chain.AddressOf(DevValidatorKey(i).PublicKey()) }

// devVote is validator who's vote of typ at height and round for the block
// named by block, signed by signer.
func devVote(who, signer int, typ chain.VoteType, height uint64, round uint32, block string) chain.Vote {
	v := chain.Vote{ChainID: evChain, Type: typ, Height: height, Round: round, BlockHash: chain.Sum([]byte(block)),
		Validator: devAddr(who)}
	v.Sign(DevValidatorKey(signer))
	return v
}

// doublePrevote is who's two prevotes at height, round 0.
func doublePrevote(who int, height uint64) chain.Evidence {
	return chain.NewDuplicateVote(devVote(who, who, chain.Prevote, height, 0, "x"), devVote(who, who, chain.Prevote, height, 0, "y"))
}

// doubleProposal is who's two proposals at height, round 0.
func doubleProposal(who int, height uint64) chain.Evidence {
	p := func(block string) chain.EvidenceProposal {
		x := chain.EvidenceProposal{Height: height, BlockHash: chain.Sum([]byte(block)), POLRound: -1, Proposer: devAddr(who)}
		x.Sign(evChain, DevValidatorKey(who))
		return x
	}
	return chain.NewConflictingProposal(p("x"), p("y"))
}

func TestEvidenceIsJudgedByTheSetOfTheOffenceHeight(t *testing.T) {
	h := newHistory(t)
	p := newEvidencePool(9, 10)
	// Validator 3 double-prevoted at height 4, while a member; it was voted
	// out since, and is still charged.
	if err := p.add(doublePrevote(3, 4), h.valsAt, evChain); err != nil {
		t.Fatalf("evidence against a member of its height: %v", err)
	}
	// The same validator's statements at height 8, when it was no member,
	// prove nothing.
	if err := p.add(doublePrevote(3, 8), h.valsAt, evChain); !errors.Is(err, chain.ErrInvalidEvidence) {
		t.Fatalf("evidence against a non-member of its height: %v", err)
	}
	if err := p.add(doubleProposal(2, 8), h.valsAt, evChain); err != nil {
		t.Fatalf("a double proposal: %v", err)
	}
	if p.size() != 2 {
		t.Fatalf("size %d", p.size())
	}
}

func TestEvidencePoolRefusals(t *testing.T) {
	h := newHistory(t)
	p := newEvidencePool(9, 10)
	if err := p.add(doublePrevote(0, 5), h.valsAt, evChain); err != nil {
		t.Fatal(err)
	}
	otherChain := doublePrevote(1, 5)
	otherChain.DuplicateVote.A.ChainID, otherChain.DuplicateVote.B.ChainID = "other", "other"
	storeDown := func(uint64) (*chain.ValidatorSet, error) { return nil, errors.New("store is closed") }
	cases := []struct {
		name   string
		ev     chain.Evidence
		valsAt func(uint64) (*chain.ValidatorSet, error)
		want   error // nil: valsAt's own error
	}{
		{"a vote signed by someone else", chain.NewDuplicateVote(devVote(1, 1, chain.Prevote, 5, 0, "x"), devVote(1, 2, chain.Prevote, 5, 0, "y")),
			h.valsAt, chain.ErrInvalidEvidence},
		{"two identical votes", chain.NewDuplicateVote(devVote(1, 1, chain.Prevote, 5, 0, "x"), devVote(1, 1, chain.Prevote, 5, 0, "x")),
			h.valsAt, chain.ErrInvalidEvidence},
		{"evidence for another chain", otherChain, h.valsAt, chain.ErrWrongChain},
		{"the same pair again", doublePrevote(0, 5), h.valsAt, errEvidenceKnown},
		{"another pair for the same offence", chain.NewDuplicateVote(devVote(0, 0, chain.Prevote, 5, 0, "x"), devVote(0, 0, chain.Prevote, 5, 0, "z")),
			h.valsAt, errEvidenceKnown},
		{"an offence above the height being decided", doublePrevote(1, 11), h.valsAt, errEvidenceEarly},
		{"no validator set", doublePrevote(2, 5), storeDown, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := p.add(tc.ev, tc.valsAt, evChain)
			if tc.want == nil {
				if err == nil || errors.Is(err, chain.ErrInvalidEvidence) {
					t.Fatalf("add = %v, want the store's error", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("add = %v, want %v", err, tc.want)
			}
		})
	}
	if p.size() != 1 {
		t.Fatalf("size %d after refusals", p.size())
	}
	// The offence at the height being decided (10) is judged already.
	if err := p.add(doublePrevote(1, 10), h.valsAt, evChain); err != nil {
		t.Fatalf("an offence at the height being decided: %v", err)
	}
}

func TestEvidencePoolIsBounded(t *testing.T) {
	h := newHistory(t)
	p := newEvidencePool(9, 2)
	for i, ev := range []chain.Evidence{doublePrevote(0, 3), doublePrevote(1, 3)} {
		if err := p.add(ev, h.valsAt, evChain); err != nil {
			t.Fatalf("evidence %d: %v", i, err)
		}
	}
	if err := p.add(doublePrevote(2, 3), h.valsAt, evChain); !errors.Is(err, errEvidencePoolFull) {
		t.Fatalf("add to a full pool = %v", err)
	}
}

// One validator's offences fill at most maxPendingPerValidator places,
// refused before any signature is checked; other validators' offences
// still find room.
func TestEvidencePoolBoundsEachValidator(t *testing.T) {
	h := newHistory(t)
	p := newEvidencePool(9, 100)
	lookups := 0
	valsAt := func(height uint64) (*chain.ValidatorSet, error) {
		lookups++
		return h.valsAt(height)
	}
	for height := uint64(1); height <= maxPendingPerValidator; height++ {
		if err := p.add(doublePrevote(0, height), valsAt, evChain); err != nil {
			t.Fatalf("offence %d of validator 0: %v", height, err)
		}
	}
	before := lookups
	if err := p.add(doublePrevote(0, maxPendingPerValidator+1), valsAt, evChain); !errors.Is(err, errEvidenceEnough) {
		t.Fatalf("one offence more of validator 0: %v, want errEvidenceEnough", err)
	}
	if lookups != before {
		t.Fatal("the refused offence was verified first")
	}
	if err := p.add(doublePrevote(1, 5), valsAt, evChain); err != nil {
		t.Fatalf("validator 1's offence: %v", err)
	}
}

func TestEvidencePendingIsInOffenceOrderAndFitsTheBlock(t *testing.T) {
	h := newHistory(t)
	p := newEvidencePool(9, 100)
	evs := []chain.Evidence{doublePrevote(2, 5), doubleProposal(1, 3), doublePrevote(0, 10), doublePrevote(1, 5), doublePrevote(3, 2)}
	for _, ev := range evs {
		if err := p.add(ev, h.valsAt, evChain); err != nil {
			t.Fatal(err)
		}
	}
	offences := func(evs []chain.Evidence) string {
		out := ""
		for _, e := range evs {
			out += fmt.Sprintf("%d ", e.Height())
		}
		return out
	}
	got := p.pending(10, 100)
	// The offence at height 10 waits for block 11.
	if offences(got) != "2 3 5 5 " {
		t.Fatalf("pending for block 10: heights %s", offences(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].Offence().Compare(got[i].Offence()) >= 0 {
			t.Fatalf("pending out of order at %d", i)
		}
	}
	if again := p.pending(10, 100); offences(again) != offences(got) || again[2].Hash() != got[2].Hash() {
		t.Fatal("pending is not deterministic")
	}
	if two := p.pending(10, 2); offences(two) != "2 3 " {
		t.Fatalf("pending(10, 2): heights %s", offences(two))
	}
	if all := p.pending(11, 100); len(all) != 5 {
		t.Fatalf("pending for block 11: %d pieces", len(all))
	}
	// Block 3+MaxEvidenceAge may carry the offence at 3, not the one at 2.
	if late := p.pending(3+chain.MaxEvidenceAge, 100); offences(late) != "3 5 5 10 " {
		t.Fatalf("pending for block %d: heights %s", 3+chain.MaxEvidenceAge, offences(late))
	}
}

func TestEvidenceCommittedLeavesThePoolAndIsNotTakenAgain(t *testing.T) {
	h := newHistory(t)
	p := newEvidencePool(9, 100)
	a, b := doublePrevote(0, 5), doubleProposal(1, 6)
	for _, ev := range []chain.Evidence{a, b} {
		if err := p.add(ev, h.valsAt, evChain); err != nil {
			t.Fatal(err)
		}
	}
	p.committed(10, []chain.Evidence{a})
	if got := p.pending(11, 10); len(got) != 1 || got[0].Hash() != b.Hash() {
		t.Fatalf("pending after commit: %d pieces", len(got))
	}
	if err := p.add(a, h.valsAt, evChain); !errors.Is(err, errEvidenceKnown) {
		t.Fatalf("a committed offence again: %v", err)
	}
	// Once no block may carry them, pending and committed offences are
	// forgotten, and anything that old is refused as expired.
	p.committed(6+chain.MaxEvidenceAge, nil)
	if p.size() != 0 || len(p.done) != 0 {
		t.Fatalf("after expiry: %d pending, %d remembered", p.size(), len(p.done))
	}
	if err := p.add(a, h.valsAt, evChain); !errors.Is(err, errEvidenceExpired) {
		t.Fatalf("an expired offence: %v", err)
	}
}

func TestEvidenceMemoryOfCommittedOffencesIsBounded(t *testing.T) {
	p := newEvidencePool(100, 1)
	var evs []chain.Evidence
	for h := uint64(1); h <= 6; h++ {
		evs = append(evs, doublePrevote(0, h))
	}
	p.committed(101, evs)
	if len(p.done) != 4 {
		t.Fatalf("%d committed offences remembered, want 4", len(p.done))
	}
	if _, ok := p.done[doublePrevote(0, 6).Offence()]; !ok {
		t.Fatal("the newest committed offence was forgotten")
	}
}

func TestEvidenceOfABlockIsVerifiedOnceEach(t *testing.T) {
	h := newHistory(t)
	p := newEvidencePool(9, 10)
	pooled, fresh := doublePrevote(0, 5), doubleProposal(1, 6)
	if err := p.add(pooled, h.valsAt, evChain); err != nil {
		t.Fatal(err)
	}
	h.calls = 0
	if err := p.verifyBlock(evChain, []chain.Evidence{pooled, fresh}, h.valsAt); err != nil {
		t.Fatal(err)
	}
	if h.calls != 1 {
		t.Fatalf("%d validator-set reads; the pooled evidence was verified again", h.calls)
	}
	forged := chain.NewDuplicateVote(devVote(2, 2, chain.Prevote, 5, 0, "x"), devVote(2, 1, chain.Prevote, 5, 0, "y"))
	if err := p.verifyBlock(evChain, []chain.Evidence{fresh, forged}, h.valsAt); !errors.Is(err, chain.ErrInvalidBlock) || !errors.Is(err, chain.ErrInvalidEvidence) {
		t.Fatalf("a block with forged evidence: %v", err)
	}
	// Validator 3 was no member at height 8.
	if err := p.verifyBlock(evChain, []chain.Evidence{doublePrevote(3, 8)}, h.valsAt); !errors.Is(err, chain.ErrInvalidBlock) {
		t.Fatalf("evidence against a non-member: %v", err)
	}
	down := func(uint64) (*chain.ValidatorSet, error) { return nil, errors.New("store is closed") }
	if err := p.verifyBlock(evChain, []chain.Evidence{fresh}, down); err == nil || errors.Is(err, chain.ErrInvalidBlock) {
		t.Fatalf("a missing validator set made the block invalid: %v", err)
	}
}

func TestEvidencePoolIsSafeForConcurrentUse(t *testing.T) {
	h := newHistory(t)
	before, after := h.before, h.after
	valsAt := func(height uint64) (*chain.ValidatorSet, error) {
		if height <= 6 {
			return before, nil
		}
		return after, nil
	}
	p := newEvidencePool(9, 100)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for height := uint64(1); height <= 6; height++ {
				_ = p.add(doublePrevote(i, height), valsAt, evChain)
				_ = p.pending(10, 50)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.committed(9, []chain.Evidence{doublePrevote(0, 1)})
	}()
	wg.Wait()
	// 24 offences, less the one committed, whether it came before or after.
	if n := p.size(); n != 23 {
		t.Fatalf("size %d, want 23", n)
	}
}
