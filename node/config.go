package node

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/crypto"
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
	Log       LogConfig       `toml:"log"`
}

// P2PConfig configures the libp2p host of `citychain node`.
type P2PConfig struct {
	Listen    []string `toml:"listen" comment:"libp2p listen addresses (TCP and QUIC)"`
	Bootstrap []string `toml:"bootstrap" comment:"peers to dial at start, as /ip4/.../tcp/.../p2p/ID"`
	MDNS      bool     `toml:"mdns" comment:"find peers on the local network by multicast DNS"`
	DHT       bool     `toml:"dht" comment:"find peers through a Kademlia DHT seeded by the bootstrap peers"`
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

// APIConfig configures the HTTP API.
type APIConfig struct {
	Listen string `toml:"listen" comment:"address of the HTTP API and explorer"`
	Pprof  bool   `toml:"pprof" comment:"serve Go profiles at /debug/pprof/ (for performance work)"`
}

// MempoolConfig bounds the mempool.
type MempoolConfig struct {
	MaxTxs   int `toml:"max_txs" comment:"transactions the mempool holds before it answers 503"`
	MaxBytes int `toml:"max_bytes" comment:"bytes the mempool holds before it answers 503"`
	KeyCache int `toml:"key_cache" comment:"public keys of recent senders kept parsed, with tables that make checking their signatures cheaper (0: 4096)"`
}

// BlockConfig shapes block production.
type BlockConfig struct {
	MaxTxs     int      `toml:"max_txs" comment:"most transactions in one block"`
	EmptyEvery Duration `toml:"empty_every" comment:"dev: make an empty block after this long without transactions"`
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
		API:     APIConfig{Listen: fmt.Sprintf("127.0.0.1:%d", apiPort)},
		P2P: P2PConfig{Listen: []string{
			fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", apiPort+1000),
			fmt.Sprintf("/ip4/127.0.0.1/udp/%d/quic-v1", apiPort+1000),
		}},
		Consensus: consensusConfig(consensus.DefaultTimeouts(), 200*time.Millisecond),
		Mempool:   MempoolConfig{MaxTxs: 50_000, MaxBytes: 64 << 20, KeyCache: crypto.DefaultKeyCacheSize},
		Block:     BlockConfig{MaxTxs: 2000, EmptyEvery: Duration{5 * time.Second}},
		Log:       LogConfig{Level: "info"},
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
	cfg := DefaultConfig("", 8700)
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, cfg.Validate()
}

// Validate checks the settings.
func (c Config) Validate() error {
	if c.API.Listen == "" {
		return fmt.Errorf("config: api.listen is empty")
	}
	if c.Mempool.MaxTxs <= 0 || c.Mempool.MaxBytes <= 0 {
		return fmt.Errorf("config: mempool bounds must be positive")
	}
	if c.Mempool.KeyCache < 0 {
		return fmt.Errorf("config: mempool.key_cache must not be negative")
	}
	if c.Block.MaxTxs <= 0 {
		return fmt.Errorf("config: block.max_txs must be positive")
	}
	if c.Consensus.TimeoutPropose.Duration <= 0 || c.Consensus.TimeoutPrevote.Duration <= 0 || c.Consensus.TimeoutPrecommit.Duration <= 0 {
		return fmt.Errorf("config: consensus timeouts must be positive")
	}
	if c.Block.EmptyEvery.Duration <= 0 {
		return fmt.Errorf("config: block.empty_every must be positive")
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
