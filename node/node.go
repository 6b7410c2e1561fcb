package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/citychain/citychain/apps"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/store"
	"github.com/citychain/citychain/p2p"
)

// Options are what New needs to build a node.
type Options struct {
	// Home is the node's home folder (config, genesis, keys, data).
	Home string
	// Config is the node's settings, usually LoadConfig(Home).
	Config Config
	// Logger receives structured logs.
	Logger *slog.Logger
	// Clock gives block times; nil means time.Now.
	Clock func() time.Time
	// Apps overrides the module list, for tests; nil means apps.All().
	Apps []chain.App
	// Network runs the node as one validator (or follower) of a network:
	// libp2p gossip and Tendermint consensus. Without it the node is the
	// single validator of `citychain dev` and makes blocks by itself.
	Network bool
	// P2P runs a libp2p host without consensus, for `citychain dev`: the
	// node serves its blocks and takes transactions from peers, so a full
	// node can follow a dev chain. Network implies it.
	P2P bool
	// Control is the devnet supervisor that started this node, if any:
	// the explorer's classroom controls go to it (see DevnetControl).
	Control *DevnetControl
}

// Node is a running CityChain node: store, executor, mempool, block
// producer and HTTP API.
type Node struct {
	home    string
	cfg     Config
	log     *slog.Logger
	clock   func() time.Time
	genesis *chain.Genesis
	chainID string

	store   *store.Store
	exec    *chain.Executor
	pool    *Mempool
	bus     *Bus
	metrics *metrics
	waiters *waiters
	sigs    verifiedSet
	keys    *crypto.KeyCache // parsed public keys of recent senders
	// cutWarned is set once a block was built smaller than block.max_txs
	// because it did not fit the store's memtable: said once as a warning.
	cutWarned atomic.Bool
	slots     chan struct{} // checkSlots of them: signature checks of submissions and gossip

	key     *crypto.PrivateKey
	valAddr chain.Address
	signer  *signer // every vote this node signs goes through its guard
	vault   vault   // the signer's state and the blocks it must keep
	evpool  *evidencePool
	txs     *txBatcher // transactions to gossip in the next batch

	network  bool
	serveP2P bool
	control  *DevnetControl
	p2p      *p2p.Host
	engine   atomic.Pointer[engine] // set once at Start; read by p2p handlers
	syncing  atomic.Bool
	stopping atomic.Bool               // Stop has begun: submissions answer 503
	current  atomic.Pointer[heightSet] // the height being decided and its validator set
	resends  resendGate                // copies of consensus messages let through (resendgate.go)

	guard    *apiGuard
	listener net.Listener
	server   *http.Server
	quit     chan struct{} // closed when Stop begins
	failed   chan error    // why the node must stop on its own (Failed)
	quitOnce sync.Once
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// New opens the node's store, writes the genesis state on first start,
// and prepares the API. It starts nothing; see Start.
func New(opts Options) (*Node, error) {
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	g, err := chain.LoadGenesis(filepath.Join(opts.Home, GenesisFile))
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	n := &Node{home: opts.Home, cfg: opts.Config, log: log, clock: clock, bus: NewBus(),
		waiters: newWaiters(), quit: make(chan struct{}), failed: make(chan error, 1), network: opts.Network,
		serveP2P: opts.Network || opts.P2P, control: opts.Control}

	key, err := LoadValidatorKey(filepath.Join(opts.Home, ValidatorKeyFile))
	if err != nil {
		return nil, err
	}
	sc := opts.Config.Store.storeConfig()
	sc.Dir, sc.Logger = filepath.Join(opts.Home, DataDir), log
	st, err := store.Open(sc)
	if err != nil {
		return nil, err
	}
	return assemble(n, g, key, st, newDirVault(opts.Home), opts.Apps)
}

// checkSlots is how many signature checks of new transactions (from the
// API and from gossip) a node runs at once with procs processors. A node
// of a chain with several validators runs one fewer than it has, and at
// least one: the processor left over is the engine's, so that under a
// flood of transactions the proposer's building, the others' check of
// its block and the votes find a processor at once instead of queueing
// behind the checks for Go's scheduler, which lets a goroutine run 10 ms
// before the next. The cost is that checks never use that processor, even when the
// engine is idle. A chain with one validator (citychain dev) has no votes
// to wait for and takes in transactions only as fast as it checks them,
// so it checks on every processor. The count is taken when the node
// starts; a set that grows or shrinks later changes it at the next start.
// Measured in docs/benchmarks.md ("One processor kept from the checks").
func checkSlots(procs, validators int) int {
	if validators <= 1 {
		return max(1, procs)
	}
	return max(1, procs-1)
}

// validatorCount is the size of the validator set in r's state (the poa
// app changes it), or fallback when the set cannot be read.
func validatorCount(r chain.Reader, fallback int) int {
	vs, err := chain.LoadValidators(r)
	if err != nil {
		return fallback
	}
	return len(vs.Validators)
}

// assemble finishes a node around an open store: the signer from the
// vault, the executor, and the genesis state on first start. New calls it
// with the home's files; the seeded simulation with an in-memory store
// and vault. On error it closes the store.
func assemble(n *Node, g *chain.Genesis, key *crypto.PrivateKey, st *store.Store, v vault, appList []chain.App) (*Node, error) {
	n.genesis, n.chainID = g, g.ChainID
	n.txs = newTxBatcher()
	n.pool = NewMempool(n.cfg.Mempool.MaxTxs, n.cfg.Mempool.MaxBytes)
	n.keys = crypto.NewKeyCache(n.cfg.Mempool.KeyCache)
	n.metrics = newMetrics(func() float64 { return float64(n.pool.Size()) })
	n.guard = newAPIGuard(n.cfg.API, n.metrics.apiRefused)
	n.key, n.valAddr = key, chain.AddressOf(key.PublicKey())
	n.vault, n.store = v, st
	var err error
	if n.signer, err = loadSigner(v, g.ChainID, key); err != nil {
		st.Close()
		return nil, err
	}
	if appList == nil {
		appList = apps.All()
	}
	n.exec, err = chain.NewExecutor(chain.ExecConfig{ChainID: g.ChainID, Apps: appList,
		Tree: st.Tree(), Verified: n.verified})
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := n.initGenesis(); err != nil {
		st.Close()
		return nil, err
	}
	n.slots = make(chan struct{}, checkSlots(runtime.GOMAXPROCS(0), validatorCount(st, len(g.Validators))))
	latest := st.Latest()
	n.evpool = newEvidencePool(latest.Height, evidencePoolSize)
	n.metrics.height.Set(float64(latest.Height))
	n.log.Info("store opened", "chain_id", g.ChainID, "height", latest.Height,
		"state_root", latest.StateRoot.String())
	return n, nil
}

// initGenesis writes the genesis state on first start. On later starts
// it builds the genesis header from genesis.json again and refuses to go
// on when it is not the block 0 in the store: the file was edited (or
// replaced) after the data was made, and the node would otherwise run
// the old chain while reading the new file's validators for height 0.
func (n *Node) initGenesis() error {
	res, err := n.exec.InitChain(n.genesis)
	if err != nil {
		return err
	}
	vs, err := n.genesis.ValidatorSet()
	if err != nil {
		return err
	}
	want := n.genesis.Header(res.StateRoot, vs)
	if n.store.Initialized() {
		b, err := n.store.Block(0)
		if err != nil {
			return fmt.Errorf("read genesis header: %w", err)
		}
		return sameGenesis(b.Header, want)
	}
	n.log.Info("genesis state written", "state_root", res.StateRoot.String(), "validators", len(vs.Validators))
	return n.store.Init(want, res)
}

// sameGenesis compares the stored block 0 header with the one built from
// genesis.json and names the first part that differs.
func sameGenesis(stored, file chain.Header) error {
	if stored.Hash() == file.Hash() {
		return nil
	}
	var what string
	switch {
	case stored.ChainID != file.ChainID:
		what = fmt.Sprintf("chain_id %q in the data, %q in genesis.json", stored.ChainID, file.ChainID)
	case stored.ValidatorsHash != file.ValidatorsHash:
		what = "its validators differ"
	case stored.Time != file.Time:
		what = fmt.Sprintf("genesis_time %s in the data, %s in genesis.json",
			stored.BlockTime().Format(time.RFC3339Nano), file.BlockTime().Format(time.RFC3339Nano))
	case stored.StateRoot != file.StateRoot:
		what = "its app_state or params give another state root"
	default:
		what = "its header differs"
	}
	return fmt.Errorf("genesis.json differs from the genesis the data folder was made with (%s; genesis hash %s in the data, %s from genesis.json): put back the genesis.json the data was made with, or start from a new home",
		what, stored.Hash(), file.Hash())
}

// Start opens the API listener and starts block production. It returns
// once the API is accepting connections.
func (n *Node) Start() error {
	ln, err := net.Listen("tcp", n.cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("api listen %s: %w", n.cfg.API.Listen, err)
	}
	n.warnIfExposed(ln.Addr())
	ln = n.guard.listener(ln)
	n.listener = ln
	// The network and the engine are wired before the API serves, so no
	// request sees them half made.
	var eng *engine
	if n.serveP2P {
		if err := n.startNetwork(); err != nil {
			ln.Close()
			return err
		}
	}
	if n.network {
		if eng, err = newEngine(n, n.p2p, nil); err != nil {
			ln.Close()
			_ = n.p2p.Close()
			return err
		}
		eng.checker = &goChecker{in: eng.in, done: n.quit}
		n.engine.Store(eng)
	}
	n.server = n.guard.server(n.routes())
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel

	// Exit: Serve returns when Stop calls Shutdown.
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("api server", "err", err)
		}
	}()
	// Exit: tx gossip returns when ctx is cancelled by Stop, after a last
	// flush.
	if n.p2p != nil {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.gossipTxs(ctx)
		}()
	}
	// Exit: block sync returns when ctx is cancelled by Stop.
	if eng != nil {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			eng.syncLoop(ctx, n.p2p)
		}()
	}
	// Exit: the engine (or the dev producer) returns when ctx is cancelled
	// by Stop.
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if eng != nil {
			eng.run(ctx)
		} else {
			n.produce(ctx)
		}
	}()
	// Exit: the disk watch returns when Stop begins, or once it reported
	// a full disk on Failed.
	if n.home != "" {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.watchDisk(filepath.Join(n.home, DataDir))
		}()
	}
	// The periodic chores; each returns when ctx is cancelled by Stop.
	if every := n.cfg.Store.ValueLogGCEvery.Duration; every > 0 {
		n.periodic(ctx, every, n.collectValueLog)
	}
	if keep := n.cfg.Store.KeepStates; keep > 0 {
		n.periodic(ctx, time.Minute, n.pruneStates(keep))
	}
	if every := n.cfg.Memory.ReleaseEvery.Duration; every > 0 {
		r := &idleRelease{every: every, last: time.Now()}
		n.periodic(ctx, releaseLook, func() {
			if r.look(time.Now(), n.pool.Size()) {
				debug.FreeOSMemory()
			}
		})
	}
	attrs := []any{"api", "http://" + ln.Addr().String(), "validator", n.valAddr.String()}
	if n.p2p != nil {
		for _, a := range n.p2p.Addrs() {
			attrs = append(attrs, "p2p", a.String())
		}
	}
	n.log.Info("node started", attrs...)
	return nil
}

