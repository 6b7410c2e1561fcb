package chain

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/citychain/citychain/chain/state"
)

// State keys the chain itself owns, next to the apps' "a/{app}/" keys.
var (
	keyNoncePrefix = []byte("c/nonce/")
	keyValidators  = []byte("c/validators")
)

// Executor applies blocks: it is the one entry point through which state
// changes. Given the parent's state and a list of transactions it returns
// the receipts, the sorted state changes and the new state root, without
// writing anything; the caller stores the result in one batch.
//
// Determinism rule: the result depends only on the parent state, the
// block's header fields that apps see (height, time), its evidence and
// its transactions. Apps run in the order of the list given to the
// executor.
type Executor struct {
	chainID  string
	apps     []App
	byName   map[string]App
	tree     *state.Tree
	verified func(Hash) bool
}

// ExecConfig holds an Executor's dependencies.
type ExecConfig struct {
	ChainID string
	// Apps in their fixed order; names must be unique.
	Apps []App
	// Tree computes state roots; its store holds the parent's nodes.
	Tree *state.Tree
	// Verified reports whether a transaction's signature was already
	// checked on this node (by the mempool), so it is not checked twice.
	// Nil means always verify.
	Verified func(Hash) bool
}

// NewExecutor checks the app list and returns an executor.
func NewExecutor(cfg ExecConfig) (*Executor, error) {
	e := &Executor{chainID: cfg.ChainID, apps: cfg.Apps, byName: map[string]App{},
		tree: cfg.Tree, verified: cfg.Verified}
	for _, a := range cfg.Apps {
		n := a.Name()
		if !namePattern.MatchString(n) {
			return nil, fmt.Errorf("app name %q is not a lowercase identifier", n)
		}
		if _, dup := e.byName[n]; dup {
			return nil, fmt.Errorf("app %q registered twice", n)
		}
		e.byName[n] = a
	}
	for _, a := range cfg.Apps {
		if u, ok := a.(KeyUser); ok {
			u.UseKey(&StoreKey{app: a.Name()})
		}
	}
	return e, nil
}

// App returns the registered app with name.
func (e *Executor) App(name string) (App, bool) { a, ok := e.byName[name]; return a, ok }

// Apps returns the registered apps in order.
func (e *Executor) Apps() []App { return e.apps }

// Result is the outcome of applying a block (or the genesis state).
type Result struct {
	StateRoot    Hash
	ReceiptsRoot Hash
	Receipts     []Receipt
	// Changes are the state writes in key order; nil Value deletes.
	Changes []KV
	// TreeWrites are the new Merkle tree nodes to persist.
	TreeWrites []state.Write
	// Txs are the block's transactions, decoded, in order.
	Txs []*Tx
	// BlockEvents are the events of the block itself rather than of one
	// transaction, in the order they happened: what apps emitted while
	// handling evidence, in EndBlock and in NextValidators, and an
	// "evidence_failed", "end_block_failed" or "next_validators_failed"
	// event for each hook that returned an error or panicked. They are
	// the same on every node but are not under any root of the header.
	BlockEvents []Event
}

// InitChain builds the genesis state over an empty store.
func (e *Executor) InitChain(g *Genesis) (*Result, error) {
	vs, err := g.ValidatorSet()
	if err != nil {
		return nil, err
	}
	for name := range g.AppState {
		if _, ok := e.byName[name]; !ok {
			return nil, fmt.Errorf("genesis app_state.%s: %w", name, ErrUnknownApp)
		}
	}
	block := NewOverlay(MemReader{})
	block.Set(keyValidators, MustEncode(vs))
	if g.Params != nil {
		if err := g.Params.Validate(); err != nil {
			return nil, fmt.Errorf("genesis: %w", err)
		}
		block.Set(keyParams, MustEncode(g.Params))
	}
	info := BlockInfo{ChainID: g.ChainID, Height: 0, Time: g.GenesisTime.UTC()}
	for _, a := range e.apps {
		gen, ok := a.(GenesisInitializer)
		if !ok {
			continue
		}
		raw := g.AppState[a.Name()]
		ctx := NewContext(a.Name(), block, info, Address{}, Hash{})
		if err := gen.InitGenesis(ctx, raw); err != nil {
			return nil, fmt.Errorf("genesis app_state.%s: %w", a.Name(), err)
		}
	}
	return e.finish(block, state.Hash{}, nil)
}

