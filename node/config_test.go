package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
)

// A config.toml written before the memory settings existed loads with
// their defaults, so an old home keeps working.
func TestOldConfigTakesMemoryDefaults(t *testing.T) {
	home := t.TempDir()
	old := `moniker = 'old'

[api]
listen = '127.0.0.1:8700'

[p2p]
listen = ['/ip4/127.0.0.1/tcp/9700']
`
	if err := os.WriteFile(filepath.Join(home, ConfigFile), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig("", 8700)
	if cfg.Store != def.Store || cfg.Memory != def.Memory {
		t.Fatalf("store %+v memory %+v, want %+v %+v", cfg.Store, cfg.Memory, def.Store, def.Memory)
	}
	if cfg.P2P.PeerQueue != def.P2P.PeerQueue || cfg.P2P.ValidateQueue != def.P2P.ValidateQueue || cfg.P2P.SeenTTL != def.P2P.SeenTTL {
		t.Fatalf("p2p buffers %+v, want the defaults", cfg.P2P)
	}
}

// Every memory setting is written with its comment, so a new home's
// config.toml documents what each buffer costs.
func TestSavedConfigExplainsTheMemorySettings(t *testing.T) {
	lines := savedDefaultConfig(t)
	for _, key := range []string{"peer_queue", "validate_queue", "seen_ttl", "memtable_mb", "block_cache_mb",
		"index_cache_mb", "value_log_file_mb", "tree_cache_nodes", "gc_percent", "limit_mb", "release_every"} {
		found := false
		for i, l := range lines {
			if strings.HasPrefix(l, key+" = ") {
				found = true
				if i == 0 || !strings.HasPrefix(lines[i-1], "# ") {
					t.Errorf("%s has no comment", key)
				}
			}
		}
		if !found {
			t.Errorf("%s missing from config.toml", key)
		}
	}
}

func TestValidateRefusesMemorySettingsOutOfRange(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
	}{
		{"memtable below 4 MiB", func(c *Config) { c.Store.MemtableMB = 3 }},
		{"memtable above 1 GiB", func(c *Config) { c.Store.MemtableMB = 1025 }},
		{"negative block cache", func(c *Config) { c.Store.BlockCacheMB = -1 }},
		{"negative index cache", func(c *Config) { c.Store.IndexCacheMB = -1 }},
		{"value-log file of 0 MiB", func(c *Config) { c.Store.ValueLogFileMB = 0 }},
		{"value-log file of 1 GiB", func(c *Config) { c.Store.ValueLogFileMB = 1024 }},
		{"no tree cache", func(c *Config) { c.Store.TreeCacheNodes = 0 }},
		{"no peer queue", func(c *Config) { c.P2P.PeerQueue = 0 }},
		{"no validate queue", func(c *Config) { c.P2P.ValidateQueue = -4 }},
		{"seen ttl of 0", func(c *Config) { c.P2P.SeenTTL = Duration{0} }},
		{"gc percent of 5", func(c *Config) { c.Memory.GCPercent = 5 }},
		{"negative memory limit", func(c *Config) { c.Memory.LimitMB = -1 }},
		{"release every millisecond", func(c *Config) { c.Memory.ReleaseEvery = Duration{time.Millisecond} }},
		{"negative free-space floor", func(c *Config) { c.Store.MinFreeMB = -1 }},
		{"keep 100 states, under the evidence age", func(c *Config) { c.Store.KeepStates = 100 }},
		{"value-log GC every second", func(c *Config) { c.Store.ValueLogGCEvery = Duration{time.Second} }},
		{"blocks of no transaction", func(c *Config) { c.Block.MaxTxs = 0 }},
		{"blocks above the chain's limit", func(c *Config) { c.Block.MaxTxs = chain.MaxBlockTxs + 1 }},
	}
	if err := DefaultConfig("", 8700).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig("", 8700)
			c.edit(&cfg)
			if err := cfg.Validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// The store settings reach Badger: a home whose memtable is at the
// minimum still starts and commits.
func TestNodeOpensItsStoreWithTheConfiguredSizes(t *testing.T) {
	home := t.TempDir()
	if _, err := InitDevHome(home, 8700, time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = StoreConfig{MemtableMB: 4, BlockCacheMB: 1, IndexCacheMB: 1, ValueLogFileMB: 1, TreeCacheNodes: 64}
	cfg.API.Listen = "127.0.0.1:0"
	n, err := New(Options{Home: home, Config: cfg, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	if n.Store().Latest().Height != 0 || !n.Store().Initialized() {
		t.Fatal("genesis not stored")
	}
}

// The free-space floor follows the store's sizes unless set.
func TestFreeSpaceFloor(t *testing.T) {
	// The default store (8 MiB memtables, 16 MiB value-log files) stops
	// below 128 MiB free, the figure docs/en/troubleshooting.md gives.
	st := DefaultConfig("", 8700).Store
	if got := st.NeedFreeMB(); got != 128 {
		t.Fatalf("automatic floor of the default store %d MiB, want 128", got)
	}
	// Larger memtables and smaller value-log files move the floor: two
	// memtables of 64 MiB and two value-log files of 8 MiB, each counted
	// twice, and 32 MiB for a flush.
	big := st
	big.MemtableMB, big.ValueLogFileMB = 64, 8
	if got := big.NeedFreeMB(); got != 320 {
		t.Fatalf("automatic floor with 64 MiB memtables and 8 MiB value-log files %d MiB, want 320", got)
	}
	st.MinFreeMB = 500
	if got := st.NeedFreeMB(); got != 500 {
		t.Fatalf("set floor %d MiB, want 500", got)
	}
}

// WaitForDisk returns at once with room to spare and, on a disk without
// the room asked for, waits until its context ends and says why.
func TestWaitForDisk(t *testing.T) {
	dir := t.TempDir()
	free, err := FreeMB(dir)
	if err != nil {
		if runtime.GOOS == "linux" { // statfs answers on every Linux filesystem
			t.Fatalf("free space of %s: %v", dir, err)
		}
		t.Skipf("free space not readable on %s: %v", runtime.GOOS, err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := WaitForDisk(context.Background(), dir, 1, log); err != nil {
		t.Fatalf("with %d MiB free and 1 needed: %v", free, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = WaitForDisk(ctx, dir, free+1<<20, log)
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("asking for a terabyte more than free: %v", err)
	}
}

// TestConfigErrorsNameTheirKey feeds config.toml texts with one bad value
// each and checks that the error names that key, as written in the file.
func TestConfigErrorsNameTheirKey(t *testing.T) {
	cases := []struct{ section, line, says string }{
		{"consensus", "timeout_propose = '0s'", "consensus.timeout_propose is 0s; it must be positive"},
		{"consensus", "timeout_prevote = '-1s'", "consensus.timeout_prevote is -1s; it must not be negative"},
		{"consensus", "timeout_precommit = '2h'", "consensus.timeout_precommit is 2h0m0s; it must be at most 1h0m0s"},
		{"consensus", "timeout_propose_delta = '-1s'", "consensus.timeout_propose_delta is -1s; it must not be negative"},
		{"consensus", "timeout_prevote_delta = '-1ms'", "consensus.timeout_prevote_delta"},
		{"consensus", "timeout_precommit_delta = '100000h'", "consensus.timeout_precommit_delta is 100000h0m0s; it must be at most"},
		{"consensus", "commit_wait = '-200ms'", "consensus.commit_wait is -200ms; it must not be negative"},
		{"consensus", "commit_wait = '3h'", "consensus.commit_wait is 3h0m0s; it must be at most"},
		{"mempool", "max_txs = 0", "mempool.max_txs is 0"},
		{"mempool", "max_bytes = -1", "mempool.max_bytes is -1"},
		{"block", "empty_every = '0s'", "block.empty_every is 0s"},
		{"store", "block_cache_mb = -1", "store.block_cache_mb"},
		{"store", "index_cache_mb = 70000", "store.index_cache_mb"},
		{"p2p", "peer_queue = 0", "p2p.peer_queue"},
		{"p2p", "validate_queue = -4", "p2p.validate_queue"},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			_, err := ParseConfig([]byte("[" + c.section + "]\n" + c.line + "\n"))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), "config: "+c.says) {
				t.Errorf("error %q does not say %q", err, c.says)
			}
		})
	}
	// A delta and the commit wait may be zero: every round waits the same,
	// and the next height starts at once.
	ok := "[consensus]\ntimeout_propose_delta = '0s'\ntimeout_prevote_delta = '0s'\n" +
		"timeout_precommit_delta = '0s'\ncommit_wait = '0s'\ntimeout_propose = '1h'\n"
	if _, err := ParseConfig([]byte(ok)); err != nil {
		t.Errorf("zero deltas and commit wait, a base timeout of 1h: %v", err)
	}
}

// The comment of block.empty_every, written into every config.toml, does
// not present the setting as one of dev's: a network's nodes follow it too.
func TestEmptyEveryCommentSaysItIsForEveryNode(t *testing.T) {
	lines := savedDefaultConfig(t)
	for i, l := range lines {
		if strings.HasPrefix(l, "empty_every = ") {
			if i == 0 || !strings.Contains(lines[i-1], "network") || strings.Contains(lines[i-1], "# dev:") {
				t.Errorf("empty_every's comment is %q", lines[i-1])
			}
			return
		}
	}
	t.Fatal("empty_every missing from config.toml")
}

// savedDefaultConfig saves the default config in a new home and returns
// the lines of its config.toml.
func savedDefaultConfig(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	if err := DefaultConfig("n", 8700).Save(home); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(home, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}
