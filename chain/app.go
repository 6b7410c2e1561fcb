package chain

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// App is one module of the state machine: a bank, a registry, a game. The
// chain routes each transaction to the app it names and knows nothing else
// about it. An app is written against four methods:
//
//   - Name is the app's name in transactions and URLs ("bank").
//   - Check looks at an action and its payload without any state. The
//     mempool runs it before accepting a transaction, so malformed requests
//     are refused at the door. It must be cheap and must not depend on
//     anything but its arguments.
//   - Deliver executes the action against state. Returning an error fails
//     the transaction: its writes are dropped, the receipt says why, and
//     the sender's nonce is still used.
//   - Query answers read-only questions, served at /v1/apps/{name}/{path...}.
//
// Deliver must be deterministic: same state and transaction, same writes,
// events and error text, on every machine. So: read time from ctx, never
// the wall clock; iterate in key order, never over Go maps; no goroutines,
// randomness or floats; check integer overflow. Its store calls are
// metered, and a transaction whose work passes the chain's limit fails
// with ErrWorkLimit (see Work).
//
// Optional behaviour is found by type assertion: GenesisInitializer for initial
// state, EvidenceHandler for evidence of misbehaviour carried in a block,
// EndBlocker for work at the end of every block.
type App interface {
	Name() string
	Check(action string, payload []byte) error
	Deliver(ctx *Context, action string, payload []byte) error
	Query(ctx *QueryContext, path []string, args map[string]string) (any, error)
}

// GenesisInitializer is implemented by apps that have initial state in the genesis
// file, under app_state.{name}.
type GenesisInitializer interface {
	InitGenesis(ctx *Context, raw json.RawMessage) error
}

// EvidenceHandler is implemented by apps that act on evidence of
// misbehaviour (apps/poa). The executor hands each piece of the block's
// evidence, in block order, to every such app, in app order, before the
// block's transactions. The evidence has passed ValidateBasic, but its
// signatures were checked by the node against the validator set of the
// offence's height (the executor cannot read old sets), so the handler
// must not check them against the current set: an offender may have left
// it since. The same offence can arrive again in a later block; handling
// it twice should change nothing.
//
// A handler runs in a write cache of its own, like a transaction: if it
// returns an error or panics, its writes are dropped, an
// "evidence_failed" block event records the error, and the block still
// applies. Only a storage fault aborts the block.
type EvidenceHandler interface {
	HandleEvidence(ctx *Context, ev Evidence) error
}

// EndBlocker is implemented by apps that act at the end of each block
// (timeouts, scheduled releases), after the transactions. EndBlock runs in
// a write cache of its own: if it returns an error or panics, its writes
// are dropped, an "end_block_failed" block event with the error text
// records it (Result.BlockEvents), and the block still applies, the same
// way on every node. So a bug in one app's hook cannot halt the chain, but
// it can silently stop the app's scheduled work: it should only fail on a
// broken invariant. Only a storage fault aborts the block.
//
// Block hooks (EndBlock, HandleEvidence, NextValidators) and InitGenesis
// have their work counted but not limited; see Work for why. An app must
// bound their cost itself, for example by indexing scheduled work by
// height and reading only what is due.
type EndBlocker interface {
	EndBlock(ctx *Context) error
}

// ValidatorGovernor is implemented by the one app that decides changes
// to the validator set (apps/poa). After every block's EndBlock hooks the
// executor asks it for the set that validates the next block; nil means
// no change. NextValidators runs in a write cache of its own, and the
// executor checks the set it returns (NewValidatorSet). If it returns an
// error, panics or returns a set that is empty or malformed (a total
// power that overflows, say), its writes are dropped, a
// "next_validators_failed" block event records the error, the current
// set stays, and the block still applies. Only a storage fault aborts
// the block.
type ValidatorGovernor interface {
	NextValidators(ctx *Context) (*ValidatorSet, error)
}

// Context is what Deliver, InitGenesis and EndBlock see: the block being
// applied, the transaction's sender, and a store scoped to the app's own
// keys. Writes become visible to later transactions only if the
// transaction succeeds.
type Context struct {
	ChainID string
	Height  uint64
	Time    time.Time // block time; the only clock an app may read
	Sender  Address   // zero in InitGenesis and EndBlock
	TxHash  Hash      // zero in InitGenesis and EndBlock

	app    string
	kv     *Overlay
	events *[]Event
	work   *meter
}

// Store returns the app's part of the state: keys are relative to the
// app's own prefix, so apps cannot collide. Its calls count towards the
// transaction's work (Work).
func (c *Context) Store() *Store {
	return &Store{kv: c.kv, prefix: appPrefix(c.app), meter: c.work}
}

