package node

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/store"
	"github.com/citychain/citychain/p2p"
	"github.com/pelletier/go-toml/v2"
)

// Files and folders inside a node home.
const (
	ConfigFile       = "config.toml"
	GenesisFile      = "genesis.json"
	ValidatorKeyFile = "validator_key.json"
	KeystoreDir      = "keystore"
	DataDir          = "data"
)

// Config is a node's config.toml.
type Config struct {
	Moniker   string          `toml:"moniker" comment:"a name for this node, shown in status and the explorer"`
	API       APIConfig       `toml:"api"`
	P2P       P2PConfig       `toml:"p2p"`
	Consensus ConsensusConfig `toml:"consensus"`
	Mempool   MempoolConfig   `toml:"mempool"`
	Block     BlockConfig     `toml:"block"`
	Store     StoreConfig     `toml:"store"`
	Memory    MemoryConfig    `toml:"memory"`
	Log       LogConfig       `toml:"log"`
}

// P2PConfig configures the libp2p host of `citychain node`.
type P2PConfig struct {
	Listen    []string `toml:"listen" comment:"libp2p listen addresses (TCP and QUIC)"`
	Bootstrap []string `toml:"bootstrap" comment:"peers to dial at start, as /ip4/.../tcp/.../p2p/ID"`
	MDNS      bool     `toml:"mdns" comment:"find peers on the local network by multicast DNS"`
	DHT       bool     `toml:"dht" comment:"find peers through a Kademlia DHT seeded by the bootstrap peers"`
	// The gossip buffers. Each holds pointers when idle; what a full one
	// costs is its length times the messages in it, a transaction batch
	// or a vote (about 200 bytes) and now and then a proposal.
	PeerQueue     int      `toml:"peer_queue" comment:"gossip messages waiting to be sent, per peer; a peer that falls this far behind loses messages"`
	ValidateQueue int      `toml:"validate_queue" comment:"gossip messages waiting for validation; beyond it they are dropped"`
	SeenTTL       Duration `toml:"seen_ttl" comment:"how long a gossip message id is remembered so that it is delivered once (about 100 bytes each)"`
}

// ConsensusConfig holds the round timeouts of Tendermint consensus: each
// step waits base + round*delta.
type ConsensusConfig struct {
	TimeoutPropose        Duration `toml:"timeout_propose"`
	TimeoutProposeDelta   Duration `toml:"timeout_propose_delta"`
	TimeoutPrevote        Duration `toml:"timeout_prevote"`
	TimeoutPrevoteDelta   Duration `toml:"timeout_prevote_delta"`
	TimeoutPrecommit      Duration `toml:"timeout_precommit"`
	TimeoutPrecommitDelta Duration `toml:"timeout_precommit_delta"`
	CommitWait            Duration `toml:"commit_wait" comment:"pause after a commit before the next height, to gather transactions"`
}

// consensusConfig writes timeouts and the commit wait as config settings.
// The defaults come from consensus.DefaultTimeouts, their one source.
func consensusConfig(t consensus.Timeouts, commitWait time.Duration) ConsensusConfig {
	return ConsensusConfig{
		TimeoutPropose: Duration{t.Propose}, TimeoutProposeDelta: Duration{t.ProposeDelta},
		TimeoutPrevote: Duration{t.Prevote}, TimeoutPrevoteDelta: Duration{t.PrevoteDelta},
		TimeoutPrecommit: Duration{t.Precommit}, TimeoutPrecommitDelta: Duration{t.PrecommitDelta},
		CommitWait: Duration{commitWait},
	}
}

// Timeouts returns the settings as the consensus machine takes them.
func (c ConsensusConfig) Timeouts() consensus.Timeouts {
	return consensus.Timeouts{
		Propose: c.TimeoutPropose.Duration, ProposeDelta: c.TimeoutProposeDelta.Duration,
		Prevote: c.TimeoutPrevote.Duration, PrevoteDelta: c.TimeoutPrevoteDelta.Duration,
		Precommit: c.TimeoutPrecommit.Duration, PrecommitDelta: c.TimeoutPrecommitDelta.Duration,
	}
}