// CheckTx runs a transaction against the committed state without keeping
// anything: the app's stateless Check, the nonce (which must equal nonce,
// the sender's next nonce as the mempool sees it), and a trial Deliver
// under the same work limit as in a block. The mempool uses it to refuse
// what would certainly fail. The caller must already have run
// ValidateBasic; the signature is not checked again.
func (e *Executor) CheckTx(committed Reader, info BlockInfo, tx *Tx, nonce uint64) error {
	app, err := e.checkStateless(tx, Hash{}, true)
	if err != nil {
		return err
	}
	if tx.Nonce != nonce {
		return nonceError(tx.Nonce, nonce)
	}
	params, err := LoadExecParams(committed)
	if err != nil {
		return err
	}
	o := NewOverlay(committed)
	ctx := NewContext(app.Name(), o, info, tx.Sender(), Hash{})
	err = deliverMetered(app, ctx, tx.Action, tx.Payload, params.MaxTxWork)
	if o.Err() != nil {
		return o.Err()
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return nil
}

// Execute applies a block on top of the parent state (read through
// parent, whose Merkle root is parentRoot): first info.Evidence, handed
// to every EvidenceHandler, then txs, then the EndBlock hooks, then the
// validator set for the next height.
//
// A transaction that fails in its app, or whose work passes the limit of
// the parent state's ExecParams, gets a failed receipt; one that is
// malformed, badly signed or has the wrong nonce makes the whole block
// invalid (ErrInvalidBlock), since an honest proposer never includes it.
// So does evidence that breaks a stateless rule (ValidateEvidenceList);
// the evidence's signatures are not checked here, see EvidenceHandler.
// A hook that fails or panics is recorded in Result.BlockEvents and
// does not stop the block; that includes a ValidatorGovernor that fails
// or hands back a set NewValidatorSet refuses, after which the current
// set stays.
func (e *Executor) Execute(parent Reader, parentRoot Hash, info BlockInfo, txs [][]byte) (*Result, error) {
	if err := ValidateEvidenceList(e.chainID, info.Height, info.Evidence); err != nil {
		return nil, err
	}
	params, err := LoadExecParams(parent)
	if err != nil {
		return nil, err
	}
	block := NewOverlay(parent)
	var blockEvents []Event
	for i := range info.Evidence {
		ev := info.Evidence[i]
		for _, a := range e.apps {
			h, ok := a.(EvidenceHandler)
			if !ok {
				continue
			}
			events, err := runHook(block, a, info, "evidence_failed", []Attr{A("evidence", ev.Hash())},
				func(ctx *Context) error { return h.HandleEvidence(ctx, ev) })
			if err != nil {
				return nil, fmt.Errorf("evidence %d in %s: %w", i, a.Name(), err)
			}
			blockEvents = append(blockEvents, events...)
		}
	}
	receipts := make([]Receipt, 0, len(txs))
	decoded := make([]*Tx, 0, len(txs))
	for i, raw := range txs {
		hash := Sum(raw)
		tx, err := DecodeTx(raw)
		if err != nil {
			return nil, &TxError{Index: i, Hash: hash, Err: err}
		}
		decoded = append(decoded, tx)
		app, err := e.checkStateless(tx, hash, e.verified != nil && e.verified(hash))
		if err != nil {
			return nil, &TxError{Index: i, Hash: hash, Err: err}
		}
		sender := tx.Sender()
		want, err := loadNonce(block, sender)
		if err != nil {
			return nil, err
		}
		if tx.Nonce != want {
			return nil, &TxError{Index: i, Hash: hash, Err: nonceError(tx.Nonce, want)}
		}
		setNonce(block, sender, want+1)

		txo := NewOverlay(block)
		ctx := NewContext(app.Name(), txo, info, sender, hash)
		derr := deliverMetered(app, ctx, tx.Action, tx.Payload, params.MaxTxWork)
		if txo.Err() != nil {
			return nil, fmt.Errorf("tx %d: read state: %w", i, txo.Err())
		}
		r := Receipt{TxHash: hash, Height: info.Height, Index: uint32(i), Status: StatusOK, Events: ctx.Events()}
		if derr != nil {
			r.Status, r.Error, r.Events = StatusFailed, derr.Error(), nil
		} else {
			txo.Flush()
		}
		if r.Events == nil {
			r.Events = []Event{}
		}
		receipts = append(receipts, r)
	}
	for _, a := range e.apps {
		eb, ok := a.(EndBlocker)
		if !ok {
			continue
		}
		events, err := runHook(block, a, info, "end_block_failed", nil, eb.EndBlock)
		if err != nil {
			return nil, fmt.Errorf("end block of %s: %w", a.Name(), err)
		}
		blockEvents = append(blockEvents, events...)
	}
	for _, a := range e.apps {
		gov, ok := a.(ValidatorGovernor)
		if !ok {
			continue
		}
		events, err := runHook(block, a, info, "next_validators_failed", nil, func(ctx *Context) error {
			next, err := gov.NextValidators(ctx)
			if err != nil || next == nil {
				return err
			}
			checked, err := NewValidatorSet(next.Validators)
			if err != nil {
				return fmt.Errorf("the next validator set: %w", err)
			}
			ctx.kv.Set(keyValidators, MustEncode(checked))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("next validators from %s: %w", a.Name(), err)
		}
		blockEvents = append(blockEvents, events...)
	}
	if block.Err() != nil {
		return nil, fmt.Errorf("read state: %w", block.Err())
	}
	res, err := e.finish(block, state.Hash(parentRoot), receipts)
	if err != nil {
		return nil, err
	}
	res.Txs = decoded
	if blockEvents == nil {
		blockEvents = []Event{}
	}
	res.BlockEvents = blockEvents
	return res, nil
}

// runHook runs one block-level hook of app (HandleEvidence, EndBlock or
// NextValidators) in a write cache of its own and returns the events it
// emitted. If the hook returns an error or panics, its writes are
// dropped and the result is a single event of type failed, with attrs
// and the error text: every node runs the same hook on the same state
// and gets the same error, so recording it keeps them in agreement where
// halting would stop the chain for everyone. A storage fault is this
// node's alone and is returned as an error instead.
func runHook(block *Overlay, app App, info BlockInfo, failed string, attrs []Attr, hook func(*Context) error) ([]Event, error) {
	o := NewOverlay(block)
	ctx := NewContext(app.Name(), o, info, Address{}, Hash{})
	err := recoverHook(func() error { return hook(ctx) })
	if o.Err() != nil {
		return nil, fmt.Errorf("read state: %w", o.Err())
	}
	if err != nil {
		attrs = append(append([]Attr(nil), attrs...), A("error", err.Error()))
		return []Event{{App: app.Name(), Type: failed, Attrs: attrs}}, nil
	}
	o.Flush()
	return ctx.Events(), nil
}

// recoverHook calls hook and turns a panic into an error whose text is
// the panic value, without a stack trace, so that it is the same on
// every node.
func recoverHook(hook func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return hook()
}

// deliverMetered runs an app's Deliver with the transaction's work
// limited to limit. Once the work passed the limit, the transaction's
// error is the work-limit error, whatever the app returned: an app that
// ignored the error of an Iterate or recovered from the panic of a Get
// still fails, with the same text on every node.
func deliverMetered(app App, ctx *Context, action string, payload []byte, limit uint64) error {
	ctx.work.limit = limit
	err := deliver(app, ctx, action, payload)
	if over := ctx.work.err(); over != nil {
		return over
	}
	return err
}

// deliver runs an app's Deliver and turns a panic into an error. A panic
// is a bug in the app, but it must not take the node down with it: every
// node hits the same panic on the same transaction, so recording it as
// the transaction's failure keeps them in agreement. The panic by which
// a store call stops a transaction over its work limit is no bug: it
// becomes the work-limit error.
func deliver(app App, ctx *Context, action string, payload []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if w, ok := r.(workLimitPanic); ok {
				err = w.err
				return
			}
			err = fmt.Errorf("%w: app %s panicked on %s: %v", ErrRejected, app.Name(), action, r)
		}
	}()
	return app.Deliver(ctx, action, payload)
}

