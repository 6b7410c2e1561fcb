package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citychain/citychain/node"
)

// A key of one's own is never stored without a passphrase: `keys new`
// and `keys import` refuse an empty passphrase file (a bare newline
// counts as empty) and store nothing; a passphrase is then taken.
func TestKeysNeedAPassphrase(t *testing.T) {
	home := t.TempDir()
	write := fileWriter(t)
	empty := write("empty", "\n")
	keyFile := write("k.key", strings.Repeat("1", 64)+"\n")
	for _, args := range [][]string{
		{"keys", "new", "carol", "--passphrase-file", empty},
		{"keys", "import", "dave", "--key-file", keyFile, "--passphrase-file", empty},
	} {
		out := runOutput(t, false, append(args, "--home", home)...)
		if !strings.Contains(out, "passphrase is empty") || !strings.Contains(out, empty) {
			t.Errorf("%s: %s; want a refusal naming the empty passphrase and its file", strings.Join(args[:2], " "), out)
		}
	}
	entries, err := os.ReadDir(filepath.Join(home, node.KeystoreDir))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("refused keys left %d files in the keystore", len(entries))
	}
	out := runOutput(t, true, "keys", "new", "carol", "--passphrase-file", write("pass", "a real one\n"), "--home", home)
	if !strings.Contains(out, "created key carol") {
		t.Fatalf("keys new with a passphrase: %s", out)
	}
}

// fileWriter returns a function that writes a file of the given name and
// text, readable by its owner only, into a folder of the test's own, and
// returns its path: passphrase and key files.
func fileWriter(t *testing.T) func(name, text string) string {
	dir := t.TempDir()
	return func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
}
