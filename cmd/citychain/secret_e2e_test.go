package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/crypto/leaktest"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/keystore"
)

// runOutput runs a citychain command and returns its standard output and
// error together; it fails the test unless the command succeeds as
// wantOK says.
func runOutput(t *testing.T, wantOK bool, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(citychainBin(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if (err == nil) != wantOK {
		t.Fatalf("citychain %s: %v, want success %v\n%s", strings.Join(args, " "), err, wantOK, out.String())
	}
	return out.String()
}

// No command that takes a passphrase prints it or the private key it
// guards, at the most verbose log level, on standard output or error:
// `keys new`, `keys import` and `keys show`, a transfer signed with a
// keystore key, the same with a wrong passphrase, and an import of a
// damaged key file; nor does the dev node's own debug log. (`keys
// export` prints the private key by design, and is left out.)
func TestCLIOutputNeverHoldsASecret(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	home := t.TempDir()
	port := freePort(t)
	api := fmt.Sprintf("http://127.0.0.1:%d", port)
	dev := startProc(t, port, "dev", "--home", home, "--base-port", fmt.Sprint(port), "--empty-every", "1s", "--log-level", "debug")

	const pass = "violet otter marmalade 1937"
	write := fileWriter(t)
	passFile := write("pass", pass+"\n")
	wrongFile := write("wrong", pass+"!\n")
	seed := sha256.Sum256([]byte("the key alice imports"))
	alice, err := crypto.PrivateKeyFromBytes(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	keyFile := write("alice.key", hex.EncodeToString(alice.Bytes())+"\n")
	damaged := write("damaged.key", hex.EncodeToString(alice.Bytes())[:63]+"g\n")
	debug := []string{"--home", home, "--node", api, "--log-level", "debug"}
	cli := func(wantOK bool, args ...string) string {
		return runOutput(t, wantOK, append(args, debug...)...)
	}

	var outputs []string
	aliceAddr := chain.AddressOf(alice.PublicKey()).String()
	out := cli(true, "keys", "import", "alice", "--key-file", keyFile, "--passphrase-file", passFile)
	outputs = append(outputs, out)
	if !strings.Contains(out, aliceAddr) {
		t.Fatalf("keys import printed no address %s:\n%s", aliceAddr, out)
	}
	outputs = append(outputs,
		cli(true, "keys", "new", "bob", "--passphrase-file", passFile),
		cli(true, "keys", "show", "alice"),
		cli(true, "keys", "list"),
		cli(false, "keys", "import", "carol", "--key-file", damaged, "--passphrase-file", passFile),
		cli(true, "tx", "bank", "send", "--from", "dev0", "--to", aliceAddr, "--amount", "100", "--wait"))
	sent := cli(true, "tx", "bank", "send", "--from", "alice", "--passphrase-file", passFile,
		"--to", node.DevAccounts()[9].Address.String(), "--amount", "1", "--wait")
	if !strings.Contains(sent, "committed in block") {
		t.Fatalf("a transfer signed with a keystore key printed no receipt:\n%s", sent)
	}
	outputs = append(outputs, sent,
		cli(false, "tx", "bank", "send", "--from", "alice", "--passphrase-file", wrongFile,
			"--to", node.DevAccounts()[9].Address.String(), "--amount", "1"))

	ks, err := keystore.Open(filepath.Join(home, node.KeystoreDir))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := ks.Load("bob", pass)
	if err != nil {
		t.Fatal(err)
	}
	secrets := append(append([]string{pass}, leaktest.Forms(alice.Bytes())...), leaktest.Forms(bob.Bytes())...)
	for _, o := range outputs {
		if where := leaktest.Find(o, secrets); where != "" {
			t.Errorf("a command printed a secret: %s\nits output:\n%s", where, o)
		}
	}
	dev.stop(t)
	log := dev.output()
	if !strings.Contains(log, "level=DEBUG") {
		t.Fatalf("the dev node logged nothing at debug level; the check would see too little:\n%s", log)
	}
	if where := leaktest.Find(log, secrets); where != "" {
		t.Errorf("the dev node's log (%d bytes) holds a secret: %s", len(log), where)
	}
}
