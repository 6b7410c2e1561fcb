package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The flags of `bench catchup`: each mistake gets an error that names the
// flag, before anything starts.
func TestBenchCatchupFlags(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	notExec := filepath.Join(dir, "citychain.txt")
	if err := os.WriteFile(notExec, []byte("text"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := func() catchupOptions {
		return catchupOptions{devnet: dir, txs: 100, timeout: time.Minute}
	}
	cases := []struct {
		name string
		edit func(o *catchupOptions)
		want string // part of the error; "" for none
	}{
		{"the defaults", func(*catchupOptions) {}, ""},
		{"no devnet", func(o *catchupOptions) { o.devnet = "" }, "--devnet"},
		{"no transactions", func(o *catchupOptions) { o.txs = 0 }, "--txs 0"},
		{"too many transactions", func(o *catchupOptions) { o.txs = catchupMaxTxs + 1 }, "--txs"},
		{"no time", func(o *catchupOptions) { o.timeout = 0 }, "--timeout"},
		{"a node binary that is not there", func(o *catchupOptions) { o.nodeBinary = filepath.Join(dir, "nope") }, "--node-binary"},
		{"a node binary that is a folder", func(o *catchupOptions) { o.nodeBinary = dir }, "not an executable"},
		{"a node binary that is not executable", func(o *catchupOptions) { o.nodeBinary = notExec }, "not an executable"},
		{"a home that is not empty", func(o *catchupOptions) { o.home = full }, "--home"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := good()
			c.edit(&o)
			err := o.check()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want == "":
				if !filepath.IsAbs(o.nodeBinary) {
					t.Errorf("node binary %q is not an absolute path", o.nodeBinary)
				}
			case err == nil:
				t.Fatalf("accepted; want an error about %q", c.want)
			case !strings.Contains(err.Error(), c.want):
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

// A folder without a running devnet is refused with a hint.
func TestBenchCatchupWithoutDevnet(t *testing.T) {
	dir := t.TempDir()
	_, err := loadDevnet(dir)
	if err == nil || !strings.Contains(err.Error(), "citychain devnet --dir") {
		t.Fatalf("err %v; want a hint to start a devnet", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "devnet.json"), []byte(`{"nodes": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadDevnet(dir); err == nil || !strings.Contains(err.Error(), "lists no node") {
		t.Fatalf("err %v; want a complaint about an empty devnet", err)
	}
}
