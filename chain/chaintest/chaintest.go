package chaintest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/state"
)

// ChainID is the chain id of every test chain.
const ChainID = "citychain-test"

// Chain is an in-memory chain.
type Chain struct {
	Exec   *chain.Executor
	Height uint64
	Time   time.Time
	Root   chain.Hash
	// BlockEvents are the block-level events of the latest block
	// (chain.Result.BlockEvents): evidence handling, EndBlock hooks and
	// validator-set changes.
	BlockEvents []chain.Event

	kv      chain.MemReader          // latest state
	nodes   memNodes                 // Merkle tree nodes
	pending map[chain.Address]uint64 // txs built since the last block
}

type memNodes map[string][]byte

func (m memNodes) Get(k []byte) ([]byte, error) { return m[string(k)], nil }

// New starts a chain with the given apps and genesis app state (app name
// to JSON), validated by one key named "validator".
func New(apps []chain.App, appState map[string]any) (*Chain, error) {
	return NewWithValidators(apps, appState, "validator")
}

// NewWithValidators is New with validators named by words (Key(name)),
// each with power 1.
func NewWithValidators(apps []chain.App, appState map[string]any, validators ...string) (*Chain, error) {
	return newChain(apps, appState, nil, validators)
}

// NewWithParams is New with the genesis file's params set to p (a work
// limit, say).
func NewWithParams(apps []chain.App, appState map[string]any, p chain.ExecParams) (*Chain, error) {
	return newChain(apps, appState, &p, []string{"validator"})
}

func newChain(apps []chain.App, appState map[string]any, params *chain.ExecParams, validators []string) (*Chain, error) {
	c := &Chain{kv: chain.MemReader{}, nodes: memNodes{}, pending: map[chain.Address]uint64{},
		Time: time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)}
	tree := state.NewTree(state.Config{Store: c.nodes})
	exec, err := chain.NewExecutor(chain.ExecConfig{ChainID: ChainID, Apps: apps, Tree: tree})
	if err != nil {
		return nil, err
	}
	c.Exec = exec
	g := &chain.Genesis{ChainID: ChainID, GenesisTime: c.Time, Params: params, AppState: map[string]json.RawMessage{}}
	for _, name := range validators {
		pub := Key(name).PublicKey()
		g.Validators = append(g.Validators, chain.GenesisValidator{Name: name, Address: chain.AddressOf(pub),
			PubKey: fmt.Sprintf("%x", pub.Bytes()), Power: 1})
	}
	for name, v := range appState {
		g.AppState[name] = chain.MustJSON(v)
	}
	res, err := exec.InitChain(g)
	if err != nil {
		return nil, err
	}
	c.apply(res)
	return c, nil
}

// Key returns a deterministic key named by a word, so that tests can
// speak of "alice" and "bob".
func Key(name string) *crypto.PrivateKey {
	for i := 0; ; i++ {
		h := chain.Sum([]byte(fmt.Sprintf("chaintest key %s %d", name, i)))
		if k, err := crypto.PrivateKeyFromBytes(h[:]); err == nil {
			return k
		}
	}
}

// Addr returns the address of Key(name).
func Addr(name string) chain.Address { return chain.AddressOf(Key(name).PublicKey()) }

// Tx builds a signed transaction from the key with the sender's next
// nonce (counting transactions built since the last block), without
// sending it.
func (c *Chain) Tx(key *crypto.PrivateKey, app, action string, payload any) ([]byte, error) {
	p, err := chain.EncodePayload(payload)
	if err != nil {
		return nil, err
	}
	addr := chain.AddressOf(key.PublicKey())
	n, err := chain.Nonce(c.kv, addr)
	if err != nil {
		return nil, err
	}
	tx := &chain.Tx{ChainID: ChainID, App: app, Action: action, Payload: p, Nonce: n + c.pending[addr]}
	tx.Sign(key)
	c.pending[addr]++
	return tx.Encode(), nil
}

// Block applies a block of raw transactions and returns its receipts.
// The block time advances by one second per block.
func (c *Chain) Block(txs ...[]byte) ([]chain.Receipt, error) {
	return c.BlockWithEvidence(nil, txs...)
}

// BlockWithEvidence is Block for a block that also carries evidence. As
// in the executor, the evidence's signatures are not checked here: a node
// checks them against the validator set of the offence's height before
// it votes for the block.
func (c *Chain) BlockWithEvidence(evs []chain.Evidence, txs ...[]byte) ([]chain.Receipt, error) {
	clear(c.pending)
	c.Height++
	c.Time = c.Time.Add(time.Second)
	info := chain.BlockInfo{ChainID: ChainID, Height: c.Height, Time: c.Time, Evidence: evs}
	res, err := c.Exec.Execute(c.kv, c.Root, info, txs)
	if err != nil {
		c.Height--
		return nil, err
	}
	c.apply(res)
	c.BlockEvents = res.BlockEvents
	return res.Receipts, nil
}

// Do sends one transaction in its own block and returns its receipt, or
// the block error. A failed receipt is returned as an error too, so tests
// can write `if err := c.Do(...); err != nil`.
func (c *Chain) Do(key *crypto.PrivateKey, app, action string, payload any) (chain.Receipt, error) {
	raw, err := c.Tx(key, app, action, payload)
	if err != nil {
		return chain.Receipt{}, err
	}
	rs, err := c.Block(raw)
	if err != nil {
		return chain.Receipt{}, err
	}
	if rs[0].Status != chain.StatusOK {
		return rs[0], fmt.Errorf("tx failed: %s", rs[0].Error)
	}
	return rs[0], nil
}

// Query asks an app a question about the latest state. path is the URL
// path after /v1/apps/{app}/, e.g. "balance/city1...".
func (c *Chain) Query(app, path string, args map[string]string) (any, error) {
	a, ok := c.Exec.App(app)
	if !ok {
		return nil, fmt.Errorf("%w: %s", chain.ErrUnknownApp, app)
	}
	h := chain.Header{ChainID: ChainID, Height: c.Height, Time: c.Time.UnixMilli(), StateRoot: c.Root}
	tree := state.NewTree(state.Config{Store: c.nodes})
	prove := func(key []byte) (any, error) { return tree.Prove(state.Hash(c.Root), key) }
	return a.Query(chain.NewQueryContext(app, ChainID, &h, c.kv, prove), strings.Split(path, "/"), args)
}

// Validators returns the set that validates the next block.
func (c *Chain) Validators() (*chain.ValidatorSet, error) { return chain.LoadValidators(c.kv) }

// State returns the latest state, for invariant checks over all keys.
func (c *Chain) State() chain.Reader { return c.kv }

func (c *Chain) apply(res *chain.Result) {
	for _, w := range res.TreeWrites {
		c.nodes[string(w.Key)] = w.Value
	}
	for _, ch := range res.Changes {
		if ch.Value == nil {
			delete(c.kv, string(ch.Key))
		} else {
			c.kv[string(ch.Key)] = ch.Value
		}
	}
	c.Root = res.StateRoot
}