// TxError says which transaction made a block invalid. It wraps
// ErrInvalidBlock and the transaction's own error.
type TxError struct {
	Index int
	Hash  Hash
	Err   error
}

func (e *TxError) Error() string {
	return fmt.Sprintf("%v: tx %d (%s): %v", ErrInvalidBlock, e.Index, e.Hash, e.Err)
}

// Unwrap returns both ErrInvalidBlock and the cause.
func (e *TxError) Unwrap() []error { return []error{ErrInvalidBlock, e.Err} }

func (e *Executor) finish(block *Overlay, parentRoot state.Hash, receipts []Receipt) (*Result, error) {
	changes := block.Changes()
	sc := make([]state.Change, len(changes))
	for i, c := range changes {
		sc[i] = state.Change{Key: c.Key, Value: c.Value}
	}
	root, writes, err := e.tree.Update(parentRoot, sc)
	if err != nil {
		return nil, fmt.Errorf("update state tree: %w", err)
	}
	if receipts == nil {
		receipts = []Receipt{}
	}
	return &Result{StateRoot: Hash(root), ReceiptsRoot: ComputeReceiptsRoot(receipts),
		Receipts: receipts, Changes: changes, TreeWrites: writes}, nil
}

// checkStateless runs ValidateBasic (skipping the signature when it was
// already verified) and the app's Check.
func (e *Executor) checkStateless(tx *Tx, hash Hash, sigVerified bool) (App, error) {
	if tx.ChainID != e.chainID {
		return nil, fmt.Errorf("%w: tx is for %q, this chain is %q", ErrWrongChain, tx.ChainID, e.chainID)
	}
	if err := tx.checkShape(); err != nil {
		return nil, err
	}
	if !sigVerified {
		if err := tx.VerifySignature(); err != nil {
			return nil, err
		}
	}
	app, ok := e.byName[tx.App]
	if !ok {
		return nil, fmt.Errorf("%w: %q (registered: %s)", ErrUnknownApp, tx.App, e.appNames())
	}
	if err := app.Check(tx.Action, tx.Payload); err != nil {
		return nil, err
	}
	return app, nil
}

