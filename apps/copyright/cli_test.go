package copyright_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/sdk/sdktest"

	"github.com/citychain/citychain/apps/copyright"
	"github.com/citychain/citychain/chain/chaintest"
	"github.com/spf13/cobra"
)

// TestRegisterVerifyAndCheckTheCertificateOffline walks the whole story
// through the CLI: alice registers a file, anyone verifies it and keeps a
// certificate, and later checks the certificate with no node at all.
func TestRegisterVerifyAndCheckTheCertificateOffline(t *testing.T) {
	c := newChain(t)
	dir := t.TempDir()
	photo := filepath.Join(dir, "harbour.png")
	if err := os.WriteFile(photo, work("harbour at dawn", 30_000), 0o644); err != nil {
		t.Fatal(err)
	}
	app := copyright.New()
	alice := sdktest.Client{Chain: c, Key: chaintest.Key("alice")}
	if _, err := sdktest.Run(t, app.TxCommands(alice), "register", photo, "--creator", "Ada Ruiz", "--license", "CC-BY-4.0"); err != nil {
		t.Fatal(err)
	}

	block, vals := nodeBlockJSON(t, signLatest(t, c, "validator"))
	certFile, pageFile := filepath.Join(dir, "cert.json"), filepath.Join(dir, "cert.html")
	bob := sdktest.Client{Chain: c, Key: chaintest.Key("bob"), Node: map[string]any{
		fmt.Sprintf("/v1/blocks/%d", c.Height): json.RawMessage(block),
		"/v1/validators":                       json.RawMessage(vals),
	}}
	out, err := sdktest.Run(t, app.QueryCommands(bob), "verify", photo, "--cert", certFile, "--html", pageFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"harbour", "image/png", chaintest.Addr("alice").String(), "signed by 1 validator", "match the record", "OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}

	for _, cert := range []string{certFile, pageFile} {
		out, err := sdktest.Run(t, []*cobra.Command{copyright.VerifyCommand()}, "verify", cert, "--file", photo)
		if err != nil || !strings.Contains(out, "OK") {
			t.Errorf("citychain verify %s: %v\n%s", filepath.Base(cert), err, out)
		}
	}
	_, err = sdktest.Run(t, []*cobra.Command{copyright.VerifyCommand()}, "verify", certFile, "--validators-hash", strings.Repeat("ab", 32))
	if err == nil {
		t.Error("a certificate verified against a validator set it does not have")
	}
	other := filepath.Join(dir, "other.png")
	_ = os.WriteFile(other, []byte("not the harbour"), 0o644)
	if _, err := sdktest.Run(t, []*cobra.Command{copyright.VerifyCommand()}, "verify", certFile, "--file", other); err == nil {
		t.Error("a certificate verified for another file")
	}

	// The work query finds it by SHA-256 too, and shows the trail.
	fp, _ := copyright.Fingerprint(bytes.NewReader(work("harbour at dawn", 30_000)))
	out, err = sdktest.Run(t, app.QueryCommands(bob), "work", fp.SHA256)
	if err != nil || !strings.Contains(out, "register") || !strings.Contains(out, fp.InstanceCode) {
		t.Errorf("query work: %v\n%s", err, out)
	}
}

func TestVerifyWithoutTheBlockWritesNoCertificate(t *testing.T) {
	c := newChain(t)
	file := filepath.Join(t.TempDir(), "song.mp3")
	_ = os.WriteFile(file, work("song", 5000), 0o644)
	app := copyright.New()
	cl := sdktest.Client{Chain: c, Key: chaintest.Key("alice")} // a node that has no block to show
	if _, err := sdktest.Run(t, app.TxCommands(cl), "register", file, "--creator", "Ben", "--license", "CC0-1.0", "--title", "Song"); err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(t.TempDir(), "c.json")
	_, err := sdktest.Run(t, app.QueryCommands(cl), "verify", file, "--cert", cert)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("fetch block %d", c.Height)) {
		t.Errorf("verify without the block: %v", err)
	}
	if _, err := os.Stat(cert); !os.IsNotExist(err) {
		t.Errorf("a certificate was written without block evidence: %v", err)
	}
}

func TestCLIRefusesBadInputBeforeSigning(t *testing.T) {
	c := newChain(t)
	file := filepath.Join(t.TempDir(), "x.txt")
	_ = os.WriteFile(file, []byte("some text"), 0o644)
	app := copyright.New()
	cl := sdktest.Client{Chain: c, Key: chaintest.Key("alice")}
	_, err := sdktest.Run(t, app.TxCommands(cl), "register", file, "--creator", "Ann", "--license", "cc-by-4.0")
	if err == nil || !strings.Contains(err.Error(), "license:") {
		t.Errorf("register with a misspelt licence: %v", err)
	}
	_, err = sdktest.Run(t, app.TxCommands(cl), "transfer", "--work", "ISCC:IAA26E2JXH27TING", "--to", chaintest.Addr("bob").String())
	if err == nil || !strings.Contains(err.Error(), "work:") {
		t.Errorf("transfer of a 64-bit id: %v", err)
	}
	if c.Height != 0 {
		t.Errorf("something reached the chain: height %d", c.Height)
	}
}