// APIConfig configures the HTTP API. The limits let the API be left
// listening on a network: apiguard.go says what each one refuses and how.
type APIConfig struct {
	Listen string `toml:"listen" comment:"address of the HTTP API and explorer; 127.0.0.1 keeps it to this machine (the node warns at start when it listens beyond)"`
	Pprof  bool   `toml:"pprof" comment:"serve Go profiles at /debug/pprof/ (for performance work; never on an address others can reach)"`

	ReadHeaderTimeout Duration `toml:"read_header_timeout" comment:"time a client has to send a request's headers"`
	ReadTimeout       Duration `toml:"read_timeout" comment:"time a client has to send a whole request, body included"`
	WriteTimeout      Duration `toml:"write_timeout" comment:"time to answer a request once read; POST /v1/txs?wait=commit adds its wait, and /v1/events gets it anew for every event"`
	IdleTimeout       Duration `toml:"idle_timeout" comment:"how long an idle keep-alive connection stays open"`
	MaxConnections    int      `toml:"max_connections" comment:"connections served at once; more wait in the system's accept queue until one closes"`
	ClientConnections int      `toml:"client_connections" comment:"connections one client address may hold open at once; more are closed as soon as they are accepted"`
	MaxInFlight       int      `toml:"max_in_flight" comment:"requests handled at once (event streams not counted); more are answered 503 at once"`
	MaxEventStreams   int      `toml:"max_event_streams" comment:"open /v1/events streams; more are answered 503"`
	ClientRate        int      `toml:"client_rate" comment:"requests per second one client address may make on average; more are answered 429; 0 for no limit"`
	ClientBurst       int      `toml:"client_burst" comment:"requests one client address may make at once above client_rate (an explorer page makes up to about 70 when it opens)"`
	LimitLoopback     bool     `toml:"limit_loopback" comment:"apply client_rate and client_connections to clients on this machine (127.0.0.1, ::1) too; off, so devnets, benchmarks and tests run at full speed"`
	CORSOrigins       []string `toml:"cors_origins" comment:"web origins other than this node's own whose pages may call the API, such as 'http://localhost:3000', or '*' for any; empty for none (the explorer needs none)"`
}

// defaultAPIConfig returns the API settings of a new home, on addr.
func defaultAPIConfig(addr string) APIConfig {
	return APIConfig{
		Listen:            addr,
		ReadHeaderTimeout: Duration{10 * time.Second},
		ReadTimeout:       Duration{30 * time.Second},
		WriteTimeout:      Duration{30 * time.Second},
		IdleTimeout:       Duration{60 * time.Second},
		MaxConnections:    1024,
		ClientConnections: 32,
		MaxInFlight:       256,
		MaxEventStreams:   64,
		ClientRate:        50,
		ClientBurst:       200,
		CORSOrigins:       []string{},
	}
}

// MempoolConfig bounds the mempool. A pooled transaction costs its bytes
// and about 250 bytes of bookkeeping.
type MempoolConfig struct {
	MaxTxs   int `toml:"max_txs" comment:"transactions the mempool holds before it answers 503 (each costs its bytes and about 250 more)"`
	MaxBytes int `toml:"max_bytes" comment:"transaction bytes the mempool holds before it answers 503"`
	KeyCache int `toml:"key_cache" comment:"parsed public keys of recent senders kept for checking their next signatures (0: 10000)"`
}

// StoreConfig bounds the buffers of the node's Badger store and of the
// state tree's cache; package store says what each costs.
type StoreConfig struct {
	MemtableMB      int      `toml:"memtable_mb" comment:"Badger write buffer in MiB: costs about 2.6 times this on the heap under load, and bounds the largest block this node can store (15% of it: 8 MiB holds about 3,700 mixed transactions or 9,000 transfers); the blocks this node proposes fit 8 MiB, or this if smaller"`
	BlockCacheMB    int      `toml:"block_cache_mb" comment:"cache of table blocks in MiB; 0 keeps tables uncompressed and reads them from their memory map"`
	IndexCacheMB    int      `toml:"index_cache_mb" comment:"cache of table indexes in MiB; 0 keeps them with each table"`
	ValueLogFileMB  int      `toml:"value_log_file_mb" comment:"size of one value-log file in MiB (1 to 1023); the current one is memory-mapped"`
	TreeCacheNodes  int      `toml:"tree_cache_nodes" comment:"state tree nodes kept in memory, about 300 bytes each"`
	ValueLogGCEvery Duration `toml:"value_log_gc_every" comment:"how often Badger's value log is garbage-collected (files at least half stale are rewritten and removed); 0s never"`
	KeepStates      uint64   `toml:"keep_states" comment:"0 keeps the state of every height; N keeps only the last N (more than 10000, the age up to which evidence is judged) and deletes older state trees every 1000 blocks; blocks and receipts are always kept"`
	MinFreeMB       int      `toml:"min_free_mb" comment:"MiB that must stay free on the data folder's disk: below it the node stops cleanly, and it waits for that much before it starts (0: 4 x memtable_mb + 4 x value_log_file_mb + 32)"`
}