// Work returns the work that the transaction has done through its
// stores so far, in this context and every context derived from it with
// With. In InitGenesis and the block hooks it is counted but not
// limited.
func (c *Context) Work() Work { return c.work.used }

// StoreKey is an app's right to its own part of the state. The executor
// makes one for each app that implements KeyUser and hands it over when
// the app is registered; its fields are unexported, so no other code can
// make one that works. An app's keeper, called by another app with that
// app's context, uses it (Context.With) to reach its own keys: the
// caller reaches them only through what the keeper chooses to offer.
type StoreKey struct{ app string }

// App returns the name of the app the key belongs to.
func (k *StoreKey) App() string { return k.app }

// KeyUser is implemented by apps whose code runs in other apps'
// transactions (a keeper, such as the bank's accounts handed to
// commerce). UseKey is called once, by NewExecutor.
type KeyUser interface {
	UseKey(k *StoreKey)
}

// With returns a copy of the context scoped to the app of k: its Store is
// that app's and its events are recorded under that app's name, in the
// same receipt; its work counts towards the same transaction's limit. It panics on a key the executor did not make, which is a
// bug in the calling app (and fails its transaction).
func (c *Context) With(k *StoreKey) *Context {
	if k == nil || k.app == "" {
		panic("chain: Context.With a store key the executor did not issue")
	}
	cc := *c
	cc.app = k.app
	return &cc
}

// App returns the name of the app the context is scoped to.
func (c *Context) App() string { return c.app }

// Validators returns the validator set that signs the current block.
func (c *Context) Validators() (*ValidatorSet, error) { return LoadValidators(c.kv) }

// Emit records an event in the transaction's receipt.
func (c *Context) Emit(typ string, attrs ...Attr) {
	*c.events = append(*c.events, Event{App: c.app, Type: typ, Attrs: attrs})
}

// A is a short constructor for an event attribute.
func A(key string, value any) Attr {
	switch v := value.(type) {
	case string:
		return Attr{Key: key, Value: v}
	case uint64:
		return Attr{Key: key, Value: strconv.FormatUint(v, 10)}
	case fmt.Stringer:
		return Attr{Key: key, Value: v.String()}
	}
	return Attr{Key: key, Value: fmt.Sprint(value)}
}

// QueryContext is what Query sees: the committed state at Height, scoped
// to the app's keys, and a way to prove a key against the state root of
// that height's header.
type QueryContext struct {
	ChainID   string
	Height    uint64
	Time      time.Time
	StateRoot Hash

	app   string
	kv    Reader
	prove func(key []byte) (any, error)
}

// NewQueryContext is used by the node to serve queries for one app.
// prove may be nil when the node cannot produce proofs.
func NewQueryContext(app, chainID string, header *Header, kv Reader, prove func(key []byte) (any, error)) *QueryContext {
	return &QueryContext{ChainID: chainID, Height: header.Height, Time: header.BlockTime(),
		StateRoot: header.StateRoot, app: app, kv: kv, prove: prove}
}

// Store returns a read-only view of the app's keys.
func (q *QueryContext) Store() *Store {
	return &Store{kv: readOnly{q.kv}, prefix: appPrefix(q.app)}
}

// Prove returns a proof that the app's key holds its current value (or is
// absent) under StateRoot. The proof's JSON form can be checked by a
// client against a committed header.
func (q *QueryContext) Prove(key []byte) (any, error) {
	if q.prove == nil {
		return nil, fmt.Errorf("proofs are not available on this node")
	}
	return q.prove(append(appPrefix(q.app), key...))
}

// FullKey returns the full state key of one of the app's keys, as it
// appears in proofs.
func (q *QueryContext) FullKey(key []byte) []byte { return AppKey(q.app, key) }

// AppKey returns the full state key of an app's key, as used in proofs.
func AppKey(app string, key []byte) []byte { return append(appPrefix(app), key...) }

func appPrefix(app string) []byte { return []byte("a/" + app + "/") }

// BlockInfo is what the executor and apps learn of the block being
// applied: the part of its header that apps may see, and its evidence,
// which the executor hands to EvidenceHandlers before the transactions.
type BlockInfo struct {
	ChainID  string
	Height   uint64
	Time     time.Time
	Evidence []Evidence
}

// NewContext returns a context for app over kv. The executor makes one per
// transaction; tests of apps make one over NewOverlay(MemReader{}). Its
// work is counted (Work) but not limited.
func NewContext(app string, kv *Overlay, b BlockInfo, sender Address, txHash Hash) *Context {
	return &Context{ChainID: b.ChainID, Height: b.Height, Time: b.Time, Sender: sender,
		TxHash: txHash, app: app, kv: kv, events: new([]Event), work: &meter{}}
}

// Events returns the events emitted so far through this context and every
// context derived from it with With.
func (c *Context) Events() []Event { return *c.events }