// APIAddr returns the address the API listens on, once started.
func (n *Node) APIAddr() string {
	if n.listener == nil {
		return ""
	}
	return n.listener.Addr().String()
}

// Stop shuts the API down, stops block production, waits for both and
// closes the store.
func (n *Node) Stop() error {
	// Refuse new work first, then end the waits, so the API drains fast and
	// nothing is accepted that the closing store could lose.
	n.stopping.Store(true)
	n.quitOnce.Do(func() { close(n.quit) })
	n.waiters.closeAll()
	if n.cancel != nil {
		n.cancel()
	}
	if n.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = n.server.Shutdown(ctx)
		cancel()
	}
	n.wg.Wait()
	if n.p2p != nil {
		_ = n.p2p.Close()
	}
	return n.store.Close()
}

// periodic runs fn every period on a goroutine of n.wg, until ctx is
// cancelled.
func (n *Node) periodic(ctx context.Context, every time.Duration, fn func()) {
	n.wg.Add(1)
	go func() { // exits when ctx is cancelled
		defer n.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn()
			}
		}
	}()
}

// collectValueLog runs Badger's value-log garbage collection, so that a
// long-running node's value log does not keep what later writes made
// stale.
func (n *Node) collectValueLog() {
	start := time.Now()
	files, err := n.store.CollectValueLog(0.5, 16)
	if err != nil {
		n.log.Warn("value-log GC", "err", err)
		return
	}
	lsm, vlog := n.store.DiskSize()
	n.log.Info("value-log GC", "rewritten_files", files, "lsm_mb", lsm>>20, "vlog_mb", vlog>>20, "took", time.Since(start).Round(time.Millisecond))
}