// storeConfig returns the store settings as package store takes them.
func (c StoreConfig) storeConfig() store.Config {
	return store.Config{
		MemTableSize:     int64(c.MemtableMB) << 20,
		BlockCacheSize:   int64(c.BlockCacheMB) << 20,
		IndexCacheSize:   int64(c.IndexCacheMB) << 20,
		ValueLogFileSize: int64(c.ValueLogFileMB) << 20,
		TreeCacheNodes:   c.TreeCacheNodes,
	}
}

// MemoryConfig sets the Go runtime's garbage collector for the process of
// `citychain node` and `citychain dev` (see ApplyRuntime).
type MemoryConfig struct {
	GCPercent    int      `toml:"gc_percent" comment:"garbage the heap may gather between collections, in percent of the live heap (Go's GOGC, which overrides it)"`
	LimitMB      int      `toml:"limit_mb" comment:"soft limit of the Go runtime's memory in MiB: the garbage collector works harder as it nears it; the node raises it to 1.5 times the live heap when that is more; 0 for none; GOMEMLIMIT in the environment overrides it"`
	ReleaseEvery Duration `toml:"release_every" comment:"how often a node whose mempool is empty collects garbage and returns free memory to the system; it also does so once a second after a load ends; 0s never"`
}

// BlockConfig shapes block production.
type BlockConfig struct {
	MaxTxs     int      `toml:"max_txs" comment:"most transactions in one block"`
	EmptyEvery Duration `toml:"empty_every" comment:"how long an idle chain waits without transactions before it makes an empty block (dev and network nodes alike)"`
}

// LogConfig sets logging.
type LogConfig struct {
	Level string `toml:"level" comment:"debug, info, warn or error"`
}

// Duration is a time.Duration written as "5s" in TOML.
type Duration struct{ time.Duration }

// MarshalText writes the duration as "5s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses "5s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// DefaultConfig returns the settings of a new home, with the API on port.
func DefaultConfig(moniker string, apiPort int) Config {
	return Config{
		Moniker: moniker,
		API:     defaultAPIConfig(fmt.Sprintf("127.0.0.1:%d", apiPort)),
		P2P: P2PConfig{Listen: []string{
			fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", apiPort+1000),
			fmt.Sprintf("/ip4/127.0.0.1/udp/%d/quic-v1", apiPort+1000),
		}, PeerQueue: p2p.DefaultPeerQueue, ValidateQueue: p2p.DefaultValidateQueue,
			SeenTTL: Duration{p2p.DefaultSeenTTL}},
		Consensus: consensusConfig(consensus.DefaultTimeouts(), 200*time.Millisecond),
		Mempool:   MempoolConfig{MaxTxs: 50_000, MaxBytes: 64 << 20, KeyCache: crypto.DefaultKeyCacheSize},
		Block:     BlockConfig{MaxTxs: chain.MaxBlockTxs, EmptyEvery: Duration{5 * time.Second}},
		Store: StoreConfig{MemtableMB: store.DefaultMemTableSize >> 20,
			ValueLogFileMB: store.DefaultValueLogFileSize >> 20, TreeCacheNodes: 16384,
			ValueLogGCEvery: Duration{10 * time.Minute}},
		Memory: MemoryConfig{GCPercent: 100, ReleaseEvery: Duration{30 * time.Second}},
		Log:    LogConfig{Level: "info"},
	}
}

