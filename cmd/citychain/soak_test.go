package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// TestValueLogGCRuns counts the soak's value-log collections in log lines
// written the way the node writes them (node.collectValueLog through the
// logger of `citychain node`).
func TestValueLogGCRuns(t *testing.T) {
	line := func(level string, args ...any) string {
		var b bytes.Buffer
		log, err := newLogger("info", &b)
		if err != nil {
			t.Fatal(err)
		}
		if level == "warn" {
			log.Warn("value-log GC", args...)
		} else {
			log.Info("value-log GC", args...)
		}
		return b.String()
	}
	ok := func(files int) string {
		return line("info", "rewritten_files", files, "lsm_mb", 3, "vlog_mb", 40, "took", time.Millisecond)
	}
	failure := line("warn", "err", fmt.Errorf("value log GC: %w", badger.ErrDBClosed))
	other := "time=2026-12-04T05:00:00Z level=INFO msg=\"committed\" height=7 note=\"value-log GC\"\n"
	cases := []struct {
		name   string
		log    string
		runs   int
		failed bool
	}{
		{"none", other, 0, false},
		{"nothing to collect", ok(0), 1, false},
		{"rewrote files", ok(0) + other + ok(2), 2, false},
		{"a failure is no run", failure, 0, true},
		{"runs and a failure", ok(1) + failure + ok(0), 2, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runs, failed := valueLogGCRuns([]byte(c.log))
			if runs != c.runs || (failed != "") != c.failed {
				t.Fatalf("runs %d, failed %q; want %d runs, failed %v", runs, failed, c.runs, c.failed)
			}
			if c.failed && !strings.Contains(failed, badger.ErrDBClosed.Error()) {
				t.Fatalf("the failure line %q does not carry the error", failed)
			}
		})
	}
}
