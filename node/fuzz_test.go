package node

// Fuzz targets for the bytes a node takes from peers and from its home:
// gossiped transactions and batches, consensus messages, the block and
// commit frames of a sync answer, and config.toml. The property of each:
// no input panics; bad input is an error; what is accepted is what was
// sent (it re-encodes to the same bytes) and passes the checks it claims
// to have passed. Run one for a while with
//
//	go test ./node/ -run '^$' -fuzz FuzzGossipTx -fuzztime 30s
//
// (`make fuzz` runs every target of the tree). The seeds run as ordinary
// tests on every `go test`.

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/p2p"
	"github.com/pelletier/go-toml/v2"
)

// fuzzNode is a dev node with one committed block, not started: its
// gossip validators and sync decoding work on their own.
func fuzzNode(tb testing.TB) *Node {
	tb.Helper()
	home := tb.TempDir()
	if _, err := InitDevHome(home, 0, time.Now()); err != nil {
		tb.Fatal(err)
	}
	cfg, err := LoadConfig(home)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := New(Options{Home: home, Config: cfg, Logger: discardLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Stop() })
	if _, err := n.Submit(sendTx(tb, DevKey(0), n.ChainID(), 0, DevAccounts()[9].Address, 1)); err != nil {
		tb.Fatal(err)
	}
	if _, err := n.makeBlock(false); err != nil {
		tb.Fatal(err)
	}
	return n
}

func FuzzGossipTx(f *testing.F) {
	n := fuzzNode(f)
	to := DevAccounts()[9].Address
	one := sendTx(f, DevKey(1), n.ChainID(), 0, to, 1).Encode()
	two := sendTx(f, DevKey(1), n.ChainID(), 1, to, 1).Encode()
	forged := sendTx(f, DevKey(2), n.ChainID(), 0, to, 1)
	forged.Signature[3] ^= 1
	// The good seeds are accepted, so the properties below are exercised;
	// a forged signature is refused alone and in a batch of good ones.
	for _, good := range [][]byte{one, chain.EncodeTxBatch([][]byte{one, two})} {
		if _, err := n.validateGossipTx(good); err != nil {
			f.Fatalf("a good seed refused: %v", err)
		}
	}
	for _, bad := range [][]byte{forged.Encode(), chain.EncodeTxBatch([][]byte{one, forged.Encode()})} {
		if _, err := n.validateGossipTx(bad); err == nil {
			f.Fatal("a transaction with a forged signature was accepted")
		}
	}
	f.Add(one)
	f.Add(chain.EncodeTxBatch([][]byte{one, two}))
	f.Add(chain.EncodeTxBatch([][]byte{one, forged.Encode()}))
	f.Add(chain.EncodeTxBatch([][]byte{{0xa0}}))
	f.Add([]byte{0x80})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		checked, err := n.validateGossipTx(data)
		if err != nil {
			return
		}
		// Accepted: data is exactly the transactions it carries, each
		// canonical, hashed and signed by its sender; and after delivery
		// each can be served to a peer that asks for it.
		txs, ok := checked.([]gossipTx)
		if !ok || len(txs) == 0 {
			t.Fatalf("accepted with %T holding %d transactions", checked, len(txs))
		}
		raws := make([][]byte, len(txs))
		for i, x := range txs {
			raws[i] = x.raw
			if x.tx == nil || !bytes.Equal(x.tx.Encode(), x.raw) || x.h != chain.Sum(x.raw) {
				t.Fatalf("transaction %d accepted without re-encoding to its bytes or without its hash", i)
			}
			if err := x.tx.ValidateBasic(n.ChainID()); err != nil {
				t.Fatalf("transaction %d accepted, but its own check fails: %v", i, err)
			}
		}
		if whole := chain.EncodeTxBatch(raws); chain.IsTxBatch(data) && !bytes.Equal(whole, data) ||
			!chain.IsTxBatch(data) && (len(raws) != 1 || !bytes.Equal(raws[0], data)) {
			t.Fatalf("accepted %d transactions that do not make up the %d bytes received", len(raws), len(data))
		}
		n.onGossipTx("", data, checked)
		for i, x := range txs {
			if n.pool.Lookup(x.h) == nil {
				t.Fatalf("transaction %d delivered, but neither pooled nor remembered", i)
			}
		}
	})
}