// LoadConfig reads home/config.toml. Unknown keys are an error, so a
// misspelt setting is not silently ignored.
func LoadConfig(home string) (Config, error) {
	path := filepath.Join(home, ConfigFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig reads the bytes of a config.toml: a key that is missing
// takes its default, an unknown key is an error, and the result is
// validated.
func ParseConfig(b []byte) (Config, error) {
	cfg := DefaultConfig("", 8700)
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

// Validate checks the settings; each error names its key.
func (c Config) Validate() error {
	if err := c.API.validate(); err != nil {
		return err
	}
	if c.Mempool.MaxTxs <= 0 {
		return fmt.Errorf("config: mempool.max_txs is %d; it must be positive", c.Mempool.MaxTxs)
	}
	if c.Mempool.MaxBytes <= 0 {
		return fmt.Errorf("config: mempool.max_bytes is %d; it must be positive", c.Mempool.MaxBytes)
	}
	if c.Mempool.KeyCache < 0 {
		return fmt.Errorf("config: mempool.key_cache must not be negative")
	}
	if c.Block.MaxTxs <= 0 || c.Block.MaxTxs > chain.MaxBlockTxs {
		return fmt.Errorf("config: block.max_txs is %d; it must be from 1 to %d, the most transactions a block may hold", c.Block.MaxTxs, chain.MaxBlockTxs)
	}
	if err := c.Consensus.validate(); err != nil {
		return err
	}
	if c.Block.EmptyEvery.Duration <= 0 {
		return fmt.Errorf("config: block.empty_every is %s; it must be positive", c.Block.EmptyEvery)
	}
	return c.validateMemory()
}

// maxConsensusWait bounds every consensus setting, so that base plus
// round times delta stays far from overflowing in any round a chain
// reaches.
const maxConsensusWait = time.Hour

// validate checks the consensus settings one by one: a step's base
// timeout must be positive, a delta and the commit wait must not be
// negative, and none may be over maxConsensusWait.
func (c ConsensusConfig) validate() error {
	for _, d := range []struct {
		key      string
		v        Duration
		zeroGood bool
	}{{"timeout_propose", c.TimeoutPropose, false}, {"timeout_propose_delta", c.TimeoutProposeDelta, true},
		{"timeout_prevote", c.TimeoutPrevote, false}, {"timeout_prevote_delta", c.TimeoutPrevoteDelta, true},
		{"timeout_precommit", c.TimeoutPrecommit, false}, {"timeout_precommit_delta", c.TimeoutPrecommitDelta, true},
		{"commit_wait", c.CommitWait, true}} {
		switch {
		case d.v.Duration < 0:
			return fmt.Errorf("config: consensus.%s is %s; it must not be negative", d.key, d.v)
		case d.v.Duration == 0 && !d.zeroGood:
			return fmt.Errorf("config: consensus.%s is 0s; it must be positive", d.key)
		case d.v.Duration > maxConsensusWait:
			return fmt.Errorf("config: consensus.%s is %s; it must be at most %s", d.key, d.v, maxConsensusWait)
		}
	}
	return nil
}

// validateMemory checks the settings that bound memory.
func (c Config) validateMemory() error {
	st := c.Store
	switch {
	case st.MemtableMB < store.MinMemTableSize>>20 || st.MemtableMB > 1024:
		return fmt.Errorf("config: store.memtable_mb must be %d to 1024", store.MinMemTableSize>>20)
	case st.BlockCacheMB < 0 || st.BlockCacheMB > 1<<16:
		return fmt.Errorf("config: store.block_cache_mb must be 0 to 65536 MiB")
	case st.IndexCacheMB < 0 || st.IndexCacheMB > 1<<16:
		return fmt.Errorf("config: store.index_cache_mb must be 0 to 65536 MiB")
	case st.ValueLogFileMB < 1 || st.ValueLogFileMB > 1023:
		return fmt.Errorf("config: store.value_log_file_mb must be 1 to 1023")
	case st.TreeCacheNodes <= 0:
		return fmt.Errorf("config: store.tree_cache_nodes must be positive")
	case st.ValueLogGCEvery.Duration != 0 && st.ValueLogGCEvery.Duration < 10*time.Second:
		return fmt.Errorf("config: store.value_log_gc_every must be 0s (never) or at least 10s")
	case st.KeepStates != 0 && st.KeepStates <= chain.MaxEvidenceAge:
		return fmt.Errorf("config: store.keep_states must be 0 (keep all) or more than %d: evidence up to that age is judged against the validator set of its height, which is read from that height's state", chain.MaxEvidenceAge)
	case st.MinFreeMB < 0 || st.MinFreeMB > 1<<20:
		return fmt.Errorf("config: store.min_free_mb must be 0 (automatic) to %d", 1<<20)
	case c.P2P.PeerQueue <= 0:
		return fmt.Errorf("config: p2p.peer_queue must be positive")
	case c.P2P.ValidateQueue <= 0:
		return fmt.Errorf("config: p2p.validate_queue must be positive")
	case c.P2P.SeenTTL.Duration <= 0:
		return fmt.Errorf("config: p2p.seen_ttl must be positive")
	case c.Memory.GCPercent < 10 || c.Memory.GCPercent > 1000:
		return fmt.Errorf("config: memory.gc_percent must be 10 to 1000")
	case c.Memory.LimitMB < 0 || c.Memory.LimitMB > 1<<20:
		return fmt.Errorf("config: memory.limit_mb must be 0 to %d", 1<<20)
	case c.Memory.ReleaseEvery.Duration < 0 || c.Memory.ReleaseEvery.Duration > 0 && c.Memory.ReleaseEvery.Duration < time.Second:
		return fmt.Errorf("config: memory.release_every must be 0s or at least 1s")
	}
	return nil
}

// Save writes the config to home/config.toml.
func (c Config) Save(home string) error {
	b, err := toml.Marshal(c)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(home, ConfigFile), b, 0o644)
}

// validate checks the API settings; each error names its key.
func (c APIConfig) validate() error {
	if c.Listen == "" {
		return fmt.Errorf("config: api.listen is empty")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("config: api.listen %q: %w", c.Listen, err)
	}
	for _, d := range []struct {
		key string
		v   Duration
	}{{"read_header_timeout", c.ReadHeaderTimeout}, {"read_timeout", c.ReadTimeout},
		{"write_timeout", c.WriteTimeout}, {"idle_timeout", c.IdleTimeout}} {
		if d.v.Duration < 100*time.Millisecond || d.v.Duration > time.Hour {
			return fmt.Errorf("config: api.%s is %s; want 100ms to 1h", d.key, d.v)
		}
	}
	if c.ReadTimeout.Duration < c.ReadHeaderTimeout.Duration {
		return fmt.Errorf("config: api.read_timeout (%s) is shorter than api.read_header_timeout (%s)", c.ReadTimeout, c.ReadHeaderTimeout)
	}
	for _, l := range []struct {
		key    string
		v, max int
	}{{"max_connections", c.MaxConnections, 1 << 20}, {"client_connections", c.ClientConnections, 1 << 20},
		{"max_in_flight", c.MaxInFlight, 1 << 20},
		{"max_event_streams", c.MaxEventStreams, 1 << 16}} {
		if l.v < 1 || l.v > l.max {
			return fmt.Errorf("config: api.%s is %d; want 1 to %d", l.key, l.v, l.max)
		}
	}
	if c.ClientRate < 0 || c.ClientRate > 1_000_000 {
		return fmt.Errorf("config: api.client_rate is %d; want 0 (no limit) to 1000000 requests per second", c.ClientRate)
	}
	if c.ClientRate > 0 && (c.ClientBurst < 1 || c.ClientBurst > 1_000_000) {
		return fmt.Errorf("config: api.client_burst is %d; want 1 to 1000000 requests", c.ClientBurst)
	}
	for _, o := range c.CORSOrigins {
		if err := checkOrigin(o); err != nil {
			return fmt.Errorf("config: api.cors_origins: %w", err)
		}
	}
	return nil
}

// checkOrigin accepts a web origin as browsers send it: scheme, host and
// an optional port, nothing after; or "*".
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil {
		return fmt.Errorf("%q is not an origin: %w", o, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin; want scheme://host[:port], such as http://localhost:3000, or *", o)
	}
	return nil
}