func (e *Executor) appNames() string {
	names := make([]string, len(e.apps))
	for i, a := range e.apps {
		names[i] = a.Name()
	}
	sort.Strings(names)
	return fmt.Sprint(names)
}

func nonceError(got, want uint64) error {
	if got < want {
		return fmt.Errorf("%w: nonce %d was already used (replay); the next nonce is %d", ErrBadNonce, got, want)
	}
	return fmt.Errorf("%w: nonce %d skips ahead; the next nonce is %d", ErrBadNonce, got, want)
}

// Nonce returns the next nonce of addr in r.
func Nonce(r Reader, addr Address) (uint64, error) { return loadNonce(r, addr) }

func loadNonce(r Reader, addr Address) (uint64, error) {
	b, err := r.Get(append(append([]byte(nil), keyNoncePrefix...), addr[:]...))
	if err != nil {
		return 0, fmt.Errorf("read nonce of %s: %w", addr, err)
	}
	if b == nil {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("nonce of %s: stored value has %d bytes", addr, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

func setNonce(o *Overlay, addr Address, n uint64) {
	o.Set(append(append([]byte(nil), keyNoncePrefix...), addr[:]...), binary.BigEndian.AppendUint64(nil, n))
}

// LoadValidators returns the validator set stored in state.
func LoadValidators(r Reader) (*ValidatorSet, error) {
	b, err := r.Get(keyValidators)
	if err != nil {
		return nil, fmt.Errorf("read validator set: %w", err)
	}
	if b == nil {
		return nil, fmt.Errorf("read validator set: %w", ErrNotFound)
	}
	var vs ValidatorSet
	if err := Decode(b, &vs); err != nil {
		return nil, fmt.Errorf("decode validator set: %w", err)
	}
	return &vs, nil
}
