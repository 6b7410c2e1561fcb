package node

// Fuzz targets for the bytes a node takes from peers and from its home:
// gossiped transactions and batches, consensus messages, the block and
// commit frames of a sync answer, and config.toml. The property of each:
// no input panics; bad input is an error. Run one for a while with
//
//	go test ./node/ -run '^$' -fuzz FuzzGossipTx -fuzztime 30s
//
// (`make fuzz` runs every target of the tree). The seeds run as ordinary
// tests on every `go test`.

import (
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
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
	f.Add(one)
	f.Add(chain.EncodeTxBatch([][]byte{one, two}))
	f.Add(chain.EncodeTxBatch([][]byte{one, forged.Encode()}))
	f.Add(chain.EncodeTxBatch([][]byte{{0xa0}}))
	f.Add([]byte{0x80})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if checked, err := n.validateGossipTx(data); err == nil {
			n.onGossipTx("", data, checked)
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
		f.Add((&chain.ConsensusMessage{Vote: v}).Encode())
		f.Add((&chain.ConsensusMessage{Vote: v, Resend: 3}).Encode())
	}
	f.Add([]byte{0xa1, 0x64, 'v', 'o', 't', 'e', 0xa0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if checked, err := n.validateGossipConsensus(data); err == nil {
			n.onGossipConsensus("", data, checked) // no engine: dropped
		}
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
