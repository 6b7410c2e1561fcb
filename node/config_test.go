package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
	home := t.TempDir()
	if err := DefaultConfig("n", 8700).Save(home); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(home, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
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
	st := DefaultConfig("", 8700).Store
	if got, want := st.NeedFreeMB(), uint64(4*st.MemtableMB+4*st.ValueLogFileMB+32); got != want {
		t.Fatalf("automatic floor %d MiB, want %d", got, want)
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
		t.Skipf("free space not readable here: %v", err)
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