func FuzzGossipConsensus(f *testing.F) {
	n := fuzzNode(f)
	vs, err := chain.LoadValidators(n.store)
	if err != nil {
		f.Fatal(err)
	}
	h := n.store.Latest().Height + 1
	n.current.Store(&heightSet{height: h, vals: vs})
	for _, typ := range []chain.VoteType{chain.Prevote, chain.Precommit} {
		v := &chain.Vote{ChainID: n.ChainID(), Type: typ, Height: h, BlockHash: chain.Sum([]byte("b")), Validator: n.valAddr}
		v.Sign(n.key)
		good := (&chain.ConsensusMessage{Vote: v}).Encode()
		if _, err := n.validateGossipConsensus(good); err != nil {
			f.Fatalf("a member's signed %v: %v, want it accepted", typ, err)
		}
		f.Add(good)
		f.Add((&chain.ConsensusMessage{Vote: v, Resend: 3}).Encode())
	}
	// A vote whose signature is broken, for the height being decided and
	// in the name of a member, is rejected, not only ignored.
	bad := &chain.Vote{ChainID: n.ChainID(), Type: chain.Prevote, Height: h, BlockHash: chain.Sum([]byte("b")), Validator: n.valAddr}
	bad.Sign(n.key)
	bad.Signature[3] ^= 1
	if _, err := n.validateGossipConsensus((&chain.ConsensusMessage{Vote: bad}).Encode()); err == nil || errors.Is(err, p2p.ErrIgnore) {
		f.Fatalf("a member's vote with a forged signature: %v, want a rejection", err)
	}
	f.Add((&chain.ConsensusMessage{Vote: bad}).Encode())
	f.Add([]byte{0xa1, 0x64, 'v', 'o', 't', 'e', 0xa0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		checked, err := n.validateGossipConsensus(data)
		if err != nil {
			return
		}
		// Accepted: the message re-encodes to the bytes received, is for
		// the height being decided or the next, and is a member's, signed.
		m, ok := checked.(*chain.ConsensusMessage)
		if !ok || m == nil {
			t.Fatalf("accepted with %T", checked)
		}
		if !bytes.Equal(m.Encode(), data) {
			t.Fatal("an accepted message does not re-encode to the bytes received")
		}
		if m.Height() != h && m.Height() != h+1 {
			t.Fatalf("accepted a message for height %d while deciding %d", m.Height(), h)
		}
		if err := judgeAtHeight(n.ChainID(), vs, m); err != nil {
			t.Fatalf("accepted a message its validator set does not: %v", err)
		}
		n.onGossipConsensus("", data, checked) // no engine: dropped
	})
}

func FuzzSyncAnswerDecode(f *testing.F) {
	n := fuzzNode(f)
	b, err := n.store.Block(1)
	if err != nil {
		f.Fatal(err)
	}
	c, err := n.store.Commit(1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b.Encode(), chain.MustEncode(c))
	f.Add(b.Encode(), []byte{0xa0})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, block, commit []byte) {
		sb := &syncBlock{height: 1, raw: [2][]byte{block, commit}}
		sb.decode()
		if sb.decodeErr == nil && (sb.block == nil || sb.commit == nil) {
			t.Fatal("decoded without error but without a block and a commit")
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	def, err := toml.Marshal(DefaultConfig("node0", 8700))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(def)
	f.Add([]byte("[api]\nlisten = '127.0.0.1:8800'\nclient_rate = 0\ncors_origins = ['*']\n"))
	f.Add([]byte("[consensus]\ntimeout_propose = 'forever'\n"))
	f.Add([]byte("moniker = 1\n"))
	f.Add([]byte("[[api]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("ParseConfig returned a config that does not validate: %v", err)
		}
	})
}