// pruneEvery is how many blocks a node with store.keep_states lets pass
// between two prunes.
const pruneEvery = 1000

// pruneStates returns the chore that deletes the state trees older than
// the last keep heights, once every pruneEvery blocks.
func (n *Node) pruneStates(keep uint64) func() {
	var last uint64
	return func() {
		top := n.store.Latest().Height
		if top < keep || top-last < pruneEvery {
			return
		}
		start := time.Now()
		res, err := n.store.PruneState(keep)
		if err != nil {
			n.log.Warn("state pruning", "err", err)
			return
		}
		last = top
		n.log.Info("state pruned", "kept_from", res.From, "live_nodes", res.Live, "deleted", res.Deleted, "took", time.Since(start).Round(time.Millisecond))
	}
}

func (n *Node) homePath(name string) string { return filepath.Join(n.home, name) }

// PeerID returns the libp2p peer ID of a networked node, or "".
func (n *Node) PeerID() string {
	if n.p2p == nil {
		return ""
	}
	return n.p2p.ID().String()
}

// P2PAddrs returns the libp2p addresses peers can dial, each ending in
// /p2p/ID, or nil without a libp2p host.
func (n *Node) P2PAddrs() []string {
	if n.p2p == nil {
		return nil
	}
	var out []string
	for _, a := range n.p2p.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// ChainID returns the chain id from genesis.
func (n *Node) ChainID() string { return n.chainID }

// Store returns the node's store.
func (n *Node) Store() *store.Store { return n.store }
