package node

import (
	"errors"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// poolTxFor builds a signed transfer with the given nonce.
func poolTxFor(t *testing.T, key *crypto.PrivateKey, nonce uint64) (*chain.Tx, chain.Hash, []byte) {
	t.Helper()
	tx := sendTx(t, key, "pool-test", nonce, chain.Address{1}, 1)
	raw := tx.Encode()
	return tx, chain.Sum(raw), raw
}

func committedAt(n uint64) func() (uint64, error) { return func() (uint64, error) { return n, nil } }

// expect is a check that only looks at the nonce, as the executor's
// CheckTx does first.
func expect(*chain.Tx) AdmitFunc {
	return func(tx *chain.Tx, nonce uint64) error {
		if tx.Nonce != nonce {
			return chain.ErrBadNonce
		}
		return nil
	}
}

func TestMempoolKeepsNoncesConsecutive(t *testing.T) {
	m := NewMempool(100, 1<<20)
	alice := DevKey(0)
	for i := uint64(0); i < 3; i++ {
		tx, h, raw := poolTxFor(t, alice, 5+i)
		if ok, err := m.Add(tx, h, raw, committedAt(5), expect(tx), false); !ok || err != nil {
			t.Fatalf("nonce %d: %v %v", 5+i, ok, err)
		}
	}
	if n, _ := m.NextNonce(chain.AddressOf(alice.PublicKey())); n != 8 {
		t.Fatalf("next nonce %d, want 8", n)
	}
	// A skip and a replay are refused from the API...
	for _, nonce := range []uint64{10, 6} {
		tx := sendTx(t, alice, "pool-test", nonce, chain.Address{2}, 7) // not a duplicate
		raw := tx.Encode()
		h := chain.Sum(raw)
		if _, err := m.Add(tx, h, raw, committedAt(5), expect(tx), false); !errors.Is(err, chain.ErrBadNonce) {
			t.Fatalf("nonce %d: %v, want ErrBadNonce", nonce, err)
		}
	}
	// ...and an exact duplicate is not an error but adds nothing.
	tx, h, raw := poolTxFor(t, alice, 5)
	if ok, err := m.Add(tx, h, raw, committedAt(5), expect(tx), false); ok || err != nil {
		t.Fatalf("duplicate: %v %v", ok, err)
	}
	if got := len(m.Reap(10, 1<<20)); got != 3 {
		t.Fatalf("reaped %d, want 3", got)
	}
}

func TestMempoolHoldsGossipedTxsUntilTheGapCloses(t *testing.T) {
	m := NewMempool(100, 1<<20)
	bob := DevKey(1)
	tx2, h2, raw2 := poolTxFor(t, bob, 2)
	tx1, h1, raw1 := poolTxFor(t, bob, 1)
	tx0, h0, raw0 := poolTxFor(t, bob, 0)
	if ok, err := m.Add(tx2, h2, raw2, committedAt(0), expect(tx2), true); ok || err != nil {
		t.Fatalf("nonce 2 ahead: %v %v", ok, err)
	}
	if ok, err := m.Add(tx1, h1, raw1, committedAt(0), expect(tx1), true); ok || err != nil {
		t.Fatalf("nonce 1 ahead: %v %v", ok, err)
	}
	if m.Size() != 0 {
		t.Fatalf("held transactions are offered to blocks")
	}
	if ok, err := m.Add(tx0, h0, raw0, committedAt(0), expect(tx0), true); !ok || err != nil {
		t.Fatalf("nonce 0: %v %v", ok, err)
	}
	reaped := m.Reap(10, 1<<20)
	if len(reaped) != 3 {
		t.Fatalf("reaped %d, want 3 after the gap closed", len(reaped))
	}
	for i, raw := range reaped {
		tx, _ := chain.DecodeTx(raw)
		if tx.Nonce != uint64(i) {
			t.Fatalf("position %d has nonce %d", i, tx.Nonce)
		}
	}
}

func TestMempoolRefusesWhenFullAndDropsIncluded(t *testing.T) {
	m := NewMempool(2, 1<<20)
	carol := DevKey(2)
	var hashes []chain.Hash
	for i := uint64(0); i < 2; i++ {
		tx, h, raw := poolTxFor(t, carol, i)
		if _, err := m.Add(tx, h, raw, committedAt(0), expect(tx), false); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
	}
	tx, h, raw := poolTxFor(t, carol, 2)
	if _, err := m.Add(tx, h, raw, committedAt(0), expect(tx), false); !errors.Is(err, ErrMempoolFull) {
		t.Fatalf("third tx in a pool of 2: %v", err)
	}
	addr := chain.AddressOf(carol.PublicKey())
	m.Update(hashes[:1], []chain.Address{addr}, func(chain.Address) (uint64, error) { return 1, nil }, nil)
	if m.Size() != 1 || m.Has(hashes[0]) || !m.Has(hashes[1]) {
		t.Fatalf("after the block: size %d", m.Size())
	}
	if ok, err := m.Add(tx, h, raw, committedAt(0), expect(tx), false); !ok || err != nil {
		t.Fatalf("room again: %v %v", ok, err)
	}
}

func TestMempoolDropsWhatAnotherBlockMadeStale(t *testing.T) {
	m := NewMempool(100, 1<<20)
	dave := DevKey(3)
	for i := uint64(0); i < 3; i++ {
		tx, h, raw := poolTxFor(t, dave, i)
		if _, err := m.Add(tx, h, raw, committedAt(0), expect(tx), false); err != nil {
			t.Fatal(err)
		}
	}
	// A block from another proposer used nonces 0 and 1 with other
	// transactions: ours with those nonces are stale, nonce 2 stays.
	addr := chain.AddressOf(dave.PublicKey())
	m.Update(nil, []chain.Address{addr}, func(chain.Address) (uint64, error) { return 2, nil }, nil)
	if m.Size() != 1 {
		t.Fatalf("size %d, want 1", m.Size())
	}
	if n, _ := m.NextNonce(addr); n != 3 {
		t.Fatalf("next nonce %d, want 3", n)
	}
}

func TestMempoolPromotesHeldTxsWhenABlockClosesTheGap(t *testing.T) {
	m := NewMempool(100, 1<<20)
	erin := DevKey(4)
	addr := chain.AddressOf(erin.PublicKey())
	tx1, h1, raw1 := poolTxFor(t, erin, 1)
	if ok, err := m.Add(tx1, h1, raw1, committedAt(0), expect(tx1), true); ok || err != nil {
		t.Fatalf("nonce 1 ahead: %v %v", ok, err)
	}
	// Nonce 0 never reached this node: it came in a block from elsewhere.
	m.Update(nil, []chain.Address{addr}, func(chain.Address) (uint64, error) { return 1, nil }, expect(nil))
	if !m.Has(h1) || m.Size() != 1 {
		t.Fatalf("held tx not promoted after the block: size %d", m.Size())
	}
}

// A held-back transaction whose gap never closes is dropped after
// maxFutureAge blocks; one whose gap closes in time is not.
func TestMempoolDropsHeldTxsThatWaitTooLong(t *testing.T) {
	m := NewMempool(100, 1<<20)
	erin, frank := DevKey(4), DevKey(5)
	late, hl, rawl := poolTxFor(t, erin, 3) // nonces 0 to 2 never come
	if ok, err := m.Add(late, hl, rawl, committedAt(0), expect(late), true); ok || err != nil {
		t.Fatalf("nonce 3 ahead: %v %v", ok, err)
	}
	none := func(chain.Address) (uint64, error) { return 0, nil }
	for i := 0; i < maxFutureAge; i++ {
		m.Update(nil, nil, none, nil)
	}
	if m.Held() != 1 {
		t.Fatalf("held %d after %d blocks, want 1 still waiting", m.Held(), maxFutureAge)
	}
	// Frank's gap closes in time: held now, admitted when nonce 0 arrives.
	f1, h1, raw1 := poolTxFor(t, frank, 1)
	if ok, err := m.Add(f1, h1, raw1, committedAt(0), expect(f1), true); ok || err != nil {
		t.Fatalf("frank's nonce 1 ahead: %v %v", ok, err)
	}
	for i := 0; i < 20; i++ {
		m.Update(nil, nil, none, nil)
	}
	if m.Held() != 1 {
		t.Fatalf("held %d after %d blocks, want only frank's (erin's expired)", m.Held(), maxFutureAge+20)
	}
	f0, h0, raw0 := poolTxFor(t, frank, 0)
	if ok, err := m.Add(f0, h0, raw0, committedAt(0), expect(f0), true); !ok || err != nil {
		t.Fatalf("frank's nonce 0: %v %v", ok, err)
	}
	if !m.Has(h1) || m.Has(hl) || m.Held() != 0 {
		t.Errorf("frank's nonce 1 pooled: %v, erin's nonce 3 pooled: %v, held %d; want true, false, 0", m.Has(h1), m.Has(hl), m.Held())
	}
}

// A transaction that waits through regossip-age blocks, or through
// enough calls of Lingering on a chain that makes no blocks, is offered
// for gossip again, once per such wait, oldest first and at most max at
// a time.
func TestMempoolOffersLingeringTxsAgain(t *testing.T) {
	m := NewMempool(100, 1<<20)
	alice := DevKey(0)
	var hashes []chain.Hash
	for i := uint64(0); i < 3; i++ {
		tx, h, raw := poolTxFor(t, alice, i)
		if ok, err := m.Add(tx, h, raw, committedAt(0), expect(tx), false); !ok || err != nil {
			t.Fatalf("nonce %d: %v %v", i, ok, err)
		}
		hashes = append(hashes, h)
	}
	none := func(chain.Address) (uint64, error) { return 0, nil }
	block := func() { m.Update(nil, nil, none, nil) } // a block with none of them
	const ticks = 100                                 // out of the way until the last part
	if got := m.Lingering(2, ticks, 10); len(got) != 0 {
		t.Fatalf("offered %d transactions that have not waited", len(got))
	}
	block()
	block()
	got := m.Lingering(2, ticks, 2)
	if len(got) != 2 || chain.Sum(got[0]) != hashes[0] || chain.Sum(got[1]) != hashes[1] {
		t.Fatalf("after 2 blocks, max 2: got %d, want the two oldest", len(got))
	}
	// The third is still due; the first two wait again from now.
	if got := m.Lingering(2, ticks, 10); len(got) != 1 || chain.Sum(got[0]) != hashes[2] {
		t.Fatalf("then: got %d, want the third alone", len(got))
	}
	block()
	block()
	if got := m.Lingering(2, ticks, 10); len(got) != 3 {
		t.Fatalf("2 blocks later: got %d, want all 3 again", len(got))
	}
	// No more blocks: after 3 calls all are due again by the count of calls.
	for i := 1; i <= 3; i++ {
		got := m.Lingering(100, 3, 10)
		if want := map[bool]int{true: 3, false: 0}[i == 3]; len(got) != want {
			t.Fatalf("call %d without blocks: got %d, want %d", i, len(got), want)
		}
	}
}
